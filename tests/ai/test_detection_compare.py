"""Detection subgroups and paired comparisons of two runs (pure functions of medreg.ai.detection_compare),
and the binary version comparison by subgroup.

References: per-lesion platform agreement on a hand-computed example (4 images, 5 lesions) against
the formulas and scikit-learn/statsmodels (kappa, Wilson, TOST; tolerance 1e-10); the hand-computed FROC
example of test_sealed_detection (4 images, 3 lesions); the paired
bootstrap is checked against (1) ``lesion_sensitivity_bootstrap`` (the same draws: run A's replicates must be
that function's, tolerance 1e-12) and (2) a plain re-implementation that rebuilds every bootstrap sample as a
new set of images and scores it with ``detection.froc`` (tolerance 1e-12)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import ttost_paired

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


# --- per-lesion platform agreement ------------------------------------------------------------------------
# 4 images, 5 lesions (order: a:L1, a:L2, b:L3, b:L5, c:L4); the same FP on c (0.85) and on d (0.30) on both.
AGREE_T = {"a": _t([10, 10, 5], [40, 40, 5]), "b": _t([50, 50, 5], [80, 80, 5]), "c": _t([20, 20, 5]),
           "d": _t()}
AGREE_A = {"a": _m([10, 11, 0.90], [40, 41, 0.60]), "b": _m([50, 51, 0.80], [80, 81, 0.70]),
           "c": _m([70, 70, 0.85]), "d": _m([5, 5, 0.30])}
AGREE_B = {"a": _m([10, 11, 0.92], [40, 41, 0.55]), "b": _m([50, 51, 0.20], [80, 81, 0.75]),
           "c": _m([70, 70, 0.85], [20, 21, 0.70]), "d": _m([5, 5, 0.30])}


def test_lesion_agreement_hand_example():
    """At 0.25 FP/image (one FP over 4 images) A's operating threshold is 0.60 (L1 L2 L3 L5 detected, L4 not
    marked), B's 0.55 (its hit on L3 scores 0.20, below: L1 L2 L5 L4 detected). Computed by hand below."""
    da, sa = dc.lesion_outcomes(AGREE_T, AGREE_A, rate=0.25)
    db, sb = dc.lesion_outcomes(AGREE_T, AGREE_B, rate=0.25)
    assert da.tolist() == [True, True, True, True, False] and db.tolist() == [True, True, False, True, True]
    # the outcomes are those of the FROC operating point the metrics report
    for marks, d in ((AGREE_A, da), (AGREE_B, db)):
        assert froc(AGREE_T, marks).sensitivity_at(0.25).count == d.sum() == 4
    assert sa[[0, 1, 3]].tolist() == [0.90, 0.60, 0.70] and np.isnan(sa[4]) and np.isnan(sb[2])
    out = dc.lesion_agreement(AGREE_T, AGREE_A, AGREE_B, rate=0.25, score_margin=0.1)
    assert (out["n_lesions"], out["n_detected_both"]) == (5, 3)
    agree, kappa = out["call_agreement"], out["call_kappa"]
    assert agree["metric"] == "lesion_detection_agreement" and (agree["count"], agree["n"]) == (3, 5)
    assert agree["estimate"] == pytest.approx(0.6, abs=1e-12)
    z = 1.959963984540054  # Wilson interval of 3/5 by its formula
    centre, half = (0.6 + z * z / 10) / (1 + z * z / 5), z * np.sqrt(0.24 / 5 + z * z / 100) / (1 + z * z / 5)
    assert (agree["ci_lower"], agree["ci_upper"]) == pytest.approx((centre - half, centre + half), abs=1e-9)
    # kappa: table [[0, 1], [1, 3]]: po = 0.6, pe = 0.8^2 + 0.2^2 = 0.68, kappa = -0.08 / 0.32 = -0.25
    assert kappa["metric"] == "lesion_detection_kappa"
    assert kappa["estimate"] == pytest.approx(-0.25, abs=1e-12)
    assert kappa["estimate"] == pytest.approx(cohen_kappa_score(da, db), abs=1e-12)
    ref = cohens_kappa(np.array([[0, 1], [1, 3]]))
    assert (kappa["ci_lower"], kappa["ci_upper"]) == pytest.approx((ref.kappa_low, ref.kappa_upp), abs=1e-10)
    assert (agree["ci_lower"], agree["ci_upper"]) == pytest.approx(proportion_confint(3, 5, method="wilson"),
                                                                  abs=1e-10)
    # scores of the marks on L1, L2, L5, B - A: 0.02, -0.05, 0.05
    d = np.array([0.92 - 0.90, 0.55 - 0.60, 0.75 - 0.70])
    bias, sd = d.sum() / 3, np.sqrt(((d - d.sum() / 3) ** 2).sum() / 2)
    ba = out["bland_altman"]
    assert ba["n"] == 3 and ba["bias"]["estimate"] == pytest.approx(0.02 / 3, abs=1e-12)
    assert ba["sd"] == pytest.approx(sd, abs=1e-12) and sd == pytest.approx(0.0513160, abs=1e-6)
    assert ba["lower_limit"]["estimate"] == pytest.approx(bias - 1.96 * sd, abs=1e-12)
    assert ba["upper_limit"]["estimate"] == pytest.approx(bias + 1.96 * sd, abs=1e-12)
    p, _lo, _hi = ttost_paired(np.array([0.92, 0.55, 0.75]), np.array([0.90, 0.60, 0.70]), -0.1, 0.1)
    assert out["tost"]["p_value"] == pytest.approx(p, abs=1e-10)
    assert out["tost"]["equivalent"] == (p < 0.05)


def test_lesion_agreement_of_identical_runs_and_of_too_few_shared_lesions():
    same = dc.lesion_agreement(AGREE_T, AGREE_A, AGREE_A, rate=0.25)
    assert same["call_agreement"]["estimate"] == 1.0 and same["call_kappa"]["estimate"] == pytest.approx(1.0)
    assert same["bland_altman"]["bias"]["estimate"] == 0 and same["tost"]["equivalent"]
    one = {"a": _m([10, 11, 0.9])}  # only L1 detected on B
    few = dc.lesion_agreement(AGREE_T, AGREE_A, one, rate=0.25)
    assert few["n_detected_both"] == 1 and few["bland_altman"] is None and few["tost"] is None
