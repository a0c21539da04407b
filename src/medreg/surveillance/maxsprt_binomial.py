"""Binomial MaxSPRT: exact critical values, operating characteristics, continuous or group looks.

For matched designs (a new device against ``z`` comparator procedures matched to each, or a
self-controlled risk interval with control/risk window ratio ``z``) each adverse event is a *case*
(exposed) with probability ``p = 1 / (1 + z)`` under the null. After ``n`` events of which ``c`` are
cases, the MaxSPRT log-likelihood ratio is (Kulldorff et al. 2011, section 6)

.. math::

    LLR_n = c \\log\\frac{c}{n} + (n - c) \\log\\frac{n - c}{n} - c \\log p - (n - c) \\log(1 - p)
    \\quad \\text{if } c / n > p, \\quad 0 \\text{ otherwise},

(``0 log 0 = 0``), and a signal is raised the first time ``LLR_n >= CV`` with ``c >= M``. Surveillance
ends without a signal after ``N`` events. Under relative risk ``RR`` an event is a case with
probability ``RR / (RR + z)``; the number of cases is a Markov chain with absorbing signal states,
which gives the exact alpha, power and expected times (in events) without simulation.

The attainable LLR values are finite, so alpha is a step function of CV; as the R ``Sequential``
package (``CV.Binomial``) does, the critical value reported is the largest attainable LLR (over all
``n <= N``) whose alpha still exceeds the target, rounded *up* in the 5th decimal, so that the signal
rule ``LLR >= CV`` attains the largest alpha not above the target.

References
----------
Kulldorff M, Davis RL, Kolczak M, Lewis E, Lieu T, Platt R. Sequential Analysis 2011; 30:58-78.
Silva IR, Kulldorff M. R package ``Sequential`` (CRAN): ``CV.Binomial``, ``Performance.Binomial``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import xlogy
from scipy.stats import binom

from medreg.core.errors import ValidationFailed
from medreg.surveillance.maxsprt import OperatingCharacteristics

__all__ = ["BinomialCriticalValue", "binomial_critical_value", "binomial_llr", "binomial_performance"]


@dataclass(frozen=True)
class BinomialCriticalValue:
    critical_value: float
    alpha: float  # exact type I error of the rule LLR >= critical_value
    sample_size: int  # N, upper limit in events (cases + controls)
    z: float  # matching ratio, p = 1 / (1 + z)
    min_events: int  # M
    looks: tuple[int, ...]  # cumulative numbers of events at the looks (1..N when continuous)


def binomial_llr(cases, events, z: float):
    """MaxSPRT LLR for binomial data (vectorised over ``cases`` and ``events``)."""
    c = np.asarray(cases, dtype=float)
    n = np.asarray(events, dtype=float)
    if z <= 0:
        raise ValidationFailed("The matching ratio z must be positive.", field="z")
    if np.any(c < 0) or np.any(c > n):
        raise ValidationFailed("Cases must lie between 0 and the number of events.", field="cases")
    p = 1.0 / (1.0 + z)
    with np.errstate(divide="ignore", invalid="ignore"):
        llr = (xlogy(c, c / n) + xlogy(n - c, (n - c) / n) - c * np.log(p) - (n - c) * np.log1p(-p))
    return np.where((n > 0) & (c > n * p), llr, 0.0)


def _looks(sample_size: int, looks) -> np.ndarray:
    if int(sample_size) != sample_size or sample_size < 1:
        raise ValidationFailed("The upper limit on the number of events must be a positive integer.",
                               field="sample_size")
    if looks is None:
        return np.arange(1, sample_size + 1)
    sizes = np.atleast_1d(np.asarray(looks))
    if sizes.size == 1 and sizes[0] > 0 and sample_size % sizes[0] == 0:
        sizes = np.full(int(sample_size // sizes[0]), sizes[0])
    if np.any(sizes <= 0) or np.any(sizes != np.round(sizes)) or sizes.sum() != sample_size:
        raise ValidationFailed("Group sizes must be positive integers adding up to the number of events.",
                               field="looks")
    return np.cumsum(sizes).astype(int)


def _thresholds(cv: float, at: np.ndarray, z: float, min_events: int) -> np.ndarray:
    """Smallest case count that signals at each look (``n + 1`` when none can).

    The LLR is 0 up to ``n p`` and increasing above, so a bisection over the counts of every look
    at once finds the smallest count with ``LLR >= cv`` (and ``>= M``)."""
    n = np.asarray(at, dtype=int)
    lo = np.minimum(np.full(n.shape, max(int(min_events), 0)), n + 1)
    hi = n + 1  # invariant: the answer lies in [lo, hi]; hi = n + 1 means none signals
    while np.any(lo < hi):
        mid = (lo + hi) // 2
        ok = binomial_llr(np.minimum(mid, n), n, z) >= cv
        hi = np.where(ok & (lo < hi), mid, hi)
        lo = np.where(~ok & (lo < hi), mid + 1, lo)
    return hi.astype(int)


def _run(cv: float, at: np.ndarray, z: float, min_events: int, rr: float) -> tuple[float, float]:
    """(P(signal), E[n at signal; signal]) of the rule LLR >= cv at the looks ``at``."""
    ps = rr / (rr + z)
    thresholds = _thresholds(cv, at, z, min_events)
    state = np.ones(1)
    prev = 0
    signal = signal_time = 0.0
    steps: dict[int, np.ndarray] = {}
    for n, a in zip(at.tolist(), thresholds.tolist(), strict=True):
        d = n - prev
        step = steps.get(d)
        if step is None:
            step = steps[d] = np.array([1.0 - ps, ps]) if d == 1 else binom.pmf(np.arange(d + 1), d, ps)
        new = np.convolve(state, step)
        absorbed = float(new[a:].sum())
        signal += absorbed
        signal_time += n * absorbed
        state = new[:a]
        prev = n
    return signal, signal_time


def binomial_performance(critical_value: float, sample_size: int, z: float, relative_risk: float, *,
                         min_events: int = 1, looks=None) -> OperatingCharacteristics:
    """Exact power, expected events at signal (given a signal) and expected events at the end."""
    if relative_risk <= 0:
        raise ValidationFailed("The relative risk must be positive.", field="relative_risk")
    at = _looks(sample_size, looks)
    power, numerator = _run(critical_value, at, z, min_events, relative_risk)
    signal_time = numerator / power if power > 0 else float("nan")
    return OperatingCharacteristics(float(relative_risk), float(power), float(signal_time),
                                    float(numerator + sample_size * (1.0 - power)))


def _round_up5(x: float) -> float:
    r = round(x, 5)
    return round(x + 9e-6, 5) if r <= x else r


def binomial_critical_value(sample_size: int, z: float, alpha: float = 0.05, *, min_events: int = 1,
                            looks=None) -> BinomialCriticalValue:
    """Critical value of the binomial MaxSPRT (continuous when ``looks`` is None, else group sizes)."""
    if not 0 < alpha <= 0.5:
        raise ValidationFailed("alpha must lie in (0, 0.5].", field="alpha")
    if int(min_events) != min_events or min_events < 1:
        raise ValidationFailed("The minimum number of events must be a positive integer.",
                               field="min_events")
    at = _looks(sample_size, looks)
    p = 1.0 / (1.0 + z)
    if binom.sf(sample_size - 1, sample_size, p) > alpha:
        raise ValidationFailed("No critical value exists: even all events being cases is not "
                               "significant at this alpha; increase the number of events.",
                               field="sample_size")
    if binom.sf(min_events - 1, sample_size, p) < alpha:
        raise ValidationFailed("No critical value exists: too few events can be expected for "
                               "this minimum number of events and alpha.", field="min_events")
    every = np.arange(1, sample_size + 1)  # attainable LLRs: any c <= n <= N (as CV.Binomial's)

    def alpha_at(cv: float) -> float:
        return _run(cv, at, z, min_events, 1.0)[0]

    def below(b: float) -> float:
        """The largest attainable positive LLR strictly below ``b`` (0 when none)."""
        c = _thresholds(b, every, z, 1) - 1
        return float(np.max(binomial_llr(c, every, z), initial=0.0))

    # alpha(cv) is a non-increasing step function, constant on (v', v] between attainable LLRs v' < v.
    # Bisect on the real line to a narrow bracket a < b (alpha(a) > target >= alpha(b)), then walk
    # down the attainable values below b: the first whose alpha exceeds the target is the largest
    # such value, the one CV.Binomial reports (rounded up in the 5th decimal).
    a, b = 0.0, float(binomial_llr(sample_size, sample_size, z))  # alpha(b) <= target: checked above
    if b > 32.0 and alpha_at(32.0) <= alpha:
        b = 32.0
    # about one attainable LLR per n in a unit of LLR near the CV: a bracket of 1/(2N) leaves a step or two
    while b - a > 0.5 / sample_size:
        mid = 0.5 * (a + b)
        if alpha_at(mid) > alpha:
            a = mid
        else:
            b = mid
    while True:
        v = below(b)
        if v <= 0.0:  # even the smallest attainable LLR keeps alpha: it is the critical value
            cv = float(np.min(binomial_llr(_thresholds(1e-300, every, z, 1), every, z),
                              where=_thresholds(1e-300, every, z, 1) <= every, initial=np.inf))
            break
        if alpha_at(v) > alpha:
            cv = _round_up5(v)
            break
        b = v
    return BinomialCriticalValue(cv, alpha_at(cv), int(sample_size), float(z), int(min_events),
                                 tuple(int(x) for x in at))
