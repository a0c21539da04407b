"""RWE survival analyses: equal to lifelines' own objects, and to independent hand computations.

References: R survival ``?coxph`` example data ``test1`` (time 4,3,1,1,2,2,3; status 1,1,1,0,1,1,0;
x 0,2,1,1,1,0,0) gives coef(x) = 0.461 (3 decimals as quoted in the R example script of ETH Zurich's
regression course, stat.ethz.ch/education/semesters/ss2012/regression/Rscript_Coxph.R). The Kaplan-Meier
product limit, Greenwood's exponential CI, the log-rank statistic and the Aalen-Johansen estimator are
recomputed here from their textbook formulas.
"""

from __future__ import annotations

import numpy as np
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test
from scipy.stats import norm

from medreg.core.errors import ValidationFailed
from medreg.evidence.survival import cox_ph, cumulative_incidence, kaplan_meier, logrank

TIMES = np.array([2, 3, 3, 5, 6, 7, 9, 10, 12, 15], dtype=float)
EVENTS = np.array([1, 1, 0, 1, 0, 1, 1, 0, 1, 0])


def test_kaplan_meier_is_the_product_limit_with_greenwood_log_log_interval():
    (curve,) = kaplan_meier(TIMES, EVENTS, risk_times=[0, 5, 10])
    s, var_sum, manual = 1.0, 0.0, {}
    for t in np.unique(TIMES[EVENTS == 1]):
        n, d = (t <= TIMES).sum(), ((t == TIMES) & (EVENTS == 1)).sum()
        s *= 1 - d / n
        var_sum += d / (n * (n - d))
        z = norm.ppf(0.975)
        se = np.sqrt(var_sum) / abs(np.log(s)) if 0 < s < 1 else np.nan
        manual[t] = (s, s ** np.exp(z * se), s ** np.exp(-z * se))
    for t, (sv, lo, hi) in manual.items():
        i = curve.times.index(t)
        assert curve.survival[i] == pytest.approx(sv)
        assert (curve.lower[i], curve.upper[i]) == pytest.approx((lo, hi), rel=1e-9)
    assert curve.at_risk == (10, 7, 3)
    assert curve.median == KaplanMeierFitter().fit(TIMES, EVENTS).median_survival_time_


def test_logrank_equals_the_hand_formula():
    g = np.array(["a", "b"] * 5)
    o_minus_e, var = 0.0, 0.0
    for t in np.unique(TIMES[EVENTS == 1]):
        at = t <= TIMES
        n, n1 = at.sum(), (at & (g == "a")).sum()
        d = ((t == TIMES) & (EVENTS == 1)).sum()
        d1 = ((t == TIMES) & (EVENTS == 1) & (g == "a")).sum()
        o_minus_e += d1 - d * n1 / n
        var += d * (n1 / n) * (1 - n1 / n) * (n - d) / max(n - 1, 1)
    r = logrank(TIMES, EVENTS, g)
    assert r.statistic == pytest.approx(o_minus_e ** 2 / var, rel=1e-9)
    ref = logrank_test(TIMES[g == "a"], TIMES[g == "b"], EVENTS[g == "a"], EVENTS[g == "b"])
    assert r.p_value == pytest.approx(ref.p_value, rel=1e-12) and r.degrees_of_freedom == 1


def test_cox_equals_r_survival_example_and_lifelines():
    time = [4, 3, 1, 1, 2, 2, 3]
    status = [1, 1, 1, 0, 1, 1, 0]
    x = [0, 2, 1, 1, 1, 0, 0]
    r = cox_ph(time, status, {"x": x})
    assert r.terms[0].coefficient == pytest.approx(0.461, abs=5e-4)  # R: coxph(...) coef 0.461
    import pandas as pd
    ref = CoxPHFitter().fit(pd.DataFrame({"t": time, "e": status, "x": x}), "t", "e")
    assert r.terms[0].hazard_ratio == pytest.approx(float(ref.hazard_ratios_["x"]), rel=1e-12)
    assert r.concordance == pytest.approx(ref.concordance_index_, rel=1e-12)


def test_cox_ph_check_flags_a_hazard_ratio_that_changes_with_time():
    rng = np.random.default_rng(4)
    n = 1500
    grp = rng.integers(0, 2, n)
    age = rng.normal(0, 1, n)
    # group 1: high early hazard, low late hazard (crossing hazards) -> PH violated for grp only
    early = rng.exponential(1 / np.where(grp == 1, 2.0, 0.5) / np.exp(0.3 * age))
    late = 1.0 + rng.exponential(1 / np.where(grp == 1, 0.2, 0.8) / np.exp(0.3 * age))
    t = np.where(early < 1.0, early, late)
    c = rng.uniform(0.5, 6, n)
    r = cox_ph(np.minimum(t, c), (t <= c).astype(int), {"grp": grp, "age": age})
    by = {term.name: term for term in r.terms}
    assert by["grp"].ph_p_value < 0.001 and not r.proportional_hazards_plausible
    assert by["age"].hazard_ratio == pytest.approx(np.exp(0.3), rel=0.15)
    assert by["age"].lower < by["age"].hazard_ratio < by["age"].upper


def test_aalen_johansen_equals_the_hand_estimator_and_adds_up():
    t = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], dtype=float)
    code = np.array([1, 2, 0, 1, 2, 1, 0, 2, 1, 0])  # 1 = reintervention, 2 = death (competing)
    cif1 = cumulative_incidence(t, code, 1)
    s, f1, manual = 1.0, 0.0, {}
    for ti, ci in zip(t, code, strict=True):
        n = (t >= ti).sum()
        if ci == 1:
            f1 += s / n
        if ci != 0:
            s *= 1 - 1 / n
        manual[ti] = f1
    for ti, value in manual.items():
        assert cif1.incidence[cif1.times.index(ti)] == pytest.approx(value, rel=1e-9)
    cif2 = cumulative_incidence(t, code, 2)
    km_all = kaplan_meier(t, code != 0)[0]
    assert cif1.incidence[-1] + cif2.incidence[-1] == pytest.approx(1 - km_all.survival[-1])


def test_bad_survival_input_names_the_field():
    with pytest.raises(ValidationFailed) as err:
        kaplan_meier([1, -2], [1, 0])
    assert err.value.field == "durations"
    with pytest.raises(ValidationFailed) as err:
        logrank([1, 2], [1, 1], ["a", "a"])
    assert err.value.field == "groups"


def test_aalen_johansen_with_tied_times_equals_the_tied_estimator():
    # Ties of both event types and censorings at the same times (lifelines' random jitter would move
    # the censorings too; medreg splits ties deterministically, which leaves the estimator unchanged).
    rng = np.random.default_rng(3)
    t = rng.integers(1, 8, 400).astype(float)
    code = rng.choice([0, 1, 2], size=400, p=[0.6, 0.25, 0.15])
    s, f1, manual = 1.0, 0.0, {}
    for ti in np.unique(t):
        n = (t >= ti).sum()
        d1 = ((t == ti) & (code == 1)).sum()
        d = ((t == ti) & (code != 0)).sum()
        f1 += s * d1 / n
        s *= 1 - d / n
        manual[ti] = f1
    cif = cumulative_incidence(t, code, 1)
    assert cif.times == tuple(manual)
    np.testing.assert_allclose(cif.incidence, list(manual.values()), rtol=1e-10)
