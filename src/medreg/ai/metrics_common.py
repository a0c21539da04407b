"""Shared pieces of the AI metrics: the frozen estimate object and binomial confidence intervals.

Pure: NumPy and SciPy only (no database, no I/O, no clock).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

PROPORTION_METHODS = ("wilson", "clopper-pearson")


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval and the method that produced it.

    ``value``/``lower``/``upper`` are NaN when the metric is undefined (an empty denominator).
    ``count``/``n`` are the numerator and denominator of a proportion (None for other statistics).
    """

    name: str
    value: float
    lower: float
    upper: float
    method: str
    count: int | None = None
    n: int | None = None
    conf_level: float = 0.95

    def to_dict(self) -> dict:
        """JSON-ready: NaN becomes None."""
        out = {"metric": self.name, "estimate": num(self.value), "ci_lower": num(self.lower),
               "ci_upper": num(self.upper), "conf_level": self.conf_level, "method": self.method}
        if self.n is not None:
            out["count"], out["n"] = self.count, self.n
        return out


def num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def z_crit(alpha: float) -> float:
    """Two-sided standard normal critical value z_{1-alpha/2}."""
    if not 0 < alpha < 1:
        raise ValueError("alpha must be in (0, 1)")
    return float(stats.norm.isf(alpha / 2))


def proportion_ci(count: int, nobs: int, alpha: float = 0.05, method: str = "wilson") -> tuple[float, float]:
    """Confidence interval for a binomial proportion ``count / nobs``.

    ``method="wilson"`` (Wilson 1927), with z = z_{1-alpha/2}, p = x/n::

        centre = (p + z^2/(2n)) / (1 + z^2/n)
        half   = z * sqrt(p(1-p)/n + z^2/(4n^2)) / (1 + z^2/n)

    ``method="clopper-pearson"`` (exact, Clopper & Pearson 1934)::

        lower = Beta^{-1}(alpha/2; x, n-x+1)      (0 when x = 0)
        upper = Beta^{-1}(1-alpha/2; x+1, n-x)    (1 when x = n)

    Both equal ``statsmodels.stats.proportion.proportion_confint`` (methods ``"wilson"`` and ``"beta"``).
    An empty denominator gives ``(nan, nan)``.
    """
    if method not in PROPORTION_METHODS:
        raise ValueError(f"unknown proportion CI method {method!r}")
    if nobs < 0 or count < 0 or count > nobs:
        raise ValueError("need 0 <= count <= nobs")
    if nobs == 0:
        return math.nan, math.nan
    if method == "clopper-pearson":
        lower = 0.0 if count == 0 else float(stats.beta.ppf(alpha / 2, count, nobs - count + 1))
        upper = 1.0 if count == nobs else float(stats.beta.isf(alpha / 2, count + 1, nobs - count))
        return lower, upper
    z = z_crit(alpha)
    p = count / nobs
    denom = 1 + z * z / nobs
    centre = (p + z * z / (2 * nobs)) / denom
    half = z * math.sqrt(p * (1 - p) / nobs + z * z / (4 * nobs * nobs)) / denom
    return centre - half, centre + half


def proportion(name: str, count: int, nobs: int, alpha: float = 0.05, method: str = "wilson") -> Estimate:
    """``count / nobs`` as an :class:`Estimate` with a Wilson or Clopper-Pearson interval."""
    lower, upper = proportion_ci(int(count), int(nobs), alpha, method)
    value = count / nobs if nobs else math.nan
    return Estimate(name, value, lower, upper, method, int(count), int(nobs), 1 - alpha)


def as_binary(labels) -> np.ndarray:
    """Labels as a 0/1 integer array (raises ValueError for anything else)."""
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError("labels must be one-dimensional")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    return y.astype(np.int8)


def as_scores(scores, n: int) -> np.ndarray:
    """Scores as a finite float array of length ``n``."""
    s = np.asarray(scores, dtype=float)
    if s.shape != (n,):
        raise ValueError("scores and labels must have the same length")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite numbers")
    return s
