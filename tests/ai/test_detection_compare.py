"""Detection subgroups and paired comparisons of two runs (pure functions of medreg.ai.detection_compare),
and the binary version comparison by subgroup.

References: the hand-computed FROC example of test_sealed_detection (4 images, 3 lesions); the paired
bootstrap is checked against (1) ``lesion_sensitivity_bootstrap`` (the same draws: run A's replicates must be
that function's, tolerance 1e-12) and (2) a plain re-implementation that rebuilds every bootstrap sample as a
new set of images and scores it with ``detection.froc`` (tolerance 1e-12)."""

from __future__ import annotations

import numpy as np
import pytest

from medreg.ai import detection_compare as dc
from medreg.ai.comparison import compare_versions, subgroup_comparisons
from medreg.ai.detection import (
    LUNA16_RATES,
    CentreDistance,
    ImageMarks,
    ImageTruth,
    froc,
    lesion_sensitivity_bootstrap,
)


def _t(*lesions):
    arr = np.array(lesions, dtype=float).reshape(-1, 3)
    return ImageTruth(centres=arr[:, :2], radii=arr[:, 2])


def _m(*marks):
    arr = np.array(marks, dtype=float).reshape(-1, 3)
    return ImageMarks(arr[:, :2], arr[:, 2])


HAND_T = {"a": _t([10, 10, 5]), "b": _t([50, 50, 5], [80, 80, 5]), "c": _t(), "d": _t()}
# A: hits the lesion of a (0.9), a false positive on c (0.8). B: A's marks plus a hit on b (0.7).
HAND_A = {"a": _m([11, 10, 0.9]), "c": _m([30, 30, 0.8])}
HAND_B = {"a": _m([11, 10, 0.9]), "b": _m([50, 51, 0.7]), "c": _m([30, 30, 0.8])}


def synthetic(n=60, seed=0, miss=0.25):
    """Images with 0-2 lesions (from ``seed`` alone, so calls with another ``miss`` share the lesions); marks
    near lesions (each detected with probability 1 - miss) and false positives."""
    rng = np.random.default_rng(seed)
    lesions = {f"i{i:03d}": [[rng.uniform(10, 90), rng.uniform(10, 90), 6.0]
                             for _ in range(rng.integers(0, 3))] for i in range(n)}
    rng = np.random.default_rng([seed, int(miss * 1000)])
    truths, marks = {}, {}
    for i, les in lesions.items():
        truths[i] = _t(*les)
        ms = [[x + rng.normal(0, 2), y + rng.normal(0, 2), rng.uniform(0.4, 1)] for x, y, _r in les
              if rng.random() > miss]
        ms += [[rng.uniform(0, 100), rng.uniform(0, 100), rng.uniform(0, 0.8)]
               for _ in range(rng.integers(0, 3))]
        marks[i] = _m(*ms)
    return truths, marks


def test_hand_example_point_values():
    rows = {r["metric"]: r for r in dc.compare_detection(HAND_T, HAND_A, HAND_B, rate=1.0, n_boot=200)}
    one = rows["lesion_sensitivity@1fp"]
    assert (one["a"], one["b"]) == pytest.approx((1 / 3, 2 / 3), abs=1e-12)
    assert one["difference"]["estimate"] == pytest.approx(1 / 3, abs=1e-12)
    # CPM: A = 1/3 at every rate; B = 1/3 at 1/8 FP/image (the FP at 0.8 comes first), 2/3 from 1/4 on
    assert rows["cpm"]["a"] == pytest.approx(1 / 3, abs=1e-12)
    assert rows["cpm"]["b"] == pytest.approx((1 / 3 + 6 * 2 / 3) / 7, abs=1e-12)
    # B detects a superset of A's lesions with the same false positives: no replicate has B below A
    assert one["difference"]["ci_lower"] >= 0 and one["test"]["method"] == "paired-image-bootstrap"


def test_run_a_replicates_are_those_of_lesion_sensitivity_bootstrap():
    truths, marks_a = synthetic(50, seed=1)
    _t2, marks_b = synthetic(50, seed=1, miss=0.1)
    for rate in (0.25, 1.0, 4.0):
        pb = dc.paired_bootstrap(truths, marks_a, marks_b, (rate,), n_boot=300, seed=11)
        ref = lesion_sensitivity_bootstrap(truths, marks_a, rate, n_boot=300, seed=11)
        lo, hi = np.quantile(pb.reps_a[:, 0], [0.025, 0.975])
        assert (pb.point_a[0], lo, hi) == pytest.approx((ref.value, ref.lower, ref.upper), abs=1e-12)


def _naive_difference(truths, marks_a, marks_b, rate, n_boot, seed):
    """Every bootstrap sample rebuilt as a new set of images (drawn ids renamed) and scored by froc()."""
    ids = sorted(truths)
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n_boot):
        draw = rng.integers(0, len(ids), len(ids))
        t = {f"{k}:{ids[j]}": truths[ids[j]] for k, j in enumerate(draw)}
        if sum(x.count for x in t.values()) == 0:
            continue
        ma = {f"{k}:{ids[j]}": marks_a[ids[j]] for k, j in enumerate(draw) if ids[j] in marks_a}
        mb = {f"{k}:{ids[j]}": marks_b[ids[j]] for k, j in enumerate(draw) if ids[j] in marks_b}
        fa, fb = froc(t, ma, CentreDistance()), froc(t, mb, CentreDistance())
        diffs.append((fb.sensitivity_at(rate).value - fa.sensitivity_at(rate).value,
                      fb.cpm() - fa.cpm()))
    return np.array(diffs)


