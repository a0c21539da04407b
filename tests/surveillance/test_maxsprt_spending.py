"""Alpha re-spending of a group-sequential MaxSPRT at actual looks (``maxsprt_spending``): Poisson,
and binomial at the end of the file.

No published table gives re-spent critical values for actual looks that differ from a plan (the
``Analyze.Poisson`` help example of CRAN ``Sequential`` 4.5.1 prints no output), so the results are
checked (1) against the design itself when the actual looks are the planned ones, (2) against an
enumeration of the counts at each look written independently of the module's chain (scipy's Poisson
pmf, dictionaries), which also shows each threshold is the smallest allowed, and (3) by a seeded
simulation under the null (400,000 runs; tolerance 4 standard errors).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import poisson

from medreg.core.errors import ValidationFailed
from medreg.surveillance.maxsprt import poisson_critical_value
from medreg.surveillance.maxsprt_spending import (
    binomial_spending_looks,
    design_thresholds,
    planned_spending,
    poisson_spending_look,
    poisson_spending_looks,
)

# the CV.G.Poisson help example's design (SampleSize 30, GroupSizes 5, 6, 6, 5, 8), as in
# test_group_monitor.py, and a design with a minimum of 4 events and equal looks
HELP = ([5.0, 11.0, 17.0, 22.0, 30.0], 1)
EQUAL_M4 = ([4.0, 8.0, 12.0, 16.0, 20.0], 4)
ACTUAL = {  # actual cumulative expected counts at the runs: more, fewer, shifted, overshooting looks
    "monthly": [2.0 * k for k in range(1, 16)],
    "fewer": [8.0, 25.0, 31.0],
    "shifted": [3.5, 9.0, 12.5, 20.0, 26.0, 30.0],
    "one": [30.0],
}


def _design(plan, m):
    sizes = np.diff([0.0, *plan])
    return poisson_critical_value(plan[-1], 0.05, min_events=m, looks=sizes).critical_value


def _scaled(actual, plan):
    return [t * plan[-1] / 30.0 for t in actual]


def _absorb(counts: dict[int, float], c_min: int) -> tuple[dict[int, float], float]:
    """A look's count distribution split: the paths still below ``c_min``, and the mass that crossed."""
    alive = {c: p for c, p in counts.items() if c < c_min}
    return alive, sum(p for c, p in counts.items() if c >= c_min)


def _enumerate(cumulative, thresholds) -> list[float]:
    """Cumulative P(first count >= threshold at some look so far | H0), by plain enumeration."""
    alive, spent, out, before = {0: 1.0}, 0.0, [], 0.0
    for mu, c_min in zip(cumulative, thresholds, strict=True):
        lam, before = mu - before, mu
        nxt: dict[int, float] = {}
        for c, p in alive.items():
            for k in range(int(lam + 15 * lam**0.5 + 30)):
                nxt[c + k] = nxt.get(c + k, 0.0) + p * poisson.pmf(k, lam)
        alive, crossed = _absorb(nxt, c_min)
        spent += crossed
        out.append(spent)
    return out


@pytest.mark.parametrize("plan,m", [HELP, EQUAL_M4])
def test_actual_looks_equal_to_the_plan_keep_the_design(plan, m):
    cv = _design(plan, m)
    looks = poisson_spending_looks(cv, plan, plan, min_events=m)
    assert [lk.critical_value for lk in looks] == [cv] * len(plan)
    assert [lk.events_to_signal for lk in looks] == list(design_thresholds(cv, plan, m))
    spent = planned_spending(cv, plan, min_events=m)
    assert [lk.spent for lk in looks] == pytest.approx(spent, abs=1e-13)
    assert [lk.target for lk in looks] == pytest.approx(spent, abs=1e-15)
    # the design's alpha from maxsprt's own chain, and by enumeration
    assert spent[-1] == pytest.approx(
        poisson_critical_value(plan[-1], 0.05, min_events=m, looks=np.diff([0.0, *plan])).alpha, abs=1e-12)
    assert _enumerate(plan, design_thresholds(cv, plan, m)) == pytest.approx(spent, abs=1e-9)
    assert looks[-1].final and not any(lk.final for lk in looks[:-1])


