"""Monitors with periodic looks use the group-sequential critical value of their design."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, ValidationFailed
from medreg.surveillance import service_monitoring
from medreg.surveillance.demo import DEVICES
from medreg.surveillance.maxsprt import poisson_critical_value, poisson_performance
from medreg.surveillance.maxsprt_spending import planned_spending, poisson_spending_looks
from tests.factories import actor_for, make_org, make_user
from tests.surveillance.test_cohort_load import _store


def _centre(db):
    return actor_for(make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE)))


def _monitor(db, actor, **kw):
    return service_monitoring.create_monitor(
        db, actor, name="m", device_group="coronary_stent", udi_di=DEVICES[3][1],
        outcome="target_lesion_failure", window_days=180, reference_start=date(2024, 1, 1),
        reference_end=date(2024, 12, 31), alpha=0.05, sample_size=30.0, min_events=1, **kw)


def test_periodic_monitor_gets_the_group_sequential_critical_value(db):
    actor = _centre(db)
    continuous = _monitor(db, actor)
    monthly = _monitor(db, actor, planned_looks=5)
    design = poisson_critical_value(30.0, 0.05, looks=[6.0] * 5)
    assert monthly.planned_looks == 5 and continuous.planned_looks is None
    assert monthly.critical_value == design.critical_value
    assert continuous.critical_value == poisson_critical_value(30.0, 0.05).critical_value
    # fewer chances to cross: the group CV is lower, and its alpha under its own design stays <= 0.05
    assert monthly.critical_value < continuous.critical_value
    assert poisson_performance(monthly.critical_value, 30.0, 1.0, looks=[6.0] * 5).power <= 0.05
    # with the continuous CV the same five looks would spend less than the alpha of the plan
    assert poisson_performance(continuous.critical_value, 30.0, 1.0, looks=[6.0] * 5).power < design.alpha


def test_group_monitor_ends_when_its_planned_information_is_reached(db):
    """Alpha is re-spent at the actual looks, so the number of runs is not the plan's: the monitor
    ends at the first look whose expected count reaches T (as ``Analyze.Poisson`` does)."""
    m = _store(db, 1000, seed=3)
    m.sample_size, m.planned_looks = 1000.0, 2  # a monitor from before look_plan: two looks of T/2
    actor = Actor.system()
    service_monitoring.run_monitor(db, actor, m, date(2025, 3, 1))
    second = service_monitoring.run_monitor(db, actor, m, date(2025, 4, 1))
    assert m.status == "active"  # two runs, but far from T
    m.sample_size = second.expected * 1.05
    third = service_monitoring.run_monitor(db, actor, m, date(2025, 6, 1))
    assert third.expected >= m.sample_size and m.status == "ended"
    assert third.alpha_target == pytest.approx(
        planned_spending(m.critical_value, [m.sample_size / 2, m.sample_size], min_events=m.min_events)[-1])
    with pytest.raises(Conflict):
        service_monitoring.run_monitor(db, actor, m, date(2025, 7, 1))


def test_runs_off_the_plan_get_the_re_spent_critical_values(db):
    _store(db, 3000, seed=21)  # the registry; the monitor below follows the same stent
    m = _monitor(db, _centre(db), planned_looks=3)  # looks planned at 10, 20, 30 expected events
    assert m.look_plan == pytest.approx([10.0, 20.0, 30.0])
    looks = []
    for k in range(18):
        if m.status != "active":
            break
        as_of = date(2025, 8, 1) + timedelta(30 * k)
        looks.append(service_monitoring.run_monitor(db, Actor.system(), m, as_of))
    assert len(looks) > 3 and m.status in ("ended", "signalled")
    want = poisson_spending_looks(m.critical_value, m.look_plan, [lk.expected for lk in looks])
    assert [lk.critical_value for lk in looks] == pytest.approx([w.critical_value for w in want], rel=1e-12)
    assert [lk.events_to_signal for lk in looks] == [w.events_to_signal for w in want]
    assert [lk.alpha_spent for lk in looks] == pytest.approx([w.spent for w in want], abs=1e-12)
    assert all(lk.alpha_spent <= lk.alpha_target + 1e-12 and lk.alpha_spent <= 0.05 for lk in looks)
    assert [lk.signal for lk in looks] == [lk.observed >= lk.events_to_signal for lk in looks]
    assert any(lk.critical_value != m.critical_value for lk in looks)  # the runs were off the plan


@pytest.mark.parametrize("bad", [0, 121])
def test_planned_looks_are_bounded(db, bad):
    with pytest.raises(ValidationFailed) as e:
        _monitor(db, _centre(db), planned_looks=bad)
    assert e.value.field == "planned_looks"



# The design of the R ``Sequential`` help example of ``CV.G.Poisson`` (Silva & Kulldorff; CRAN
# Sequential 4.5.1, man/CV.G.Poisson.Rd): SampleSize = 30, alpha = 0.05, GroupSizes = c(5, 6, 6, 5, 8),
# i.e. looks at 5, 11, 17, 22 and 30 expected events. The help page prints no output, so the critical
# value is checked against its definition (the smallest CV whose exact alpha is <= 0.05, reported
# rounded up in the 5th decimal) by an enumeration independent of ``maxsprt``'s Markov chain.
HELP_LOOKS = [5.0, 11.0, 17.0, 22.0, 30.0]


def _brute_alpha(cv: float, cumulative, min_events: int = 1) -> float:
    """P(LLR >= cv with >= M events at some look | H0) by enumerating the counts at each look."""
    from math import log

    from scipy.stats import poisson

    alive, signal, before = {0: 1.0}, 0.0, 0.0
    for mu in cumulative:
        lam, before = mu - before, mu
        nxt: dict[int, float] = {}
        for c, p in alive.items():
            for k in range(int(lam + 15 * lam**0.5 + 30)):
                nxt[c + k] = nxt.get(c + k, 0.0) + p * poisson.pmf(k, lam)
        alive = {}
        for c, p in nxt.items():
            llr = (mu - c) + c * log(c / mu) if c > mu else 0.0
            if c >= min_events and llr >= cv:
                signal += p
            else:
                alive[c] = p
    return signal


def test_timed_looks_get_the_critical_value_of_their_design(db):
    actor = _centre(db)
    m = _monitor(db, actor, look_at=[x / 30 for x in HELP_LOOKS])
    assert m.planned_looks == 5 and m.look_plan == pytest.approx(HELP_LOOKS, abs=1e-12)
    design = poisson_critical_value(30.0, 0.05, looks=[5, 6, 6, 5, 8])
    assert m.critical_value == design.critical_value
    alpha = _brute_alpha(m.critical_value, HELP_LOOKS)
    assert alpha == pytest.approx(design.alpha, abs=1e-9)
    assert alpha <= 0.05 < _brute_alpha(m.critical_value - 1.5e-5, HELP_LOOKS)
    # equal looks at the same T give a different design, and a different critical value
    assert _monitor(db, actor, planned_looks=5).critical_value != m.critical_value


def test_group_design_with_minimum_events_is_checked_by_enumeration(db):
    m = _monitor(db, _centre(db), look_at=[0.1, 0.4, 1.0])
    m4 = service_monitoring.create_monitor(
        db, _centre(db), name="m4", device_group="coronary_stent", udi_di=DEVICES[3][1],
        outcome="target_lesion_failure", window_days=180, reference_start=date(2024, 1, 1),
        reference_end=date(2024, 12, 31), alpha=0.05, sample_size=30.0, min_events=4,
        look_at=[0.1, 0.4, 1.0])
    for monitor, minimum in ((m, 1), (m4, 4)):
        cum = monitor.look_plan
        assert _brute_alpha(monitor.critical_value, cum, minimum) <= 0.05
        assert _brute_alpha(monitor.critical_value - 1.5e-5, cum, minimum) > 0.05


@pytest.mark.parametrize(("kw", "field"), [
    ({"look_at": [0.5, 0.9]}, "look_at"),  # does not end at T
    ({"look_at": [0.5, 0.5, 1.0]}, "look_at"),  # not increasing
    ({"look_at": [0.0, 1.0]}, "look_at"),
    ({"look_at": [0.5, 1.0], "planned_looks": 2}, "look_at"),  # both
])
def test_bad_look_timings_name_the_field(db, kw, field):
    with pytest.raises(ValidationFailed) as e:
        _monitor(db, _centre(db), **kw)
    assert e.value.field == field


def test_a_continuous_monitor_keeps_its_flat_critical_value(db):
    m = _store(db, 1000, seed=3)
    look = service_monitoring.run_monitor(db, Actor.system(), m, date(2025, 3, 1))
    assert look.critical_value == m.critical_value
    assert (look.events_to_signal, look.alpha_target, look.alpha_spent) == (None, None, None)


def test_a_group_design_beyond_the_re_spending_limit_is_refused(db):
    with pytest.raises(ValidationFailed) as e:
        service_monitoring.create_monitor(
            db, _centre(db), name="m", device_group="coronary_stent", udi_di=DEVICES[3][1],
            outcome="target_lesion_failure", window_days=180, reference_start=date(2024, 1, 1),
            reference_end=date(2024, 12, 31), sample_size=100_001.0, planned_looks=2)
    assert e.value.field == "sample_size" and e.value.params == {"limit": "100,000"}
