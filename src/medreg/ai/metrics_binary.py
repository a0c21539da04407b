"""Binary classification metrics at a threshold, and the operating point at a fixed specificity.

A case is called positive when ``score >= threshold`` (the convention stated in docs/ai.md).

=============  ======================  =========================
metric         formula                 denominator
=============  ======================  =========================
sensitivity    TP / (TP + FN)          reference-positive cases
specificity    TN / (TN + FP)          reference-negative cases
PPV            TP / (TP + FP)          cases called positive
NPV            TN / (TN + FN)          cases called negative
accuracy       (TP + TN) / N           all cases
=============  ======================  =========================

Each comes with a Wilson or Clopper-Pearson interval (:func:`medreg.ai.metrics_common.proportion_ci`).
PPV and NPV are those of the evaluation set's prevalence (no re-weighting to a target prevalence).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medreg.ai.metrics_common import Estimate, as_binary, as_scores, proportion


@dataclass(frozen=True)
class Confusion:
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    def to_dict(self) -> dict:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn}


@dataclass(frozen=True)
class BinaryMetrics:
    """Confusion counts at ``threshold`` and the five proportions with their intervals."""

    threshold: float
    confusion: Confusion
    sensitivity: Estimate
    specificity: Estimate
    ppv: Estimate
    npv: Estimate
    accuracy: Estimate

    @property
    def estimates(self) -> tuple[Estimate, ...]:
        return (self.sensitivity, self.specificity, self.ppv, self.npv, self.accuracy)


def confusion(labels, called_positive) -> Confusion:
    """Counts of the 2x2 table of reference ``labels`` (0/1) against calls (bool or 0/1)."""
    y = as_binary(labels).astype(bool)
    c = np.asarray(called_positive).astype(bool)
    if c.shape != y.shape:
        raise ValueError("calls and labels must have the same length")
    return Confusion(tp=int(np.sum(y & c)), fp=int(np.sum(~y & c)), fn=int(np.sum(y & ~c)),
                     tn=int(np.sum(~y & ~c)))


def binary_metrics_from_confusion(cm: Confusion, threshold: float = float("nan"), alpha: float = 0.05,
                                  method: str = "wilson") -> BinaryMetrics:
    """The five proportions of a 2x2 table, each with a ``method`` interval at level ``1 - alpha``."""
    return BinaryMetrics(
        threshold=threshold, confusion=cm,
        sensitivity=proportion("sensitivity", cm.tp, cm.tp + cm.fn, alpha, method),
        specificity=proportion("specificity", cm.tn, cm.tn + cm.fp, alpha, method),
        ppv=proportion("ppv", cm.tp, cm.tp + cm.fp, alpha, method),
        npv=proportion("npv", cm.tn, cm.tn + cm.fn, alpha, method),
        accuracy=proportion("accuracy", cm.tp + cm.tn, cm.n, alpha, method),
    )


def binary_metrics(labels, scores, threshold: float = 0.5, alpha: float = 0.05,
                   method: str = "wilson") -> BinaryMetrics:
    """Sensitivity, specificity, PPV, NPV and accuracy when ``score >= threshold`` is called positive.

    Parameters
    ----------
    labels : array of 0/1, the sealed reference standard.
    scores : array of floats (a binary output is the score 0 or 1).
    threshold : the decision threshold.
    alpha : 1 - confidence level.
    method : ``"wilson"`` or ``"clopper-pearson"``.
    """
    y = as_binary(labels)
    s = as_scores(scores, y.size)
    return binary_metrics_from_confusion(confusion(y, s >= threshold), float(threshold), alpha, method)


@dataclass(frozen=True)
class OperatingPoint:
    """The threshold that reaches ``target_specificity`` with the highest sensitivity."""

    target_specificity: float
    threshold: float
    sensitivity: Estimate
    specificity: Estimate


def operating_point_at_specificity(labels, scores, target_specificity: float, alpha: float = 0.05,
                                   method: str = "wilson") -> OperatingPoint:
    """Lowest threshold whose specificity is at least ``target_specificity``.

    Candidate thresholds are the distinct scores and +inf (nothing called positive). Specificity at
    threshold t is #(negative scores < t) / #negatives and falls as t falls, sensitivity rises;
    the lowest qualifying t therefore maximises sensitivity subject to the specificity floor.
    """
    if not 0 <= target_specificity <= 1:
        raise ValueError("target_specificity must be within [0, 1]")
    y = as_binary(labels)
    s = as_scores(scores, y.size)
    neg = np.sort(s[y == 0])
    if neg.size == 0:
        raise ValueError("no reference-negative cases")
    candidates = np.append(np.unique(s), np.inf)
    spec = np.searchsorted(neg, candidates, side="left") / neg.size
    ok = np.flatnonzero(spec >= target_specificity - 1e-12)
    t = float(candidates[ok[0]])  # spec is non-decreasing in t, +inf always qualifies
    m = binary_metrics(y, s, t, alpha, method)
    return OperatingPoint(target_specificity, t, m.sensitivity, m.specificity)