@pytest.mark.parametrize("plan,m", [HELP, EQUAL_M4])
@pytest.mark.parametrize("name", sorted(ACTUAL))
def test_respent_alpha_follows_the_plan_and_never_exceeds_alpha(plan, m, name):
    cv = _design(plan, m)
    actual = _scaled(ACTUAL[name], plan)
    looks = poisson_spending_looks(cv, plan, actual, min_events=m)
    assert looks[-1].final and looks[-1].expected >= plan[-1]
    thresholds = [lk.events_to_signal for lk in looks]
    exact = _enumerate([lk.expected for lk in looks], thresholds)
    assert [lk.spent for lk in looks] == pytest.approx(exact, abs=1e-9)
    for lk in looks:
        assert lk.spent <= lk.target + 1e-12
        assert lk.events_to_signal >= m and lk.events_to_signal > lk.expected
    assert looks[-1].spent <= 0.05
    # each threshold is the smallest allowed: one event fewer would overspend the target
    for k, lk in enumerate(looks):
        lower = lk.events_to_signal - 1
        if lower < max(m, int(np.floor(lk.expected)) + 1):
            continue
        trial = _enumerate([x.expected for x in looks[: k + 1]], [*thresholds[:k], lower])
        assert trial[-1] > lk.target
    # the decision on the LLR scale is the same as on the count scale
    from medreg.surveillance.maxsprt import poisson_llr

    for lk in looks:
        c = lk.events_to_signal
        assert poisson_llr(c, lk.expected) >= lk.critical_value > poisson_llr(c - 1, lk.expected) or c - 1 < m


def test_the_respent_monthly_looks_hold_alpha_in_a_seeded_simulation():
    plan, m = HELP
    cv = _design(plan, m)
    looks = poisson_spending_looks(cv, plan, ACTUAL["monthly"], min_events=m)
    rng = np.random.default_rng(20261130)
    runs = 400_000
    increments = rng.poisson(np.diff([0.0, *[lk.expected for lk in looks]]), size=(runs, len(looks)))
    counts = np.cumsum(increments, axis=1)
    signalled = (counts >= np.array([lk.events_to_signal for lk in looks])).any(axis=1).mean()
    se = np.sqrt(0.05 * 0.95 / runs)
    assert abs(signalled - looks[-1].spent) < 4 * se
    assert signalled < 0.05 + 4 * se
    # the flat design CV at the same fifteen looks would overspend: that is what re-spending prevents
    flat = _enumerate([lk.expected for lk in looks], design_thresholds(cv, [lk.expected for lk in looks], m))
    assert flat[-1] > 0.05 > looks[-1].spent


def test_looks_already_judged_by_the_flat_value_are_taken_as_applied():
    plan, m = HELP
    cv = _design(plan, m)
    prior = [(4.0, int(design_thresholds(cv, 4.0, m)[0])), (9.0, int(design_thresholds(cv, 9.0, m)[0]))]
    spent = _enumerate([4.0, 9.0], [prior[0][1], prior[1][1]])
    late = poisson_spending_look(cv, plan, prior, 14.0, min_events=m)
    assert spent[-1] > late.target  # the flat value at 4 and 9 already spent more than F(14)
    assert late.spent == pytest.approx(spent[-1], abs=1e-9)  # nothing more is spent at 14
    look = poisson_spending_look(cv, plan, prior, 30.0, min_events=m)  # the final look spends the rest
    exact = _enumerate([4.0, 9.0, 30.0], [prior[0][1], prior[1][1], look.events_to_signal])
    assert look.spent == pytest.approx(exact[-1], abs=1e-9) and look.spent <= look.target + 1e-12
    assert look.spent > spent[-1]


