"""JSON-ready reports of the metrics (what the CLI prints and the sealed-run service returns). Pure.

A report holds only aggregate numbers: no per-case label, output or call is ever part of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from medreg.ai import detection_compare
from medreg.ai.comparison import (
    compare_multiclass,
    compare_versions,
    multiclass_equivalence,
    platform_equivalence,
    subgroup_comparisons,
)
from medreg.ai.detection import LUNA16_RATES, froc
from medreg.ai.metrics_binary import binary_metrics, operating_point_at_specificity
from medreg.ai.metrics_calibration import calibration
from medreg.ai.metrics_common import num
from medreg.ai.metrics_multiclass import accuracy, cohen_kappa, per_class_metrics
from medreg.ai.metrics_roc import auc_bootstrap, auc_delong
from medreg.ai.subgroups import multiclass_subgroups, subgroup_metrics


def binary_report(labels, scores, *, threshold: float = 0.5, alpha: float = 0.05, ci: str = "wilson",
                  specificities: Sequence[float] = (), n_boot: int = 0, seed: int = 0,
                  groups: Mapping[str, Sequence[str]] | None = None, flag_margin: float = 0.05) -> dict:
    """Binary metrics at ``threshold``, AUC (DeLong; bootstrap when ``n_boot``), operating points at the
    given specificities, calibration, and subgroup metrics with flags."""
    y = np.asarray(labels, dtype=np.int8)
    s = np.asarray(scores, dtype=float)
    m = binary_metrics(y, s, threshold, alpha, ci)
    metrics = [e.to_dict() for e in m.estimates]
    npos = int(y.sum())
    if min(npos, y.size - npos) >= 2:  # the AUC's variance needs two cases of each kind
        metrics.append(auc_delong(y, s, alpha).to_dict())
        if n_boot:
            metrics.append(auc_bootstrap(y, s, alpha, n_boot, seed).to_dict())
    ops = []
    for target in specificities:
        op = operating_point_at_specificity(y, s, target, alpha, ci)
        ops.append({"target_specificity": target, "threshold": num(op.threshold),
                    "sensitivity": op.sensitivity.to_dict(), "specificity": op.specificity.to_dict()})
    try:
        cal = calibration(y, s, alpha)
        cal_out = {"brier": cal.brier, "slope": cal.slope.to_dict(), "intercept": cal.intercept.to_dict(),
                   "calibration_in_the_large": cal.calibration_in_the_large.to_dict()}
    except (ValueError, np.linalg.LinAlgError):  # e.g. 0/1 outputs: the logistic fit separates
        cal_out = {"brier": float(np.mean((s - y) ** 2)), "slope": None, "intercept": None,
                   "calibration_in_the_large": None,
                   "note": "calibration slope not estimable (perfectly separated or binary outputs)"}
    out = {
        "task": "binary", "n": int(y.size), "n_positive": int(y.sum()), "n_negative": int(y.size - y.sum()),
        "threshold": threshold, "decision_rule": "positive when score >= threshold",
        "confusion": m.confusion.to_dict(), "metrics": metrics, "operating_points": ops,
        "calibration": cal_out,
    }
    if groups:
        _whole, subs = subgroup_metrics(y, s, groups, threshold, alpha, ci, margin=flag_margin)
        out["subgroups"] = [r.to_dict() for r in subs]
        out["subgroup_flag_rule"] = (f"estimate more than {flag_margin:g} below the whole set and the "
                                     "interval's upper bound below the whole set's estimate (n >= 10)")
    return out


def multiclass_report(reference: Sequence[str], predicted: Sequence[str], categories: Sequence[str], *,
                      alpha: float = 0.05, ci: str = "wilson", ordinal: bool = False,
                      groups: Mapping[str, Sequence[str]] | None = None, flag_margin: float = 0.05) -> dict:
    """Per-class metrics, accuracy and Cohen's kappa (linear- and quadratic-weighted too if ordinal)."""
    classes = [{"class": c.label, "support": c.support, "sensitivity": c.sensitivity.to_dict(),
                "specificity": c.specificity.to_dict(), "ppv": c.ppv.to_dict()}
               for c in per_class_metrics(reference, predicted, categories, alpha, ci)]
    metrics = [accuracy(reference, predicted, categories, alpha, ci).to_dict(),
               cohen_kappa(reference, predicted, categories, None, alpha).to_dict()]
    if ordinal:
        for w in ("linear", "quadratic"):
            metrics.append(cohen_kappa(reference, predicted, categories, w, alpha).to_dict())
    out = {"task": "multiclass", "n": len(reference), "categories": list(categories), "metrics": metrics,
           "per_class": classes}
    if groups:
        _whole, subs = multiclass_subgroups(reference, predicted, categories, groups, alpha, ci, flag_margin,
                                            ordinal=ordinal)
        out["subgroups"] = [r.to_dict() for r in subs]
        out["subgroup_flag_rule"] = (f"estimate more than {flag_margin:g} below the whole set and the "
                                     "interval's upper bound below the whole set's estimate (n >= 10)")
    return out


def comparison_report(labels, scores_a, scores_b, *, threshold: float = 0.5, margin: float = 0.05,
                      alpha: float = 0.05, groups: Mapping[str, Sequence[str]] | None = None,
                      min_subgroup: int = 20) -> dict:
    """B against A on the whole set and, with ``groups``, on every subgroup (same margin)."""
    rows = compare_versions(labels, scores_a, scores_b, threshold, margin, alpha)
    out = {"n": len(labels), "threshold": threshold, "margin": margin, "difference": "B - A",
           "comparisons": [r.to_dict() for r in rows]}
    if groups:
        out["subgroup_comparisons"] = subgroup_comparisons(labels, scores_a, scores_b, groups, threshold,
                                                           margin, alpha, min_subgroup)
    return out


