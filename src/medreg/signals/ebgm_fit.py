"""Maximum-likelihood fit of the GPS gamma-mixture prior, the way openEBGM's ``autoHyper`` does it.

Each starting point is optimised (L-BFGS-B with the analytic gradient, on log alpha, log beta and
logit P, so the estimate always lies inside the parameter space); fits that converge strictly inside
the box ``0 < alpha, beta < param_limit``, ``0 < P < 1`` are candidates; the candidate with the smallest
negative log-likelihood is accepted when at least ``min_conv`` other starts ended close to it
(openEBGM's default closeness ``tol = (0.05, 0.05, 0.2, 0.2, 0.025)``). The fit works on raw pairs
or on squashed points (``medreg.signals.squashing``) through ``weights``.

Reference: openEBGM 0.9.1 ``autoHyper``/``exploreHypers`` (Canida & Ihrie, R Journal 2017).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special
from threadpoolctl import threadpool_limits

from medreg.signals.ebgm import DEFAULT_STARTS, GPSPrior, log_likelihood

CLOSE_TOL = (0.05, 0.05, 0.2, 0.2, 0.025)


@dataclass(frozen=True)
class PriorFit:
    """The accepted prior and how it was found."""

    prior: GPSPrior
    neg_log_lik: float
    consistent: bool  # at least ``min_conv`` other starts agree within CLOSE_TOL
    num_close: int
    num_converged: int
    points: int  # number of (possibly squashed) points the likelihood was summed over
    inside: bool = True  # False: no start converged strictly inside the box; the best boundary fit


def _grad_terms(alpha: float, beta: float, n, e, n_star: int, counts=None):
    """log f - log S and its derivatives in alpha and beta (component of the mixture).

    ``counts`` = (distinct counts, index of each point's count): the log-gamma and digamma terms,
    functions of the count alone, are then evaluated once per distinct count and gathered back
    (the same calls on the same arguments, so the same values).
    """
    r = beta / (beta + e)
    log_r = np.log(r)
    if counts is None:
        counts = (n, slice(None))
    u, idx = counts
    log_f = ((special.gammaln(alpha + u) - special.gammaln(alpha) - special.gammaln(u + 1))[idx]
             + n * np.log(e / (beta + e)) + alpha * log_r)
    d_alpha = (special.digamma(alpha + u) - special.digamma(alpha))[idx] + log_r
    d_beta = alpha / beta - (alpha + n) / (beta + e)
    if n_star == 1:
        r_a = np.exp(alpha * log_r)
        s = -np.expm1(alpha * log_r)
        log_f = log_f - np.log(s)
        d_alpha = d_alpha + r_a * log_r / s
        d_beta = d_beta + alpha * r_a * e / (beta * (beta + e)) / s
    return log_f, d_alpha, d_beta


def _objective(u: np.ndarray, n, e, w, n_star: int, counts=None):
    a1, b1, a2, b2 = np.exp(u[:4])
    p = special.expit(u[4])
    l1, da1, db1 = _grad_terms(a1, b1, n, e, n_star, counts)
    l2, da2, db2 = _grad_terms(a2, b2, n, e, n_star, counts)
    l1 = l1 + np.log(p)
    l2 = l2 + np.log1p(-p)
    total = np.logaddexp(l1, l2)
    q1 = np.exp(l1 - total)
    q2 = 1 - q1
    grad = np.array([
        np.sum(w * q1 * da1) * a1,
        np.sum(w * q1 * db1) * b1,
        np.sum(w * q2 * da2) * a2,
        np.sum(w * q2 * db2) * b2,
        np.sum(w * (q1 * (1 - p) - q2 * p)),
    ])
    return -float(np.sum(w * total)), -grad


def _fit_one(start, n, e, w, n_star: int, param_limit: float):
    x0 = np.concatenate([np.log(start[:4]), [special.logit(start[4])]])
    upper = np.log(param_limit)
    if n_star in (0, 1):
        counts = np.unique(n, return_inverse=True)
        fun, jac = (lambda u: _objective(u, n, e, w, n_star, counts)), True
    else:
        def fun(u):
            t = np.exp(u[:4])
            return -log_likelihood(GPSPrior(*t, special.expit(u[4])), n, e, w, n_star)
        jac = None
    res = optimize.minimize(fun, x0, jac=jac, method="L-BFGS-B",
                            bounds=[(-30, upper)] * 4 + [(-30, 30)],
                            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-9})
    theta = np.concatenate([np.exp(res.x[:4]), [special.expit(res.x[4])]])
    inside = bool(np.all(res.x[:4] < upper - 1e-6) and np.all(res.x[:4] > -30 + 1e-6)
                  and 0 < theta[4] < 1 and abs(res.x[4]) < 30 - 1e-6)
    ok = bool(np.isfinite(res.fun)) and inside and (res.success or np.max(np.abs(res.jac)) < 1e-4)
    return theta, float(res.fun), ok


def fit_prior(n: ArrayLike, e: ArrayLike, weights: ArrayLike | None = None, *, n_star: int = 1,
              starts: Sequence[Sequence[float]] = DEFAULT_STARTS, min_conv: int = 1,
              param_limit: float = 100.0, boundary_fallback: bool = False) -> PriorFit:
    """Fit the GPS prior by maximum likelihood over the pairs with ``n >= n_star``.

    ``n_star=1`` drops the zero cells (they are never observed in a report table) and truncates each
    component at zero; ``n_star=0`` fits the untruncated mixture on data that include zero cells.
    Raises ``ValueError`` when there are no usable points or no start converges inside the box, unless
    ``boundary_fallback``: then the best fit on the box boundary is returned with ``inside=False`` and
    ``consistent=False`` (openEBGM ``autoHyper`` stops instead; its EBGMs would need a prior anyway).

    >>> rng = np.random.default_rng(1)
    >>> e = rng.lognormal(-1, 1, 20000)
    >>> lam = np.where(rng.random(20000) < 0.2, rng.gamma(1.0, 5.0, 20000), rng.gamma(2.0, 0.5, 20000))
    >>> fit = fit_prior(rng.poisson(lam * e), e)
    >>> fit.consistent, fit.points, round(fit.neg_log_lik, 2)
    (True, 7698, 12100.86)
    """
    n = np.asarray(n, dtype=np.float64)
    e = np.asarray(e, dtype=np.float64)
    w = np.ones_like(n) if weights is None else np.asarray(weights, dtype=np.float64)
    keep = (n >= n_star) & (e > 0) & np.isfinite(e) & (w > 0)
    n, e, w = n[keep], e[keep], w[keep]
    if n.size == 0:
        raise ValueError("no pairs with a positive expected count to fit the prior on")
    # L-BFGS-B calls BLAS on 5-vectors; a multi-threaded BLAS only spins its threads on them (3x the CPU
    # time on 2 cores), so the fit runs with one BLAS thread
    with threadpool_limits(limits=1, user_api="blas"):
        fits = [_fit_one(np.asarray(s, dtype=np.float64), n, e, w, n_star, param_limit) for s in starts]
    good = [(t, f) for t, f, ok in fits if ok]
    inside = bool(good)
    if not good:
        good = [(t, f) for t, f, _ in fits if np.isfinite(f)]
        if not boundary_fallback or not good:
            raise ValueError("no starting point converged inside the parameter space")
    best_i = int(np.argmin([f for _, f in good]))
    best, best_f = good[best_i]
    tol = np.array(CLOSE_TOL)
    num_close = sum(1 for i, (t, _) in enumerate(good) if i != best_i and np.all(np.abs(t - best) < tol))
    return PriorFit(prior=GPSPrior(*(float(x) for x in best)), neg_log_lik=best_f,
                    consistent=inside and num_close >= min_conv, num_close=num_close,
                    num_converged=len(good) if inside else 0, points=int(n.size), inside=inside)