@pytest.mark.parametrize("kw,field", [
    ({"plan": [5.0, 4.0]}, "look_plan"),
    ({"plan": []}, "look_plan"),
    ({"expected": 0.0}, "expected"),
    ({"prior": [(6.0, 12)], "expected": 5.0}, "expected"),
    ({"min_events": 0}, "min_events"),
    ({"plan": [5.0, 1e9]}, "sample_size"),  # the exact chain would need arrays of 1e9 counts
])
def test_bad_input_names_the_field(kw, field):
    args = {"plan": [5.0, 10.0], "prior": [], "expected": 3.0, "min_events": 1} | kw
    with pytest.raises(ValidationFailed) as e:
        poisson_spending_look(2.0, args["plan"], args["prior"], args["expected"],
                              min_events=args["min_events"])
    assert e.value.field == field


# Binomial MaxSPRT (Analyze.Binomial-style re-spending): N = 40 events, z = 1, four planned looks
BIN_PLAN, BIN_Z = [10, 20, 30, 40], 1.0


def _enumerate_binomial(events, thresholds, z: float) -> list[float]:
    """Cumulative P(cases >= threshold at some look so far | H0), enumerating the cases per look."""
    from scipy.stats import binom

    alive, spent, out, before = {0: 1.0}, 0.0, [], 0
    for n, c_min in zip(events, thresholds, strict=True):
        step, before = n - before, n
        nxt: dict[int, float] = {}
        for c, p in alive.items():
            for k in range(step + 1):
                nxt[c + k] = nxt.get(c + k, 0.0) + p * binom.pmf(k, step, 1 / (1 + z))
        alive, crossed = _absorb(nxt, c_min)
        spent += crossed
        out.append(spent)
    return out


@pytest.mark.parametrize("actual", [[10, 20, 30, 40], [5, 10, 15, 20, 25, 30, 35, 40], [15, 40],
                                    [12, 25, 33, 44]])
def test_binomial_respending_follows_the_plan(actual):
    from medreg.surveillance.maxsprt_binomial import binomial_critical_value

    design = binomial_critical_value(40, BIN_Z, 0.05, looks=[10, 10, 10, 10])
    looks = binomial_spending_looks(design.critical_value, BIN_PLAN, actual, BIN_Z)
    exact = _enumerate_binomial([int(lk.expected) for lk in looks], [lk.events_to_signal for lk in looks],
                                BIN_Z)
    assert [lk.spent for lk in looks] == pytest.approx(exact, abs=1e-12)
    assert all(lk.spent <= lk.target + 1e-12 for lk in looks) and looks[-1].final
    assert looks[-1].spent <= design.alpha <= 0.05
    if actual == BIN_PLAN:  # the plan's own looks: the design's critical value and alpha
        assert [lk.critical_value for lk in looks] == [design.critical_value] * 4
        assert looks[-1].spent == pytest.approx(design.alpha, abs=1e-13)


def test_binomial_respending_holds_alpha_in_a_seeded_simulation():
    from medreg.surveillance.maxsprt_binomial import binomial_critical_value

    design = binomial_critical_value(40, BIN_Z, 0.05, looks=[10, 10, 10, 10])
    actual = [5, 10, 15, 20, 25, 30, 35, 40]
    looks = binomial_spending_looks(design.critical_value, BIN_PLAN, actual, BIN_Z)
    rng = np.random.default_rng(7)
    runs = 400_000
    cases = np.cumsum(rng.binomial(5, 0.5, size=(runs, len(actual))), axis=1)
    rate = (cases >= np.array([lk.events_to_signal for lk in looks])).any(axis=1).mean()
    se = np.sqrt(0.05 * 0.95 / runs)
    assert abs(rate - looks[-1].spent) < 4 * se and rate < 0.05 + 4 * se


