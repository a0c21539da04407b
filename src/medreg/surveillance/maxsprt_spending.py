"""Alpha re-spending of a group-sequential MaxSPRT whose actual looks differ from its plan.

A group design (``maxsprt.poisson_critical_value(T, alpha, looks=...)``) fixes one critical value
``CV`` for looks at planned cumulative expected counts ``mu_1 < ... < mu_G = T``. With it, the design
spends, exactly and under the null, the cumulative type I error ``a_1 <= ... <= a_G <= alpha`` by
its planned looks. Periodic runs rarely add exactly the planned expected counts; keeping the flat
``CV`` at other information times makes the attained alpha differ from the design's (above it when
there are more looks than planned). The R package ``Sequential`` handles this in
``Analyze.Poisson`` (Silva & Kulldorff): at each test it takes a target *cumulative* alpha, and the
critical value of that test, in the scale of the events, is the smallest count whose probability of a
first crossing at this test, added to the alpha actually spent by the earlier tests, does not exceed
the target (the *actual* alpha spent is reported beside the target). The target may depend on the
cumulative expected counts up to and including the current test, never on the observed events
(``Analyze.Poisson`` help page, "Details", CRAN ``Sequential`` 4.5.1) - the condition under which
the overall type I error stays below alpha (Lan & DeMets 1983).

The rule implemented here (``poisson_spending_look``):

* **Spending function of the plan.** ``F(t)`` is the design's own cumulative alpha at its planned
  looks, ``F(mu_i) = a_i``, linearly interpolated in information time ``t`` (cumulative expected
  events under the null), ``F(0) = 0`` and ``F(t) = a_G`` for ``t >= T``. It depends only on ``t``.
* **Target at an actual look** at information ``t_k``: ``F(t_k)``; at the *final* look (the first
  whose ``t_k >= T``: surveillance ends when the information planned is reached, as in
  ``Analyze.Poisson``, whatever the number of looks) all of the plan's alpha, ``a_G``.
* **Critical value** at that look: the smallest count ``c_k >= max(M, floor(t_k) + 1)`` with
  ``spent_{k-1} + P_H0(no signal at looks 1..k-1, C(t_k) >= c_k) <= target_k``, computed exactly by
  carrying the non-absorbed count distribution from look to look (the earlier looks' thresholds
  are those actually applied). ``spent_k`` is then that sum (the actual alpha spent).
* **LLR scale.** The signal rule "count ``>= c_k``" is reported as a critical value of the LLR: the
  design's ``CV`` when ``c_k`` is the count the design itself would require at ``t_k``, otherwise
  ``LLR(c_k, t_k)``; either way ``LLR >= CV_k`` with at least ``M`` events is the same decision.

Consequences: when the actual looks are the planned ones, every ``c_k`` and ``CV_k`` equal the
design's (``a_k`` is attained by the design's threshold and by no smaller count); whatever the
looks, the exact type I error is ``spent_K <= a_G <= alpha``.

The same rule serves the binomial MaxSPRT (``maxsprt_binomial``; ``Analyze.Binomial`` of the same
package): information is then the cumulative number of events (cases + controls), the count is the
number of cases, each new event a case with probability ``1 / (1 + z)`` under the null
(``binomial_spending_look``). When no number of cases may signal at a look of ``n`` events
(``events_to_signal = n + 1``), its critical value on the LLR scale is the LLR of ``n`` cases of ``n``
rounded up in the 5th decimal: above every attainable LLR, and finite.

The chain is pruned (``_PRUNE``, ``_poisson_step``): under ``looks x 1e-20`` of probability is dropped,
so that T up to ``MAX_SAMPLE_SIZE`` (100,000 expected events) stays quick.

References
----------
Silva IR, Kulldorff M. R package ``Sequential`` (CRAN 4.5.1): ``Analyze.Poisson``,
``AnalyzeSetUp.Poisson``, ``Analyze.Binomial`` help pages.
Silva IR, Kulldorff M. Continuous versus group sequential analysis for post-market drug and vaccine
safety surveillance. Biometrics 2015; 71(3):851-858.
Lan KKG, DeMets DL. Discrete sequential boundaries for clinical trials. Biometrika 1983; 70:659-663.
Jennison C, Turnbull BW. Group Sequential Methods with Applications to Clinical Trials. 2000.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import binom, poisson

from medreg.core.errors import ValidationFailed
from medreg.surveillance.maxsprt import _threshold_counts, poisson_llr
from medreg.surveillance.maxsprt_binomial import _round_up5, binomial_llr
from medreg.surveillance.maxsprt_binomial import _thresholds as _binomial_thresholds

__all__ = ["SpendingLook", "binomial_spending_look", "binomial_spending_looks", "check_sample_size",
           "design_thresholds", "planned_spending", "poisson_group_critical_value", "poisson_spending_look",
           "poisson_spending_looks", "spending_target"]

_TOL = 1e-12  # rounding allowance when comparing a tail probability with the alpha still allowed
MAX_SAMPLE_SIZE = 100_000.0  # T in expected events (pruned chain: docs/surveillance.md has the timings)
# Pruning: after each look the lowest counts of the non-absorbed distribution whose total
# probability is at most _PRUNE are dropped, and a Poisson step starts 12 sd + 40 below its mean
# (a left tail below 1e-30 for every mean). Each probability computed is then below the exact one
# by at most the mass dropped, under (looks) x 1e-20 - far below _TOL - while the arrays carried
# shrink from about T counts to about 20 sd of the count, so re-spending costs O(T) per look.
_PRUNE = 1e-20


@dataclass(frozen=True)
class SpendingLook:
    expected: float  # information t_k: cumulative expected events under H0 (binomial: all events)
    target: float  # cumulative alpha allowed through this look, the plan's F(t_k) (a_G when final)
    spent: float  # exact cumulative alpha spent through this look under H0
    events_to_signal: int  # smallest cumulative count that signals at this look (c_k)
    critical_value: float  # the same rule on the LLR scale (CV_k)
    final: bool  # t_k >= T: the last look, surveillance ends


def _plan(plan: Sequence[float], integer: bool = False) -> np.ndarray:
    mu = np.asarray(plan, dtype=float)
    if mu.ndim != 1 or mu.size == 0 or not np.all(np.isfinite(mu)) or mu[0] <= 0 or np.any(np.diff(mu) <= 0) \
            or (integer and np.any(mu != np.round(mu))):
        raise ValidationFailed("The planned looks must be increasing positive expected counts.",
                               field="look_plan")
    check_sample_size(float(mu[-1]))
    return mu


def check_sample_size(sample_size: float) -> None:
    """Re-spending carries the exact count distribution: T is limited to ``MAX_SAMPLE_SIZE``."""
    if sample_size > MAX_SAMPLE_SIZE:
        raise ValidationFailed("The upper limit on the length of surveillance is too large (at most "
                               "{limit} expected events).", field="sample_size",
                               params={"limit": f"{MAX_SAMPLE_SIZE:,.0f}"})


def design_thresholds(critical_value: float, expected, min_events: int) -> np.ndarray:
    """Smallest signalling count of the flat design ``LLR >= CV`` (and ``>= M``) at each ``expected``."""
    mu = np.atleast_1d(np.asarray(expected, dtype=float))
    out = np.full(mu.shape, max(int(min_events), 1), dtype=int)
    pos = mu > 0
    if pos.any():
        out[pos] = np.maximum(_threshold_counts(critical_value, mu[pos]), out[pos])
    return out


@dataclass(frozen=True)
class _Model:
    """What differs between Poisson and binomial data: the count's step between two looks, the flat
    design's thresholds, the LLR, and the smallest count with a positive LLR."""

    step: Callable[[float, float], tuple[int, np.ndarray]]  # (k0, pmf from k0) added between t and t'
    thresholds: Callable[[float, np.ndarray, int], np.ndarray]
    llr: Callable[[int, float], float]
    lowest: Callable[[float, int], int]
    integer: bool


