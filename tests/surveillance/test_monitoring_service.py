"""Monitoring runs on the made-up demo registry: the planted device is caught, the others are not;
each run appends one look; the alert case follows its signal case with an audit trail."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from sqlalchemy import select

from medreg.core import audit
from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, PermissionDenied
from medreg.surveillance import queries, service_alerts, service_monitoring
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
    """The alert follows its signal case (the signals bridge is loaded: tests/surveillance/conftest.py
    imports the web app); its own transitions are refused, working the case moves it, all audited."""
    from medreg.signals import service as signals_service

    centre = actor_for(make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE)))
    alert = db.scalars(select(AlertCase)).one()
    assert alert.status == "open" and "LLR" in alert.summary and alert.signal_case_id is not None
    with pytest.raises(Conflict):
        service_alerts.transition_alert(db, centre, alert.id, "investigate",
                                            expected_version=alert.version)
    case_id = alert.signal_case_id
    case = signals_service.act(db, centre, case_id, "validate")
    case = signals_service.act(db, centre, case_id, "assess", reason="Excess TLF confirmed on chart review")
    db.flush()
    db.refresh(alert)
    assert (alert.status, alert.resolution) == ("assessed", "Excess TLF confirmed on chart review")
    actions = [e.action for e in audit.history(db, "surveillance_alert", alert.id)]
    assert actions == [
        "surveillance.alert.open",
        "surveillance.alert.follow",
        "surveillance.alert.follow",
        "surveillance.alert.follow",
    ]
    assert case.status == "assessed"
    registrant = actor_for(make_user(db, Role.REGISTRANT, org=make_org(db, OrgKind.REGISTRANT)))
    assert queries.list_alerts(db, registrant) == []  # not its device
