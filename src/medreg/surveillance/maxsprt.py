"""Poisson MaxSPRT: exact critical values, operating characteristics and per-look analysis.

The maximized sequential probability ratio test (Kulldorff et al. 2011) monitors a count of adverse
events ``C_t`` against the count ``mu_t`` expected under the null hypothesis (relative risk 1). After
each look the log-likelihood ratio against the composite alternative ``RR > 1`` is

.. math::

    LLR_t = (\\mu_t - c_t) + c_t \\log(c_t / \\mu_t) \\quad \\text{if } c_t > \\mu_t,
    \\quad 0 \\text{ otherwise},

and the null is rejected (a *signal*) the first time ``LLR_t >= CV`` with at least ``M`` events. The
surveillance stops without a signal once ``mu_t`` reaches the upper limit ``T`` on the length of
surveillance (expressed, as in the paper, in events expected under the null).

The critical value ``CV`` is the one that makes the probability of a signal under the null equal to
``alpha``. It is computed *exactly* (no simulation): the count process is a Poisson process in the
``mu`` time scale, and the signal region is absorbing, so the probability mass of the non-absorbed
counts is carried from boundary to boundary (Kulldorff et al. 2011, section 3; the same Markov chain as
the R ``Sequential`` package, ``CV.Poisson`` and ``Performance.Poisson``).

* Continuous looks: the boundary time for ``k`` events is the ``mu < k`` solving ``LLR(k, mu) = CV``,
  ``mu_k = -k W_0(-exp(-1 - CV/k))`` (Lambert W). Between ``mu_{k-1}`` and ``mu_k`` a signal happens
  as soon as the count reaches ``max(k, M)``. A delayed start ``D`` (first look at ``mu = D``) is
  supported (Kulldorff and Silva 2015).
* Group looks at cumulative expected counts ``mu_1 < ... < mu_G = T``: at look ``i`` the signal
  threshold is the smallest count ``c >= M`` with ``LLR(c, mu_i) >= CV``.

References
----------
Kulldorff M, Davis RL, Kolczak M, Lewis E, Lieu T, Platt R. A maximized sequential probability ratio
test for drug and vaccine safety surveillance. Sequential Analysis 2011; 30:58-78.
Kulldorff M, Silva IR. Continuous post-market sequential safety surveillance with minimum events to
signal. REVSTAT 2017; 15(3):373-394.
Silva IR, Kulldorff M. R package ``Sequential`` (CRAN), functions ``CV.Poisson``, ``Performance.Poisson``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, lambertw, pdtrc

from medreg.core.errors import ValidationFailed

__all__ = [
    "OperatingCharacteristics",
    "PoissonCriticalValue",
    "poisson_boundary_times",
    "poisson_critical_value",
    "poisson_llr",
    "poisson_performance",
]


@dataclass(frozen=True)
class PoissonCriticalValue:
    """Critical value of a Poisson MaxSPRT design and the alpha it attains exactly."""

    critical_value: float
    alpha: float  # exact probability of a signal under the null with this critical value
    sample_size: float  # T, upper limit on the length of surveillance (expected events under H0)
    min_events: int  # M
    delay: float  # D (continuous design) or 0
    looks: tuple[float, ...] | None  # cumulative expected counts of a group design, None = continuous


@dataclass(frozen=True)
class OperatingCharacteristics:
    """Power, expected time to signal (given a signal) and expected length of surveillance."""

    relative_risk: float
    power: float
    expected_signal_time: float
    expected_sample_size: float


def poisson_llr(observed, expected):
    """MaxSPRT log-likelihood ratio for Poisson data (vectorised).

    ``LLR = (mu - c) + c log(c / mu)`` when ``c > mu`` and 0 otherwise (Kulldorff 2011, eq. 2).
    """
    c = np.asarray(observed, dtype=float)
    mu = np.asarray(expected, dtype=float)
    if np.any(c < 0) or np.any(mu < 0):
        raise ValidationFailed("Counts and expected counts must be non-negative.", field="observed")
    with np.errstate(divide="ignore", invalid="ignore"):
        llr = (mu - c) + c * np.log(c / mu)
    llr = np.where(c > mu, llr, 0.0)
    return np.where((mu == 0) & (c > 0), np.inf, llr)


def poisson_boundary_times(critical_value: float, k_max: int) -> np.ndarray:
    """``mu_k`` for k = 1..k_max: the latest expected count at which ``k`` events still signal.

    Solves ``LLR(k, mu) = CV`` for ``mu < k``: ``mu_k = -k W_0(-exp(-1 - CV / k))``.
    """
    k = np.arange(1, k_max + 1, dtype=float)
    return -k * np.real(lambertw(-np.exp(-1.0 - critical_value / k), 0))


def _threshold_counts(critical_value: float, mu: np.ndarray) -> np.ndarray:
    """Smallest integer count with ``LLR(c, mu) >= CV`` at each expected count ``mu`` (> 0)."""
    ratio = np.exp(1.0 + np.real(lambertw((critical_value / mu - 1.0) / np.e, 0)))
    c = np.maximum(np.ceil(mu * ratio - 1e-9), 1.0)
    c = np.where(poisson_llr(c - 1, mu) >= critical_value, c - 1, c)  # guard float rounding
    c = np.where(poisson_llr(c, mu) < critical_value, c + 1, c)
    return np.maximum(c, 1.0).astype(int)


def _pois_pmf(n: int, lam: float) -> np.ndarray:
    k = np.arange(n, dtype=float)
    if lam <= 0:
        out = np.zeros(n)
        out[0] = 1.0
        return out
    return np.exp(k * np.log(lam) - lam - gammaln(k + 1))


class _Chain:
    """Non-absorbed count distribution carried from one checkpoint to the next."""

    def __init__(self, rr: float):
        self.rr = rr
        self.state = np.ones(1)  # P(count = j, no signal yet), j = 0..len-1
        self.time = 0.0
        self.signal = 0.0
        self.signal_time = 0.0  # E[time of signal; signal]

    def advance(self, to: float, threshold: int, continuous: bool) -> None:
        """Move to time ``to``; counts >= ``threshold`` signal (during the interval if continuous)."""
        delta = max(to - self.time, 0.0)
        lam = self.rr * delta
        size = len(self.state)
        if continuous and lam > 0:
            need = threshold - np.arange(size)  # arrivals still needed from each state
            hit = pdtrc(need - 1, lam)  # P(Pois >= need)
            late = (need / self.rr) * pdtrc(need, lam)  # E[arrival time; arrival <= delta]
            self.signal_time += float(np.sum(self.state * (self.time * hit + late)))
        span = min(threshold, int(lam + 12.0 * np.sqrt(lam) + 40.0))
        new = np.convolve(self.state, _pois_pmf(max(span, 1), lam))[:threshold]
        if len(new) < threshold:
            new = np.concatenate([new, np.zeros(threshold - len(new))])
        absorbed = max(float(self.state.sum() - new.sum()), 0.0)
        if not continuous:
            self.signal_time += to * absorbed
        self.signal += absorbed
        self.state = new
        self.time = to


def _validate(sample_size: float, min_events: int, alpha: float | None = None) -> None:
    if not np.isfinite(sample_size) or sample_size <= 0:
        raise ValidationFailed("The upper limit on the length of surveillance must be positive.",
                               field="sample_size")
    if int(min_events) != min_events or min_events < 1:
        raise ValidationFailed("The minimum number of events must be a positive integer.",
                               field="min_events")
    if alpha is not None and not 0 < alpha <= 0.5:
        raise ValidationFailed("alpha must lie in (0, 0.5].", field="alpha")


def _looks_array(looks, sample_size: float) -> np.ndarray:
    mu = np.cumsum(np.asarray(looks, dtype=float))
    if mu.size == 0 or np.any(np.asarray(looks, dtype=float) <= 0):
        raise ValidationFailed("Group sizes must be positive expected counts.", field="looks")
    if abs(mu[-1] - sample_size) > 1e-9 * max(1.0, sample_size):
        raise ValidationFailed("Group sizes must add up to the upper limit on the length of surveillance.",
                               field="looks")
    return mu


def _run(cv: float, sample_size: float, min_events: int, delay: float, looks, rr: float) -> _Chain:
    chain = _Chain(rr)
    if looks is not None:
        mu = _looks_array(looks, sample_size)
        thresholds = np.maximum(_threshold_counts(cv, mu), min_events)
        for t, a in zip(mu, thresholds, strict=True):
            chain.advance(float(t), int(a), continuous=False)
        return chain
    k_max = 8
    times = poisson_boundary_times(cv, k_max)
    while times[-1] < sample_size:
        k_max *= 2
        times = poisson_boundary_times(cv, k_max)
    k = int(np.searchsorted(times, delay)) + 1  # first k whose boundary is at or after D
    if delay > 0:
        chain.advance(delay, max(k, min_events), continuous=False)
    while True:
        end = min(float(times[k - 1]), sample_size)
        chain.advance(end, max(k, min_events), continuous=True)
        if end >= sample_size:
            return chain
        k += 1


def poisson_performance(critical_value: float, sample_size: float, relative_risk: float, *,
                        min_events: int = 1, delay: float = 0.0, looks=None) -> OperatingCharacteristics:
    """Exact power, expected time to signal and expected length of surveillance at ``relative_risk``.

    Times are in events expected under the null. ``looks`` are group sizes (expected counts between
    consecutive looks, adding up to ``sample_size``); ``None`` means continuous monitoring.
    """
    _validate(sample_size, min_events)
    if relative_risk <= 0:
        raise ValidationFailed("The relative risk must be positive.", field="relative_risk")
    chain = _run(critical_value, sample_size, min_events, delay, looks, relative_risk)
    power = chain.signal
    signal_time = chain.signal_time / power if power > 0 else float("nan")
    return OperatingCharacteristics(relative_risk, power, signal_time,
                                    chain.signal_time + sample_size * (1.0 - power))


def _alpha(cv: float, sample_size: float, min_events: int, delay: float, looks) -> float:
    return _run(cv, sample_size, min_events, delay, looks, 1.0).signal


def _round_up5(x: float) -> float:
    """The ``Sequential`` convention: report the attained LLR rounded *up* in the 5th decimal."""
    r = round(x, 5)
    return round(x + 9e-6, 5) if r <= x else r


def poisson_critical_value(sample_size: float, alpha: float = 0.05, *, min_events: int = 1,
                           delay: float = 0.0, looks=None) -> PoissonCriticalValue:
    """Critical value of the Poisson MaxSPRT for an overall type I error ``alpha``.

    Continuous monitoring (``looks=None``): alpha is a continuous decreasing function of CV and the
    exact CV is found by Brent's method (tolerance 1e-11). Group monitoring: alpha is a step
    function of CV; the result is the smallest CV with alpha <= target, reported as the largest
    attainable LLR whose alpha exceeds the target rounded up in the 5th decimal, as ``CV.Binomial``
    of the ``Sequential`` package reports it. Signal rule in both cases: ``LLR >= CV``.

    Raises ``ValidationFailed`` when no critical value exists (``P(Poisson(T) >= M) < alpha``).
    """
    _validate(sample_size, min_events, alpha)
    if not 0 <= delay <= sample_size:
        raise ValidationFailed("The delay must lie between 0 and the length of surveillance.",
                               field="delay")
    if pdtrc(min_events - 1, sample_size) < alpha:
        raise ValidationFailed("No critical value exists: too few events can be expected for "
                               "this minimum number of events and alpha.", field="min_events")
    if looks is None:
        from scipy.optimize import brentq  # imported here: scipy.optimize is slow to import

        def f(cv: float) -> float:
            return _alpha(cv, sample_size, min_events, delay, None) - alpha
        lo, hi = 1e-8, 8.0
        if f(lo) <= 0:  # even the smallest LLR keeps alpha (happens when M is binding)
            cv = lo
        else:
            while f(hi) > 0:
                hi *= 2
            cv = brentq(f, lo, hi, xtol=1e-11, rtol=1e-14, maxiter=200)
        return PoissonCriticalValue(cv, _alpha(cv, sample_size, min_events, delay, None),
                                    sample_size, min_events, delay, None)
    mu = _looks_array(looks, sample_size)
    c_max = int(sample_size + 12 * np.sqrt(sample_size) + 30)
    cand = poisson_llr(np.arange(c_max + 1)[None, :], mu[:, None]).ravel()
    cand = np.unique(cand[(cand > 0) & np.isfinite(cand)])
    lo, hi = -1, len(cand) - 1  # invariant: alpha(cand[lo]) > target (lo=-1: CV -> 0), alpha(hi) <= ?
    if _alpha(float(cand[hi]), sample_size, min_events, 0.0, looks) > alpha:
        raise ValidationFailed("No critical value attains this alpha with these looks.", field="alpha")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _alpha(float(cand[mid]), sample_size, min_events, 0.0, looks) > alpha:
            lo = mid
        else:
            hi = mid
    cv = _round_up5(float(cand[lo])) if lo >= 0 else float(cand[hi])
    return PoissonCriticalValue(cv, _alpha(cv, sample_size, min_events, 0.0, looks), sample_size,
                                min_events, 0.0, tuple(float(x) for x in np.asarray(looks, float)))
