"""Frequentist disproportionality over 2x2 tables: PRR, ROR, Pearson chi-square, the Evans criteria.

Every function takes the four counts of the usual pharmacovigilance 2x2 table as arrays (one entry per
(device, event) pair, broadcast by NumPy) and returns a small frozen result object of arrays::

                      event      other events
    device            a = n11    b = n_device - n11
    other devices     c          d = n_total - n_device - n_event + n11      (c = n_event - n11)

**Zero cells and empty tables (the stated rule).** Nothing is added to zero cells unless asked
(``zero_cell_correction``). Arithmetic is IEEE-754 as in NumPy and SciPy, without warnings: a ratio
with a zero numerator is ``0``, with a zero denominator ``inf`` (openEBGM prints ``Inf`` for the same
PRR), ``0/0`` is ``nan``. When a cell that enters the standard error is zero the standard error is
``inf`` and the Wald interval is ``[0, inf]`` (as ``scipy.stats.contingency.odds_ratio`` reports for
such tables). A chi-square with an empty margin is ``nan`` (SciPy raises; we do not).
Counts that cannot be a 2x2 table (negative cells) raise ``ValueError``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Cells:
    """The four cells ``a, b, c, d`` of the 2x2 table (float arrays, broadcast)."""

    a: FloatArray
    b: FloatArray
    c: FloatArray
    d: FloatArray

    @property
    def n(self) -> FloatArray:
        return self.a + self.b + self.c + self.d


@dataclass(frozen=True)
class RatioResult:
    """A ratio estimate with its Wald interval on the log scale."""

    estimate: FloatArray
    lower: FloatArray
    upper: FloatArray
    se_log: FloatArray
    level: float


@dataclass(frozen=True)
class ChiSquareResult:
    """Pearson's chi-square (1 degree of freedom) and its upper-tail p-value."""

    statistic: FloatArray
    pvalue: FloatArray
    yates: bool


def cells(n11: ArrayLike, n_device: ArrayLike, n_event: ArrayLike, n_total: ArrayLike,
          zero_cell_correction: float = 0.0) -> Cells:
    """The 2x2 cells from the pair count and the margins.

    ``zero_cell_correction`` (e.g. 0.5, vigipy's default) is added to all four cells of the tables
    that have at least one zero cell; other tables are left as they are.

    >>> cells(10, 1000, 210, 11000)
    Cells(a=array(10.), b=array(990.), c=array(200.), d=array(9800.))
    """
    a = np.asarray(n11, dtype=np.float64)
    b = np.asarray(n_device, dtype=np.float64) - a
    c = np.asarray(n_event, dtype=np.float64) - a
    d = np.asarray(n_total, dtype=np.float64) - a - b - c
    a, b, c, d = np.broadcast_arrays(a, b, c, d)
    if any(np.any(x < 0) for x in (a, b, c, d)):
        raise ValueError("counts do not form a 2x2 table: n11 <= n_device, n_event <= n_total required")
    if zero_cell_correction:
        has_zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
        k = np.where(has_zero, zero_cell_correction, 0.0)
        a, b, c, d = a + k, b + k, c + k, d + k
    return Cells(a=np.array(a), b=np.array(b), c=np.array(c), d=np.array(d))


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    return float(special.ndtri(0.5 + level / 2))


def _wald(estimate: FloatArray, se: FloatArray, level: float) -> RatioResult:
    z = _z(level)
    with np.errstate(all="ignore"):
        lower = np.where(np.isinf(se), 0.0, estimate * np.exp(-z * se))
        upper = np.where(np.isinf(se), np.inf, estimate * np.exp(z * se))
    undefined = np.isnan(estimate)
    lower = np.where(undefined, np.nan, lower)
    upper = np.where(undefined, np.nan, upper)
    return RatioResult(estimate=estimate, lower=lower, upper=upper, se_log=se, level=level)


def prr(n11: ArrayLike, n_device: ArrayLike, n_event: ArrayLike, n_total: ArrayLike, *,
        level: float = 0.95, zero_cell_correction: float = 0.0) -> RatioResult:
    r"""Proportional reporting ratio with its Wald interval.

    .. math::

        \mathrm{PRR} = \frac{a/(a+b)}{c/(c+d)}, \qquad
        \mathrm{SE}(\ln \mathrm{PRR}) = \sqrt{\tfrac1a - \tfrac1{a+b} + \tfrac1c - \tfrac1{c+d}}

    and the interval :math:`\exp(\ln \mathrm{PRR} \pm z_{(1+\text{level})/2}\,\mathrm{SE})`.

    References: Evans SJW, Waller PC, Davis S. Use of proportional reporting ratios (PRRs) for signal
    generation from spontaneous adverse drug reaction reports. Pharmacoepidemiol Drug Saf
    2001;10:483-486. Interval as in pvda 0.0.4 ``prr()`` and vigipy 3.5.1 ``prr()``.

    >>> r = prr(10, 1000, 210, 11000)   # a=10, a+b=1000, c=200, c+d=10000 (pvda's worked example)
    >>> float(r.estimate), round(float(r.lower), 3), round(float(r.upper), 3)
    (0.5, 0.266, 0.94)
    """
    t = cells(n11, n_device, n_event, n_total, zero_cell_correction)
    with np.errstate(all="ignore"):
        est = (t.a / (t.a + t.b)) / (t.c / (t.c + t.d))
        se = np.sqrt(1 / t.a - 1 / (t.a + t.b) + 1 / t.c - 1 / (t.c + t.d))
    return _wald(est, se, level)


