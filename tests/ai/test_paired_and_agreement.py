"""Paired comparisons and platform agreement against statsmodels and published worked examples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.weightstats import DescrStatsW, ttost_paired

from medreg.ai.agreement import bland_altman, exact_agreement, tost_paired
from medreg.ai.metrics_common import Estimate
from medreg.ai.paired import mcnemar, non_inferiority, paired_difference


@settings(max_examples=100, deadline=None)
@given(b=st.integers(0, 80), c=st.integers(0, 80), exact=st.booleans(), correction=st.booleans())
def test_mcnemar_equals_statsmodels(b, c, exact, correction):
    ours = mcnemar(b, c, exact=exact, correction=correction)
    ref = sm_mcnemar(np.array([[10, b], [c, 10]]), exact=exact, correction=correction)
    if b + c == 0:
        assert ours.p_value == 1.0
        return
    assert ours.statistic == pytest.approx(ref.statistic, abs=1e-10)
    assert ours.p_value == pytest.approx(ref.pvalue, abs=1e-10)


def _approval():
    # Agresti, Categorical Data Analysis (2nd ed., 2002), Table 10.1: approval of the Prime Minister in
    # two surveys of the same 1600 people: (approve, approve) 794, (approve, disapprove) 150,
    # (disapprove, approve) 86, (disapprove, disapprove) 570.
    first = np.r_[np.ones(794 + 150), np.zeros(86 + 570)].astype(bool)
    second = np.r_[np.ones(794), np.zeros(150), np.ones(86), np.zeros(570)].astype(bool)
    return first, second


def test_paired_difference_reproduces_agresti_table_10_1():
    first, second = _approval()
    d = paired_difference(first, second)
    # Agresti sec. 10.1.1: difference 0.55 - 0.59 = -0.04, SE 0.0095, 95% CI (-0.06, -0.02)
    assert d.value == pytest.approx(-0.04, abs=1e-12)
    se = (d.upper - d.value) / 1.959963984540054
    assert se == pytest.approx(0.0095, abs=5e-5)
    assert (round(d.lower, 2), round(d.upper, 2)) == (-0.06, -0.02)
    # McNemar z^2 = (86 - 150)^2 / (86 + 150) = 17.36 (Agresti sec. 10.1.1)
    assert mcnemar(150, 86, exact=False, correction=False).statistic == pytest.approx(17.36, abs=5e-3)


@pytest.mark.parametrize(("lo", "hi", "verdict"), [
    (0.01, 0.05, "superior"), (-0.03, 0.02, "non-inferior"), (-0.20, -0.08, "inferior"),
    (-0.10, 0.01, "inconclusive"),
])
def test_non_inferiority_verdicts(lo, hi, verdict):
    res = non_inferiority("sensitivity", Estimate("d", (lo + hi) / 2, lo, hi, "x"), margin=0.05)
    assert res.verdict == verdict and res.reason


def test_non_inferiority_boundary_is_not_non_inferior():
    assert non_inferiority("auc", Estimate("d", 0, -0.05, 0.05, "x"), 0.05).verdict == "inconclusive"
    with pytest.raises(ValueError):
        non_inferiority("auc", Estimate("d", 0, -0.01, 0.01, "x"), 0.0)


# Bland & Altman (1986), Lancet i:307-310, Table 1: first peak expiratory flow readings (l/min)
# of 17 subjects with the Wright and the mini Wright meters.
WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
MINI = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]


def test_bland_altman_reproduces_the_1986_paper():
    # published: mean difference -2.1, SD 38.8, limits (mean -/+ 2 SD) -79.7 to 75.5 l/min
    ba = bland_altman(WRIGHT, MINI, k=2)
    assert round(ba.bias.value, 1) == -2.1 and round(ba.sd, 1) == 38.8
    assert ba.lower_limit.value == pytest.approx(-79.7, abs=0.1)
    assert ba.upper_limit.value == pytest.approx(75.5, abs=0.1)
    lo, hi = DescrStatsW(np.subtract(WRIGHT, MINI)).tconfint_mean(0.05)
    assert (ba.bias.lower, ba.bias.upper) == pytest.approx((lo, hi), abs=1e-10)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), shift=st.floats(-0.2, 0.2), margin=st.floats(0.01, 0.5))
def test_tost_equals_statsmodels_ttost_paired(seed, shift, margin):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=30)
    b = a + shift + rng.normal(scale=0.1, size=30)
    ours = tost_paired(a, b, -margin, margin)
    p, lower, upper = ttost_paired(a, b, -margin, margin)
    assert ours.p_value == pytest.approx(p, abs=1e-10)
    assert (ours.t_lower, ours.p_lower) == pytest.approx(lower[:2], abs=1e-10)
    assert (ours.t_upper, ours.p_upper) == pytest.approx(upper[:2], abs=1e-10)
    assert ours.equivalent == (p < 0.05)


def test_exact_agreement():
    est = exact_agreement([1, 2, 3, 4], [1, 2, 0, 4])
    assert est.value == 0.75 and est.n == 4


def test_agreement_refuses_unequal_lengths():
    with pytest.raises(ValueError, match="same length"):
        tost_paired([1, 2, 3], [1, 2], -1, 1)
