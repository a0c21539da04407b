"""Metrics by subgroup (site, vendor, protocol, age band, sex, severity ...), with a flag when a subgroup
is far below the whole evaluation set.

Flag rule (stated, parameterised): a subgroup's metric is flagged when its point estimate is more than
``margin`` below the whole set's point estimate **and** the upper bound of its interval is below the
whole set's point estimate (so small subgroups with wide intervals are not flagged on noise alone).
Subgroups with fewer than ``min_cases`` cases in the metric's denominator are reported but not flagged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from medreg.ai.metrics_binary import binary_metrics
from medreg.ai.metrics_common import Estimate, as_binary, as_scores
from medreg.ai.metrics_multiclass import accuracy, cohen_kappa, per_class_metrics
from medreg.ai.metrics_roc import auc_delong


@dataclass(frozen=True)
class SubgroupResult:
    field: str
    value: str
    n: int
    estimates: tuple[Estimate, ...]
    flags: tuple[str, ...]  # names of the metrics flagged far below the whole

    def to_dict(self) -> dict:
        return {"field": self.field, "value": self.value, "n": self.n,
                "metrics": [e.to_dict() for e in self.estimates], "flagged": list(self.flags)}


def _estimates(y: np.ndarray, s: np.ndarray, threshold: float, alpha: float, method: str,
               with_auc: bool) -> list[Estimate]:
    m = binary_metrics(y, s, threshold, alpha, method)
    out = list(m.estimates)
    if with_auc:
        npos = int(y.sum())
        if npos >= 2 and y.size - npos >= 2:
            out.append(auc_delong(y, s, alpha))
        else:
            out.append(Estimate("auc", math.nan, math.nan, math.nan, "delong", conf_level=1 - alpha))
    return out


def is_far_below(sub: Estimate, whole: Estimate, margin: float, min_cases: int) -> bool:
    """The flag rule of this module for one metric."""
    if not (math.isfinite(sub.value) and math.isfinite(whole.value) and math.isfinite(sub.upper)):
        return False
    if sub.n is not None and sub.n < min_cases:
        return False
    return sub.value < whole.value - margin and sub.upper < whole.value


def subgroup_metrics(labels, scores, groups: Mapping[str, Sequence], threshold: float = 0.5,
                     alpha: float = 0.05, method: str = "wilson", margin: float = 0.05,
                     min_cases: int = 10, with_auc: bool = True) -> tuple[tuple[Estimate, ...],
                                                                          tuple[SubgroupResult, ...]]:
    """The whole set's metrics and every subgroup's, for each metadata field in ``groups``.

    ``groups`` maps a field name to one value per case (missing values become the subgroup "").
    """
    y = as_binary(labels)
    s = as_scores(scores, y.size)
    whole = _estimates(y, s, threshold, alpha, method, with_auc)
    by_name = {e.name: e for e in whole}
    results = []
    for field, values in groups.items():
        v = np.asarray(["" if x is None else str(x) for x in values])
        if v.size != y.size:
            raise ValueError(f"subgroup field {field!r} must have one value per case")
        for value in np.unique(v):
            mask = v == value
            ests = _estimates(y[mask], s[mask], threshold, alpha, method, with_auc)
            flags = tuple(e.name for e in ests if is_far_below(e, by_name[e.name], margin, min_cases))
            results.append(SubgroupResult(field, str(value), int(mask.sum()), tuple(ests), flags))
    return tuple(whole), tuple(results)


def _multiclass_estimates(reference, predicted, categories, alpha: float, method: str,
                          ordinal: bool) -> list[Estimate]:
    out = [accuracy(reference, predicted, categories, alpha, method)]
    for w in (None, "linear", "quadratic") if ordinal else (None,):
        out.append(cohen_kappa(reference, predicted, categories, w, alpha))
    for c in per_class_metrics(reference, predicted, categories, alpha, method):
        out.append(replace(c.sensitivity, name=f"sensitivity[{c.label}]"))
    return out


def multiclass_subgroups(reference: Sequence[str], predicted: Sequence[str], categories: Sequence[str],
                         groups: Mapping[str, Sequence], alpha: float = 0.05, method: str = "wilson",
                         margin: float = 0.05, min_cases: int = 10, ordinal: bool = False
                         ) -> tuple[tuple[Estimate, ...], tuple[SubgroupResult, ...]]:
    """Multiclass metrics (accuracy, Cohen's kappa, weighted kappas when ``ordinal``, each class's
    sensitivity) of the whole set and of each subgroup, flagged by the rule of this module."""
    ref, pred = list(map(str, reference)), list(map(str, predicted))
    whole = _multiclass_estimates(ref, pred, categories, alpha, method, ordinal)
    by_name = {e.name: e for e in whole}
    results = []
    for field, values in groups.items():
        v = ["" if x is None else str(x) for x in values]
        if len(v) != len(ref):
            raise ValueError(f"subgroup field {field!r} must have one value per case")
        for value in sorted(set(v)):
            idx = [i for i, x in enumerate(v) if x == value]
            ests = _multiclass_estimates([ref[i] for i in idx], [pred[i] for i in idx], categories, alpha,
                                         method, ordinal)
            n = len(idx)
            flags = tuple(e.name for e in ests if is_far_below(e, by_name[e.name], margin, min_cases)
                          and (e.n is not None or n >= min_cases))
            results.append(SubgroupResult(field, value, n, tuple(ests), flags))
    return tuple(whole), tuple(results)