def equivalence_report(scores_a, scores_b, *, labels=None, threshold: float = 0.5,
                       score_margin: float = 0.05, metric_margin: float = 0.02, alpha: float = 0.05) -> dict:
    eq = platform_equivalence(scores_a, scores_b, threshold, score_margin, metric_margin, labels, alpha)
    ba, t = eq.bland_altman, eq.tost
    return {
        "n": eq.n, "threshold": threshold, "difference": "B - A",
        "verdict": "equivalent" if eq.equivalent else "not shown", "reasons": list(eq.reasons),
        "reasons_i18n": list(eq.reasons_said),
        "call_agreement": eq.call_agreement.to_dict(), "call_kappa": eq.call_kappa.to_dict(),
        "bland_altman": {"bias": ba.bias.to_dict(), "sd": ba.sd, "k": ba.k,
                         "lower_limit": ba.lower_limit.to_dict(), "upper_limit": ba.upper_limit.to_dict()},
        "tost": {"low": t.low, "upp": t.upp, "mean_difference": t.mean_difference, "p_value": t.p_value,
                 "t_lower": num(t.t_lower), "t_upper": num(t.t_upper), "df": t.df,
                 "equivalent": t.equivalent},
        "metric_differences": [d.to_dict() for d in eq.metric_differences],
        "score_margin": score_margin, "metric_margin": metric_margin,
    }


def detection_report(truths, marks, rule, *, rates=LUNA16_RATES, duplicates: str = "ignore",
                     alpha: float = 0.05, groups: Mapping[str, Mapping[str, str]] | None = None,
                     flag_margin: float = 0.05) -> dict:
    """FROC curve, lesion sensitivity at the stated false-positive rates (Wilson CI) and the CPM; with
    ``groups`` (field -> image id -> value) the same metrics by subgroup, with flags."""
    f = froc(truths, marks, rule, duplicates)
    out = {"task": "detection", "matching_rule": f.rule, "duplicates": duplicates, "n_images": f.n_images,
           "n_lesions": f.n_lesions, "metrics": [f.sensitivity_at(r, alpha).to_dict() for r in rates],
           "cpm": {"rates": list(rates), "value": f.cpm(rates)},
           "froc": {"fp_per_image": list(f.fp_per_image), "sensitivity": list(f.sensitivity)}}
    if groups:
        _whole, subs = detection_compare.detection_subgroups(truths, marks, groups, rule, duplicates, rates,
                                                             alpha, flag_margin)
        out["subgroups"] = [r.to_dict() for r in subs]
        out["subgroup_flag_rule"] = (f"estimate more than {flag_margin:g} below the whole set and the "
                                     "interval's upper bound below the whole set's estimate (>= 10 lesions)")
    return out


def detection_comparison_report(truths, marks_a, marks_b, rule, *, duplicates: str = "ignore",
                                rate: float = 1.0, margin: float = 0.05, alpha: float = 0.05,
                                n_boot: int = 2000, seed: int = 0,
                                groups: Mapping[str, Mapping[str, str]] | None = None,
                                min_subgroup: int = 20) -> dict:
    """Run B against run A on the same images: lesion sensitivity at ``rate`` FP/image and the CPM, paired
    image bootstrap (see medreg.ai.detection_compare), on the whole set and on every subgroup."""
    kw = {"rule": rule, "duplicates": duplicates, "rate": rate, "margin": margin, "alpha": alpha,
          "n_boot": n_boot, "seed": seed}
    out = {"task": "detection", "n": len(truths), "fp_rate": rate, "margin": margin, "difference": "B - A",
           "comparisons": detection_compare.compare_detection(truths, marks_a, marks_b, **kw)}
    if groups:
        out["subgroup_comparisons"] = detection_compare.subgroup_comparisons(truths, marks_a, marks_b, groups,
                                                                             min_subgroup, **kw)
    return out


def multiclass_comparison_report(reference, pred_a, pred_b, categories, *, margin: float = 0.05,
                                 alpha: float = 0.05, groups: Mapping[str, Sequence[str]] | None = None,
                                 min_subgroup: int = 20) -> dict:
    """Multiclass B against A: accuracy and per-class sensitivity (McNemar, paired Wald, verdicts), on the
    whole set and on every subgroup (under ``min_subgroup`` cases: no numbers)."""
    ref, a, b = list(map(str, reference)), list(map(str, pred_a)), list(map(str, pred_b))
    out = {"task": "multiclass", "n": len(ref), "margin": margin, "difference": "B - A",
           "comparisons": [c.to_dict() for c in compare_multiclass(ref, a, b, categories, margin, alpha)]}
    if groups:
        subs = []
        for field, values in groups.items():
            v = [str(x) for x in values]
            for value in sorted(set(v)):
                idx = [i for i, x in enumerate(v) if x == value]
                row: dict = {"field": field, "value": value, "n": len(idx)}
                if len(idx) < min_subgroup:
                    row["comparisons"], row["suppressed"] = [], f"fewer than {min_subgroup} cases"
                else:
                    rows = compare_multiclass([ref[i] for i in idx], [a[i] for i in idx], [b[i] for i in idx],
                                              categories, margin, alpha)
                    row["comparisons"] = [c.to_dict() for c in rows]
                subs.append(row)
        out["subgroup_comparisons"] = subs
    return out


def multiclass_equivalence_report(pred_a, pred_b, categories, *, reference=None, metric_margin: float = 0.02,
                                  alpha: float = 0.05) -> dict:
    return multiclass_equivalence(pred_a, pred_b, categories, reference, metric_margin, alpha)
