"""Version comparison (B against A) and platform equivalence, on the same cases. Pure.

Version comparison: sensitivity and specificity of both versions at ``threshold``, their paired
differences (B - A) with Wald intervals for paired proportions and McNemar's test on the discordant
cases, the AUC difference with DeLong's paired test, and a non-inferiority verdict for each metric with
``margin`` (see :mod:`medreg.ai.paired`).

Platform equivalence: per-case agreement of the two platforms' outputs (exact agreement of the calls,
Cohen's kappa of the calls, Bland-Altman limits and TOST of the mean score difference within
-/+ ``score_margin``), and, when the reference labels are known, the metric differences with intervals.
Verdict: *equivalent* when TOST shows the mean difference within the margin (p < alpha) and every metric
difference interval lies within -/+ ``metric_margin``; otherwise *not shown*, with the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medreg.ai.agreement import BlandAltman, Tost, bland_altman, exact_agreement, tost_paired
from medreg.ai.metric_names import metric_name
from medreg.ai.metrics_common import Estimate, as_binary, as_scores
from medreg.ai.metrics_multiclass import cohen_kappa
from medreg.ai.metrics_roc import delong_paired
from medreg.ai.paired import McNemar, NonInferiority, discordant, mcnemar, non_inferiority, paired_difference
from medreg.core.said import _, english, said


@dataclass(frozen=True)
class MetricComparison:
    metric: str
    a: float
    b: float
    test: McNemar | None
    p_value: float
    non_inferiority: NonInferiority

    def to_dict(self) -> dict:
        out = {"metric": self.metric, "a": self.a, "b": self.b, "p_value": self.p_value,
               **self.non_inferiority.to_dict()}
        if self.test is not None:
            out["test"] = {"method": self.test.method, "statistic": self.test.statistic,
                           "discordant_b": self.test.b, "discordant_c": self.test.c}
        else:
            out["test"] = {"method": "delong-paired"}
        return out


def compare_versions(labels, scores_a, scores_b, threshold: float = 0.5, margin: float = 0.05,
                     alpha: float = 0.05) -> tuple[MetricComparison, ...]:
    """Sensitivity, specificity and AUC of version B against version A on the same cases."""
    y = as_binary(labels)
    a = as_scores(scores_a, y.size) >= threshold
    b = as_scores(scores_b, y.size) >= threshold
    out = []
    for name, mask, call_a, call_b in (("sensitivity", y == 1, a, b), ("specificity", y == 0, ~a, ~b)):
        right_a, right_b = call_a[mask], call_b[mask]
        _n, nb, nc = discordant(right_a, right_b)
        test = mcnemar(nb, nc)
        diff = paired_difference(right_a, right_b, f"{name}_difference", alpha)
        out.append(MetricComparison(name, float(right_a.mean()) if right_a.size else float("nan"),
                                    float(right_b.mean()) if right_b.size else float("nan"), test,
                                    test.p_value, non_inferiority(name, diff, margin)))
    d = delong_paired(y, scores_a, scores_b, alpha)
    out.append(MetricComparison("auc", d.auc_a, d.auc_b, None, d.p_value,
                                non_inferiority("auc", d.difference, margin)))
    return tuple(out)


@dataclass(frozen=True)
class Equivalence:
    n: int
    call_agreement: Estimate
    call_kappa: Estimate
    bland_altman: BlandAltman
    tost: Tost
    metric_differences: tuple[Estimate, ...]
    score_margin: float
    metric_margin: float
    equivalent: bool
    reasons: tuple[str, ...]  # English text; reasons_said: the same as said(msgid, **params), for display
    reasons_said: tuple[dict, ...] = ()


def platform_equivalence(scores_a, scores_b, threshold: float = 0.5, score_margin: float = 0.05,
                         metric_margin: float = 0.02, labels=None, alpha: float = 0.05) -> Equivalence:
    """Agreement of platform B with platform A (same software version, same cases) and a verdict."""
    sa = np.asarray(scores_a, dtype=float)
    sb = as_scores(scores_b, sa.size)
    sa = as_scores(sa, sa.size)
    ca, cb = (sa >= threshold).astype(int), (sb >= threshold).astype(int)
    agree = exact_agreement(ca, cb, alpha)
    kappa = cohen_kappa(ca, cb, [0, 1], alpha=alpha)
    ba = bland_altman(sb, sa, alpha)
    tost = tost_paired(sb, sa, -score_margin, score_margin, alpha)
    if tost.equivalent:
        reasons = [said(_("TOST: mean score difference {difference} within +/-{margin} (p = {p})"),
                        difference=f"{tost.mean_difference:.4f}", margin=f"{score_margin:g}",
                        p=f"{tost.p_value:.4g}")]
    else:
        reasons = [said(_("TOST: equivalence of the mean score difference within +/-{margin} not shown "
                          "(p = {p})"), margin=f"{score_margin:g}", p=f"{tost.p_value:.4g}")]
    diffs: list[Estimate] = []
    ok = tost.equivalent
    if labels is not None:
        for c in compare_versions(labels, sa, sb, threshold, metric_margin, alpha):
            d = c.non_inferiority.difference
            diffs.append(d)
            inside = -metric_margin < d.lower and d.upper < metric_margin
            ok = ok and inside
            reasons.append(difference_reason(c.metric, d.value, d.lower, d.upper, inside, metric_margin))
    return Equivalence(int(sa.size), agree, kappa, ba, tost, tuple(diffs), score_margin, metric_margin,
                       bool(ok), tuple(english(r) for r in reasons), tuple(reasons))


def difference_reason(metric: str, value: float, lower: float, upper: float, inside: bool,
                      margin: float) -> dict:
    """A reason of an equivalence verdict: a metric's difference and interval, within the margin or not."""
    msgid = (_("{metric}: difference {difference} [{lower}, {upper}] within +/-{margin}") if inside else
             _("{metric}: difference {difference} [{lower}, {upper}] not within +/-{margin}"))
    return said(msgid, metric=metric_name(metric), difference=f"{value:.4f}", lower=f"{lower:.4f}",
                upper=f"{upper:.4f}", margin=f"{margin:g}")


