"""Paired comparisons of two algorithm versions (or platforms) on the same cases.

* McNemar's test (McNemar 1947) on the discordant pairs b (A right, B wrong) and c (A wrong, B right):
  exact two-sided binomial p = min(1, 2 * P[Bin(b+c, 1/2) <= min(b, c)]), or the chi-square
  (|b - c| - k)^2 / (b + c) on 1 df, k = 1 with continuity correction, 0 without; equals
  statsmodels ``mcnemar``.
* The difference of two paired proportions, p_B - p_A = (c - b) / n, with the Wald interval
  se = sqrt((b + c) - (c - b)^2 / n) / n (Agresti, Categorical Data Analysis, 2nd ed., 2002, sec. 10.1).
* Non-inferiority with margin delta > 0 on a difference d = B - A and its two-sided 1 - alpha interval
  [L, U] (one-sided level alpha/2): superior if L > 0, non-inferior if L > -delta, inferior if U < -delta,
  otherwise inconclusive (ICH E9; FDA guidance "Non-Inferiority Clinical Trials", 2016).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from medreg.ai.metrics_common import Estimate, z_crit
from medreg.core.said import _, english, said

VERDICTS = ("superior", "non-inferior", "inferior", "inconclusive")


@dataclass(frozen=True)
class McNemar:
    b: int  # A positive/correct, B negative/wrong
    c: int  # A negative/wrong, B positive/correct
    statistic: float
    p_value: float
    method: str


def mcnemar(b: int, c: int, exact: bool | None = None, correction: bool = True) -> McNemar:
    """McNemar's test from the two discordant counts. ``exact=None`` chooses the exact binomial test
    when b + c < 25, the chi-square otherwise."""
    if b < 0 or c < 0:
        raise ValueError("discordant counts must be non-negative")
    if exact is None:
        exact = b + c < 25
    if b + c == 0:
        return McNemar(b, c, 0.0, 1.0, "mcnemar-exact" if exact else "mcnemar-chi2")
    if exact:
        stat = float(min(b, c))
        p = min(1.0, 2 * float(stats.binom.cdf(stat, b + c, 0.5)))
        return McNemar(b, c, stat, p, "mcnemar-exact")
    k = 1.0 if correction else 0.0
    stat = (abs(b - c) - k) ** 2 / (b + c)  # not clamped at 0, as R mcnemar.test and statsmodels
    return McNemar(b, c, float(stat), float(stats.chi2.sf(stat, 1)),
                   "mcnemar-chi2" + (" (continuity corrected)" if correction else ""))


def discordant(a, b) -> tuple[int, int, int]:
    """(n, #(a and not b), #(not a and b)) of two boolean vectors on the same cases."""
    x, y = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    if x.shape != y.shape:
        raise ValueError("the two vectors must have the same length")
    return int(x.size), int(np.sum(x & ~y)), int(np.sum(~x & y))


def paired_difference(a, b, name: str = "difference", alpha: float = 0.05) -> Estimate:
    """p_B - p_A for two boolean outcomes on the same cases, with the Wald interval for paired data."""
    n, bb, cc = discordant(a, b)
    if n == 0:
        return Estimate(name, math.nan, math.nan, math.nan, "paired-wald", conf_level=1 - alpha)
    d = (cc - bb) / n
    se = math.sqrt(max((bb + cc) - (cc - bb) ** 2 / n, 0.0)) / n
    z = z_crit(alpha)
    return Estimate(name, d, d - z * se, d + z * se, "paired-wald", conf_level=1 - alpha)


@dataclass(frozen=True)
class NonInferiority:
    metric: str
    difference: Estimate  # B - A
    margin: float
    verdict: str
    reason_said: dict  # said(msgid, **params), translated at display

    @property
    def reason(self) -> str:
        return english(self.reason_said)

    def to_dict(self) -> dict:
        return {"metric": self.metric, "difference": self.difference.to_dict(), "margin": self.margin,
                "verdict": self.verdict, "reason": self.reason, "reason_msgid": self.reason_said["msgid"],
                "reason_params": self.reason_said["params"]}


def non_inferiority(metric: str, difference: Estimate, margin: float) -> NonInferiority:
    """Verdict on ``difference`` (B - A, higher is better) against the non-inferiority ``margin``."""
    if not margin > 0:
        raise ValueError("the non-inferiority margin must be positive")
    lo, hi = difference.lower, difference.upper
    if not (math.isfinite(lo) and math.isfinite(hi)):
        undefined = said(_("the difference is undefined"))
        return NonInferiority(metric, difference, margin, "inconclusive", undefined)
    low, high, neg = f"{lo:.4f}", f"{hi:.4f}", f"{-margin:.4f}"
    if lo > 0:
        verdict, reason = "superior", said(_("lower bound {lower} > 0"), lower=low)
    elif lo > -margin:
        verdict = "non-inferior"
        reason = said(_("lower bound {lower} > -margin {margin}"), lower=low, margin=neg)
    elif hi < -margin:
        verdict = "inferior"
        reason = said(_("upper bound {upper} < -margin {margin}"), upper=high, margin=neg)
    else:
        verdict, reason = "inconclusive", said(_("interval [{lower}, {upper}] contains -margin {margin}"),
                                               lower=low, upper=high, margin=neg)
    return NonInferiority(metric, difference, margin, verdict, reason)