def _poisson_step(t: float, to: float) -> tuple[int, np.ndarray]:
    """(k0, pmf of the counts k0, k0 + 1, ...) added between t and to: 12 standard deviations and 40
    counts on either side of the mean (no tail that matters is cut)."""
    lam = to - t
    if lam <= 0:
        return 0, np.ones(1)
    k0 = max(0, int(lam - 12.0 * np.sqrt(lam) - 40.0))
    # (in floating point a pmf at lam = 1e4 is good to ~1e-11 relative, 1e-9 at 1e6)
    return k0, poisson.pmf(np.arange(k0, int(lam + 12.0 * np.sqrt(lam) + 40.0)), lam)


def _prune(lo: int, state: np.ndarray) -> tuple[int, np.ndarray]:
    """Drop the lowest counts whose total probability is at most ``_PRUNE`` (keep one entry)."""
    k = min(int(np.searchsorted(np.cumsum(state), _PRUNE, side="right")), len(state) - 1)
    return lo + k, state[k:]


POISSON = _Model(_poisson_step, design_thresholds, lambda c, t: float(poisson_llr(c, t)),
                 lambda t, m: max(int(m), int(np.floor(t)) + 1), False)


def _binomial(z: float) -> _Model:
    if not np.isfinite(z) or z <= 0:
        raise ValidationFailed("The matching ratio z must be positive.", field="z")
    p = 1.0 / (1.0 + z)

    def step(t: float, to: float) -> np.ndarray:
        n = int(round(to - t))
        return 0, (binom.pmf(np.arange(n + 1), n, p) if n > 0 else np.ones(1))

    def thresholds(cv: float, at: np.ndarray, m: int) -> np.ndarray:
        return _binomial_thresholds(cv, np.asarray(at, dtype=int), z, m)

    def llr(c: int, n: float) -> float:
        # no count can signal (c > n): a critical value just above every attainable LLR at this look
        return float(binomial_llr(c, n, z)) if c <= n else _round_up5(float(binomial_llr(n, n, z)))

    return _Model(step, thresholds, llr, lambda n, m: max(int(m), int(np.floor(n * p)) + 1), True)


