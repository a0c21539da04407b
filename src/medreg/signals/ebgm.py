r"""Empirical Bayes geometric mean (EBGM): DuMouchel's Gamma-Poisson Shrinker (GPS).

Model (DuMouchel 1999). For each pair, :math:`N \mid \lambda \sim \mathrm{Poisson}(\lambda E)` and
:math:`\lambda` follows a two-component gamma mixture (shape/rate)

.. math::

    \pi(\lambda) = P\,g(\lambda; \alpha_1, \beta_1) + (1 - P)\,g(\lambda; \alpha_2, \beta_2),

so :math:`N` is marginally a mixture of negative binomials :math:`f_i(n) = \mathrm{NB}(n;\ \text{size}
=\alpha_i,\ \text{prob}=\beta_i/(\beta_i+E))`. Pairs with :math:`N = 0` are not observed, so the
hyperparameters :math:`\theta = (\alpha_1, \beta_1, \alpha_2, \beta_2, P)` are fitted by maximum
likelihood on the pairs with :math:`N \ge N^*` with **each component truncated** (DuMouchel 1999 eq. 12,
openEBGM ``negLL``/``negLLsquash``, PhViD ``.likTronc2NB``):

.. math::

    L_j(\theta) = P \frac{f_1(n_j)}{1 - F_1(N^*-1)} + (1-P) \frac{f_2(n_j)}{1 - F_2(N^*-1)}.

The posterior is again a gamma mixture with weight :math:`Q_n = P f_1 / (P f_1 + (1-P) f_2)` on
:math:`\mathrm{Gamma}(\alpha_1 + n, \beta_1 + E)`; EBGM is :math:`\exp E[\ln\lambda]` and EB05/EB95
the 5th/95th posterior percentiles (DuMouchel 1999 eqs. 6-11).

References: DuMouchel W. Bayesian data mining in large frequency tables, with an application to the
FDA spontaneous reporting system. Am Stat 1999;53:177-190. Canida T, Ihrie J. openEBGM: an R
implementation of the Gamma-Poisson Shrinker data mining model. R Journal 2017;9:499-519.

**Zero and degenerate inputs.** ``E <= 0`` or non-finite ``N``/``E`` give ``nan`` scores; ``N = 0`` is
scored normally (the posterior is the prior updated by an exposure ``E``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from medreg.signals.distinct import distinct, distinct_pairs, sorted_by_count_then_e, stable_order

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class GPSPrior:
    """The five hyperparameters of the gamma-mixture prior (rate parametrisation)."""

    alpha1: float
    beta1: float
    alpha2: float
    beta2: float
    p: float

    def as_array(self) -> FloatArray:
        return np.array(astuple(self), dtype=np.float64)


def _log_nb(n: FloatArray, alpha: float, beta: float, e: FloatArray) -> FloatArray:
    """log NB(n; size=alpha, prob=beta/(beta+E)), written with log-gamma for arrays."""
    return (special.gammaln(alpha + n) - special.gammaln(alpha) - special.gammaln(n + 1)
            + n * np.log(e / (beta + e)) + alpha * np.log(beta / (beta + e)))


def _log_sf(n_star: int, alpha: float, beta: float, e: FloatArray) -> FloatArray:
    """log P(N >= n_star) under NB(size=alpha, prob=beta/(beta+E)) = log I_{E/(beta+E)}(n_star, alpha)."""
    if n_star <= 0:
        return np.zeros_like(e)
    if n_star == 1:  # 1 - (beta/(beta+E))^alpha, accurate for small E
        return np.log(-np.expm1(alpha * np.log(beta / (beta + e))))
    return np.log(special.betainc(n_star, alpha, e / (beta + e)))


def log_likelihood(prior: GPSPrior, n: ArrayLike, e: ArrayLike, weights: ArrayLike | None = None,
                   n_star: int = 1) -> float:
    """Component-truncated log-likelihood of the prior over pairs with ``n >= n_star`` (see module).

    ``weights`` are the squashing weights (1 for raw pairs). ``n_star=0`` is the untruncated mixture
    (openEBGM ``negLLzero``), for data that include the zero cells.

    >>> prior = GPSPrior(3.25597, 0.39999, 2.02376, 1.90614, 0.06531)
    >>> round(log_likelihood(prior, [1, 2], [0.5, 0.1]), 4)
    -2.9124
    """
    n = np.asarray(n, dtype=np.float64)
    e = np.asarray(e, dtype=np.float64)
    w = np.ones_like(n) if weights is None else np.asarray(weights, dtype=np.float64)
    a1, b1, a2, b2, p = astuple(prior)
    with np.errstate(all="ignore"):
        l1 = np.log(p) + _log_nb(n, a1, b1, e) - _log_sf(n_star, a1, b1, e)
        l2 = np.log1p(-p) + _log_nb(n, a2, b2, e) - _log_sf(n_star, a2, b2, e)
        return float(np.sum(w * np.logaddexp(l1, l2)))


@dataclass(frozen=True)
class EBGMResult:
    """Posterior summaries per pair: ``qn`` (weight of component 1), ``ebgm``, ``lower``/``upper``
    (the ``quantiles`` of the posterior, EB05/EB95 by default)."""

    qn: FloatArray
    ebgm: FloatArray
    lower: FloatArray
    upper: FloatArray
    quantiles: tuple[float, float]


# Pairs per block in the quantile solver: blocks run on up to ``WORKERS`` threads (NumPy and SciPy
# ufuncs release the GIL), and a block's arrays stay in cache between Newton iterations.
BLOCK = 32_768
WORKERS = min(2, os.cpu_count() or 1)


class _PerCount:
    """Functions of the count alone (gammaln, digamma, gamma quantiles of ``alpha + n``), evaluated
    once per distinct count and gathered back: a million pairs have only a few hundred distinct counts.
    The values are the same SciPy calls on the same arguments, so the results are identical."""

    def __init__(self, n: FloatArray):
        self.values, index = distinct(n)
        self.index = index.reshape(n.shape)

    def __call__(self, func, *args) -> FloatArray:
        return func(self.values, *args)[self.index]


def _shift(f, alpha: float):
    return lambda u, *args: f(alpha + u, *args)


def posterior_quantile(prior: GPSPrior, n: ArrayLike, e: ArrayLike, q: float,
                       qn: ArrayLike | None = None, *, _counts: _PerCount | None = None) -> FloatArray:
    """The ``q`` quantile of the posterior gamma mixture, per pair (solved to 1e-10 relative).

    The mixture quantile lies between the two component quantiles. Starting from their geometric mean
    weighted by ``qn``, a safeguarded Newton iteration on log x (the derivative of the mixture CDF in
    log x is the mixture density times x, in closed form; Halley's correction uses the second
    derivative, also in closed form) converges cubically; a step that leaves the current bracket
    is replaced by bisection, so it cannot diverge. Iterations stop when the step in log x is below
    1e-7 (the point then reached is correct to rounding), 2-4 iterations for most pairs. With many
    pairs, only every ``ANCHOR_EVERY``-th pair of each count (in order of E) is solved that way; the
    others start from their solved neighbours (see ``_solve_all``) and need one iteration. All pairs
    are solved at once, in blocks of ``BLOCK`` pairs on up to ``WORKERS`` threads.
    """
    n, e = (np.asarray(x, dtype=np.float64) for x in np.broadcast_arrays(
        np.asarray(n, dtype=np.float64), np.asarray(e, dtype=np.float64)))
    a1, b1, a2, b2, _ = astuple(prior)
    if qn is None:
        qn = posterior_weight(prior, n, e)
    qn = np.broadcast_to(np.asarray(qn, dtype=np.float64), n.shape)
    per = _counts if _counts is not None else _PerCount(n)
    s1, r1, s2, r2 = a1 + n, b1 + e, a2 + n, b2 + e
    with np.errstate(all="ignore"):
        q1 = per(_shift(special.gammaincinv, a1), q) / r1
        q2 = per(_shift(special.gammaincinv, a2), q) / r2
    lo, hi = np.minimum(q1, q2), np.maximum(q1, q2)
    out = np.where(qn >= 1, q1, np.where(qn <= 0, q2, np.nan))
    todo = np.isnan(out) & np.isfinite(lo) & np.isfinite(hi) & (lo > 0)
    same = todo & (hi - lo <= 1e-12 * hi)
    out = np.where(same, lo, out)
    idx = np.flatnonzero(todo & ~same)
    if idx.size:
        lg1 = per(_shift(special.gammaln, a1)).ravel()[idx]
        lg2 = per(_shift(special.gammaln, a2)).ravel()[idx]
        w, *rest = (x.ravel()[idx] for x in (qn, s1, r1, s2, r2, lo, hi))
        with np.errstate(all="ignore"):
            x0 = np.exp(w * np.log(q1.ravel()[idx]) + (1 - w) * np.log(q2.ravel()[idx]))
        args = (w, *rest, lg1, lg2)
        out = out.copy()
        out.ravel()[idx] = _solve_all(q, args, x0, per.index.ravel()[idx], e.ravel()[idx])
    return out


# Seeding: along each count's pairs in order of E, every ANCHOR_EVERY-th pair (and the first and last)
# is solved from the mixture start to TOL_SEED; the others start from the log-log interpolation of
# their two neighbouring anchors' solutions, already within ~1e-6, so that one Halley step below
# TOL_NEAR (the error after it is of the order of the step cubed) ends them.
ANCHOR_EVERY = 16
TOL_SEED, TOL_NEAR = 1e-7, 1e-5


def _solve_all(q: float, args: tuple, x0: FloatArray, count_code, e: FloatArray) -> FloatArray:
    m = x0.size
    if m < 8 * ANCHOR_EVERY:
        return _solve(q, args, x0, np.arange(m), TOL_SEED)
    if sorted_by_count_then_e(count_code, e):  # the distinct pairs of ``ebgm`` are
        order = np.arange(m)
    else:
        by_e = np.argsort(e, kind="stable")
        order = by_e[stable_order(count_code[by_e])]  # by count, then E
    code = count_code[order]
    edge = np.flatnonzero(code[1:] != code[:-1])
    anchor = np.zeros(m, dtype=bool)
    anchor[::ANCHOR_EVERY] = anchor[edge] = anchor[edge + 1] = anchor[-1] = True
    at = np.flatnonzero(anchor)
    x = np.empty(m)
    x[order[at]] = _solve(q, args, x0[order[at]], order[at], TOL_SEED)
    pos = np.flatnonzero(~anchor)
    rank = np.arange(m)  # each pair's nearest anchors on either side (the first and last pairs are anchors)
    left = np.maximum.accumulate(np.where(anchor, rank, 0))[pos]
    right = np.minimum.accumulate(np.where(anchor, rank, m)[::-1])[::-1][pos]
    i, il, ir = order[pos], order[left], order[right]
    with np.errstate(all="ignore"):
        le, lx = np.log(e), np.log(x)
        t = (le[i] - le[il]) / (le[ir] - le[il])
        start = np.exp(lx[il] + np.where(np.isfinite(t), t, 0.0) * (lx[ir] - lx[il]))
    lo, hi = args[5][i], args[6][i]
    start = np.where(np.isfinite(start) & (start > lo) & (start < hi), start, x0[i])
    x[i] = _solve(q, args, start, i, TOL_NEAR)
    return x


def _solve(q: float, args: tuple, starts: FloatArray, sel, tol: float) -> FloatArray:
    """Halley on the pairs ``sel`` of ``args`` from ``starts`` (one per pair of ``sel``), in blocks of
    ``BLOCK`` pairs on up to ``WORKERS`` threads."""
    blocks = [np.arange(i, min(i + BLOCK, sel.size)) for i in range(0, sel.size, BLOCK)]

    def run(b):
        return _newton_log(q, *(x[sel[b]] for x in args), starts[b], tol=tol)

    if len(blocks) > 1 and WORKERS > 1:
        with ThreadPoolExecutor(WORKERS) as pool:
            parts = list(pool.map(run, blocks))
    else:
        parts = [run(b) for b in blocks]
    return np.concatenate(parts) if parts else np.empty(0)


def _newton_log(q, w, s1, r1, s2, r2, lo, hi, lg1, lg2, x, *, tol: float = TOL_SEED,
                max_iter: int = 100) -> FloatArray:
    """Solve w G(s1, x r1) + (1 - w) G(s2, x r2) = q for x in [lo, hi] from ``x`` (see
    posterior_quantile); ``lg1``/``lg2`` are log Gamma(s1), log Gamma(s2).

    Halley's iteration on t = log x: with g_i = y_i^s_i e^(-y_i) / Gamma(s_i) (y_i = x r_i), the first
    and second derivatives of the mixture CDF in t are sum w_i g_i and sum w_i g_i (s_i - y_i), so each
    step costs two incomplete gamma functions, like Newton's, and converges cubically. A pair is done
    once its step is below ``tol`` in log x (the point after that step is then correct to rounding); a
    step that leaves the bracket is replaced by bisection.
    """
    v = 1 - w
    result = np.empty_like(x)
    active = np.arange(x.size)
    with np.errstate(all="ignore"):
        for _ in range(max_iter):
            y1, y2 = x * r1, x * r2
            gap = w * special.gammainc(s1, y1) + v * special.gammainc(s2, y2) - q
            g1 = w * np.exp(s1 * np.log(y1) - y1 - lg1)
            g2 = v * np.exp(s2 * np.log(y2) - y2 - lg2)
            slope = g1 + g2
            curve = g1 * (s1 - y1) + g2 * (s2 - y2)
            hi = np.where(gap > 0, x, hi)
            lo = np.where(gap <= 0, x, lo)
            step = 2 * gap * slope / (2 * slope * slope - gap * curve)
            nxt = x * np.exp(-step)
            bad = ~np.isfinite(nxt) | (nxt <= lo) | (nxt >= hi)
            nxt = np.where(bad, np.sqrt(lo * hi), nxt)
            done = (~bad & (np.abs(step) < tol)) | (gap == 0) | (hi - lo <= 1e-14 * hi)
            result[active[done]] = np.where(gap[done] == 0, x[done], nxt[done])
            keep = ~done
            if not keep.any():
                return result
            active = active[keep]
            w, v, s1, r1, s2, r2 = w[keep], v[keep], s1[keep], r1[keep], s2[keep], r2[keep]
            lg1, lg2 = lg1[keep], lg2[keep]
            x, lo, hi = nxt[keep], lo[keep], hi[keep]
    result[active] = x
    return result


def posterior_weight(prior: GPSPrior, n: ArrayLike, e: ArrayLike, *,
                     _counts: _PerCount | None = None) -> FloatArray:
    """Qn: posterior probability that the pair's ratio comes from the first prior component."""
    n, e = (np.asarray(x, dtype=np.float64) for x in np.broadcast_arrays(
        np.asarray(n, dtype=np.float64), np.asarray(e, dtype=np.float64)))
    a1, b1, a2, b2, p = astuple(prior)
    per = _counts if _counts is not None else _PerCount(n)
    with np.errstate(all="ignore"):
        # log NB(n; a, b/(b+E)) as in _log_nb, the log-gamma terms (functions of n alone) per count
        c1 = per(lambda u: special.gammaln(a1 + u) - special.gammaln(a1) - special.gammaln(u + 1))
        c2 = per(lambda u: special.gammaln(a2 + u) - special.gammaln(a2) - special.gammaln(u + 1))
        l1 = np.log(p) + (c1 + n * np.log(e / (b1 + e)) + a1 * np.log(b1 / (b1 + e)))
        l2 = np.log1p(-p) + (c2 + n * np.log(e / (b2 + e)) + a2 * np.log(b2 / (b2 + e)))
        return np.exp(l1 - np.logaddexp(l1, l2))


