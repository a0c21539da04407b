"""Surveillance monitors feed the signal workflow (signals.bridge, core.events): the made-up demo's planted
device (medreg.surveillance.demo) signals at a look; that opens exactly one signal case for its UDI-DI and
outcome with the look's statistics, owned by the monitor's registrant, linked both ways on the pages;
handling the same signal again adds nothing; without a subscriber the look runs as before."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from medreg.core import audit, events
from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.signals import bridge, queries
from medreg.signals.models import SignalCase, SignalStat
from medreg.surveillance import service_monitoring
from medreg.surveillance.demo import PLANTED_DI
from medreg.surveillance.demo_load import load_registry, monthly_looks
from medreg.surveillance.models import AlertCase, Look
from tests.factories import actor_for, make_org, make_user
from tests.surveillance.conftest import app, client  # noqa: F401 (fixtures)
from tests.web.conftest import login

pytestmark = pytest.mark.slow  # loads a 3,000-procedure made-up registry


def _planted_monitor(db, actor, registrant_org_id):
    """The demo's design (demo_load.load_demo) for the planted stent, with its registrant."""
    reg = load_registry(db, actor, seed=2025, n_procedures=3000)
    monitor = service_monitoring.create_monitor(
        db, actor, name="DEMO stent D", device_group="coronary_stent", udi_di=PLANTED_DI,
        outcome="target_lesion_failure", window_days=180, reference_start=reg.start,
        reference_end=reg.reference_end, alpha=0.05, sample_size=60.0, min_events=4,
        registrant_org_id=registrant_org_id)
    for day in monthly_looks(date(2025, 2, 1), reg.cutoff):
        if monitor.status == "active":
            service_monitoring.run_monitor(db, actor, monitor, day)
    return monitor


@pytest.fixture
def world(db):
    owner_org = make_org(db, OrgKind.REGISTRANT)
    monitor = _planted_monitor(db, Actor.system(), owner_org.id)
    db.commit()
    return {"monitor": monitor, "centre": make_user(db, Role.MONITORING_CENTRE,
                                                    org=make_org(db, OrgKind.MONITORING_CENTRE)),
            "owner": make_user(db, Role.REGISTRANT, org=owner_org),
            "stranger": make_user(db, Role.REGISTRANT, org=make_org(db, OrgKind.REGISTRANT))}


def test_the_planted_monitor_signal_opens_one_signal_case(db, world):
    monitor = world["monitor"]
    assert monitor.status == "signalled"
    look = db.scalars(select(Look).where(Look.monitor_id == monitor.id, Look.signal)).one()
    alert = db.scalars(select(AlertCase).where(AlertCase.monitor_id == monitor.id)).one()
    case = db.scalars(select(SignalCase).where(SignalCase.source == bridge.SOURCE_MONITOR)).one()
    assert (case.device_level, case.device, case.event) == ("udi-di", PLANTED_DI, "target_lesion_failure")
    assert (case.monitor_id, case.alert_id, case.status) == (monitor.id, alert.id, "new")
    assert case.owner_org_id == monitor.registrant_org_id
    [stat] = case.stats
    assert stat.look_id == look.id and stat.n11 == round(look.observed)
    assert stat.expected == pytest.approx(look.expected)
    assert stat.look_stats["llr"] == pytest.approx(look.llr)
    assert stat.look_stats["critical_value"] == pytest.approx(look.critical_value)
    assert stat.look_stats["llr"] >= stat.look_stats["critical_value"]  # the look crossed
    actions = [e.action for e in db.scalars(select(audit.AuditEvent).where(
        audit.AuditEvent.entity_type == "signals_case", audit.AuditEvent.entity_id == str(case.id)))]
    assert actions == ["signals.case.open", "signals.case.stats"]


def test_handling_the_same_signal_again_adds_nothing(db, world):
    monitor = world["monitor"]
    look = db.scalars(select(Look).where(Look.monitor_id == monitor.id, Look.signal)).one()
    alert = db.scalars(select(AlertCase).where(AlertCase.monitor_id == monitor.id)).one()
    payload = {"monitor_id": monitor.id, "alert_id": alert.id, "look_id": look.id, "look_no": look.look_no,
               "as_of": look.as_of.isoformat(), "kind": monitor.kind, "monitor_name": monitor.name,
               "udi_di": monitor.udi_di, "registrant_org_id": monitor.registrant_org_id,
               "outcome": monitor.outcome, "summary": alert.summary, "stats": {"observed": look.observed}}
    events.publish(db, Actor.system(), events.MONITOR_SIGNALLED, payload)
    db.flush()
    assert db.scalar(select(func.count()).select_from(SignalCase)) == 1
    assert db.scalar(select(func.count()).select_from(SignalStat)) == 1


def test_registrant_sees_only_its_own_devices_case(db, world):
    case = db.scalars(select(SignalCase)).one()
    assert [c.id for c in queries.list_cases(db, actor_for(world["owner"]))] == [case.id]
    assert queries.list_cases(db, actor_for(world["stranger"])) == []
    assert bridge.monitor_links(db, actor_for(world["stranger"]), world["monitor"].id) == []
    [link] = bridge.monitor_links(db, actor_for(world["owner"]), world["monitor"].id)
    assert link.href == f"/signals/{case.id}"


def test_pages_link_both_ways(db, world, client):  # noqa: F811
    case = db.scalars(select(SignalCase)).one()
    login(client, world["centre"].username)
    page = client.get(f"/signals/{case.id}")
    assert page.status_code == 200
    assert f'href="/surveillance/monitors/{case.monitor_id}" id="monitor-link"' in page.text
    assert f'data-alert="{case.alert_id}"' in page.text and 'data-testid="look-row"' in page.text
    monitor_page = client.get(f"/surveillance/monitors/{case.monitor_id}")
    assert monitor_page.status_code == 200
    assert f'href="/signals/{case.id}" data-related="signal-case"' in monitor_page.text
    alerts = client.get("/surveillance/alerts")
    assert f'href="/signals/{case.id}" data-related="signal-case"' in alerts.text


def test_without_a_subscriber_the_look_runs_and_opens_no_case(db):
    events.unsubscribe(events.MONITOR_SIGNALLED, "signals")
    try:
        monitor = _planted_monitor(db, Actor.system(), None)
    finally:
        events.subscribe(events.MONITOR_SIGNALLED, "signals", bridge.monitor_signalled)
    assert monitor.status == "signalled"
    assert db.scalars(select(AlertCase).where(AlertCase.monitor_id == monitor.id)).one()
    assert db.scalar(select(func.count()).select_from(SignalCase)) == 0


def test_the_api_case_says_where_it_came_from(db, world, client):  # noqa: F811
    case = db.scalars(select(SignalCase)).one()
    login(client, world["owner"].username)
    body = client.get(f"/api/signals/cases/{case.id}").json()
    assert (body["source"], body["monitor_id"], body["alert_id"]) == (
        "surveillance_monitor", case.monitor_id, case.alert_id)
    assert body["stats"][0]["look_stats"]["llr"] == pytest.approx(case.stats[0].look_stats["llr"])