def _history(model: _Model, prior) -> tuple[int, np.ndarray, list[float], float]:
    """Non-absorbed count distribution (``state[i]`` the probability of the count ``lo + i``),
    cumulative alpha spent by each look and information after the looks already done, each
    ``(information, events_to_signal)`` as applied."""
    lo, state, spent, t = 0, np.ones(1), [0.0], 0.0
    for info, threshold in prior:
        k0, step = model.step(t, max(t, float(info)))
        new, lo = np.convolve(state, step), lo + k0
        cut = max(int(threshold) - lo, 0)  # counts >= threshold are absorbed
        spent.append(spent[-1] + float(new[cut:].sum()))
        state = new[:cut] if cut > 0 else np.zeros(1)
        lo, state = _prune(lo, state)
        t = max(t, float(info))
    return lo, state, spent, t


def _planned(model: _Model, critical_value: float, plan, min_events: int) -> tuple[float, ...]:
    mu = _plan(plan, model.integer)
    thresholds = model.thresholds(critical_value, mu, min_events)
    return tuple(_history(model, zip(mu, thresholds, strict=True))[2][1:])


def planned_spending(critical_value: float, plan: Sequence[float], *,
                     min_events: int = 1) -> tuple[float, ...]:
    """The Poisson design's exact cumulative alpha ``a_1..a_G`` at its planned looks (cumulative)."""
    return _planned(POISSON, critical_value, plan, min_events)


def spending_target(plan: Sequence[float], plan_spent: Sequence[float], expected: float) -> float:
    """``F(t)``: the plan's cumulative alpha interpolated linearly in information time (``a_G`` from T on)."""
    mu = np.asarray(plan, dtype=float)
    a = np.asarray(plan_spent, dtype=float)
    return float(np.interp(float(expected), np.concatenate([[0.0], mu]), np.concatenate([[0.0], a])))


def _look(model: _Model, critical_value: float, plan, prior, info: float, min_events: int,
          plan_spent) -> SpendingLook:
    if int(min_events) != min_events or min_events < 1:
        raise ValidationFailed("The minimum number of events must be a positive integer.", field="min_events")
    if not np.isfinite(info) or info <= 0 or (model.integer and info != round(info)):
        raise ValidationFailed("A look needs a positive expected count.", field="expected")
    mu = _plan(plan, model.integer)
    spent_plan = _planned(model, critical_value, mu, min_events) if plan_spent is None else plan_spent
    lo, state, spent_by, t = _history(model, prior)
    spent = spent_by[-1]
    if info < t:
        raise ValidationFailed("Cumulative counts cannot decrease from one look to the next.",
                               field="expected")
    target = spending_target(mu, spent_plan, info)
    k0, step = model.step(t, info)
    new, lo = np.convolve(state, step), lo + k0
    tail = np.concatenate([np.cumsum(new[::-1])[::-1], [0.0]])  # tail[i] = P(C >= lo + i, not absorbed)
    lowest = model.lowest(info, min_events)
    start = max(lowest - lo, 0)  # below lo the tail is all the mass, tail[0]
    ok = np.flatnonzero(tail[start:] <= target - spent + _TOL)
    # none qualifies only when earlier looks (judged by another rule) overspent the plan: then no
    # count within the distribution's support may signal here (the one past it has probability ~0)
    if ok.size:
        idx = start + int(ok[0])
        c = lo + idx if idx > 0 else lowest
    else:
        c = max(lowest, lo + len(new))
    design = int(model.thresholds(critical_value, np.array([info]), min_events)[0])
    cv = float(critical_value) if c == design else model.llr(c, info)
    added = float(tail[min(max(c - lo, 0), len(tail) - 1)])
    return SpendingLook(float(info), target, spent + added, c, cv, bool(info >= mu[-1]))