@dataclass(frozen=True)
class ScoredPairs:
    """The pairs ``ebgm`` scores: ``ok`` marks the valid input pairs, ``n``/``e`` are their distinct
    (n, E) values (sorted by n then E) and ``back`` the index of each valid pair's distinct value. They
    do not depend on the prior: ``scoring.score`` finds them while the prior is fitted."""

    ok: NDArray[np.bool_]
    n: FloatArray
    e: FloatArray
    back: NDArray[np.intp]
    shape: tuple[int, ...]


def scored_pairs(n: ArrayLike, e: ArrayLike) -> ScoredPairs:
    """The valid pairs of (n, E) and their distinct values (see ``ebgm``)."""
    n, e = (np.asarray(x, dtype=np.float64) for x in np.broadcast_arrays(
        np.asarray(n, dtype=np.float64), np.asarray(e, dtype=np.float64)))
    with np.errstate(all="ignore"):
        ok = (e > 0) & np.isfinite(e) & np.isfinite(n) & (n >= 0)
    # every score is a function of (n, E) alone, and a report table repeats pairs: the counts and the
    # margin products of rare devices and terms recur, so a million pairs have about half as many
    # distinct (n, E). Each is scored once and gathered back (the same arithmetic on the same values).
    un, ue, back = distinct_pairs(n[ok], e[ok])
    return ScoredPairs(ok=ok, n=un, e=ue, back=back, shape=n.shape)


