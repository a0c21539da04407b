"""Monitoring runs on the made-up demo registry: the planted device is caught, the others are not;
each run appends one look; the alert case follows its workflow with an audit trail."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from sqlalchemy import select

from medreg.core import audit
from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from medreg.surveillance import queries, service_monitoring
from medreg.surveillance.demo import PLANTED_DI
from medreg.surveillance.demo_load import load_demo
from medreg.surveillance.maxsprt import poisson_llr
from medreg.surveillance.models import AlertCase, Look, Monitor
from tests.factories import actor_for, make_org, make_user


@pytest.mark.slow
def test_demo_registry_monitoring_end_to_end(db):
    """One load of the demo (about 15 s): detection, appending looks, the alert workflow."""
    demo = load_demo(db, Actor.system(), seed=2025, n_procedures=6000)
    _planted_is_caught(db, demo)
    _runs_append_one_look_and_refuse_going_back(db)
    _alert_workflow_is_audited_and_guarded(db)


def _planted_is_caught(db, demo):
    monitors = {m.udi_di: m for m in db.scalars(select(Monitor)).all()}
    assert monitors[PLANTED_DI].status == "signalled"
    assert all(m.status == "active" for di, m in monitors.items() if di != PLANTED_DI)
    looks = db.scalars(
        select(Look).where(Look.monitor_id == monitors[PLANTED_DI].id).order_by(Look.look_no)
    ).all()
    assert [lk.signal for lk in looks].count(True) == 1 and looks[-1].signal
    last = looks[-1]
    assert last.llr == pytest.approx(float(poisson_llr(last.observed, last.expected)))
    assert last.observed > 2 * last.expected  # planted odds ratio 2.5
    assert np.all(np.diff([lk.expected for lk in looks]) >= 0)
    assert "planted" in demo


def _runs_append_one_look_and_refuse_going_back(db):
    monitor = db.scalars(select(Monitor).where(Monitor.status == "active")).first()
    n = service_monitoring.looks_count(db, monitor.id)
    centre = actor_for(make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE)))
    service_monitoring.run_monitors(db, centre, date(2026, 7, 15))
    assert service_monitoring.looks_count(db, monitor.id) == n + 1
    with pytest.raises(Conflict):
        service_monitoring.run_monitor(db, centre, monitor, date(2026, 7, 1))
    hospital = actor_for(make_user(db, Role.HOSPITAL, org=make_org(db, OrgKind.HOSPITAL)))
    with pytest.raises(PermissionDenied):
        service_monitoring.run_monitors(db, hospital, date(2026, 8, 1))


def _alert_workflow_is_audited_and_guarded(db):
    centre = actor_for(make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE)))
    alert = db.scalars(select(AlertCase)).one()
    assert alert.status == "open" and "LLR" in alert.summary
    with pytest.raises(InvalidTransition):
        service_monitoring.transition_alert(db, centre, alert.id, "close", expected_version=alert.version)
    with pytest.raises(Conflict):
        service_monitoring.transition_alert(db, centre, alert.id, "investigate", expected_version=99)
    alert = service_monitoring.transition_alert(
        db, centre, alert.id, "investigate", expected_version=alert.version
    )
    with pytest.raises(ValidationFailed):
        service_monitoring.transition_alert(db, centre, alert.id, "dismiss", expected_version=alert.version)
    alert = service_monitoring.transition_alert(
        db,
        centre,
        alert.id,
        "confirm",
        expected_version=alert.version,
        note="Excess TLF confirmed on chart review",
    )
    assert alert.status == "confirmed"
    actions = [e.action for e in audit.history(db, "surveillance_alert", alert.id)]
    assert actions == [
        "surveillance.alert.open",
        "surveillance.alert.investigate",
        "surveillance.alert.confirm",
    ]
    registrant = actor_for(make_user(db, Role.REGISTRANT, org=make_org(db, OrgKind.REGISTRANT)))
    assert queries.list_alerts(db, registrant) == []  # not its device