def _looks(model: _Model, critical_value: float, plan, actual, min_events: int) -> tuple[SpendingLook, ...]:
    mu = _plan(plan, model.integer)
    spent_plan = _planned(model, critical_value, mu, min_events)
    prior: list[tuple[float, int]] = []
    out: list[SpendingLook] = []
    for t in actual:
        look = _look(model, critical_value, mu, prior, float(t), min_events, spent_plan)
        out.append(look)
        prior.append((look.expected, look.events_to_signal))
        if look.final:
            break
    return tuple(out)


def poisson_group_critical_value(plan: Sequence[float], alpha: float, *,
                                 min_events: int = 1) -> tuple[float, float]:
    """(CV, exact alpha) of the Poisson group design with looks at the cumulative expected counts
    ``plan`` - the value of ``maxsprt.poisson_critical_value(T, alpha, looks=group sizes)`` (the same
    candidates, bisection and rounding), with alpha from the pruned chain, so that T up to
    ``MAX_SAMPLE_SIZE`` stays quick (the full chain's arrays of about T counts do not)."""
    from scipy.special import pdtrc

    mu = _plan(plan)
    if not 0 < alpha <= 0.5:
        raise ValidationFailed("alpha must lie in (0, 0.5].", field="alpha")
    if int(min_events) != min_events or min_events < 1:
        raise ValidationFailed("The minimum number of events must be a positive integer.", field="min_events")
    if pdtrc(min_events - 1, mu[-1]) < alpha:
        raise ValidationFailed("No critical value exists: too few events can be expected for "
                               "this minimum number of events and alpha.", field="min_events")
    c_max = int(mu[-1] + 12 * np.sqrt(mu[-1]) + 30)
    cand = poisson_llr(np.arange(c_max + 1)[None, :], mu[:, None]).ravel()
    cand = np.unique(cand[(cand > 0) & np.isfinite(cand)])

    def alpha_at(cv: float) -> float:
        return _planned(POISSON, cv, mu, min_events)[-1]

    lo, hi = -1, len(cand) - 1
    if alpha_at(float(cand[hi])) > alpha:
        raise ValidationFailed("No critical value attains this alpha with these looks.", field="alpha")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if alpha_at(float(cand[mid])) > alpha:
            lo = mid
        else:
            hi = mid
    cv = _round_up5(float(cand[lo])) if lo >= 0 else float(cand[hi])
    return cv, alpha_at(cv)


def poisson_spending_look(critical_value: float, plan: Sequence[float], prior, expected: float, *,
                          min_events: int = 1, plan_spent: Sequence[float] | None = None) -> SpendingLook:
    """The re-spent critical value of a look at cumulative ``expected`` events.

    ``prior``: the looks already done, ``(expected, events_to_signal)`` each, as applied (use
    ``design_thresholds`` for looks judged by the flat critical value). A look reaching ``T`` is the
    final one and may spend all of the plan's alpha.
    """
    return _look(POISSON, critical_value, plan, prior, expected, min_events, plan_spent)


def poisson_spending_looks(critical_value: float, plan: Sequence[float], actual: Sequence[float], *,
                           min_events: int = 1) -> tuple[SpendingLook, ...]:
    """Every look of an actual sequence of cumulative expected counts (H0 analysis: no signal stops
    it); the first look reaching ``T`` is final and the sequence ends there."""
    return _looks(POISSON, critical_value, plan, actual, min_events)


def binomial_spending_look(critical_value: float, plan: Sequence[int], prior, events: int, z: float, *,
                           min_events: int = 1) -> SpendingLook:
    """Binomial MaxSPRT (``maxsprt_binomial``): the re-spent critical value of a look after ``events``
    events (cases + controls). ``plan``: the planned cumulative numbers of events, ending at N;
    ``prior``: ``(events, cases_to_signal)`` of the looks already done. ``events_to_signal`` is then
    the smallest number of *cases* that signals (``events + 1``: none can)."""
    return _look(_binomial(z), critical_value, plan, prior, events, min_events, None)


def binomial_spending_looks(critical_value: float, plan: Sequence[int], actual: Sequence[int], z: float, *,
                            min_events: int = 1) -> tuple[SpendingLook, ...]:
    """Every look of an actual sequence of cumulative numbers of events (binomial MaxSPRT)."""
    return _looks(_binomial(z), critical_value, plan, actual, min_events)
