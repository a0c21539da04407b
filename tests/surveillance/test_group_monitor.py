"""Monitors with periodic looks use the group-sequential critical value of their design."""

from __future__ import annotations

from datetime import date

import pytest

from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, ValidationFailed
from medreg.surveillance import service_monitoring
from medreg.surveillance.demo import DEVICES
from medreg.surveillance.maxsprt import poisson_critical_value, poisson_performance
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


def test_group_monitor_ends_at_its_last_planned_look(db):
    m = _store(db, 1000, seed=3)
    m.planned_looks = 2
    actor = Actor.system()
    service_monitoring.run_monitor(db, actor, m, date(2025, 3, 1))
    assert m.status == "active"
    service_monitoring.run_monitor(db, actor, m, date(2025, 4, 1))
    assert m.status == "ended"
    with pytest.raises(Conflict):
        service_monitoring.run_monitor(db, actor, m, date(2025, 5, 1))


@pytest.mark.parametrize("bad", [0, 121])
def test_planned_looks_are_bounded(db, bad):
    with pytest.raises(ValidationFailed) as e:
        _monitor(db, _centre(db), planned_looks=bad)
    assert e.value.field == "planned_looks"

