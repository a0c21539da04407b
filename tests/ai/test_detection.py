"""Detection: the matching rules and the FROC curve on a hand-worked example."""

from __future__ import annotations

import numpy as np
import pytest

from medreg.ai.detection import (
    DUP,
    FP,
    TP,
    CentreDistance,
    ImageMarks,
    ImageTruth,
    IoU,
    froc,
    match_image,
)


def _truth(centres, radii):
    return ImageTruth(centres=np.array(centres, float).reshape(-1, 2), radii=np.array(radii, float))


def _marks(locs, scores):
    return ImageMarks(np.array(locs, float).reshape(-1, 2), np.array(scores, float))


TRUTHS = {
    "img1": _truth([(10, 10), (50, 50)], [5, 5]),
    "img2": _truth([(20, 20)], [3]),
    "img3": _truth([], []),
}
MARKS = {
    "img1": _marks([(11, 11), (12, 9), (30, 30), (50, 54)], [0.9, 0.8, 0.7, 0.4]),
    "img2": _marks([(24, 20), (20, 21)], [0.6, 0.3]),
    "img3": _marks([(5, 5)], [0.5]),
}


def test_mark_status_in_the_worked_example():
    rule = CentreDistance()
    assert match_image(rule, TRUTHS["img1"], MARKS["img1"]).tolist() == [TP, DUP, FP, TP]
    # (24, 20) is 4 from a lesion of radius 3: a miss; (20, 21) is a hit
    assert match_image(rule, TRUTHS["img2"], MARKS["img2"]).tolist() == [FP, TP]
    assert match_image(rule, TRUTHS["img3"], MARKS["img3"]).tolist() == [FP]


def test_froc_curve_of_the_worked_example():
    # marks by score: .9 TP, .8 dup, .7 FP, .6 FP, .5 FP, .4 TP, .3 TP; 3 images, 3 lesions
    f = froc(TRUTHS, MARKS)
    assert f.n_images == 3 and f.n_lesions == 3
    assert f.fp_per_image == pytest.approx((0, 0, 0, 1 / 3, 2 / 3, 1, 1, 1))
    assert f.sensitivity == pytest.approx((0, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 2 / 3, 1))
    assert f.sensitivity_at(0.125).value == pytest.approx(1 / 3)
    assert f.sensitivity_at(0.5).value == pytest.approx(1 / 3)
    assert f.sensitivity_at(1.0).value == pytest.approx(1.0)
    assert f.sensitivity_at(1.0).n == 3
    assert f.cpm() == pytest.approx((3 * (1 / 3) + 4 * 1.0) / 7)
    assert f.rule == "centre distance <= lesion radius"


def test_duplicates_counted_as_false_positives_when_asked():
    f = froc(TRUTHS, MARKS, duplicates="false-positive")
    assert f.sensitivity_at(1.0).value == pytest.approx(1 / 3)
    assert f.sensitivity_at(4 / 3).value == pytest.approx(1.0)


def test_fixed_distance_rule():
    rule = CentreDistance(max_distance=4.5)
    assert match_image(rule, TRUTHS["img2"], MARKS["img2"]).tolist() == [TP, DUP]
    assert rule.describe() == "centre distance <= 4.5"


def test_a_mark_between_two_lesions_detects_the_closer():
    truth = _truth([(0, 0), (6, 0)], [5, 5])
    status = match_image(CentreDistance(), truth, _marks([(4, 0), (1, 0)], [0.9, 0.8]))
    assert status.tolist() == [TP, TP]  # (4,0) takes (6,0); (1,0) then takes (0,0)


@pytest.mark.parametrize(("mark", "threshold", "expected"), [
    ((0, 0, 10, 5), 0.5, TP),   # IoU = 50 / 100
    ((0, 0, 10, 5), 0.6, FP),
    ((5, 5, 15, 15), 0.1, TP),  # IoU = 25 / 175
    ((5, 5, 15, 15), 0.2, FP),
])
def test_iou_rule(mark, threshold, expected):
    truth = ImageTruth(boxes=np.array([[0, 0, 10, 10]], float))
    marks = ImageMarks(np.array([mark], float), np.array([0.9]))
    assert match_image(IoU(threshold), truth, marks).tolist() == [expected]


def test_marks_on_unknown_images_are_refused():
    with pytest.raises(ValueError, match="unknown images"):
        froc(TRUTHS, {"nope": _marks([(0, 0)], [0.1])})


def test_image_bootstrap_interval_is_seeded_and_brackets_the_point():
    from medreg.ai.detection import lesion_sensitivity_bootstrap

    rng = np.random.default_rng(0)
    truths, marks = {}, {}
    for i in range(60):
        k = int(rng.integers(0, 3))
        centres = rng.uniform(0, 100, (k, 2))
        truths[f"im{i}"] = _truth(centres, [4] * k)
        hits = [c + rng.normal(0, 1, 2) for c in centres if rng.random() < 0.7]
        fps = [rng.uniform(0, 100, 2) for _ in range(int(rng.integers(0, 3)))]
        locs = hits + fps
        if locs:
            marks[f"im{i}"] = _marks(locs, rng.uniform(0.5, 1, len(hits)).tolist()
                                     + rng.uniform(0, 0.6, len(fps)).tolist())
    est = lesion_sensitivity_bootstrap(truths, marks, 1.0, n_boot=300, seed=3)
    assert est == lesion_sensitivity_bootstrap(truths, marks, 1.0, n_boot=300, seed=3)
    assert est.value == pytest.approx(froc(truths, marks).sensitivity_at(1.0).value)
    assert est.lower <= est.value <= est.upper and est.upper - est.lower > 0
