"""Detection tasks: lesion-level sensitivity and FROC (free-response ROC) curves.

The matching rule is stated, not implied. Each image carries reference lesions and the algorithm's
marks (a location and a score). A mark *hits* a lesion when:

* ``CentreDistance(max_distance=None)``: the Euclidean distance between the mark and the lesion centre
  is at most the lesion's radius (the LUNA16 rule: Setio et al. 2017, Medical Image Analysis 42:1-13),
  or at most ``max_distance`` when one is given;
* ``IoU(threshold)``: marks and lesions are boxes (x0, y0, x1, y1) and their intersection over union
  is at least ``threshold`` (0.5 as in PASCAL VOC, Everingham et al. 2010, IJCV 88:303-338).

Marks are taken in decreasing score within each image; a mark that hits a not-yet-detected lesion detects
the closest (or the highest-IoU) such lesion and is a true positive; a mark that only hits lesions already
detected is a duplicate, not counted as a false positive (``duplicates="ignore"``, LUNA16) or counted
(``duplicates="false-positive"``); any other mark is a false positive. The assignment for marks above any
threshold is a prefix of the same greedy pass, so one pass gives the whole FROC curve.

FROC point at threshold t: sensitivity = detected lesions / all lesions, FP rate = false-positive marks
/ images. Sensitivity at a stated FP rate r is the highest sensitivity among points with rate <= r (a
step function, no interpolation), with a Wilson interval over lesions (lesions within one image are
treated as independent). The competition performance metric (CPM) averages it over 1/8 ... 8 FP/image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from medreg.ai.metrics_common import Estimate, proportion

LUNA16_RATES = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
TP, FP, DUP = 1, 0, -1


@dataclass(frozen=True)
class CentreDistance:
    """Hit when the centre distance is <= the lesion radius (or <= ``max_distance`` if given)."""

    max_distance: float | None = None

    def describe(self) -> str:
        if self.max_distance is None:
            return "centre distance <= lesion radius"
        return f"centre distance <= {self.max_distance:g}"


@dataclass(frozen=True)
class IoU:
    """Hit when boxes (x0, y0, x1, y1) overlap with intersection over union >= ``threshold``."""

    threshold: float = 0.5

    def describe(self) -> str:
        return f"IoU >= {self.threshold:g}"


@dataclass(frozen=True)
class ImageTruth:
    """Reference lesions of one image: centres (k x d) and radii (k) or boxes (k x 4)."""

    centres: np.ndarray | None = None
    radii: np.ndarray | None = None
    boxes: np.ndarray | None = None

    @property
    def count(self) -> int:
        arr = self.boxes if self.boxes is not None else self.centres
        return 0 if arr is None else int(np.asarray(arr).shape[0])


@dataclass(frozen=True)
class ImageMarks:
    """The algorithm's marks on one image: locations (centres k x d or boxes k x 4) and scores."""

    locations: np.ndarray
    scores: np.ndarray


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes a (p x 4) and b (q x 4)."""
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter, dtype=float), where=union > 0)


def _closeness(rule, truth: ImageTruth, locs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hit matrix marks x lesions, preference: higher is better)."""
    if isinstance(rule, IoU):
        iou = _iou(np.asarray(locs, float).reshape(-1, 4), np.asarray(truth.boxes, float).reshape(-1, 4))
        return iou >= rule.threshold, iou
    centres = np.asarray(truth.centres, float)
    dist = np.linalg.norm(np.asarray(locs, float)[:, None, :] - centres[None, :, :], axis=2)
    limit = (np.full(centres.shape[0], rule.max_distance) if rule.max_distance is not None
             else np.asarray(truth.radii, float))
    return dist <= limit[None, :], -dist


def assign_image(rule, truth: ImageTruth, marks: ImageMarks,
                 duplicates: str = "ignore") -> tuple[np.ndarray, np.ndarray]:
    """The greedy pass: (status of each mark as in ``match_image``, and for each lesion the index of the
    mark that detects it, -1 when none does)."""
    scores = np.asarray(marks.scores, float)
    status = np.zeros(scores.size, dtype=np.int8)
    by = np.full(truth.count, -1, dtype=int)
    if scores.size == 0 or truth.count == 0:
        return status, by
    hit, pref = _closeness(rule, truth, marks.locations)
    for i in np.argsort(-scores, kind="mergesort"):
        free = hit[i] & (by < 0)
        if free.any():
            j = int(np.argmax(np.where(free, pref[i], -np.inf)))
            by[j] = i
            status[i] = TP
        elif hit[i].any() and duplicates == "ignore":
            status[i] = DUP
    return status, by


def match_image(rule, truth: ImageTruth, marks: ImageMarks, duplicates: str = "ignore") -> np.ndarray:
    """Status of each mark (1 true positive, 0 false positive, -1 ignored duplicate), in input order."""
    return assign_image(rule, truth, marks, duplicates)[0]


