"""DELTA-style prospective propensity-matched comparison of a new device with its comparators.

At each look ``k`` (a cut-off on procedure time), the procedures done up to the cut-off are taken,
the propensity of receiving the new device is fitted on the risk factors, the new-device procedures
are matched 1:1 to comparator procedures (``evidence.propensity``), and the cumulative risk difference
of the outcome in the matched pairs is estimated:

.. math::

    \\widehat{RD}_k = \\bar y_T - \\bar y_C = \\frac{1}{n_k} \\sum_{i=1}^{n_k} d_i, \\qquad
    d_i = y_{T,i} - y_{C,i}, \\qquad
    SE_k = \\frac{s_d}{\\sqrt{n_k}},

the paired-difference standard error (Agresti and Min 2004 for matched binary pairs), with the
two-sided ``1 - alpha`` Wald interval ``RD_k +/- z_{1-alpha/2} SE_k``.

**Alert rule** (stated in the result): an alert is raised at the first look whose lower confidence
limit exceeds the pre-specified margin (default 0, i.e. the new device is significantly worse than
its matched comparators at that look) with at least ``min_pairs`` matched pairs. The looks are not
alpha-adjusted by default; ``alpha`` can be set to a per-look level (e.g. Bonferroni over the planned
looks) to bound the overall false-alert rate, or a monitor spends an overall alpha across its looks
(``SPENDING_RULE``: ``group_sequential`` boundaries, ``repeated_interval``; ``service_delta``).

References
----------
Resnic FS, Gross TP, Marinac-Dabic D, et al. Automated surveillance to detect postprocedure safety
signals of approved cardiovascular devices. JAMA 2010; 304(18):2019-2027 (DELTA).
Vidi VD, Matheny ME, Donnelly S, Resnic FS. An evaluation of a distributed medical device safety
surveillance system: the DELTA network study. Contemp Clin Trials 2011; 32:309-317.
Agresti A, Min Y. Effects and non-effects of paired identical observations in comparing proportions
with binary matched-pairs data. Stat Med 2004; 23:65-75.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from medreg.core.errors import ValidationFailed
from medreg.evidence.propensity import match_nearest, propensity_scores, standardized_mean_differences

__all__ = ["RULE", "SPENDING_RULE", "DeltaLook", "DeltaResult", "delta_monitor", "repeated_interval"]

RULE = ("Alert at the first look where the lower limit of the two-sided {level:.0%} confidence interval "
        "of the cumulative matched risk difference exceeds {margin:g}, with at least {min_pairs} "
        "matched pairs.")
# with overall alpha spending across looks (``group_sequential``; the look's boundary c_k)
SPENDING_RULE = ("Alert at the first look where the lower limit of the repeated confidence interval of the "
                 "cumulative matched risk difference, RD - c_k SE, exceeds {margin:g}, with at least "
                 "{min_pairs} matched pairs; c_k spends the overall one-sided alpha {alpha:g} by the "
                 "{spending} function over {planned} planned pairs (Lan-DeMets).")


def repeated_interval(rd: float, se: float, critical_value: float) -> tuple[float, float]:
    """The repeated confidence interval ``RD +/- c_k SE`` of a look with boundary ``c_k``: the lower
    limits of all looks cover the true difference together with probability at least ``1 - alpha``
    (Jennison & Turnbull 2000, chapter 9), so "lower limit above the margin" is the group-sequential
    test ``(RD - margin) / SE >= c_k``."""
    return rd - critical_value * se, rd + critical_value * se


@dataclass(frozen=True)
class DeltaLook:
    cutoff: float
    n_treated: int
    n_control: int
    n_pairs: int
    risk_treated: float
    risk_control: float
    risk_difference: float
    lower: float
    upper: float
    max_abs_smd: float  # largest |SMD| after matching (balance check of this look)
    alert: bool
    se: float = float("nan")  # paired standard error of the risk difference (for a repeated CI)


@dataclass(frozen=True)
class DeltaResult:
    looks: tuple[DeltaLook, ...]
    alert_look: int | None
    rule: str


def _one_look(cutoff, x, t, y, names, z, margin, min_pairs, caliper_sd) -> DeltaLook:
    n_t, n_c = int(t.sum()), int((~t).sum())
    nan = float("nan")
    if n_t < 2 or n_c < 2 or x.shape[0] <= x.shape[1] + 2:
        return DeltaLook(float(cutoff), n_t, n_c, 0, nan, nan, nan, nan, nan, nan, False)
    ps = propensity_scores(x, t)
    m = match_nearest(ps, t, caliper_sd=caliper_sd)
    n = len(m.treated)
    if n < 2:
        return DeltaLook(float(cutoff), n_t, n_c, n, nan, nan, nan, nan, nan, nan, False)
    yt, yc = y[list(m.treated)], y[list(m.control)]
    d = yt - yc
    rd = float(d.mean())
    se = float(d.std(ddof=1) / np.sqrt(n))
    lower, upper = rd - z * se, rd + z * se
    balance = standardized_mean_differences(x, t, names, m)
    return DeltaLook(float(cutoff), n_t, n_c, n, float(yt.mean()), float(yc.mean()), rd, lower, upper,
                     balance.max_abs_after, bool(n >= min_pairs and lower > margin), se)


def delta_monitor(times, treated, covariates, outcomes, cutoffs, names, *, alpha: float = 0.05,
                  margin: float = 0.0, min_pairs: int = 20, caliper_sd: float = 0.2) -> DeltaResult:
    """Cumulative propensity-matched risk difference at each cut-off, and the first alert."""
    tm = np.asarray(times, dtype=float)
    t = np.asarray(treated).astype(bool)
    x = np.asarray(covariates, dtype=float)
    y = np.asarray(outcomes, dtype=float)
    if not (tm.shape == t.shape == y.shape) or x.ndim != 2 or x.shape[0] != tm.shape[0]:
        raise ValidationFailed("Times, treatment, covariates and outcomes need one row per procedure.",
                               field="covariates")
    if not np.all((y == 0) | (y == 1)):
        raise ValidationFailed("Outcomes must be 0 or 1.", field="outcomes")
    if not 0 < alpha < 1:
        raise ValidationFailed("alpha must lie in (0, 1).", field="alpha")
    cuts = np.asarray(cutoffs, dtype=float)
    if cuts.ndim != 1 or np.any(np.diff(cuts) <= 0):
        raise ValidationFailed("Look cut-offs must increase.", field="cutoffs")
    z = float(norm.ppf(1.0 - alpha / 2.0))
    looks = []
    for cut in cuts:
        sel = tm <= cut
        looks.append(_one_look(cut, x[sel], t[sel], y[sel], names, z, margin, min_pairs, caliper_sd))
    alert = next((i for i, look in enumerate(looks) if look.alert), None)
    return DeltaResult(tuple(looks), alert, RULE.format(level=1 - alpha, margin=margin, min_pairs=min_pairs))