def subgroup_comparisons(labels, scores_a, scores_b, groups, threshold: float = 0.5, margin: float = 0.05,
                         alpha: float = 0.05, min_cases: int = 20) -> list[dict]:
    """``compare_versions`` on the cases of every subgroup (``groups``: field -> one value per case), with
    the same margin; subgroups under ``min_cases`` cases, or without two positive and two negative cases
    (the AUC's DeLong variance needs them), are listed without numbers."""
    y = as_binary(labels)
    a, b = as_scores(scores_a, y.size), as_scores(scores_b, y.size)
    out = []
    for field, values in groups.items():
        v = np.asarray(["" if x is None else str(x) for x in values])
        if v.size != y.size:
            raise ValueError(f"subgroup field {field!r} must have one value per case")
        for value in np.unique(v):
            mask = v == value
            row: dict = {"field": field, "value": str(value), "n": int(mask.sum())}
            npos = int(y[mask].sum())
            if mask.sum() < min_cases:
                row["comparisons"], row["suppressed"] = [], f"fewer than {min_cases} cases"
            elif min(npos, int(mask.sum()) - npos) < 2:
                row["comparisons"], row["suppressed"] = [], "fewer than 2 positive or negative cases"
            else:
                rows = compare_versions(y[mask], a[mask], b[mask], threshold, margin, alpha)
                row["comparisons"] = [c.to_dict() for c in rows]
            out.append(row)
    return out


def compare_multiclass(reference, pred_a, pred_b, categories, margin: float = 0.05,
                       alpha: float = 0.05) -> tuple[MetricComparison, ...]:
    """Multiclass version B against A on the same cases: accuracy and each class's sensitivity, each a paired
    proportion (right/wrong per case) with McNemar's test, the paired Wald interval and the verdict."""
    ref = np.asarray([str(x) for x in reference])
    a = np.asarray([str(x) for x in pred_a]) == ref
    b = np.asarray([str(x) for x in pred_b]) == ref
    if a.size != ref.size or b.size != ref.size:
        raise ValueError("the two outputs must have one class per case")
    out = []
    for name, mask in [("accuracy", np.ones(ref.size, bool))] + [(f"sensitivity[{c}]", ref == str(c))
                                                                   for c in categories]:
        ra, rb = a[mask], b[mask]
        _n, nb, nc = discordant(ra, rb)
        test = mcnemar(nb, nc)
        diff = paired_difference(ra, rb, f"{name}_difference", alpha)
        out.append(MetricComparison(name, float(ra.mean()) if ra.size else float("nan"),
                                    float(rb.mean()) if rb.size else float("nan"), test, test.p_value,
                                    non_inferiority(name, diff, margin)))
    return tuple(out)


def multiclass_equivalence(pred_a, pred_b, categories, reference=None, metric_margin: float = 0.02,
                           alpha: float = 0.05) -> dict:
    """The same software version on two platforms, class outputs: exact agreement and Cohen's kappa of the
    two platforms' classes, and (with the reference) the accuracy and per-class sensitivity differences.
    Verdict *equivalent* when every difference interval lies within +/-``metric_margin``."""
    ca, cb = [str(x) for x in pred_a], [str(x) for x in pred_b]
    cats = [str(c) for c in categories]
    agree = exact_agreement(np.asarray(ca), np.asarray(cb), alpha)
    kappa = cohen_kappa(ca, cb, cats, alpha=alpha)
    reasons = [said(_("exact agreement {agreement} [{lower}, {upper}], kappa {kappa}"),
                    agreement=f"{agree.value:.4f}", lower=f"{agree.lower:.4f}", upper=f"{agree.upper:.4f}",
                    kappa=f"{kappa.value:.4f}")]
    diffs, ok = [], reference is not None
    if reference is not None:
        for c in compare_multiclass(reference, ca, cb, cats, metric_margin, alpha):
            d = c.non_inferiority.difference
            diffs.append(d.to_dict())
            inside = bool(np.isfinite(d.lower)) and -metric_margin < d.lower and d.upper < metric_margin
            ok = ok and inside
            reasons.append(difference_reason(c.metric, d.value, d.lower, d.upper, inside, metric_margin))
    return {"task": "multiclass", "n": len(ca), "difference": "B - A",
            "verdict": "equivalent" if ok else "not shown", "reasons": [english(r) for r in reasons],
            "reasons_i18n": reasons,
            "call_agreement": agree.to_dict(), "call_kappa": kappa.to_dict(), "metric_differences": diffs,
            "metric_margin": metric_margin}
