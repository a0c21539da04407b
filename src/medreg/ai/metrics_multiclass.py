"""Multi-class metrics: per-class one-vs-rest proportions and Cohen's (weighted) kappa with its interval.

Cohen's kappa for a k x k table of proportions p_ij (rows: reference or platform A, columns: output or
platform B), agreement weights w_ij (1 on the diagonal)::

    p_o = sum_ij w_ij p_ij,   p_e = sum_ij w_ij p_i. p_.j,   kappa = (p_o - p_e) / (1 - p_e)

Weights: ``None`` -> w = I (unweighted); ``"linear"`` -> w_ij = 1 - |i-j|/(k-1);
``"quadratic"`` -> w_ij = 1 - (i-j)^2/(k-1)^2 (Cohen 1968). The large-sample variance is that of
Fleiss, Cohen & Everitt (1969), Psychological Bulletin 72:323-327::

    wbar_i. = sum_j p_.j w_ij,   wbar_.j = sum_i p_i. w_ij
    Var = [ sum_ij p_ij (w_ij - (wbar_i. + wbar_.j)(1 - kappa))^2 - (kappa - p_e (1 - kappa))^2 ]
          / (N (1 - p_e)^2)

and the Wald interval kappa -/+ z sqrt(Var). Point estimates equal scikit-learn ``cohen_kappa_score``;
variance and interval equal statsmodels ``cohens_kappa``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from medreg.ai.metrics_common import Estimate, proportion, z_crit

KAPPA_WEIGHTS = (None, "linear", "quadratic")


def _codes(values, categories: Sequence) -> np.ndarray:
    index = {c: i for i, c in enumerate(categories)}
    try:
        return np.fromiter((index[v] for v in np.asarray(values).tolist()), dtype=np.int64)
    except KeyError as err:
        raise ValueError(f"value {err.args[0]!r} is not one of the categories") from None


def contingency(a, b, categories: Sequence) -> np.ndarray:
    """k x k counts of ``a`` (rows) against ``b`` (columns) over ``categories`` in their order."""
    ia, ib = _codes(a, categories), _codes(b, categories)
    if ia.size != ib.size:
        raise ValueError("the two ratings must have the same length")
    k = len(categories)
    return np.bincount(ia * k + ib, minlength=k * k).reshape(k, k)


def agreement_weights(k: int, weights: str | None) -> np.ndarray:
    """Agreement weight matrix (1 on the diagonal) for ``None``, ``"linear"`` or ``"quadratic"``."""
    if weights not in KAPPA_WEIGHTS:
        raise ValueError(f"unknown kappa weights {weights!r}")
    if weights is None or k == 1:
        return np.eye(k)
    d = np.abs(np.subtract.outer(np.arange(k), np.arange(k))) / (k - 1)
    return 1 - d if weights == "linear" else 1 - d**2


def cohen_kappa_table(table, weights: str | None = None, alpha: float = 0.05) -> Estimate:
    """Cohen's kappa of a k x k count table, with the Fleiss-Cohen-Everitt interval."""
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise ValueError("the table must be square")
    n = t.sum()
    if n == 0:
        raise ValueError("the table is empty")
    p = t / n
    row, col = p.sum(1), p.sum(0)
    w = agreement_weights(t.shape[0], weights)
    po = float((w * p).sum())
    pe = float((w * np.outer(row, col)).sum())
    name = "kappa" if weights is None else f"kappa_{weights}"
    method = "cohen-kappa, Fleiss-Cohen-Everitt (1969) asymptotic SE"
    if pe >= 1:  # one category only in both ratings: kappa undefined
        return Estimate(name, math.nan, math.nan, math.nan, method, conf_level=1 - alpha)
    kappa = (po - pe) / (1 - pe)
    wi, wj = w @ col, row @ w
    term = (p * (w - np.add.outer(wi, wj) * (1 - kappa)) ** 2).sum()
    var = (term - (kappa - pe * (1 - kappa)) ** 2) / (n * (1 - pe) ** 2)
    se = math.sqrt(max(var, 0.0))
    z = z_crit(alpha)
    return Estimate(name, kappa, kappa - z * se, kappa + z * se, method, conf_level=1 - alpha)


def cohen_kappa(a, b, categories: Sequence, weights: str | None = None, alpha: float = 0.05) -> Estimate:
    """Cohen's kappa of two ratings of the same cases over ordered ``categories``."""
    return cohen_kappa_table(contingency(a, b, categories), weights, alpha)


@dataclass(frozen=True)
class ClassMetrics:
    """One class against the rest."""

    label: str
    support: int
    sensitivity: Estimate  # recall
    specificity: Estimate
    ppv: Estimate  # precision


def per_class_metrics(reference, predicted, categories: Sequence, alpha: float = 0.05,
                      method: str = "wilson") -> tuple[ClassMetrics, ...]:
    """Sensitivity (recall), specificity and PPV (precision) of each class, one-vs-rest."""
    t = contingency(reference, predicted, categories)
    n = int(t.sum())
    out = []
    for i, c in enumerate(categories):
        tp = int(t[i, i])
        fn = int(t[i].sum()) - tp
        fp = int(t[:, i].sum()) - tp
        tn = n - tp - fn - fp
        out.append(ClassMetrics(str(c), tp + fn, proportion("sensitivity", tp, tp + fn, alpha, method),
                                proportion("specificity", tn, tn + fp, alpha, method),
                                proportion("ppv", tp, tp + fp, alpha, method)))
    return tuple(out)


def accuracy(reference, predicted, categories: Sequence, alpha: float = 0.05,
             method: str = "wilson") -> Estimate:
    """Overall proportion of exact agreement with the reference."""
    t = contingency(reference, predicted, categories)
    return proportion("accuracy", int(np.trace(t)), int(t.sum()), alpha, method)
