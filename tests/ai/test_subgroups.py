"""Subgroup metrics and the far-below flag."""

from __future__ import annotations

import numpy as np
import pytest

from medreg.ai.metrics_binary import binary_metrics
from medreg.ai.metrics_common import Estimate
from medreg.ai.subgroups import is_far_below, subgroup_metrics


def _data():
    rng = np.random.default_rng(3)
    n = 600
    y = rng.integers(0, 2, n)
    vendor = np.where(np.arange(n) < 450, "A", "B")
    # vendor A: the score separates well; vendor B: pure noise
    s = np.where(vendor == "A", y * 0.6 + rng.random(n) * 0.5, rng.random(n))
    sex = rng.choice(["F", "M"], n)
    return y, s, vendor, sex


def test_the_weak_vendor_is_flagged_and_the_others_are_not():
    y, s, vendor, sex = _data()
    whole, subs = subgroup_metrics(y, s, {"vendor": vendor, "sex": sex}, threshold=0.5)
    by = {(r.field, r.value): r for r in subs}
    assert set(by) == {("vendor", "A"), ("vendor", "B"), ("sex", "F"), ("sex", "M")}
    assert "sensitivity" in by[("vendor", "B")].flags and "auc" in by[("vendor", "B")].flags
    assert by[("vendor", "A")].flags == ()
    assert by[("sex", "F")].flags == () and by[("sex", "M")].flags == ()
    # each subgroup's numbers are the plain metrics of its cases
    mask = vendor == "B"
    ref = binary_metrics(y[mask], s[mask], 0.5)
    got = {e.name: e for e in by[("vendor", "B")].estimates}
    assert got["sensitivity"] == ref.sensitivity
    assert by[("vendor", "B")].n == mask.sum()
    assert [e.name for e in whole] == ["sensitivity", "specificity", "ppv", "npv", "accuracy", "auc"]


@pytest.mark.parametrize(("value", "upper", "n", "flag"), [
    (0.70, 0.80, 50, True),    # 0.2 below and the interval stays below 0.9
    (0.70, 0.95, 50, False),   # interval reaches the whole's estimate
    (0.87, 0.88, 500, False),  # below, but within the margin
    (0.50, 0.70, 5, False),    # too few cases to flag
])
def test_flag_rule(value, upper, n, flag):
    whole = Estimate("sensitivity", 0.9, 0.88, 0.92, "wilson", 900, 1000)
    sub = Estimate("sensitivity", value, value - 0.1, upper, "wilson", int(value * n), n)
    assert is_far_below(sub, whole, margin=0.05, min_cases=10) is flag


def test_subgroup_values_must_cover_every_case():
    with pytest.raises(ValueError, match="one value per case"):
        subgroup_metrics([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], {"site": ["a", "b"]})


def test_multiclass_subgroups_equal_the_metrics_of_their_cases_and_flag_the_far_below():
    from medreg.ai.metrics_multiclass import accuracy, cohen_kappa
    from medreg.ai.subgroups import multiclass_subgroups

    rng = np.random.default_rng(5)
    cats = ["R0", "R1", "R2"]
    ref = list(rng.choice(cats, 300))
    vendor = ["B" if i % 4 == 0 else "A" for i in range(300)]
    # vendor A: 90 % right; vendor B: 40 % right
    pred = [r if rng.random() < (0.9 if v == "A" else 0.4) else cats[(cats.index(r) + 1) % 3]
            for r, v in zip(ref, vendor, strict=True)]
    whole, subs = multiclass_subgroups(ref, pred, cats, {"vendor": vendor}, ordinal=True)
    by = {s.value: s for s in subs}
    for value, sub in by.items():
        idx = [i for i, v in enumerate(vendor) if v == value]
        r, p = [ref[i] for i in idx], [pred[i] for i in idx]
        got = {e.name: e for e in sub.estimates}
        assert got["accuracy"].value == pytest.approx(accuracy(r, p, cats).value, abs=1e-12)
        want = cohen_kappa(r, p, cats, "quadratic")
        assert got["kappa_quadratic"].upper == pytest.approx(want.upper, abs=1e-12)
    assert {"accuracy", "kappa"} <= set(by["B"].flags) and not by["A"].flags
    assert [e.name for e in whole][:4] == ["accuracy", "kappa", "kappa_linear", "kappa_quadratic"]
