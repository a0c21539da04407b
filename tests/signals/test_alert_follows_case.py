"""The signal case is THE workflow of a monitor's signal: the surveillance alert case follows it
(signals.service.announce -> core.events.SIGNAL_CASE_MOVED -> surveillance.service_alerts), each
mirrored state audited on the alert; the alert's own actions answer 409 while it follows a case; an
alert without a case keeps its fallback workflow or is raised to one; the alert page, its JSON twin,
the source filter of the signal list (API, CLI, page) and the monitor-raised case page; tenancy.

Built on a small made-up monitor (tests.web.test_surveillance_pages._monitor: 9 deaths against 2.6
expected at look 3, LLR 4.775 >= CV 3.2), its alert announced as the look would announce it."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from medreg.cli import app as cli_app
from medreg.core import audit, cli_support
from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.errors import Conflict
from medreg.signals import bridge, service
from medreg.signals.models import SignalCase, SignalStat
from medreg.surveillance import service_alerts, service_monitoring
from medreg.surveillance.models import AlertCase, Look, Monitor
from tests.factories import actor_for, make_org, make_user
from tests.web.conftest import app, client, csrf_of, login  # noqa: F401 (fixtures)
from tests.web.crawl_support import read_page, translated_msgids
from tests.web.test_registration_support import bearer
from tests.web.test_surveillance_pages import _monitor

API = "/api/surveillance"


def _alert(db, monitor: Monitor, *, announce: bool = True) -> AlertCase:
    look = db.scalars(select(Look).where(Look.monitor_id == monitor.id, Look.signal)).one()
    alert = AlertCase(monitor_id=monitor.id, look_id=look.id, status="open",
                      summary=f"{monitor.name}: 9 death observed vs 2.60 expected (LLR 4.775 >= CV 3.200)")
    db.add(alert)
    db.flush()
    if announce:  # what service_monitoring._append does after opening the alert
        service_monitoring._announce(db, Actor.system(), monitor, look, alert)
    db.commit()
    return alert


@pytest.fixture
def w(db):
    owner = make_org(db, OrgKind.REGISTRANT)
    monitor = _monitor(db, registrant_org_id=owner.id)
    alert = _alert(db, monitor)
    return {"monitor": monitor, "alert": alert, "case": db.get(SignalCase, alert.signal_case_id),
            "centre": make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE)),
            "owner": make_user(db, Role.REGISTRANT, org=owner),
            "stranger": make_user(db, Role.REGISTRANT, org=make_org(db, OrgKind.REGISTRANT)),
            "hospital": make_user(db, Role.HOSPITAL, org=make_org(db, OrgKind.HOSPITAL))}


def _alert_events(db, alert_id: int):
    return db.scalars(select(audit.AuditEvent).where(
        audit.AuditEvent.entity_type == "surveillance_alert", audit.AuditEvent.entity_id == str(alert_id))
        .order_by(audit.AuditEvent.id)).all()


def test_the_signal_opens_a_case_and_the_alert_follows_it(db, w):
    alert, case = w["alert"], w["case"]
    assert case is not None and case.source == bridge.SOURCE_MONITOR and case.alert_id == alert.id
    assert (alert.status, alert.signal_case_id) == ("open", case.id)
    [event] = _alert_events(db, alert.id)
    assert event.action == "surveillance.alert.follow"
    assert event.before["signal_case_id"] is None
    assert (event.after["signal_case_id"], event.after["status"], event.after["signal_action"]) == (
        case.id, "open", "stats")


def test_each_transition_of_the_case_moves_the_alert_audited(db, w):
    centre = actor_for(w["centre"])
    alert, case = w["alert"], w["case"]
    steps = [("validate", {}, "validated"), ("assess", {"reason": "Chart review: excess deaths"}, "assessed"),
             ("decide_action", {"decision": "label_change"}, "action_decided"), ("close", {}, "closed")]
    for action, extra, expected in steps:
        service.act(db, centre, case.id, action, expected_version=case.version, **extra)
        db.flush()
        db.refresh(alert)
        assert (alert.status, case.status) == (expected, expected.replace("open", "new"))
    assert alert.resolution == "Chart review: excess deaths"  # the case's reason
    events = _alert_events(db, alert.id)
    assert [e.action for e in events] == ["surveillance.alert.follow"] * 5
    assert [e.after["status"] for e in events] == [
        "open", "validated", "assessed", "action_decided", "closed"]
    assert [e.before["status"] for e in events[1:]] == ["open", "validated", "assessed", "action_decided"]
    assert [e.after["signal_action"] for e in events] == [
        "stats", "validate", "assess", "decide_action", "close"]
    assert events[3].after["decision"] == "label_change"
    assert all(e.actor_username == w["centre"].username for e in events[1:])


@pytest.mark.parametrize("before", [[], ["validate"], ["validate", "assess"]])
def test_dismissing_the_case_dismisses_the_alert_with_the_reason(db, w, before):
    centre = actor_for(w["centre"])
    alert, case = w["alert"], w["case"]
    for action in before:
        service.act(db, centre, case.id, action, expected_version=case.version)
    service.act(db, centre, case.id, "dismiss", expected_version=case.version, reason="Coding artefact")
    db.flush()
    db.refresh(alert)
    assert (alert.status, alert.resolution) == ("dismissed", "Coding artefact")
    last = _alert_events(db, alert.id)[-1]
    assert (last.after["status"], last.after["signal_action"], last.after["resolution"]) == (
        "dismissed", "dismiss", "Coding artefact")


def test_a_later_alert_joins_the_open_case_in_its_state(db, w):
    centre = actor_for(w["centre"])
    case = w["case"]
    service.act(db, centre, case.id, "validate", expected_version=case.version)
    db.commit()
    second = _monitor(db, registrant_org_id=w["monitor"].registrant_org_id)  # same UDI-DI and outcome
    alert2 = _alert(db, second)
    assert (alert2.signal_case_id, alert2.status) == (case.id, "validated")
    assert len(db.scalars(select(SignalStat).where(SignalStat.case_id == case.id)).all()) == 2
    service.act(db, centre, case.id, "assess", expected_version=db.get(SignalCase, case.id).version)
    db.flush()
    assert {db.get(AlertCase, a.id).status for a in (w["alert"], alert2)} == {"assessed"}


def test_the_alert_own_actions_answer_409_while_it_follows_a_case(db, w, client):  # noqa: F811
    alert = w["alert"]
    centre = actor_for(w["centre"])
    with pytest.raises(Conflict):
        service_alerts.transition_alert(db, centre, alert.id, "investigate",
                                            expected_version=alert.version)
    with pytest.raises(Conflict):
        service_alerts.raise_signal_case(db, centre, alert.id, expected_version=alert.version)
    headers = bearer(client, w["centre"].username)
    for action in ("investigate", "confirm", "dismiss", "close", "raise"):
        r = client.post(f"{API}/alerts/{alert.id}/{action}", json={"expected_version": alert.version,
                                                                  "note": "x"}, headers=headers)
        assert r.status_code == 409, (action, r.text)
        assert r.json()["field"] == "alert_id" and f"signal case {w['case'].id}" in r.json()["message"]
    login(client, w["centre"].username)
    page = client.post(f"/surveillance/alerts/{alert.id}/investigate", follow_redirects=False,
                       data={"csrf_token": csrf_of(client), "expected_version": str(alert.version)},
                       headers={"Accept-Language": "en"})
    assert page.status_code == 409 and 'data-testid="form-error"' in page.text
    assert "act on the signal case" in page.text
    db.refresh(alert)
    assert alert.status == "open" and [e.action for e in _alert_events(db, alert.id)] == [
        "surveillance.alert.follow"]


def test_an_alert_without_a_case_is_raised_to_one_and_then_follows_it(db, w, client):  # noqa: F811
    orphan = _alert(db, _monitor(db, registrant_org_id=w["monitor"].registrant_org_id), announce=False)
    assert orphan.signal_case_id is None
    headers = bearer(client, w["centre"].username)
    detail = client.get(f"{API}/alerts/{orphan.id}", headers=headers).json()
    assert sorted(detail["allowed_actions"]) == ["dismiss", "investigate", "raise"]
    assert detail["signal_case_href"] is None
    r = client.post(f"{API}/alerts/{orphan.id}/raise", json={"expected_version": orphan.version},
                    headers=headers)
    assert r.status_code == 200, r.text
    db.expire_all()
    orphan = db.get(AlertCase, orphan.id)
    assert orphan.signal_case_id == w["case"].id  # joined the open case of the same UDI-DI and outcome
    assert [e.action for e in _alert_events(db, orphan.id)] == ["surveillance.alert.raise",
                                                                "surveillance.alert.follow"]
    again = client.post(f"{API}/alerts/{orphan.id}/raise", json={"expected_version": orphan.version},
                        headers=headers)
    assert again.status_code == 409


def test_raising_without_the_signal_workflow_is_refused(db, w):
    orphan = _alert(db, _monitor(db), announce=False)
    from medreg.core import events

    events.unsubscribe(events.MONITOR_SIGNALLED, "signals")
    try:
        with pytest.raises(Conflict):
            service_alerts.raise_signal_case(db, actor_for(w["centre"]), orphan.id,
                                             expected_version=orphan.version)
    finally:
        events.subscribe(events.MONITOR_SIGNALLED, "signals", bridge.monitor_signalled)


def test_alert_page_and_twin_with_tenancy(db, w, client):  # noqa: F811
    alert, case = w["alert"], w["case"]
    login(client, w["centre"].username)
    page = client.get(f"/surveillance/alerts/{alert.id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert 'data-llr="4.77' in page.text and 'data-cv="3.2"' in page.text
    assert f'href="/surveillance/monitors/{w["monitor"].id}" id="monitor-link"' in page.text
    assert f'href="/signals/{case.id}#actions" id="act-on-case"' in page.text
    assert "data-critical-value" in page.text  # the boundary chart
    assert 'action="/surveillance/alerts/' not in page.text  # no own actions while following
    listing = client.get("/surveillance/alerts")
    assert f'href="/surveillance/alerts/{alert.id}" data-testid="alert-link"' in listing.text
    case_page = client.get(f"/signals/{case.id}")
    assert f'href="/surveillance/alerts/{alert.id}" id="alert-link"' in case_page.text
    assert 'id="monitor-chart"' in case_page.text and 'id="ic-svg"' not in case_page.text
    owner = bearer(client, w["owner"].username)
    twin = client.get(f"{API}/alerts/{alert.id}", headers=owner).json()
    assert twin["alert"]["signal_case_id"] == case.id and twin["signal_case_href"] == f"/signals/{case.id}"
    assert twin["look"]["llr"] == pytest.approx(4.775418, abs=1e-6) and twin["allowed_actions"] == []
    stranger = bearer(client, w["stranger"].username)
    assert client.get(f"{API}/alerts/{alert.id}", headers=stranger).status_code == 404
    assert client.get(f"{API}/alerts", headers=stranger).json() == []
    assert client.get("/api/signals/cases", headers=stranger).json() == []
    hospital = bearer(client, w["hospital"].username)
    assert client.get(f"{API}/alerts/{alert.id}", headers=hospital).status_code == 403
    assert client.get("/api/signals/cases", headers=hospital).json() == []
    assert client.get(f"{API}/alerts/0", headers=owner).status_code == 422
    assert client.post(f"{API}/alerts/{alert.id}/raise", json={"expected_version": 1},
                       headers=owner).status_code == 403


def test_source_filter_api_page_and_cli(db, w, client, monkeypatch):  # noqa: F811
    other = SignalCase(device_level="certificate", device="国械注准20253060002", event="A05", status="new",
                       criteria="EB05 > 2 and n11 >= 3")
    db.add(other)
    db.commit()
    headers = bearer(client, w["centre"].username)
    ids = lambda q: [c["id"] for c in client.get(f"/api/signals/cases{q}", headers=headers).json()]  # noqa: E731
    assert ids("?source=surveillance_monitor") == [w["case"].id]
    assert ids("?source=disproportionality") == [other.id]
    assert sorted(ids("")) == sorted([w["case"].id, other.id])
    bad = client.get("/api/signals/cases?source=rumour", headers=headers)
    assert bad.status_code == 422 and "source" in bad.text
    login(client, w["centre"].username)
    page = client.get("/signals/?source=surveillance_monitor")
    assert f'data-case="{w["case"].id}"' in page.text and f'data-case="{other.id}"' not in page.text
    assert 'data-testid="look-summary"' in page.text and "LLR 4.775" in page.text

    @contextmanager
    def scope():
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    runner = CliRunner()
    res = runner.invoke(cli_app, ["signals", "list", "--user", w["centre"].username,
                                  "--source", "surveillance_monitor"])
    assert res.exit_code == 0, res.output
    assert "surveillance_monitor" in res.output and "A05" not in res.output and "LLR 4.775" in res.output
    res = runner.invoke(cli_app, ["signals", "list", "--user", w["centre"].username, "--source", "rumour"])
    assert res.exit_code != 0
    res = runner.invoke(cli_app, ["surveillance", "alerts", "--user", w["centre"].username])
    assert f"-> signal case {w['case'].id}" in res.output


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_pages_render_in_both_languages_without_untranslated_text(db, w, client, lang):  # noqa: F811
    login(client, w["centre"].username)
    english = translated_msgids() if lang == "zh-CN" else frozenset()
    orphan = _alert(db, _monitor(db), announce=False)
    for url in (f"/surveillance/alerts/{w['alert'].id}", f"/surveillance/alerts/{orphan.id}",
                "/surveillance/alerts", f"/signals/{w['case'].id}", "/signals/?source=surveillance_monitor"):
        r = client.get(url, headers={"Accept-Language": lang})
        assert r.status_code == 200, url
        left = sorted({t for t in read_page(r.text).texts if t in english})
        assert left == [], (url, left)
    zh = client.get(f"/surveillance/alerts/{w['alert'].id}", headers={"Accept-Language": "zh-CN"}).text
    en = client.get(f"/surveillance/alerts/{w['alert'].id}", headers={"Accept-Language": "en"}).text
    assert ("Statistics of the look" in en) and ("Statistics of the look" not in zh)


def test_a_delta_alert_page_states_the_risk_difference(db, w, client):  # noqa: F811
    from datetime import date

    m = Monitor(name="DELTA stent", kind="delta", device_group="coronary_stent", udi_di="06991000000029",
                outcome="death", window_days=30, reference_start=date(2024, 1, 1),
                reference_end=date(2024, 12, 31), alpha=0.05, sample_size=0.0, min_events=0,
                critical_value=1.959964, delta_margin=0.0, delta_min_pairs=20, delta_caliper=0.2)
    db.add(m)
    db.flush()
    look = Look(monitor_id=m.id, look_no=1, as_of=date(2025, 6, 1), procedures=120, observed=14, expected=4,
                llr=0.0, critical_value=1.959964, signal=True, pairs=100, risk_device=0.14,
                risk_comparator=0.04, risk_difference=0.10, rd_lower=0.021, rd_upper=0.179, max_abs_smd=0.05)
    db.add(look)
    db.commit()
    alert = _alert(db, m)
    assert alert.signal_case_id is not None
    login(client, w["centre"].username)
    page = client.get(f"/surveillance/alerts/{alert.id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert 'data-rd="0.1" data-lower="0.021"' in page.text and 'data-testid="pairs">100<' in page.text
    assert "delta-chart" in page.text
    listing = client.get("/signals/?source=surveillance_monitor")
    assert "RD 0.1000 (0.0210 – 0.1790)" in listing.text


def test_cli_raises_an_alert_without_a_case(db, w, monkeypatch):
    orphan = _alert(db, _monitor(db, registrant_org_id=w["monitor"].registrant_org_id), announce=False)

    @contextmanager
    def scope():
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    runner = CliRunner()
    raise_as = lambda user: runner.invoke(  # noqa: E731
        cli_app, ["surveillance", "alert-raise", str(orphan.id), "--user", user.username])
    res = raise_as(w["owner"])
    assert res.exit_code != 0  # registrants do not raise
    res = raise_as(w["centre"])
    assert res.exit_code == 0, res.output
    assert f"-> signal case {w['case'].id}" in res.output
    db.refresh(orphan)
    assert orphan.signal_case_id == w["case"].id
