"""ROC analysis: AUC with the DeLong interval, a seeded stratified bootstrap interval, the ROC curve,
and DeLong's test for two correlated AUCs measured on the same cases.

Higher scores mean "more likely positive" (no automatic direction flip, unlike pROC's default).

DeLong, DeLong & Clarke-Pearson (1988), Biometrics 44:837-845, computed with the mid-rank algorithm of
Sun & Xu (2014), IEEE Signal Processing Letters 21(11):1389-1393. With m positives X and n negatives Y,
psi(x, y) = 1 if x > y, 1/2 if x = y, 0 otherwise::

    V10_i = (1/n) sum_j psi(X_i, Y_j)            (placement of each positive)
    V01_j = (1/m) sum_i psi(X_i, Y_j)            (placement of each negative)
    AUC   = mean(V10) = mean(V01)
    Var(AUC) = S10/m + S01/n,  S10 = sample variance of V10, S01 = of V01

The interval is AUC -/+ z * sqrt(Var), clipped to [0, 1] (as pROC's ``ci.auc``). For two scores on the
same cases, S10 and S01 become 2x2 covariance matrices and Var(AUC_a - AUC_b) = c' (S10/m + S01/n) c
with c = (1, -1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from medreg.ai.metrics_common import Estimate, as_binary, as_scores, z_crit


def _split(labels, scores) -> tuple[np.ndarray, np.ndarray]:
    y = as_binary(labels)
    s = as_scores(scores, y.size)
    pos, neg = s[y == 1], s[y == 0]
    if pos.size < 2 or neg.size < 2:
        raise ValueError("the AUC needs at least two positive and two negative cases")
    return pos, neg


def _placements(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong placements (V10 over positives, V01 over negatives) from mid-ranks; O(N log N)."""
    m, n = pos.size, neg.size
    tz = stats.rankdata(np.concatenate([pos, neg]))
    tx, ty = stats.rankdata(pos), stats.rankdata(neg)
    v10 = (tz[:m] - tx) / n
    v01 = 1.0 - (tz[m:] - ty) / m
    return v10, v01


def auc(labels, scores) -> float:
    """Area under the empirical ROC curve (Mann-Whitney U / (m n), ties counted 1/2)."""
    pos, neg = _split(labels, scores)
    return float(_placements(pos, neg)[0].mean())


def auc_delong(labels, scores, alpha: float = 0.05) -> Estimate:
    """AUC with the DeLong (1988) asymptotic interval; equals pROC ``ci.auc(method="delong")``."""
    pos, neg = _split(labels, scores)
    v10, v01 = _placements(pos, neg)
    value = float(v10.mean())
    se = math.sqrt(v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size)
    z = z_crit(alpha)
    return Estimate("auc", value, max(0.0, value - z * se), min(1.0, value + z * se), "delong",
                    conf_level=1 - alpha)


def auc_bootstrap(labels, scores, alpha: float = 0.05, n_boot: int = 2000, seed: int = 0) -> Estimate:
    """AUC with a percentile bootstrap interval, resampling positives and negatives separately
    (stratified, as pROC's default ``boot.stratified=TRUE``), ``n_boot`` replicates from
    ``numpy.random.default_rng(seed)``: the same seed gives the same interval.

    Replicate b draws positives ``rng.integers(0, m, (n_boot, m))`` then negatives
    ``rng.integers(0, n, (n_boot, n))``; each replicate's AUC is the Mann-Whitney statistic of its
    rows, all computed at once with row-wise ranks.
    """
    if n_boot < 10:
        raise ValueError("n_boot must be at least 10")
    pos, neg = _split(labels, scores)
    m, n = pos.size, neg.size
    rng = np.random.default_rng(seed)
    bp = pos[rng.integers(0, m, size=(n_boot, m))]
    bn = neg[rng.integers(0, n, size=(n_boot, n))]
    ranks = stats.rankdata(np.concatenate([bp, bn], axis=1), axis=1)
    aucs = (ranks[:, :m].sum(axis=1) - m * (m + 1) / 2) / (m * n)
    lower, upper = np.quantile(aucs, [alpha / 2, 1 - alpha / 2])
    value = float(_placements(pos, neg)[0].mean())
    method = f"bootstrap-percentile (n={n_boot}, seed={seed})"
    return Estimate("auc", value, float(lower), float(upper), method, conf_level=1 - alpha)


@dataclass(frozen=True)
class RocCurve:
    """Empirical ROC points, from the highest threshold (0, 0) to the lowest (1, 1)."""

    fpr: tuple[float, ...]
    tpr: tuple[float, ...]
    thresholds: tuple[float, ...]


def roc_curve(labels, scores) -> RocCurve:
    """One point per distinct score (call positive when ``score >= t``), plus the origin."""
    y = as_binary(labels)
    s = as_scores(scores, y.size)
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(s_sorted)), s_sorted.size - 1]
    tps = np.cumsum(y_sorted)[last_of_run]
    fps = (last_of_run + 1) - tps
    npos, nneg = max(int(y.sum()), 1), max(int(y.size - y.sum()), 1)
    return RocCurve(fpr=tuple(np.r_[0.0, fps / nneg].tolist()), tpr=tuple(np.r_[0.0, tps / npos].tolist()),
                    thresholds=tuple(np.r_[np.inf, s_sorted[last_of_run]].tolist()))


@dataclass(frozen=True)
class AucComparison:
    """DeLong's test of AUC_b - AUC_a on the same cases."""

    auc_a: float
    auc_b: float
    difference: Estimate  # b - a with its DeLong interval
    z: float
    p_value: float


def delong_paired(labels, scores_a, scores_b, alpha: float = 0.05) -> AucComparison:
    """DeLong's test for two correlated AUCs (same cases, two scores); two-sided p-value.

    Equals pROC ``roc.test(roc_b, roc_a, method="delong", paired=TRUE)`` (statistic, p-value and
    the interval of the difference).
    """
    y = as_binary(labels)
    a = as_scores(scores_a, y.size)
    b = as_scores(scores_b, y.size)
    pa, na = _split(y, a)
    pb, nb = _split(y, b)
    v10a, v01a = _placements(pa, na)
    v10b, v01b = _placements(pb, nb)
    s10 = np.cov(np.vstack([v10a, v10b]))
    s01 = np.cov(np.vstack([v01a, v01b]))
    cov = s10 / pa.size + s01 / na.size
    c = np.array([-1.0, 1.0])
    var = float(c @ cov @ c)
    auc_a, auc_b = float(v10a.mean()), float(v10b.mean())
    diff = auc_b - auc_a
    se = math.sqrt(max(var, 0.0))
    zc = z_crit(alpha)
    if se == 0:
        z, p = 0.0, 1.0
    else:
        z = diff / se
        p = float(2 * stats.norm.sf(abs(z)))
    return AucComparison(auc_a, auc_b,
                         Estimate("auc_difference", diff, diff - zc * se, diff + zc * se, "delong-paired",
                                  conf_level=1 - alpha), float(z), p)
