"""Risk-adjusted CUSUM, O/E chart and the reference-period risk model.

References: the CUSUM weight is the log-likelihood ratio of Steiner et al. 2000 (eq. 2), checked against
SciPy's Bernoulli log-pmf of the two hypotheses (odds multiplied by R_A); the logistic fit is checked
against statsmodels' GLM (IRLS, an independent fitting route) within 1e-6; the c-statistic against a
brute-force count over all pairs.
"""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.stats import bernoulli

from medreg.core.errors import ValidationFailed
from medreg.surveillance.cusum import (
    cusum_control_limit,
    cusum_weights,
    observed_expected,
    risk_adjusted_cusum,
)
from medreg.surveillance.riskmodel import fit_risk_model


def _case_mix(n, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.01, 0.3, n), rng


def test_weights_are_the_bernoulli_log_likelihood_ratio():
    p, rng = _case_mix(200)
    y = (rng.random(200) < p).astype(int)
    ra = 2.0
    p1 = ra * p / (1 - p + ra * p)  # odds multiplied by R_A
    expected = bernoulli.logpmf(y, p1) - bernoulli.logpmf(y, p)
    np.testing.assert_allclose(cusum_weights(y, p, ra), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("r0,ra", [(1.5, 3.0), (1.0, 0.5), (2.0, 1.0)])
def test_weights_with_a_null_odds_ratio_are_the_bernoulli_log_likelihood_ratio(r0, ra):
    """Steiner et al. 2000 test R_0 against R_A: both hypotheses multiply the model's odds."""
    p, rng = _case_mix(200, seed=4)
    y = (rng.random(200) < p).astype(int)
    pa, p0 = ra * p / (1 - p + ra * p), r0 * p / (1 - p + r0 * p)
    expected = bernoulli.logpmf(y, pa) - bernoulli.logpmf(y, p0)
    np.testing.assert_allclose(cusum_weights(y, p, ra, r0), expected, rtol=1e-12, atol=1e-14)
    chart = risk_adjusted_cusum(y, p, odds_ratio=ra, null_odds_ratio=r0, control_limit=3.0)
    assert chart.null_odds_ratio == r0 and (min(chart.values) < 0) == (ra < r0)


def test_control_limit_under_a_null_odds_ratio_holds_its_false_alarm_rate():
    p, _ = _case_mix(300, seed=5)
    h = cusum_control_limit(p, odds_ratio=3.0, null_odds_ratio=1.5, false_alarm=0.1, n_sim=3000, seed=7)
    rng = np.random.default_rng(98)  # fresh sequences under the null: odds 1.5 times the model's
    p0 = 1.5 * p / (1 - p + 1.5 * p)
    alarms = sum(risk_adjusted_cusum((rng.random(300) < p0).astype(float), p, odds_ratio=3.0,
                                     null_odds_ratio=1.5, control_limit=h).signalled for _ in range(1000))
    assert abs(alarms / 1000 - 0.1) < 0.03  # 3 binomial standard errors


@pytest.mark.parametrize("kw,field", [({"odds_ratio": 1.5, "null_odds_ratio": 1.5}, "odds_ratio"),
                                      ({"odds_ratio": 2.0, "null_odds_ratio": 0.0}, "null_odds_ratio"),
                                      ({"odds_ratio": float("nan")}, "odds_ratio")])
def test_bad_odds_ratios_name_the_field(kw, field):
    with pytest.raises(ValidationFailed) as e:
        cusum_control_limit(np.full(10, 0.1), **kw)
    assert e.value.field == field


def test_cusum_path_follows_the_recursion_and_signals():
    p = np.full(60, 0.1)
    y = np.zeros(60)
    y[30:40] = 1  # a run of failures
    chart = risk_adjusted_cusum(y, p, odds_ratio=2.0, control_limit=4.5)
    x, expected = 0.0, []
    for w in cusum_weights(y, p, 2.0):
        x = max(0.0, x + w)
        expected.append(x)
    np.testing.assert_allclose(chart.values, expected)
    assert chart.signal_index == int(np.argmax(np.asarray(expected) >= 4.5))
    improving = risk_adjusted_cusum(np.zeros(60), p, odds_ratio=0.5, control_limit=2.0)
    assert min(improving.values) < 0 and improving.signalled


def test_control_limit_gives_the_requested_false_alarm_rate():
    p, _ = _case_mix(300)
    h = cusum_control_limit(p, odds_ratio=2.0, false_alarm=0.1, n_sim=3000, seed=7)
    rng = np.random.default_rng(99)  # fresh, independent null sequences
    alarms = sum(risk_adjusted_cusum((rng.random(300) < p).astype(float), p, control_limit=h).signalled
                 for _ in range(1000))
    assert abs(alarms / 1000 - 0.1) < 0.03  # 3 binomial standard errors


def test_observed_expected_chart():
    p = np.array([0.1, 0.2, 0.3, 0.4])
    y = np.array([0, 1, 1, 1])
    chart = observed_expected(y, p)
    assert chart.observed == (0, 1, 2, 3)
    assert chart.expected == pytest.approx((0.1, 0.3, 0.6, 1.0))
    assert chart.vlad[-1] == pytest.approx(1.0 - 3)
    half = 1.959963984540054 * np.sqrt(0.09 + 0.16 + 0.21 + 0.24) / 1.0
    assert chart.upper[-1] == pytest.approx(1 + half)
    assert chart.signal_index == 2  # O/E = 2/0.6 = 3.33 above 1 + 1.96 sqrt(0.46)/0.6 = 3.22


def test_in_control_o_over_e_stays_within_limits_most_of_the_time():
    p, rng = _case_mix(2000, seed=3)
    inside = 0
    for _ in range(200):
        chart = observed_expected((rng.random(2000) < p).astype(float), p)
        inside += chart.lower[-1] <= chart.ratio[-1] <= chart.upper[-1]
    assert inside / 200 == pytest.approx(0.95, abs=0.04)


def test_risk_model_equals_statsmodels_glm_and_counts_pairs_for_c():
    rng = np.random.default_rng(5)
    x = np.column_stack([rng.normal(70, 10, 800), rng.integers(0, 2, 800)])
    eta = -9 + 0.1 * x[:, 0] + 0.8 * x[:, 1]
    y = (rng.random(800) < 1 / (1 + np.exp(-eta))).astype(float)
    model = fit_risk_model(x, y, ["age", "diabetes"])
    glm = sm.GLM(y, sm.add_constant(x), family=sm.families.Binomial()).fit()
    np.testing.assert_allclose(model.coefficients, glm.params, rtol=1e-6)
    np.testing.assert_allclose(model.standard_errors, glm.bse, rtol=1e-5)
    risk = model.predict(x)
    pos, neg = risk[y == 1], risk[y == 0]
    pairs = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert model.c_statistic == pytest.approx(pairs / (pos.size * neg.size), rel=1e-12)


def test_bad_inputs_name_the_field():
    with pytest.raises(ValidationFailed) as err:
        cusum_weights([0, 2], [0.1, 0.1], 2.0)
    assert err.value.field == "outcomes"
    with pytest.raises(ValidationFailed) as err:
        observed_expected([0, 1], [0.1, 1.0])
    assert err.value.field == "risks"
    with pytest.raises(ValidationFailed) as err:
        fit_risk_model(np.ones((10, 1)), np.zeros(10), ["x"])
    assert err.value.field == "outcomes"