def ror(n11: ArrayLike, n_device: ArrayLike, n_event: ArrayLike, n_total: ArrayLike, *,
        level: float = 0.95, zero_cell_correction: float = 0.0) -> RatioResult:
    r"""Reporting odds ratio with its Wald (Woolf) interval.

    .. math::

        \mathrm{ROR} = \frac{a\,d}{b\,c}, \qquad
        \mathrm{SE}(\ln \mathrm{ROR}) = \sqrt{\tfrac1a + \tfrac1b + \tfrac1c + \tfrac1d}

    References: van Puijenbroek EP et al. A comparison of measures of disproportionality for signal
    detection in spontaneous reporting systems for adverse drug reactions. Pharmacoepidemiol Drug Saf
    2002;11:3-10. Woolf B. Ann Hum Genet 1955;19:251-253.

    >>> r = ror(10, 30, 210, 10230)   # a=10, b=20, c=200, d=10000 (pvda's worked example)
    >>> float(r.estimate), round(float(r.lower), 1), round(float(r.upper), 1)
    (25.0, 11.6, 54.1)
    """
    t = cells(n11, n_device, n_event, n_total, zero_cell_correction)
    with np.errstate(all="ignore"):
        est = (t.a * t.d) / (t.b * t.c)
        se = np.sqrt(1 / t.a + 1 / t.b + 1 / t.c + 1 / t.d)
    return _wald(est, se, level)


def chi_square(n11: ArrayLike, n_device: ArrayLike, n_event: ArrayLike, n_total: ArrayLike, *,
               yates: bool = True) -> ChiSquareResult:
    r"""Pearson's chi-square of the 2x2 table, with or without Yates' continuity correction.

    .. math::

        \chi^2 = \frac{n\,(|ad - bc| - \delta)^2}{(a+b)(c+d)(a+c)(b+d)}, \qquad
        \delta = \begin{cases} \min(n/2,\ |ad-bc|) & \text{Yates} \\ 0 & \text{otherwise}\end{cases}

    The Yates form moves each observed cell by at most 0.5 towards its expected value, exactly as
    ``scipy.stats.chi2_contingency(correction=True)`` does, so it never overshoots to a positive value
    when the table is already closer than 0.5 to independence. Evans et al. (2001) use the Yates form.

    >>> r = chi_square(10, 1000, 210, 11000, yates=False)
    >>> round(float(r.statistic), 4)
    4.8546
    """
    t = cells(n11, n_device, n_event, n_total)
    n = t.n
    diff = np.abs(t.a * t.d - t.b * t.c)
    if yates:
        diff = np.maximum(diff - n / 2, 0.0)
    with np.errstate(all="ignore"):
        stat = n * diff**2 / ((t.a + t.b) * (t.c + t.d) * (t.a + t.c) * (t.b + t.d))
    return ChiSquareResult(statistic=stat, pvalue=stats.chi2.sf(stat, 1), yates=yates)


@dataclass(frozen=True)
class EvansCriteria:
    """A signal by Evans et al. (2001): PRR >= ``min_prr``, chi-square >= ``min_chi2``, n11 >= ``min_n``.

    The defaults are the published thresholds (PRR >= 2, chi-square >= 4, at least 3 reports); the chi-
    square is Yates-corrected unless ``yates=False``. Optionally also require the PRR lower bound
    above ``min_prr_lower`` (e.g. 1).

    >>> EvansCriteria().flags(10, 100, 200, 10000).tolist()
    True
    """

    min_prr: float = 2.0
    min_chi2: float = 4.0
    min_n: int = 3
    yates: bool = True
    min_prr_lower: float | None = None

    def flags(self, n11: ArrayLike, n_device: ArrayLike, n_event: ArrayLike,
              n_total: ArrayLike) -> NDArray[np.bool_]:
        """True where the pair meets every criterion (``nan`` statistics never do)."""
        p = prr(n11, n_device, n_event, n_total)
        chi2 = chi_square(n11, n_device, n_event, n_total, yates=self.yates).statistic
        ok = (np.asarray(n11) >= self.min_n) & (p.estimate >= self.min_prr) & (chi2 >= self.min_chi2)
        if self.min_prr_lower is not None:
            ok &= p.lower > self.min_prr_lower
        return np.asarray(ok)