def ebgm(prior: GPSPrior, n: ArrayLike, e: ArrayLike,
         quantiles: tuple[float, float] = (0.05, 0.95), *, pairs: ScoredPairs | None = None) -> EBGMResult:
    r"""EBGM and posterior percentiles for every pair.

    .. math::

        E[\ln\lambda] = Q_n\,[\psi(\alpha_1 + n) - \ln(\beta_1 + E)]
                      + (1 - Q_n)\,[\psi(\alpha_2 + n) - \ln(\beta_2 + E)], \qquad
        \mathrm{EBGM} = e^{E[\ln\lambda]}

    (DuMouchel 1999 eqs. 9-11; openEBGM ``Qn``, ``ebgm``, ``quantBisect``, which rounds to 2 decimals.)
    ``pairs`` is ``scored_pairs(n, e)`` when it was found beforehand (of these very ``n`` and ``e``).

    >>> prior = GPSPrior(3.25379356, 0.39988854, 2.02612692, 1.90807970, 0.06534557)  # openEBGM vignette04
    >>> r = ebgm(prior, [16], [0.40643623])   # REUMOFAN PLUS | WEIGHT INCREASED: 23.26, 15.68, 33.48
    >>> [round(float(x), 2) for x in (r.ebgm[0], r.lower[0], r.upper[0])]
    [23.26, 15.69, 33.48]
    """
    sp = pairs if pairs is not None else scored_pairs(n, e)
    qn, ebgm_, lower, upper = (np.full(sp.shape, np.nan) for _ in range(4))
    for out, values in zip((qn, ebgm_, lower, upper), _ebgm_distinct(prior, sp.n, sp.e, quantiles),
                           strict=True):
        out[sp.ok] = values[sp.back]
    return EBGMResult(qn=qn, ebgm=ebgm_, lower=lower, upper=upper, quantiles=quantiles)


