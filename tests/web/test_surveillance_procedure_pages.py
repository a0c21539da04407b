"""Sentinel-hospital pages (TestClient): enrol a procedure one patient at a time (same checks as an
import row, the error shown at its field, nothing saved), record follow-up (an outcome, the end of
follow-up never moving back), tenancy (another hospital's procedure is not found), audit trail."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.audit import AuditEvent
from medreg.surveillance import service
from medreg.surveillance.demo import DEVICES
from medreg.surveillance.models import Outcome, Procedure
from tests.factories import make_org, make_user
from tests.web.conftest import csrf_of, login


def _hospital(db, code):
    org = make_org(db, OrgKind.HOSPITAL)
    user = make_user(db, Role.HOSPITAL, org=org)
    service.enrol_hospital(
        db,
        Actor.system(),
        organisation_id=org.id,
        code=code,
        device_groups=["coronary_stent"],
        enrolled_on=date(2024, 1, 1),
    )
    db.commit()
    return user


FORM = {
    "patient_pseudonym": "PAT-0001",
    "procedure_date": "2025-03-04",
    "device_group": "coronary_stent",
    "udi": f"(01){DEVICES[1][1]}(10)LOT7",
    "age": "67",
    "sex": "M",
    "diabetes": "1",
    "renal_failure": "0",
    "prior_mi": "0",
    "ejection_fraction": "",
    "follow_up_end": "2025-06-01",
    "death_date": "",
    "target_lesion_failure_date": "",
}


def test_hospital_enrols_and_follows_up_a_procedure(client, db):
    user = _hospital(db, "SITE-A")
    login(client, user.username)
    assert client.get("/surveillance/procedures/new").status_code == 200
    bad = client.post(
        "/surveillance/procedures/new",
        data={**FORM, "patient_pseudonym": "110101199003071234", "csrf_token": csrf_of(client)},
    )
    assert bad.status_code == 422 and 'data-field="patient_pseudonym"' in bad.text
    assert db.scalar(select(Procedure).where(Procedure.patient_pseudonym == "PAT-0001")) is None
    r = client.post(
        "/surveillance/procedures/new", data={**FORM, "csrf_token": csrf_of(client)}, follow_redirects=False
    )
    assert r.status_code == 303
    proc = db.scalars(select(Procedure).where(Procedure.patient_pseudonym == "PAT-0001")).one()
    assert (proc.udi_di, proc.udi_lot, proc.ejection_fraction) == (DEVICES[1][1], "LOT7", None)
    assert r.headers["location"] == f"/surveillance/procedures/{proc.id}?done=enrol"
    again = client.post("/surveillance/procedures/new", data={**FORM, "csrf_token": csrf_of(client)})
    assert again.status_code == 422  # already in the registry
    page = client.get(f"/surveillance/procedures/{proc.id}")
    assert 'id="no-outcomes"' in page.text and "PAT-0001" in page.text
    url = f"/surveillance/procedures/{proc.id}/follow-up"
    early = client.post(
        url, data={"outcome": "stent_thrombosis", "event_date": "2025-03-01", "csrf_token": csrf_of(client)}
    )
    assert early.status_code == 422 and 'data-field="event_date"' in early.text
    ok = client.post(
        url,
        data={"outcome": "stent_thrombosis", "event_date": "2025-07-15", "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    db.refresh(proc)
    assert proc.follow_up_end == date(2025, 7, 15)  # followed at least to the event
    assert db.scalars(select(Outcome.kind).where(Outcome.procedure_id == proc.id)).all() == [
        "stent_thrombosis"
    ]
    back = client.post(url, data={"follow_up_end": "2025-07-01", "csrf_token": csrf_of(client)})
    assert back.status_code == 422 and 'data-field="follow_up_end"' in back.text
    dup = client.post(
        url, data={"outcome": "stent_thrombosis", "event_date": "2025-08-01", "csrf_token": csrf_of(client)}
    )
    assert dup.status_code == 409
    page = client.get(f"/surveillance/procedures/{proc.id}", headers={"Accept-Language": "zh-CN"})
    assert "支架内血栓" in page.text and 'data-kind="stent_thrombosis"' in page.text
    assert f'data-procedure="{proc.id}"' in client.get("/surveillance/procedures").text
    events = db.scalars(
        select(AuditEvent.action).where(
            AuditEvent.entity_type == "surveillance_procedure", AuditEvent.entity_id == str(proc.id)
        ).order_by(AuditEvent.id)
    ).all()
    assert events == ["surveillance.procedure.enrol", "surveillance.procedure.follow_up"]


def test_another_hospital_cannot_see_or_follow_up(client, db):
    owner = _hospital(db, "SITE-B")
    other = _hospital(db, "SITE-C")
    login(client, owner.username)
    client.post("/surveillance/procedures/new", data={**FORM, "csrf_token": csrf_of(client)})
    proc = db.scalars(select(Procedure).where(Procedure.patient_pseudonym == "PAT-0001")).one()
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    login(client, other.username)
    assert client.get(f"/surveillance/procedures/{proc.id}").status_code == 404
    r = client.post(
        f"/surveillance/procedures/{proc.id}/follow-up",
        data={"follow_up_end": "2025-08-01", "csrf_token": csrf_of(client)},
    )
    assert r.status_code == 404
    assert client.get("/surveillance/procedures/99999999999999999999999999999999999999999").status_code == 422