# Poisson re-spending for large T (up to MAX_SAMPLE_SIZE = 100,000): the pruned chain


@pytest.mark.parametrize("plan,m", [HELP, EQUAL_M4, ([250.0 * k for k in range(1, 5)], 4)])
def test_group_design_on_the_pruned_chain_equals_maxsprt(plan, m):
    from medreg.surveillance.maxsprt_spending import poisson_group_critical_value

    cv, alpha = poisson_group_critical_value(plan, 0.05, min_events=m)
    design = poisson_critical_value(plan[-1], 0.05, min_events=m, looks=np.diff([0.0, *plan]))
    # maxsprt's chain takes the absorbed mass as a difference of sums: alphas agree within 1e-12
    assert cv == design.critical_value and alpha == pytest.approx(design.alpha, abs=1e-12)


def test_pruning_drops_no_mass_that_matters():
    """The Poisson step's cut left tail is below 1e-30 for every mean (scipy's cdf), and at T = 20,000
    the pruned chain gives the thresholds and spent alpha of the full one (no pruning, steps from 0)."""
    import dataclasses

    from scipy.special import pdtr

    import medreg.surveillance.maxsprt_spending as ms

    for lam in [1.0, 50.0, 224.0, 400.0, 1e3, 1e4, 1e5, 1e6]:
        k0, step = ms._poisson_step(0.0, lam)
        # scipy's pmf itself sums to 1 within ~1e-11 at lam = 1e4 (1e-9 at 1e6): floating point
        assert (k0 == 0 or pdtr(k0 - 1, lam) < 1e-30) and abs(step.sum() - 1) < 1e-8
    plan = [2000.0 * k for k in range(1, 11)]
    actual = [1500.0 * k for k in range(1, 14)] + [20_000.0]
    cv = ms.poisson_group_critical_value(plan, 0.05, min_events=4)[0]
    pruned = ms.poisson_spending_looks(cv, plan, actual, min_events=4)

    def full_step(t, to):
        lam = to - t
        k = np.arange(int(lam + 12.0 * np.sqrt(lam) + 40.0))
        return 0, poisson.pmf(k, lam) if lam > 0 else np.ones(1)

    orig = (ms._PRUNE, ms.POISSON)
    try:
        ms._PRUNE = 0.0
        ms.POISSON = dataclasses.replace(orig[1], step=full_step)
        full = ms.poisson_spending_looks(cv, plan, actual, min_events=4)
    finally:
        ms._PRUNE, ms.POISSON = orig
    assert [lk.events_to_signal for lk in pruned] == [lk.events_to_signal for lk in full]
    assert [lk.spent for lk in pruned] == pytest.approx([lk.spent for lk in full], abs=1e-15)
    assert full[-1].final and full[-1].spent <= 0.05


def test_large_t_respending_holds_alpha_in_a_seeded_simulation():
    """T = 50,000 expected events, 10 planned looks, 14 actual ones: 200,000 seeded null runs signal
    at the exact spent alpha within 4 standard errors."""
    from medreg.surveillance.service_monitoring import _maxsprt_design

    design = _maxsprt_design(0.05, 50_000.0, 4, 10, None)
    plan = design["look_plan"]
    actual = [3000.0, 7000.0, 9000.0, 15000.0, 16000.0, 21000.0, 24000.0, 30000.0, 33000.0, 37000.0,
              41000.0, 44000.0, 48000.0, 50000.0]
    looks = poisson_spending_looks(design["critical_value"], plan, actual, min_events=4)
    rng = np.random.default_rng(11)
    runs = 200_000
    counts = np.cumsum(rng.poisson(np.diff([0.0, *actual]), size=(runs, len(actual))), axis=1)
    rate = (counts >= np.array([lk.events_to_signal for lk in looks])).any(axis=1).mean()
    se = np.sqrt(0.05 * 0.95 / runs)
    assert abs(rate - looks[-1].spent) < 4 * se and looks[-1].spent <= 0.05
