"""Binary metrics: intervals equal statsmodels ``proportion_confint`` (tolerance 1e-12)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from medreg.ai.metrics_binary import (
    Confusion,
    binary_metrics,
    binary_metrics_from_confusion,
    confusion,
    operating_point_at_specificity,
)
from medreg.ai.metrics_common import proportion_ci

SM_METHOD = {"wilson": "wilson", "clopper-pearson": "beta"}


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 400), data=st.data(), method=st.sampled_from(["wilson", "clopper-pearson"]),
       alpha=st.sampled_from([0.01, 0.05, 0.1]))
def test_proportion_ci_equals_statsmodels(n, data, method, alpha):
    x = data.draw(st.integers(0, n))
    ours = proportion_ci(x, n, alpha, method)
    ref = proportion_confint(x, n, alpha=alpha, method=SM_METHOD[method])
    assert ours == pytest.approx(ref, abs=1e-12)


def test_empty_denominator_is_undefined_not_an_error():
    assert all(math.isnan(v) for v in proportion_ci(0, 0))
    m = binary_metrics_from_confusion(Confusion(tp=0, fp=0, fn=3, tn=5))
    assert math.isnan(m.ppv.value) and m.ppv.to_dict()["estimate"] is None


def test_worked_table():
    # 2x2 table tp=90 fp=20 fn=10 tn=180: sensitivity 0.9, specificity 0.9, PPV 90/110, NPV 180/190
    y = np.r_[np.ones(100), np.zeros(200)].astype(int)
    s = np.r_[np.ones(90), np.zeros(10), np.ones(20), np.zeros(180)]
    m = binary_metrics(y, s, threshold=0.5, method="clopper-pearson")
    assert m.confusion == Confusion(90, 20, 10, 180)
    assert m.sensitivity.value == 0.9 and m.specificity.value == 0.9
    assert m.ppv.value == pytest.approx(90 / 110) and m.npv.value == pytest.approx(180 / 190)
    assert m.accuracy.value == pytest.approx(270 / 300)
    assert (m.sensitivity.lower, m.sensitivity.upper) == pytest.approx(
        proportion_confint(90, 100, method="beta"), abs=1e-12)
    assert m.sensitivity.to_dict()["method"] == "clopper-pearson"


def test_threshold_is_inclusive():
    cm = confusion([1, 0], np.array([0.5, 0.49]) >= 0.5)
    assert cm == Confusion(1, 0, 0, 1)


def test_operating_point_at_fixed_specificity(asah):
    y, s = asah["y"], asah["s100b"]
    op = operating_point_at_specificity(y, s, 0.90)
    assert op.specificity.value >= 0.90
    # no lower candidate threshold still reaches the specificity floor
    lower = np.unique(s)[np.unique(s) < op.threshold]
    if lower.size:
        below = binary_metrics(y, s, lower.max())
        assert below.specificity.value < 0.90
    # brute force over every threshold: best sensitivity with specificity >= 0.9
    best = max(binary_metrics(y, s, t).sensitivity.value for t in np.unique(s)
               if binary_metrics(y, s, t).specificity.value >= 0.90)
    assert op.sensitivity.value == best


def test_operating_point_at_specificity_one_calls_no_negative_positive():
    op = operating_point_at_specificity([0, 0, 1, 1], [0.1, 0.9, 0.8, 0.95], 1.0)
    assert op.threshold == 0.95 and op.specificity.value == 1.0 and op.sensitivity.value == 0.5


def test_labels_must_be_binary():
    with pytest.raises(ValueError, match="0 or 1"):
        binary_metrics([0, 2], [0.1, 0.2])