def _ebgm_distinct(prior: GPSPrior, n: FloatArray, e: FloatArray, quantiles: tuple[float, float]):
    """qn, EBGM and the two posterior quantiles of valid pairs (``e > 0``, finite, ``n >= 0``)."""
    a1, b1, a2, b2, _ = astuple(prior)
    per = _PerCount(n)
    with np.errstate(all="ignore"):
        qn = posterior_weight(prior, n, e, _counts=per)
        mean_log = (qn * (per(_shift(special.digamma, a1)) - np.log(b1 + e))
                    + (1 - qn) * (per(_shift(special.digamma, a2)) - np.log(b2 + e)))
    lower = posterior_quantile(prior, n, e, quantiles[0], qn, _counts=per)
    upper = posterior_quantile(prior, n, e, quantiles[1], qn, _counts=per)
    return qn, np.exp(mean_log), lower, upper


# Starting points of openEBGM's vignette 03 (``theta_init``), in (alpha1, beta1, alpha2, beta2, P).
DEFAULT_STARTS: tuple[tuple[float, float, float, float, float], ...] = (
    (0.2, 0.1, 2.0, 4.0, 1 / 3),
    (0.1, 0.2, 10.0, 10.0, 0.2),
    (0.3, 0.5, 6.0, 6.0, 0.5),
)
