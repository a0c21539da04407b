"""Detection tasks: metrics by subgroup, and paired comparisons of two runs on the same images. Pure.

**Subgroups.** The images of each value of a metadata field (site, vendor, protocol ...) form a subset;
its lesion sensitivity at each stated FP rate is computed on that subset alone (false positives per image
of the subset, lesions of the subset) with the matching rule of :mod:`medreg.ai.detection`, and flagged by
the rule of :mod:`medreg.ai.subgroups` (estimate more than ``margin`` below the whole set **and** the
interval's upper bound below the whole set's estimate; fewer than ``min_lesions`` lesions: never flagged).

**Paired comparison** (run B against run A on the same images, e.g. version B against version A).
The statistic is the difference B - A of the lesion sensitivity at a stated FP rate ``rate`` (and of the
CPM, the mean over 1/8 ... 8 FP/image). Its interval comes from a **paired image bootstrap**: each replicate
draws images with replacement (``numpy.random.default_rng(seed)``, the same draws for A and B, so the
pairing of the two runs on one image and the lesions within one image stay together) and recomputes both
FROC operating points on the drawn images; the interval is the percentile interval of the replicate
differences and the two-sided p value is ``2 * Phi(-|d| / sd*)`` with ``sd*`` the standard deviation of the
replicate differences. Resampling cases (images) to compare FROC performance of two detection algorithms
on the same images: Samuelson & Petrick, "Comparing image detection algorithms using resampling", Proc.
IEEE ISBI 2006, pp. 1312-1315; Bornefalk & Hermansson, "On the comparison of FROC curves in mammography
CAD systems", Med. Phys. 32(2):412-417, 2005. Percentile interval: Efron & Tibshirani, An Introduction to
the Bootstrap, 1993, ch. 13. The z statistic from the bootstrap standard deviation is the one of pROC's
``roc.test(method="bootstrap")`` (Robin et al., BMC Bioinformatics 12:77, 2011). Replicates that draw no
lesion are dropped (sensitivity undefined), as in :func:`medreg.ai.detection.lesion_sensitivity_bootstrap`,
whose draws these are: with the same seed, the replicates of run A equal that function's replicates.
The non-inferiority verdict on the difference uses :func:`medreg.ai.paired.non_inferiority` with ``margin``.

**Per-lesion platform agreement** (the same version on two platforms): each lesion detected or not at each
run's operating point of ``lesion_sensitivity@rate`` (:func:`lesion_outcomes`), exact agreement and Cohen's
kappa of those outcomes, and Bland-Altman/TOST of the detecting marks' scores over the lesions detected on
both (:func:`lesion_agreement`, with the functions of :mod:`medreg.ai.agreement`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from medreg.ai.agreement import bland_altman, exact_agreement, tost_paired
from medreg.ai.detection import (
    FP,
    LUNA16_RATES,
    TP,
    CentreDistance,
    ImageMarks,
    ImageTruth,
    assign_image,
    froc,
    match_image,
)
from medreg.ai.metrics_common import Estimate, num
from medreg.ai.metrics_multiclass import cohen_kappa
from medreg.ai.paired import non_inferiority
from medreg.ai.subgroups import SubgroupResult, is_far_below


def detection_estimates(truths: Mapping[str, ImageTruth], marks: Mapping[str, ImageMarks], rule=None,
                        duplicates: str = "ignore", rates: Sequence[float] = LUNA16_RATES,
                        alpha: float = 0.05) -> list[Estimate]:
    """Lesion sensitivity at each rate (Wilson interval over lesions) and the CPM (no interval)."""
    f = froc(truths, {k: v for k, v in marks.items() if k in truths}, rule or CentreDistance(), duplicates)
    out = [f.sensitivity_at(r, alpha) for r in rates]
    cpm = float(np.mean([e.value for e in out])) if f.n_lesions else math.nan
    out.append(Estimate("cpm", cpm, math.nan, math.nan, f"mean lesion sensitivity at {len(rates)} FP rates",
                        conf_level=1 - alpha))
    return out


def detection_subgroups(truths: Mapping[str, ImageTruth], marks: Mapping[str, ImageMarks],
                        groups: Mapping[str, Mapping[str, str]], rule=None, duplicates: str = "ignore",
                        rates: Sequence[float] = LUNA16_RATES, alpha: float = 0.05, margin: float = 0.05,
                        min_lesions: int = 10) -> tuple[tuple[Estimate, ...], tuple[SubgroupResult, ...]]:
    """The whole set's detection metrics and each subgroup's (``groups``: field -> image id -> value)."""
    whole = detection_estimates(truths, marks, rule, duplicates, rates, alpha)
    by_name = {e.name: e for e in whole}
    results = []
    for field, values in groups.items():
        if set(values) != set(truths):
            raise ValueError(f"subgroup field {field!r} must have one value per image")
        for value in sorted(set(values.values())):
            ids = [i for i in truths if values[i] == value]
            sub_t = {i: truths[i] for i in ids}
            sub_m = {i: marks[i] for i in ids if i in marks}
            ests = detection_estimates(sub_t, sub_m, rule, duplicates, rates, alpha)
            flags = tuple(e.name for e in ests if is_far_below(e, by_name[e.name], margin, min_lesions))
            results.append(SubgroupResult(field, str(value), len(ids), tuple(ests), flags))
    return tuple(whole), tuple(results)


# --- paired comparison ---------------------------------------------------------------------------------


def _pooled(ids, truths, marks, rule, duplicates):
    """Every mark of the run, matched once per image: (image index, score, status) in decreasing score
    order (stable), and the end of each group of equal scores."""
    img, scores, status = [], [], []
    for k, i in enumerate(ids):
        m = marks.get(i)
        if m is None or np.asarray(m.scores).size == 0:
            continue
        sc = np.asarray(m.scores, float)
        img.append(np.full(sc.size, k))
        scores.append(sc)
        status.append(match_image(rule, truths[i], m, duplicates))
    if not scores:
        return np.zeros(0, int), np.zeros(0), np.zeros(0, np.int8), np.zeros(0, int)
    img, sc, st = np.concatenate(img), np.concatenate(scores), np.concatenate(status)
    order = np.argsort(-sc, kind="mergesort")
    img, sc, st = img[order], sc[order], st[order]
    last = np.r_[np.flatnonzero(np.diff(sc)), sc.size - 1]
    return img, sc, st, last


def _weighted_sensitivities(pooled, weights: np.ndarray, lesions: np.ndarray, n_images: int,
                            rates: Sequence[float]) -> np.ndarray:
    """Lesion sensitivity at each rate (columns) for each row of image multiplicities ``weights`` (rows
    = replicates): the FROC of the images drawn, each as many times as drawn. Equal to pooling copies of
    the drawn images' marks (ties between equal scores are resolved at the end of their group, as in
    :func:`medreg.ai.detection.froc`). NaN when no lesion is drawn."""
    img, _sc, st, last = pooled
    k = weights @ lesions
    out = np.zeros((weights.shape[0], len(rates)))
    if img.size:
        wm = weights[:, img].astype(float)
        tp = np.c_[np.zeros(weights.shape[0]), np.cumsum(wm * (st == TP), axis=1)[:, last]]
        fp = np.c_[np.zeros(weights.shape[0]), np.cumsum(wm * (st == FP), axis=1)[:, last]] / n_images
        for j, r in enumerate(rates):
            out[:, j] = np.where(fp <= r + 1e-12, tp, 0.0).max(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(k[:, None] > 0, out / np.where(k > 0, k, 1)[:, None], np.nan)


@dataclass(frozen=True)
class PairedBootstrap:
    """Point values and replicates (rows: replicates kept; columns: the rates, then the CPM)."""

    rates: tuple[float, ...]
    point_a: np.ndarray
    point_b: np.ndarray
    reps_a: np.ndarray
    reps_b: np.ndarray
    n_boot: int
    seed: int


def paired_bootstrap(truths: Mapping[str, ImageTruth], marks_a: Mapping[str, ImageMarks],
                     marks_b: Mapping[str, ImageMarks], rates: Sequence[float] = (1.0,), rule=None,
                     duplicates: str = "ignore", n_boot: int = 2000, seed: int = 0) -> PairedBootstrap:
    """Lesion sensitivities of A and B at ``rates`` and their CPMs, on the same resampled images in every
    replicate. Images are drawn as in ``lesion_sensitivity_bootstrap`` (one ``rng.integers(0, n, n)`` per
    replicate over the sorted image ids), so run A's replicates are that function's."""
    if n_boot < 10:
        raise ValueError("n_boot must be at least 10")
    rule = rule or CentreDistance()
    ids = sorted(truths)
    n = len(ids)
    all_rates = tuple(rates) + LUNA16_RATES
    cols = list(range(len(rates)))
    pa, pb_ = _pooled(ids, truths, marks_a, rule, duplicates), _pooled(ids, truths, marks_b, rule, duplicates)
    lesions = np.array([truths[i].count for i in ids], dtype=float)

    def both(weights):
        a = _weighted_sensitivities(pa, weights, lesions, n, all_rates)
        b = _weighted_sensitivities(pb_, weights, lesions, n, all_rates)
        cpm = slice(len(rates), len(all_rates))
        return np.c_[a[:, cols], a[:, cpm].mean(1)], np.c_[b[:, cols], b[:, cpm].mean(1)]

    point_a, point_b = both(np.ones((1, n)))
    rng = np.random.default_rng(seed)
    weights = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(n_boot)])
    ra, rb = np.empty((n_boot, len(rates) + 1)), np.empty((n_boot, len(rates) + 1))
    for start in range(0, n_boot, 250):  # bounded memory: 250 replicates x marks at a time
        ra[start:start + 250], rb[start:start + 250] = both(weights[start:start + 250])
    keep = np.isfinite(ra[:, 0])
    return PairedBootstrap(tuple(rates), point_a[0], point_b[0], ra[keep], rb[keep], n_boot, seed)


def compare_detection(truths: Mapping[str, ImageTruth], marks_a: Mapping[str, ImageMarks],
                      marks_b: Mapping[str, ImageMarks], rule=None, duplicates: str = "ignore",
                      rate: float = 1.0, margin: float = 0.05, alpha: float = 0.05, n_boot: int = 2000,
                      seed: int = 0) -> list[dict]:
    """Rows (as ``comparison.MetricComparison.to_dict``) for the lesion sensitivity at ``rate`` FP/image
    and the CPM of run B against run A: A, B, the paired-bootstrap difference and its verdict."""
    if not (math.isfinite(rate) and rate > 0):
        raise ValueError("the FP rate must be positive")
    pb = paired_bootstrap(truths, marks_a, marks_b, (rate,), rule, duplicates, n_boot, seed)
    method = f"paired image bootstrap percentile (n={n_boot}, seed={seed})"
    rows = []
    for col, name in ((0, f"lesion_sensitivity@{rate:g}fp"), (1, "cpm")):
        a, b = float(pb.point_a[col]), float(pb.point_b[col])
        d = pb.reps_b[:, col] - pb.reps_a[:, col]
        if d.size == 0 or not math.isfinite(a):
            diff = Estimate(f"{name}_difference", math.nan, math.nan, math.nan, method, conf_level=1 - alpha)
            p, z = math.nan, math.nan
        else:
            lo, hi = np.quantile(d, [alpha / 2, 1 - alpha / 2])
            diff = Estimate(f"{name}_difference", b - a, float(lo), float(hi), method, conf_level=1 - alpha)
            sd = float(np.std(d, ddof=1)) if d.size > 1 else 0.0
            if sd > 0:
                z = (b - a) / sd
                p = float(2 * stats.norm.sf(abs(z)))
            else:
                z, p = (0.0, 1.0) if b == a else (math.copysign(math.inf, b - a), 0.0)
        ni = non_inferiority(name, diff, margin)
        rows.append({"metric": name, "a": num(a), "b": num(b), "p_value": num(p), **ni.to_dict(),
                     "test": {"method": "paired-image-bootstrap", "statistic": num(z), "n_boot": n_boot,
                              "replicates_kept": int(d.size), "seed": seed}})
    return rows


def subgroup_comparisons(truths: Mapping[str, ImageTruth], marks_a: Mapping[str, ImageMarks],
                         marks_b: Mapping[str, ImageMarks], groups: Mapping[str, Mapping[str, str]],
                         min_images: int, **kw) -> list[dict]:
    """``compare_detection`` on the images of every subgroup; subgroups under ``min_images`` images are
    listed without numbers."""
    out = []
    for field, values in groups.items():
        for value in sorted(set(values.values())):
            ids = [i for i in truths if values[i] == value]
            row: dict = {"field": field, "value": value, "n": len(ids)}
            if len(ids) < min_images:
                row["comparisons"], row["suppressed"] = [], f"fewer than {min_images} cases"
            else:
                row["comparisons"] = compare_detection({i: truths[i] for i in ids},
                                                       {i: marks_a[i] for i in ids if i in marks_a},
                                                       {i: marks_b[i] for i in ids if i in marks_b}, **kw)
            out.append(row)
    return out


def lesion_outcomes(truths: Mapping[str, ImageTruth], marks: Mapping[str, ImageMarks], rule=None,
                    duplicates: str = "ignore", rate: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Each reference lesion (images in sorted id order, lesions in their stored order) at the operating
    point of ``lesion_sensitivity@rate``: the lowest FROC threshold with at most ``rate`` false positives
    per image (where the step function of :meth:`Froc.sensitivity_at` takes its value). Returns
    (detected: bool per lesion, score of the mark that detects it, NaN when not detected). The greedy
    assignment above a threshold is a prefix of the whole pass, so a lesion is detected at the operating
    point exactly when the mark the whole pass gives it scores at or above the threshold."""
    rule = rule or CentreDistance()
    marks = {k: v for k, v in marks.items() if k in truths}
    f = froc(truths, marks, rule, duplicates)
    ok = np.flatnonzero(np.asarray(f.fp_per_image) <= rate + 1e-12)
    threshold = f.thresholds[int(ok.max())]
    detected, scores = [], []
    for i in sorted(truths):
        t = truths[i]
        m = marks.get(i)
        if m is None:
            by, s = np.full(t.count, -1), np.zeros(0)
        else:
            s = np.asarray(m.scores, float)
            by = assign_image(rule, t, m, duplicates)[1]
        for j in by:
            hit = bool(j >= 0 and s[j] >= threshold)
            detected.append(hit)
            scores.append(float(s[j]) if hit else math.nan)
    return np.asarray(detected, bool), np.asarray(scores, float)


