"""DELTA-style propensity-matched monitoring and the matching/balance tools it uses."""

from __future__ import annotations

import numpy as np
import pytest

from medreg.evidence.propensity import match_nearest, propensity_scores, standardized_mean_differences
from medreg.surveillance.delta import delta_monitor


def _cohort(n=3000, excess=0.0, seed=11):
    """Made-up cohort: older diabetic patients get the new device more often (confounding)."""
    rng = np.random.default_rng(seed)
    age = rng.normal(68, 9, n)
    diabetes = (rng.random(n) < 0.3).astype(float)
    ef = rng.normal(55, 8, n)
    x = np.column_stack([age, diabetes, ef])
    treated = rng.random(n) < 1 / (1 + np.exp(-(-6 + 0.08 * age + 0.7 * diabetes)))
    base = 1 / (1 + np.exp(-(-7 + 0.06 * age + 0.6 * diabetes - 0.02 * (ef - 55))))
    y = (rng.random(n) < base + excess * treated).astype(float)
    times = np.sort(rng.uniform(0, 12, n))  # months
    return times, treated, x, y


def test_matching_is_one_to_one_within_the_caliper_and_balances():
    _, t, x, _ = _cohort()
    ps = propensity_scores(x, t)
    m = match_nearest(ps, t)
    assert len(set(m.control)) == len(m.control)
    logit = np.log(ps / (1 - ps))
    assert np.all(np.abs(logit[list(m.treated)] - logit[list(m.control)]) <= m.caliper)
    assert m.caliper == pytest.approx(0.2 * np.std(logit, ddof=1))
    bal = standardized_mean_differences(x, t, ["age", "diabetes", "ef"], m)
    assert abs(bal.before[0]) > 0.2  # confounded before matching
    assert bal.max_abs_after < 0.1  # negligible imbalance after


def test_smd_formula():
    x = np.array([[1.0], [2.0], [3.0], [5.0]])
    t = np.array([True, True, False, False])
    bal = standardized_mean_differences(x, t, ["v"])
    pooled = np.sqrt((np.var([1, 2], ddof=1) + np.var([3, 5], ddof=1)) / 2)
    assert bal.before[0] == pytest.approx((1.5 - 4.0) / pooled)
    assert np.isnan(bal.after[0])


def test_delta_alerts_on_a_device_with_excess_risk():
    times, t, x, y = _cohort(excess=0.08)
    r = delta_monitor(times, t, x, y, [3, 6, 9, 12], ["age", "diabetes", "ef"])
    assert r.alert_look is not None
    look = r.looks[r.alert_look]
    assert look.lower > 0 and look.risk_difference == pytest.approx(look.risk_treated - look.risk_control)
    assert "lower limit" in r.rule
    assert [lk.n_treated + lk.n_control for lk in r.looks] == [int((times <= c).sum()) for c in (3, 6, 9, 12)]


def test_delta_stays_quiet_when_the_device_is_as_safe():
    times, t, x, y = _cohort(excess=0.0, seed=12)
    r = delta_monitor(times, t, x, y, [6, 12], ["age", "diabetes", "ef"], alpha=0.01)
    assert r.alert_look is None
    assert all(lk.lower <= 0 <= lk.upper for lk in r.looks)
