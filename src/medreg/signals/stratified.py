"""Stratified expected counts and Mantel-Haenszel PRR/ROR.

Arrays are two-dimensional: one row per (device, event) pair, one column per stratum (year, sex, age
band, reporter type, or any combination). Each cell holds that stratum's 2x2 margins, exactly as
:mod:`medreg.signals.disproportionality` takes them for one table.

**Empty strata** (``n_total = 0``) contribute nothing to any sum. A pair whose pooled denominator is
zero gets ``inf`` or ``nan`` by the same IEEE rule as the crude statistics.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from medreg.signals.disproportionality import RatioResult, _wald, cells

FloatArray = NDArray[np.float64]


def expected_count(n_device: ArrayLike, n_event: ArrayLike, n_total: ArrayLike) -> FloatArray:
    r"""Expected count under independence, summed over strata (the last axis).

    .. math:: E = \sum_s \frac{n_{1\cdot s}\, n_{\cdot 1 s}}{n_{\cdot\cdot s}}

    This is DuMouchel's (1999) stratified baseline and openEBGM ``processRaw(stratify=TRUE)``; with a
    single stratum it is the crude :math:`n_{1\cdot} n_{\cdot 1} / n`.

    >>> float(expected_count([[3, 2]], [[4, 1]], [[10, 5]])[0])   # 3*4/10 + 2*1/5
    1.6
    """
    nd = np.asarray(n_device, dtype=np.float64)
    ne = np.asarray(n_event, dtype=np.float64)
    nt = np.asarray(n_total, dtype=np.float64)
    with np.errstate(all="ignore"):
        per = np.where(nt > 0, nd * ne / nt, 0.0)
    return np.sum(per, axis=-1)


def mh_ror(n11: ArrayLike, n_device: ArrayLike, n_event: ArrayLike, n_total: ArrayLike, *,
           level: float = 0.95) -> RatioResult:
    r"""Mantel-Haenszel pooled reporting odds ratio with the Robins-Breslow-Greenland interval.

    .. math::

        \mathrm{ROR}_{MH} = \frac{\sum_s a_s d_s / n_s}{\sum_s b_s c_s / n_s}, \quad
        \widehat{\mathrm{Var}}(\ln \mathrm{ROR}_{MH}) = \frac{\sum P R}{2 (\sum R)^2}
          + \frac{\sum (P S + Q R)}{2 \sum R \sum S} + \frac{\sum Q S}{2 (\sum S)^2}

    with :math:`P = (a+d)/n,\ Q = (b+c)/n,\ R = ad/n,\ S = bc/n` per stratum.

    References: Mantel N, Haenszel W. J Natl Cancer Inst 1959;22:719-748. Robins J, Breslow N,
    Greenland S. Biometrics 1986;42:311-323. Same as statsmodels ``StratifiedTable.oddsratio_pooled``
    and ``logodds_pooled_se``.

    >>> r = mh_ror([[10, 4]], [[30, 10]], [[210, 50]], [[10230, 2000]])
    >>> round(float(r.estimate[0]), 4)
    25.828
    """
    t = cells(n11, n_device, n_event, n_total)
    n = t.n
    with np.errstate(all="ignore"):
        inv = np.where(n > 0, 1 / n, 0.0)
        p, q = (t.a + t.d) * inv, (t.b + t.c) * inv
        r, s = t.a * t.d * inv, t.b * t.c * inv
        sr, ss = r.sum(-1), s.sum(-1)
        est = sr / ss
        var = ((p * r).sum(-1) / (2 * sr**2) + (p * s + q * r).sum(-1) / (2 * sr * ss)
               + (q * s).sum(-1) / (2 * ss**2))
        se = np.sqrt(var)
    se = np.where((sr == 0) | (ss == 0), np.inf, se)
    return _wald(est, se, level)


def mh_prr(n11: ArrayLike, n_device: ArrayLike, n_event: ArrayLike, n_total: ArrayLike, *,
           level: float = 0.95) -> RatioResult:
    r"""Mantel-Haenszel pooled PRR (a risk ratio of reporting) with the Greenland-Robins interval.

    .. math::

        \mathrm{PRR}_{MH} = \frac{\sum_s a_s (c_s+d_s)/n_s}{\sum_s c_s (a_s+b_s)/n_s}, \quad
        \widehat{\mathrm{Var}}(\ln \mathrm{PRR}_{MH}) =
          \frac{\sum_s \big[(a_s+b_s)(c_s+d_s)(a_s+c_s) - a_s c_s n_s\big]/n_s^2}
               {\big[\sum_s a_s (c_s+d_s)/n_s\big]\big[\sum_s c_s (a_s+b_s)/n_s\big]}

    References: Greenland S, Robins JM. Estimation of a common effect parameter from sparse follow-up
    data. Biometrics 1985;41:55-68 (the risk-ratio variance). Rothman KJ, Greenland S, Lash TL. Modern
    Epidemiology, 3rd ed., ch. 15. Point estimate as statsmodels ``StratifiedTable.riskratio_pooled``.

    >>> r = mh_prr([[10, 4]], [[1000, 100]], [[210, 50]], [[11000, 2000]])
    >>> round(float(r.estimate[0]), 4)
    0.6294
    """
    t = cells(n11, n_device, n_event, n_total)
    n = t.n
    n1, n0, m1 = t.a + t.b, t.c + t.d, t.a + t.c
    with np.errstate(all="ignore"):
        inv = np.where(n > 0, 1 / n, 0.0)
        num = (t.a * n0 * inv).sum(-1)
        den = (t.c * n1 * inv).sum(-1)
        est = num / den
        var = ((n1 * n0 * m1 - t.a * t.c * n) * inv**2).sum(-1) / (num * den)
        se = np.sqrt(var)
    se = np.where((num == 0) | (den == 0), np.inf, se)
    return _wald(est, se, level)
