"""Defining a monitor over the API: continuous or group-sequential (number or timing of looks), the
critical value of the design, 4xx naming the field on a bad design, only the monitoring centre."""

from __future__ import annotations

import pytest

from medreg.core.accounts import OrgKind, Role
from medreg.surveillance.demo import DEVICES
from medreg.surveillance.maxsprt import poisson_critical_value
from tests.factories import make_org, make_user
from tests.web.conftest import login
from tests.web.test_registration_support import bearer

BODY = {"name": "Stent D TLF", "device_group": "coronary_stent", "udi_di": DEVICES[3][1],
        "outcome": "target_lesion_failure", "window_days": 180, "reference_start": "2024-01-01",
        "reference_end": "2024-12-31", "alpha": 0.05, "sample_size": 30, "min_events": 1}


def test_centre_defines_continuous_and_group_sequential_monitors(client, db):
    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    registrant = make_user(db, Role.REGISTRANT, org=make_org(db, OrgKind.REGISTRANT))
    db.commit()
    h = bearer(client, centre.username)
    r = client.post("/api/surveillance/monitors", json=BODY, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["look_plan"] is None
    assert r.json()["critical_value"] == poisson_critical_value(30, 0.05).critical_value
    r = client.post("/api/surveillance/monitors", json={**BODY, "look_at": [0.25, 0.5, 1]}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["look_plan"] == [7.5, 15.0, 30.0] and r.json()["planned_looks"] == 3
    assert r.json()["critical_value"] == poisson_critical_value(30, 0.05, looks=[7.5, 7.5, 15]).critical_value
    grouped = r.json()["id"]
    login(client, centre.username)
    page = client.get(f"/surveillance/monitors/{grouped}")
    assert '<span id="look-plan">7.5, 15.0, 30.0</span>' in page.text
    r = client.post("/api/surveillance/monitors", json={**BODY, "look_at": [0.25, 0.5]}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "look_at"
    r = client.post("/api/surveillance/monitors", json={**BODY, "registrant_org_id": centre.organisation_id},
                    headers=h)
    assert r.status_code == 422 and r.json()["field"] == "registrant_org_id"
    r = client.post("/api/surveillance/monitors", json=BODY, headers=bearer(client, registrant.username))
    assert r.status_code == 403


def test_centre_sets_the_cusum_design_per_monitor(client, db):
    """R_A, R_0 and the false-alarm probability of the CUSUM are the monitor's (defaults 2, 1, 0.05),
    audited, shown on its page and its JSON twin; a bad value is a 422 naming the field."""
    from sqlalchemy import select

    from medreg.core.audit import AuditEvent

    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    db.commit()
    h = bearer(client, centre.username)
    r = client.post("/api/surveillance/monitors", json=BODY, headers=h)
    assert r.status_code == 201, r.text
    assert (r.json()["cusum_odds_ratio"], r.json()["cusum_null_odds_ratio"], r.json()["cusum_false_alarm"]) \
        == (2.0, 1.0, 0.05)
    body = {**BODY, "cusum_odds_ratio": 1.5, "cusum_null_odds_ratio": 1.0, "cusum_false_alarm": 0.01}
    r = client.post("/api/surveillance/monitors", json=body, headers=h)
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    twin = client.get(f"/api/surveillance/monitors/{mid}/looks", headers=h).json()["monitor"]
    assert (twin["cusum_odds_ratio"], twin["cusum_false_alarm"]) == (1.5, 0.01)
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "surveillance.monitor.create")
                       .order_by(AuditEvent.id.desc())).first()
    assert event.after["cusum_odds_ratio"] == 1.5 and event.after["cusum_false_alarm"] == 0.01
    login(client, centre.username)
    page = client.get(f"/surveillance/monitors/{mid}").text
    assert 'data-odds-ratio="1.5"' in page and 'data-false-alarm="0.01"' in page
    for bad, field in (({"cusum_odds_ratio": 1.0}, "cusum_odds_ratio"),  # equal to R_0
                       ({"cusum_odds_ratio": 0}, "cusum_odds_ratio"),
                       ({"cusum_null_odds_ratio": 1000}, "cusum_null_odds_ratio"),
                       ({"cusum_false_alarm": 0.7}, "cusum_false_alarm"),
                       ({"cusum_false_alarm": "x"}, "cusum_false_alarm")):
        r = client.post("/api/surveillance/monitors", json={**BODY, **bad}, headers=h)
        assert r.status_code == 422 and r.json()["field"] == field, (bad, r.text)


def test_delta_monitor_over_the_api_and_stopping(client, db):
    """``kind: delta`` with its design (defaults margin 0, 20 pairs, caliper 0.2), its alert rule in the
    JSON twin; bad values 422 naming the field; stopping: the centre only, with a reason, audited,
    then no further look; registrants see their own devices' monitors only."""
    from sqlalchemy import select

    from medreg.core.audit import AuditEvent

    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    owner = make_user(db, Role.REGISTRANT, org=make_org(db, OrgKind.REGISTRANT))
    other = make_user(db, Role.REGISTRANT, org=make_org(db, OrgKind.REGISTRANT))
    db.commit()
    h = bearer(client, centre.username)
    body = {**BODY, "kind": "delta", "alpha": 0.01, "registrant_org_id": owner.organisation_id}
    r = client.post("/api/surveillance/monitors", json=body, headers=h)
    assert r.status_code == 201, r.text
    m = r.json()
    assert (m["kind"], m["delta_margin"], m["delta_min_pairs"], m["delta_caliper"]) == ("delta", 0.0, 20, 0.2)
    assert m["critical_value"] == pytest.approx(2.5758293035489)  # z_0.995 (two-sided 99 % per look)
    for bad, field in (({"delta_margin": 0.7}, "delta_margin"), ({"delta_min_pairs": 1}, "delta_min_pairs"),
                       ({"delta_caliper": 0}, "delta_caliper"), ({"kind": "cusum"}, "kind"),
                       ({"planned_looks": 3}, "planned_looks")):
        r = client.post("/api/surveillance/monitors", json={**body, **bad}, headers=h)
        assert r.status_code == 422 and r.json()["field"] == field, (bad, r.text)
    twin = client.get(f"/api/surveillance/monitors/{m['id']}/looks", headers=bearer(client, owner.username))
    assert twin.status_code == 200 and "99%" in twin.json()["alert_rule"]
    r = client.get(f"/api/surveillance/monitors/{m['id']}/looks", headers=bearer(client, other.username))
    assert r.status_code == 404
    assert client.get("/api/surveillance/monitors", headers=bearer(client, other.username)).json() == []
    stop = f"/api/surveillance/monitors/{m['id']}/stop"
    assert client.post(stop, json={"reason": "x"}, headers=bearer(client, owner.username)).status_code == 403
    r = client.post(stop, json={"reason": ""}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = client.post(stop, json={"reason": "Device recalled"}, headers=h)
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["stop_reason"]) == ("stopped", "Device recalled")
    assert client.post(stop, json={"reason": "again"}, headers=h).status_code == 409
    r = client.post("/api/surveillance/monitors/999999/stop", json={"reason": "x"}, headers=h)
    assert r.status_code == 404
    r = client.post("/api/surveillance/run", json={"as_of": "2026-01-01"}, headers=h)
    assert r.status_code == 200 and r.json() == []  # a stopped monitor takes no look
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "surveillance.monitor.stop")).all()
    assert len(events) == 1 and events[0].after["stop_reason"] == "Device recalled"