@dataclass(frozen=True)
class Froc:
    rule: str
    n_images: int
    n_lesions: int
    thresholds: tuple[float, ...]
    sensitivity: tuple[float, ...]
    fp_per_image: tuple[float, ...]
    detected: tuple[int, ...]

    def sensitivity_at(self, rate: float, alpha: float = 0.05) -> Estimate:
        """Highest lesion sensitivity with at most ``rate`` false positives per image."""
        fp = np.asarray(self.fp_per_image)
        ok = np.flatnonzero(fp <= rate + 1e-12)
        k = int(np.asarray(self.detected)[ok].max()) if ok.size else 0
        est = proportion(f"lesion_sensitivity@{rate:g}fp", k, self.n_lesions, alpha, "wilson")
        return est

    def cpm(self, rates: Sequence[float] = LUNA16_RATES) -> float:
        """Mean sensitivity over ``rates`` (LUNA16 competition performance metric)."""
        return float(np.mean([self.sensitivity_at(r).value for r in rates]))


def froc(truths: Mapping[str, ImageTruth], marks: Mapping[str, ImageMarks], rule=None,
         duplicates: str = "ignore") -> Froc:
    """The FROC curve of ``marks`` against ``truths`` (keyed by image id; images without marks count)."""
    if duplicates not in ("ignore", "false-positive"):
        raise ValueError("duplicates must be 'ignore' or 'false-positive'")
    unknown = set(marks) - set(truths)
    if unknown:
        raise ValueError(f"marks for unknown images: {sorted(unknown)[:5]}")
    rule = rule or CentreDistance()
    all_scores, all_status = [], []
    for image_id, m in marks.items():
        all_scores.append(np.asarray(m.scores, float))
        all_status.append(match_image(rule, truths[image_id], m, duplicates))
    scores = np.concatenate(all_scores) if all_scores else np.zeros(0)
    status = np.concatenate(all_status) if all_status else np.zeros(0, np.int8)
    n_images, n_lesions = len(truths), sum(t.count for t in truths.values())
    order = np.argsort(-scores, kind="mergesort")
    s, st = scores[order], status[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1] if s.size else np.zeros(0, int)
    tp = np.cumsum(st == TP)[last] if s.size else np.zeros(0, int)
    fp = np.cumsum(st == FP)[last] if s.size else np.zeros(0, int)
    return Froc(rule=rule.describe(), n_images=n_images, n_lesions=n_lesions,
                thresholds=tuple(np.r_[np.inf, s[last]].tolist()),
                sensitivity=tuple(np.r_[0.0, tp / max(n_lesions, 1)].tolist()),
                fp_per_image=tuple(np.r_[0.0, fp / max(n_images, 1)].tolist()),
                detected=tuple(np.r_[0, tp].astype(int).tolist()))


def _sens_at(scores: np.ndarray, status: np.ndarray, n_lesions: int, n_images: int, rate: float) -> float:
    if n_lesions == 0:
        return float("nan")
    order = np.argsort(-scores, kind="mergesort")
    s, st = scores[order], status[order]
    if s.size == 0:
        return 0.0
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    tp, fp = np.cumsum(st == TP)[last], np.cumsum(st == FP)[last]
    ok = fp / n_images <= rate + 1e-12
    return float(tp[ok].max() / n_lesions) if ok.any() else 0.0


def lesion_sensitivity_bootstrap(truths: Mapping[str, ImageTruth], marks: Mapping[str, ImageMarks],
                                 rate: float, rule=None, duplicates: str = "ignore", n_boot: int = 2000,
                                 seed: int = 0, alpha: float = 0.05) -> Estimate:
    """Lesion sensitivity at ``rate`` FP/image with a percentile interval from resampling **images**
    (a cluster bootstrap: lesions of one image stay together), ``numpy.random.default_rng(seed)``.
    The marks are matched once; each replicate pools the marks of the drawn images."""
    if n_boot < 10:
        raise ValueError("n_boot must be at least 10")
    rule = rule or CentreDistance()
    ids = sorted(truths)
    per_scores, per_status = [], []
    for i in ids:
        m = marks.get(i)
        if m is None:
            per_scores.append(np.zeros(0))
            per_status.append(np.zeros(0, np.int8))
        else:
            per_scores.append(np.asarray(m.scores, float))
            per_status.append(match_image(rule, truths[i], m, duplicates))
    lesions = np.array([truths[i].count for i in ids])
    point = _sens_at(np.concatenate(per_scores), np.concatenate(per_status), int(lesions.sum()), len(ids),
                     rate)
    rng = np.random.default_rng(seed)
    reps = np.empty(n_boot)
    for b in range(n_boot):
        draw = rng.integers(0, len(ids), len(ids))
        reps[b] = _sens_at(np.concatenate([per_scores[j] for j in draw]),
                           np.concatenate([per_status[j] for j in draw]), int(lesions[draw].sum()), len(ids),
                           rate)
    reps = reps[np.isfinite(reps)]
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2]) if reps.size else (np.nan, np.nan)
    return Estimate(f"lesion_sensitivity@{rate:g}fp", point, float(lo), float(hi),
                    f"image bootstrap percentile (n={n_boot}, seed={seed})", conf_level=1 - alpha)