def test_paired_interval_equals_a_plain_reimplementation():
    truths, marks_a = synthetic(40, seed=2)
    _t2, marks_b = synthetic(40, seed=2, miss=0.05)
    rows = dc.compare_detection(truths, marks_a, marks_b, rate=0.5, n_boot=150, seed=5)
    ref = _naive_difference(truths, marks_a, marks_b, 0.5, 150, 5)
    for col, row in enumerate(rows):
        lo, hi = np.quantile(ref[:, col], [0.025, 0.975])
        assert (row["difference"]["ci_lower"], row["difference"]["ci_upper"]) == pytest.approx((lo, hi),
                                                                                               abs=1e-12)
        sd = np.std(ref[:, col], ddof=1)
        assert row["test"]["statistic"] == pytest.approx(row["difference"]["estimate"] / sd, abs=1e-9)
        assert row["test"]["replicates_kept"] == ref.shape[0]


def test_identical_runs_differ_by_exactly_zero():
    truths, marks = synthetic(30, seed=4)
    for r in dc.compare_detection(truths, marks, marks, rate=1.0, n_boot=100):
        d = r["difference"]
        assert (d["estimate"], d["ci_lower"], d["ci_upper"], r["p_value"]) == (0.0, 0.0, 0.0, 1.0)
        assert r["verdict"] == "non-inferior"


def test_margin_is_a_parameter_and_a_worse_version_is_inferior():
    truths, good = synthetic(120, seed=6, miss=0.05)
    _t2, bad = synthetic(120, seed=6, miss=0.6)
    rows = dc.compare_detection(truths, good, bad, rate=1.0, margin=0.05, n_boot=300)
    assert rows[0]["verdict"] == "inferior" and rows[0]["p_value"] < 0.001
    assert rows[0]["margin"] == 0.05
    d = rows[0]["difference"]
    wide = dc.compare_detection(truths, good, bad, rate=1.0, margin=-d["ci_lower"] + 0.01, n_boot=300)
    assert wide[0]["verdict"] == "non-inferior"  # the same interval, judged against a wider margin
    better = dc.compare_detection(truths, bad, good, rate=1.0, n_boot=300)
    assert better[0]["verdict"] == "superior"
    with pytest.raises(ValueError):
        dc.compare_detection(truths, good, bad, rate=0)


def test_detection_subgroups_are_the_metrics_of_their_images_and_flag_the_far_below():
    truths, marks = synthetic(120, seed=8, miss=0.05)
    _t2, poor = synthetic(120, seed=8, miss=0.8)
    vendor = {i: ("B" if k % 3 == 0 else "A") for k, i in enumerate(sorted(truths))}
    mixed = {i: (poor[i] if vendor[i] == "B" else marks[i]) for i in truths}
    whole, subs = dc.detection_subgroups(truths, mixed, {"vendor": vendor})
    assert [e.name for e in whole] == [f"lesion_sensitivity@{r:g}fp" for r in LUNA16_RATES] + ["cpm"]
    by = {s.value: s for s in subs}
    for value, sub in by.items():
        ids = [i for i in truths if vendor[i] == value]
        ref = froc({i: truths[i] for i in ids}, {i: mixed[i] for i in ids}, CentreDistance())
        assert [e.value for e in sub.estimates[:-1]] == pytest.approx([ref.sensitivity_at(r).value
                                                                       for r in LUNA16_RATES], abs=1e-12)
        assert sub.estimates[-1].value == pytest.approx(ref.cpm(), abs=1e-12)
        assert sub.n == len(ids)
    assert "lesion_sensitivity@1fp" in by["B"].flags and not by["A"].flags
    with pytest.raises(ValueError):
        dc.detection_subgroups(truths, mixed, {"vendor": {"i000": "A"}})


def test_detection_subgroup_comparisons_suppress_small_subgroups():
    truths, a = synthetic(60, seed=9)
    _t2, b = synthetic(60, seed=9, miss=0.1)
    site = {i: ("big" if k < 50 else "small") for k, i in enumerate(sorted(truths))}
    rows = dc.subgroup_comparisons(truths, a, b, {"site": site}, 20, rate=1.0, n_boot=50)
    by = {r["value"]: r for r in rows}
    assert by["small"]["comparisons"] == [] and by["small"]["n"] == 10 and "suppressed" in by["small"]
    ids = [i for i in truths if site[i] == "big"]
    ref = dc.compare_detection({i: truths[i] for i in ids}, a, b, rate=1.0, n_boot=50)
    assert by["big"]["comparisons"] == ref


def test_binary_version_comparison_by_subgroup_is_the_comparison_of_its_cases():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    a = np.clip(0.3 * y + 0.35 + rng.normal(0, 0.3, 200), 0, 1)
    b = np.clip(0.35 * y + 0.33 + rng.normal(0, 0.3, 200), 0, 1)
    site = np.where(np.arange(200) < 185, "s1", "s2")
    rows = {r["value"]: r for r in subgroup_comparisons(y, a, b, {"site": site}, margin=0.05)}
    mask = site == "s1"
    ref = [c.to_dict() for c in compare_versions(y[mask], a[mask], b[mask], 0.5, 0.05)]
    assert rows["s1"]["comparisons"] == ref and rows["s1"]["n"] == 185
    assert rows["s2"]["comparisons"] == [] and rows["s2"]["suppressed"] == "fewer than 20 cases"
