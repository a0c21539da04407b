"""分类界定 requests as cases: submit (engine opinion stored), signed decision, publish, withdraw;
permissions, tenancy, optimistic locking, audit and signature."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from medreg.catalog import service_requests as svc
from medreg.core.audit import AuditEvent
from medreg.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from medreg.core.signatures import ElectronicSignature, verify_signature
from tests.factories import PASSWORD, make_actor

MON, FRI = date(2026, 11, 2), date(2026, 11, 6)
ROBOT = {"name": "腹腔内窥镜手术控制系统", "structure": "active", "contact": "contact",
         "effect_on_outcome": "important"}


@pytest.fixture
def people(db):
    return {"reg": make_actor(db, "registrant", "registrant"),
            "other": make_actor(db, "registrant", "registrant"),
            "rev": make_actor(db, "reviewer", "regulator_unit")}


def full(facts: dict) -> dict:
    from medreg.catalog.schemas import DeviceDescription

    return DeviceDescription(**facts).model_dump()


def test_flow_submit_decide_publish(db, people):
    req = svc.submit(db, people["reg"], full(ROBOT), MON)
    assert req.status == "submitted" and req.engine_opinion["management_class"] == "III"
    assert req.engine_opinion["decided_by"]["rule"] == "O15-6-6"
    done = svc.decide(db, people["rev"], req.id, decided_class="III", reason="令第15号 第六条（六）",
                      password=PASSWORD, expected_version=req.version, today=FRI)
    assert (done.status, done.decided_class) == ("decided", "III")
    assert svc.to_dict(done, FRI)["working_days_elapsed"] == 4  # Mon -> Fri (working days after start)
    sig = db.get(ElectronicSignature, done.signature_id)
    assert sig.meaning == "reviewed" and verify_signature(sig, {
        "request_id": req.id, "product_name": req.product_name, "decided_class": "III",
        "reason": "令第15号 第六条（六）", "engine_class": "III"})
    with pytest.raises(NotFound):  # not public before publication
        svc.get_for(db, make_actor(db, "public"), req.id)
    pub = svc.act(db, people["rev"], req.id, "publish", done.version, FRI)
    assert pub.status == "published" and pub.published_on == FRI
    assert svc.get_for(db, people["other"], req.id).id == req.id  # published: everyone sees it
    actions = db.scalars(select(AuditEvent.action).where(
        AuditEvent.entity_type == "catalog_determination_request", AuditEvent.entity_id == str(req.id))).all()
    expected = {"determination_requested", "sign", "determination_decided", "determination_publish"}
    assert expected <= set(actions)


def test_tenancy_permissions_and_transitions(db, people):
    req = svc.submit(db, people["reg"], full(ROBOT), MON)
    with pytest.raises(NotFound):
        svc.get_for(db, people["other"], req.id)  # another registrant does not even see it
    with pytest.raises(PermissionDenied):
        svc.submit(db, people["rev"], full(ROBOT), MON)
    with pytest.raises(PermissionDenied):
        svc.decide(db, people["reg"], req.id, decided_class="II", reason="x", password=PASSWORD,
                   expected_version=req.version, today=MON)
    with pytest.raises(InvalidTransition):
        svc.act(db, people["rev"], req.id, "publish", req.version, MON)  # not decided yet
    with pytest.raises(Conflict):
        svc.decide(db, people["rev"], req.id, decided_class="II", reason="x", password=PASSWORD,
                   expected_version=req.version + 1, today=MON)
    with pytest.raises(ValidationFailed) as err:
        svc.decide(db, people["rev"], req.id, decided_class="II", reason="x", password="wrong",
                   expected_version=req.version, today=MON)
    assert err.value.field == "password"
    gone = svc.act(db, people["reg"], req.id, "withdraw", req.version, MON)
    assert gone.status == "withdrawn"
    with pytest.raises(ValidationFailed):
        svc.submit(db, people["reg"], full({"sterile": True}), MON)  # no product name


def test_api_flow(client, db):
    from medreg.core import auth
    from tests.factories import actor_for, make_org, make_user

    org = make_org(db, "registrant")
    reg = make_user(db, "registrant", org=org)
    rev = make_user(db, "reviewer", org=make_org(db, "regulator_unit"))
    tokens = {u.username: auth.issue_token(db, actor_for(u), u.id, "t") for u in (reg, rev)}
    db.commit()
    h = {u: {"Authorization": f"Bearer {t}"} for u, t in tokens.items()}
    r = client.post("/api/v1/classification/requests", json=ROBOT, headers=h[reg.username])
    assert r.status_code == 201 and r.json()["engine_opinion"]["management_class"] == "III"
    rid, version = r.json()["id"], r.json()["version"]
    d = client.post(f"/api/v1/classification/requests/{rid}/decide", headers=h[rev.username],
                    json={"decided_class": "III", "reason": "Art.6(6)", "password": PASSWORD,
                          "expected_version": version})
    assert d.status_code == 200 and d.json()["status"] == "decided"
    bad = client.post(f"/api/v1/classification/requests/{rid}/decide", headers=h[rev.username],
                      json={"decided_class": "IV", "reason": "x", "password": PASSWORD,
                            "expected_version": 1})
    assert bad.status_code == 422 and bad.json()["field"] == "decided_class"
    assert client.get(f"/api/v1/classification/requests/{rid}").status_code == 404  # public, unpublished


def test_statutory_clock_20_working_days_of_order_739_art23(db, people):
    """条例（国务院令第739号）第二十三条: the class is decided within 20 working days of acceptance; medreg
    starts the clock on the filing day (not counted). November 2026 has no holiday: Mon 2 Nov + 20
    working days = Mon 30 Nov (counted by hand: 3-6, 9-13, 16-20, 23-27, 30)."""
    req = svc.submit(db, people["reg"], full(ROBOT), MON)
    clock = svc.clock_dict(db, req, FRI)
    assert (clock["limit"], clock["unit"]) == (20, "working_days")
    assert clock["legal_basis"] == "国务院令第739号 第二十三条"
    assert (clock["due_on"], clock["used"], clock["left"], clock["overdue"]) == ("2026-11-30", 4, 16, False)
    late = date(2026, 12, 1)
    assert (svc.clock_dict(db, req, late)["left"], svc.clock_dict(db, req, late)["overdue"]) == (-1, True)
    done = svc.decide(db, people["rev"], req.id, decided_class="III", reason="r", password=PASSWORD,
                      expected_version=req.version, today=date(2026, 11, 27))
    stopped = svc.view(db, done, date(2026, 12, 10))["clock"]
    assert (stopped["stopped_on"], stopped["used"], stopped["overdue"]) == ("2026-11-27", 19, False)
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "determination_requested",
                                                AuditEvent.entity_id == str(req.id))).one()
    assert event.after["due_on"] == "2026-11-30"


def test_withdrawal_stops_the_clock(db, people):
    req = svc.submit(db, people["reg"], full(ROBOT), MON)
    gone = svc.act(db, people["reg"], req.id, "withdraw", req.version, FRI)
    assert svc.clock_dict(db, gone, date(2026, 12, 31))["stopped_on"] == FRI.isoformat()
