"""``monitoring.matched_binomial_counts`` on a cohort small enough to match by hand: each device
procedure, in the order the windows close, takes the z free comparators closed by then, nearest in
modelled risk; the sets of an earlier look stay in a later one (nested counts)."""

from __future__ import annotations

import numpy as np

from medreg.surveillance.monitoring import Cohort, matched_binomial_counts
from medreg.surveillance.riskmodel import RiskModel

# risk = logistic(-3 + 0.05 * (age - 60)): only age matters (the other coefficients are 0)
MODEL = RiskModel(("const", "age", "male", "diabetes", "renal_failure", "prior_mi", "ejection_fraction"),
                  (-3.0 - 0.05 * 60, 0.05, 0, 0, 0, 0, 0), (0.1,) * 7, 100, 10, 0.7)
INF = np.inf


def _cohort(rows):
    """rows: (day, is_device, age, outcome_day or None)."""
    day = np.array([r[0] for r in rows], dtype=np.int64)
    x = np.zeros((len(rows), 6))
    x[:, 0] = [r[2] for r in rows]
    x[:, 5] = 55
    return Cohort(day=day, is_device=np.array([r[1] for r in rows]), covariates=x,
                  outcome_day=np.array([INF if r[3] is None else r[3] for r in rows], dtype=float),
                  followed_to=day + 1000)


ROWS = [
    # comparators: day, device?, age, outcome day
    (1, False, 50, None), (2, False, 70, 20), (3, False, 60, None), (4, False, 80, 30),
    # device procedures
    (5, True, 69, 40), (6, True, 61, None), (20, True, 79, 60),
    (25, False, 78, None),
]


def test_sets_by_hand_and_nested():
    c = _cohort(ROWS)
    window = 100  # closes on day + 100; reference period ended on day 0
    # look at day 106: device procedures of days 5 and 6 are closed; comparators of days 1-4 closed.
    # day 5 (age 69) takes the nearest free comparator (age 70, outcome), day 6 (age 61) takes age 60.
    r = matched_binomial_counts(c, MODEL, 0, window, 106, 1)
    assert (r.sets, r.unmatched, r.cases, r.events) == (2, 0, 1, 2)
    # look at day 125: day 20 (age 79, closes on day 120) takes age 80 (outcome): age 78 would be as near but
    # closes only on day 125, after it; the earlier sets are unchanged
    r2 = matched_binomial_counts(c, MODEL, 0, window, 125, 1)
    assert (r2.sets, r2.cases, r2.events) == (3, 2, 4)
    assert r2.sets >= r.sets and r2.cases >= r.cases and r2.events >= r.events
    # z = 2: day 5 takes ages 70 and 60 (nearest two), day 6 takes 50 and 80; day 20 finds no free
    # comparator closed by its own window (78 closes later): unmatched
    r3 = matched_binomial_counts(c, MODEL, 0, window, 125, 2)
    assert (r3.sets, r3.unmatched, r3.cases, r3.events) == (2, 1, 1, 3)
