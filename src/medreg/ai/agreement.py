"""Agreement between two platforms running the same software version on the same cases.

* Exact agreement: the proportion of cases with identical outputs (Wilson interval).
* Bland-Altman limits of agreement (Bland & Altman 1986, Lancet i:307-310; 1999, Stat Methods Med Res
  8:135-160): d_i = a_i - b_i, bias = mean(d), s = SD(d) (n - 1), limits bias -/+ k s (k = 1.96).
  The bias has the t interval bias -/+ t_{n-1} s / sqrt(n); each limit the approximate interval
  limit -/+ t_{n-1} sqrt(3 s^2 / n) (Bland & Altman 1986, section 4).
* TOST (Schuirmann 1987): the mean paired difference lies within (low, upp) when both one-sided t-tests
  reject: t_1 = (bias - low) / se > t_{1-alpha}, t_2 = (bias - upp) / se < -t_{1-alpha}; p = max(p_1, p_2).
  Equals statsmodels ``ttost_paired(a, b, low, upp)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from medreg.ai.metrics_common import Estimate, proportion


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("the two platforms' outputs must have the same length")
    if x.size < 2:
        raise ValueError("agreement needs at least two cases")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("outputs must be finite numbers")
    return x, y


def exact_agreement(a, b, alpha: float = 0.05) -> Estimate:
    """Proportion of cases where both outputs are identical."""
    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape:
        raise ValueError("the two platforms' outputs must have the same length")
    return proportion("exact_agreement", int(np.sum(x == y)), int(x.size), alpha, "wilson")


@dataclass(frozen=True)
class BlandAltman:
    n: int
    bias: Estimate
    sd: float
    lower_limit: Estimate
    upper_limit: Estimate
    k: float


def bland_altman(a, b, alpha: float = 0.05, k: float = 1.96) -> BlandAltman:
    """Bias and limits of agreement of ``a - b`` with their intervals."""
    x, y = _pair(a, b)
    d = x - y
    n = d.size
    bias, sd = float(d.mean()), float(d.std(ddof=1))
    t = float(stats.t.isf(alpha / 2, n - 1))
    se_bias, se_lim = sd / math.sqrt(n), math.sqrt(3 * sd * sd / n)
    lo, hi = bias - k * sd, bias + k * sd
    cl = 1 - alpha
    return BlandAltman(
        n=n, sd=sd, k=k,
        bias=Estimate("bias", bias, bias - t * se_bias, bias + t * se_bias, "t", conf_level=cl),
        lower_limit=Estimate("lower_limit_of_agreement", lo, lo - t * se_lim, lo + t * se_lim,
                             "Bland-Altman 1986 approximate", conf_level=cl),
        upper_limit=Estimate("upper_limit_of_agreement", hi, hi - t * se_lim, hi + t * se_lim,
                             "Bland-Altman 1986 approximate", conf_level=cl),
    )


@dataclass(frozen=True)
class Tost:
    low: float
    upp: float
    mean_difference: float
    t_lower: float
    p_lower: float
    t_upper: float
    p_upper: float
    df: int
    p_value: float
    equivalent: bool
    alpha: float


def tost_paired(a, b, low: float, upp: float, alpha: float = 0.05) -> Tost:
    """Two one-sided paired t-tests that the mean of ``a - b`` lies within (``low``, ``upp``)."""
    if not low < upp:
        raise ValueError("the equivalence bounds must satisfy low < upp")
    x, y = _pair(a, b)
    d = x - y
    n = d.size
    mean, se = float(d.mean()), float(d.std(ddof=1)) / math.sqrt(n)
    if se == 0:  # identical differences: decided by the mean alone
        inside = low < mean < upp
        p = 0.0 if inside else 1.0
        return Tost(low, upp, mean, math.inf, p, -math.inf, p, n - 1, p, inside, alpha)
    t1, t2 = (mean - low) / se, (mean - upp) / se
    p1, p2 = float(stats.t.sf(t1, n - 1)), float(stats.t.cdf(t2, n - 1))
    p = max(p1, p2)
    return Tost(low, upp, mean, t1, p1, t2, p2, n - 1, p, p < alpha, alpha)