def lesion_agreement(truths: Mapping[str, ImageTruth], marks_a: Mapping[str, ImageMarks],
                     marks_b: Mapping[str, ImageMarks], rule=None, duplicates: str = "ignore",
                     rate: float = 1.0, score_margin: float = 0.05, alpha: float = 0.05) -> dict:
    """Per-lesion agreement of platform B with platform A (the same software version on the same images),
    aggregates only: exact agreement of detected / not detected at each run's operating point at ``rate``
    FP/image (Wilson interval) and Cohen's kappa (:mod:`medreg.ai.agreement`,
    :func:`medreg.ai.metrics_multiclass.cohen_kappa`); over the lesions detected on both platforms, the
    scores of the detecting marks, B - A: Bland-Altman limits and TOST of the mean difference within
    +/-``score_margin`` (under two such lesions: no interval, equivalence not shown)."""
    da, sa = lesion_outcomes(truths, marks_a, rule, duplicates, rate)
    db, sb = lesion_outcomes(truths, marks_b, rule, duplicates, rate)
    ca, cb = da.astype(int), db.astype(int)
    agree = replace(exact_agreement(ca, cb, alpha), name="lesion_detection_agreement")
    kappa = replace(cohen_kappa(ca, cb, [0, 1], alpha=alpha), name="lesion_detection_kappa")
    both = da & db
    out: dict = {"n_lesions": int(da.size), "n_detected_both": int(both.sum()), "fp_rate": rate,
                 "call_agreement": agree.to_dict(), "call_kappa": kappa.to_dict(),
                 "score_margin": score_margin}
    if both.sum() < 2:
        out["bland_altman"], out["tost"] = None, None
        return out
    ba = bland_altman(sb[both], sa[both], alpha)
    t = tost_paired(sb[both], sa[both], -score_margin, score_margin, alpha)
    out["bland_altman"] = {"n": ba.n, "bias": ba.bias.to_dict(), "sd": ba.sd, "k": ba.k,
                           "lower_limit": ba.lower_limit.to_dict(), "upper_limit": ba.upper_limit.to_dict()}
    out["tost"] = {"low": t.low, "upp": t.upp, "mean_difference": t.mean_difference, "p_value": t.p_value,
                   "t_lower": num(t.t_lower), "t_upper": num(t.t_upper), "df": t.df,
                   "equivalent": t.equivalent}
    return out