def test_delta_spending_design_over_the_api(client, db):
    """``delta_spending`` with ``delta_planned_pairs``: alpha is overall and one-sided (the monitor's
    critical value is z_{1-alpha}); an inconsistent design is 422 naming the field."""
    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    db.commit()
    h = bearer(client, centre.username)
    body = {**BODY, "kind": "delta", "alpha": 0.025, "delta_spending": "hsd", "delta_hsd_gamma": -2,
            "delta_planned_pairs": 300}
    for bad, field in (({"delta_planned_pairs": None}, "delta_planned_pairs"),
                       ({"delta_spending": "linear"}, "delta_spending"),
                       ({"delta_hsd_gamma": 41}, "delta_hsd_gamma"),
                       ({"delta_planned_pairs": 1}, "delta_planned_pairs"),
                       ({"alpha": 0.5}, "alpha")):
        r = client.post("/api/surveillance/monitors", json={**body, **bad}, headers=h)
        assert r.status_code == 422 and r.json()["field"] == field, (bad, r.text)
    r = client.post("/api/surveillance/monitors", json=body, headers=h)
    assert r.status_code == 201, r.text
    m = r.json()
    assert (m["delta_spending"], m["delta_hsd_gamma"], m["delta_planned_pairs"]) == ("hsd", -2.0, 300)
    assert m["critical_value"] == pytest.approx(1.959963984540054)  # z_0.975, one-sided 0.025
    twin = client.get(f"/api/surveillance/monitors/{m['id']}/looks", headers=h).json()
    assert "Hwang-Shih-DeCani (gamma -2)" in twin["alert_rule"] and "300 planned pairs" in twin["alert_rule"]
