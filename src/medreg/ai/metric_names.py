"""The names of the metrics a run or a comparison reports (pure): the metric's identifier
(``sensitivity``, ``lesion_sensitivity@0.5fp``, ``auc_difference``, ``sensitivity[2]`` …) as a text to
translate at display (``medreg.core.said``: msgid and params). An unknown identifier is said as is."""

from __future__ import annotations

import re

from medreg.core.said import _, said

NAMES = {
    "sensitivity": _("Sensitivity"), "specificity": _("Specificity"), "accuracy": _("Accuracy"),
    "ppv": _("Positive predictive value"), "npv": _("Negative predictive value"), "auc": "AUC",
    "exact_agreement": _("Exact agreement"), "kappa": _("Cohen's kappa"),
    "kappa_linear": _("Cohen's kappa (linear weights)"),
    "kappa_quadratic": _("Cohen's kappa (quadratic weights)"),
    "bias": _("Bias (mean difference)"), "lower_limit_of_agreement": _("Lower limit of agreement"),
    "upper_limit_of_agreement": _("Upper limit of agreement"),
    "lesion_detection_agreement": _("Lesion detection agreement"),
    "lesion_detection_kappa": _("Lesion detection kappa"), "cpm": _("Mean lesion sensitivity (CPM)"),
}
LESION_SENSITIVITY = re.compile(r"^lesion_sensitivity@(?P<rate>[0-9.eE+-]+)fp$")
PER_CLASS = re.compile(r"^(?P<base>[a-z_]+)\[(?P<category>[^\]]*)\]$")


def metric_name(metric: str) -> dict:
    """The name of ``metric`` as said(msgid, **params)."""
    if metric in NAMES:
        return said(NAMES[metric])
    if metric.endswith("_difference"):
        return said(_("{metric} difference"), metric=metric_name(metric[: -len("_difference")]))
    if m := LESION_SENSITIVITY.match(metric):
        return said(_("Lesion sensitivity at {rate} FP/image"), rate=m["rate"])
    if (m := PER_CLASS.match(metric)) and m["base"] in NAMES:
        return said(_("{metric} of class {category}"), metric=said(NAMES[m["base"]]), category=m["category"])
    return said("{metric}", metric=metric)
