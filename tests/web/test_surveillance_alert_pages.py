"""The fallback workflow of an alert WITHOUT a signal case (opened while the signal workflow was not
loaded), on the alert's own page (TestClient): investigate, dismiss needs reasons (the error is shown on
the page and nothing changes), confirm, close; a stale version is refused; a registrant sees its alert
without any action; everything lands in the audit trail. Alerts that follow a signal case:
tests/signals/test_alert_follows_case.py."""

from __future__ import annotations

from sqlalchemy import select

from medreg.core.accounts import OrgKind, Role
from medreg.core.audit import AuditEvent
from medreg.surveillance.models import AlertCase, Look
from tests.factories import make_org, make_user
from tests.web.conftest import csrf_of, login
from tests.web.test_surveillance_pages import _monitor


def _alert(db, registrant_org_id=None) -> AlertCase:
    m = _monitor(db, registrant_org_id=registrant_org_id)
    look = db.scalars(select(Look).where(Look.monitor_id == m.id, Look.signal)).one()
    a = AlertCase(monitor_id=m.id, look_id=look.id, status="open", summary="Stent: 9 death vs 2.6 expected")
    db.add(a)
    db.commit()
    return a


def _post(client, alert, action, **data):
    return client.post(
        f"/surveillance/alerts/{alert.id}/{action}",
        follow_redirects=False,
        data={"csrf_token": csrf_of(client), "expected_version": str(alert.version), **data},
    )


def test_centre_walks_an_alert_through_its_fallback_workflow_on_its_page(client, db):
    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    alert = _alert(db)
    login(client, centre.username)
    listing = client.get("/surveillance/alerts")
    assert f'href="/surveillance/alerts/{alert.id}" data-testid="alert-link"' in listing.text
    page = client.get(f"/surveillance/alerts/{alert.id}")
    assert 'id="no-signal-case"' in page.text
    assert f'action="/surveillance/alerts/{alert.id}/investigate"' in page.text
    assert f'action="/surveillance/alerts/{alert.id}/raise"' in page.text
    assert f'action="/surveillance/alerts/{alert.id}/close"' not in page.text  # not allowed from open
    r = _post(client, alert, "investigate")
    assert r.status_code == 303
    assert r.headers["location"] == f"/surveillance/alerts/{alert.id}?done=investigate"
    db.refresh(alert)
    assert alert.status == "investigating"
    refused = _post(client, alert, "dismiss", note="  ")
    assert refused.status_code == 422 and 'data-field="note"' in refused.text
    db.refresh(alert)
    assert alert.status == "investigating"
    stale = client.post(
        f"/surveillance/alerts/{alert.id}/confirm",
        data={"csrf_token": csrf_of(client), "expected_version": "1"},
    )
    assert stale.status_code == 409 and 'data-testid="form-error"' in stale.text
    assert _post(client, alert, "confirm", note="Excess deaths confirmed on chart review").status_code == 303
    db.refresh(alert)
    assert alert.status == "confirmed" and alert.resolution.startswith("Excess deaths")
    assert _post(client, alert, "close").status_code == 303
    db.refresh(alert)
    assert alert.status == "closed"
    actions = db.scalars(
        select(AuditEvent.action).where(
            AuditEvent.entity_id == str(alert.id), AuditEvent.entity_type == "surveillance_alert"
        ).order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "surveillance.alert.investigate",
        "surveillance.alert.confirm",
        "surveillance.alert.close",
    ]
    finished = client.get(f"/surveillance/alerts/{alert.id}")
    assert "/raise" not in finished.text  # a finished alert is not raised


def test_registrant_sees_its_alert_but_cannot_act(client, db):
    org = make_org(db, OrgKind.REGISTRANT)
    registrant = make_user(db, Role.REGISTRANT, org=org)
    alert = _alert(db, registrant_org_id=org.id)
    login(client, registrant.username)
    page = client.get("/surveillance/alerts")
    assert f'data-alert="{alert.id}"' in page.text
    own = client.get(f"/surveillance/alerts/{alert.id}")
    assert own.status_code == 200 and "/investigate" not in own.text and "/raise" not in own.text
    r = _post(client, alert, "investigate")
    assert r.status_code == 403
    db.refresh(alert)
    assert alert.status == "open"


def test_alert_pages_in_chinese(client, db):
    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    alert = _alert(db)
    login(client, centre.username)
    page = client.get(f"/surveillance/alerts/{alert.id}", headers={"Accept-Language": "zh-CN"})
    assert "待处理" in page.text and "开始调查" in page.text
