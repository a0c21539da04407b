"""JSON API of registration: the innovative path to a certificate, conditional approval with an
obligation, a consultation, tenancy, stale versions, and bad input on every endpoint (4xx + field)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from medreg.core import files
from medreg.core.audit import AuditEvent
from medreg.core.clock import today_shanghai
from medreg.premarket.registration.models import RegistrationApplication
from tests.factories import PASSWORD
from tests.web.test_registration_support import bearer, initial_body, world

API = "/api/registration"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def w(db):
    return world(db)


@pytest.fixture
def reg(client, w):
    return bearer(client, w.registrant.username)


@pytest.fixture
def cmde(client, w):
    return bearer(client, w.cmde.username)


def _act(client, headers, app_id, action, version, **body):
    response = client.post(f"{API}/applications/{app_id}/{action}", headers=headers,
                           json={"expected_version": version, **body})
    assert response.status_code == 200, (action, response.text)
    return response.json()


def _to_review_completed(client, reg, cmde, **over):
    created = client.post(f"{API}/applications", headers=reg, json=initial_body(**over))
    assert created.status_code == 201, created.text
    app = created.json()
    app = _act(client, reg, app["id"], "submit", app["version"])
    app = _act(client, cmde, app["id"], "accept", app["version"])
    app = _act(client, cmde, app["id"], "start_review", app["version"])
    return _act(client, cmde, app["id"], "complete_review", app["version"],
                summary="Safe and effective; technical requirements agreed.")


def test_innovative_initial_registration_through_to_certificate(client, w, reg, cmde):
    app = _to_review_completed(client, reg, cmde, innovation_application_id=w.innovation_id)
    assert (app["status"], app["innovative"], app["priority"]) == ("review_completed", True, True)
    detail = client.get(f"{API}/applications/{app['id']}", headers=cmde).json()
    assert {"approve", "approve_conditionally", "refuse"} <= set(detail["allowed_actions"])
    assert [c["name"] for c in detail["clocks"] if c["stopped_on"] is None] == ["registration.decision"]
    assert client.get(f"{API}/applications/{app['id']}", headers=reg).json()["allowed_actions"] == [
        "withdraw"]

    wrong = client.post(f"{API}/applications/{app['id']}/approve", headers=cmde,
                        json={"expected_version": app["version"], "password": "not it"})
    assert wrong.status_code == 422 and wrong.json()["field"] == "password"
    app = _act(client, cmde, app["id"], "approve", app["version"], password=PASSWORD)
    assert (app["status"], app["decision"]) == ("approved", "approved")
    cert = client.post(f"{API}/applications/{app['id']}/issue_certificate", headers=cmde,
                       json={"expected_version": app["version"]})
    assert cert.status_code == 200, cert.text
    number = cert.json()["number"]
    assert number.startswith("国械注准") and cert.json()["innovative"] is True

    events = client.get(f"{API}/applications/{app['id']}/timeline", headers=reg).json()
    assert [e["action"] for e in events] == ["create", "submit", "accept", "start_review",
                                            "complete_review", "sign", "approve", "issue_certificate"]
    assert events[0]["at"].endswith("+08:00")  # Asia/Shanghai

    # Public: no login, searchable by number, product and registrant; looked up by number.
    client.cookies.clear()
    for q in (number, "Maglev", "Beijing Heart"):
        found = client.get(f"{API}/certificates", params={"q": q})
        assert found.status_code == 200 and [c["number"] for c in found.json()] == [number], q
    assert found.json()[0]["registrant_name"] == "Beijing Heart Co"
    assert client.get(f"{API}/certificates", params={"q": "no such thing"}).json() == []
    assert client.get(f"{API}/certificates/by-number/{number}").json()["id"] == cert.json()["id"]
    assert client.get(f"{API}/applications/{app['id']}").status_code == 401  # applications are private


def test_conditional_approval_creates_an_obligation_flagged_late_when_overdue(client, w, reg, cmde, db):
    app = _to_review_completed(client, reg, cmde)
    today = today_shanghai()
    due = (today + timedelta(days=400)).isoformat()
    bad = client.post(f"{API}/applications/{app['id']}/approve_conditionally", headers=cmde, json={
        "expected_version": app["version"], "password": PASSWORD, "ground": "rare_disease",
        "conditions": []})
    assert bad.status_code == 422 and bad.json()["field"] == "conditions"
    app = _act(client, cmde, app["id"], "approve_conditionally", app["version"], password=PASSWORD,
               ground="life_threatening", reasons="No alternative treatment.",
               conditions=[{"description": "Two-year follow-up of 300 patients", "due_on": due}])
    assert (app["decision"], app["conditional_ground"]) == ("conditionally_approved", "life_threatening")
    cert = client.post(f"{API}/applications/{app['id']}/issue_certificate", headers=cmde,
                       json={"expected_version": app["version"]}).json()
    assert cert["conditional"] is True
    obs = client.get(f"{API}/certificates/{cert['id']}/obligations").json()
    assert [(o["description"], o["due_on"], o["status"], o["late"]) for o in obs] == [
        ("Two-year follow-up of 300 patients", due, "open", False)]
    mine = client.get(f"{API}/obligations", headers=reg).json()
    assert [o["certificate_number"] for o in mine] == [cert["number"]]
    assert client.get(f"{API}/obligations", headers=bearer(client, w.other.username)).json() == []

    # Past its deadline (moved back in the database, as time would): flagged late, listed as late.
    ob = obs[0]
    from medreg.premarket.registration.models import PostApprovalObligation
    row = db.get(PostApprovalObligation, ob["id"])
    row.due_on = today - timedelta(days=1)
    db.commit()
    late = client.get(f"{API}/obligations", params={"late": "true"}, headers=cmde).json()
    assert [(o["id"], o["late"]) for o in late] == [(ob["id"], True)]

    evidence = files.store(db, w.registrant, filename="follow-up.pdf", data=PDF)
    db.commit()
    done = client.post(f"{API}/obligations/{ob['id']}/fulfil", headers=reg,
                       json={"expected_version": row.version, "evidence_file_id": evidence.id})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["late"]) == ("fulfilled", True)  # done late


def test_consultation_asked_and_answered_with_its_clock(client, w, reg, cmde):
    asked = client.post(f"{API}/consultations", headers=reg, json={
        "innovation_application_id": w.innovation_id, "topic": "clinical_trial_protocol",
        "question": "Is a single-arm trial acceptable?"})
    assert asked.status_code == 201, asked.text
    c = asked.json()
    detail = client.get(f"{API}/consultations/{c['id']}", headers=cmde).json()
    assert detail["clock"]["name"] == "registration.consultation_answer"
    assert detail["clock"]["left"] == 20 and "not statutory" in detail["clock"]["legal_basis"]
    refused = client.post(f"{API}/consultations/{c['id']}/answer", headers=reg,
                          json={"expected_version": c["version"], "answer": "Yes."})
    assert refused.status_code == 403
    answered = client.post(f"{API}/consultations/{c['id']}/answer", headers=cmde,
                           json={"expected_version": c["version"], "answer": "Yes, with a performance goal."})
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    assert [x["id"] for x in client.get(f"{API}/consultations", headers=reg).json()] == [c["id"]]
    other = bearer(client, w.other.username)
    assert client.get(f"{API}/consultations", headers=other).json() == []
    assert client.get(f"{API}/consultations/{c['id']}", headers=other).status_code == 404


def test_tenancy_stale_version_and_queue(client, w, reg, cmde, db):
    created = client.post(f"{API}/applications", headers=reg, json=initial_body()).json()
    other = bearer(client, w.other.username)
    assert client.get(f"{API}/applications/{created['id']}", headers=other).status_code == 404
    assert client.get(f"{API}/applications/{created['id']}", headers=cmde).status_code == 404  # draft
    assert client.get(f"{API}/applications", headers=other).json() == []
    submitted = _act(client, reg, created["id"], "submit", created["version"])
    stale = client.post(f"{API}/applications/{created['id']}/withdraw", headers=reg,
                        json={"expected_version": created["version"], "reason": "Changed our mind."})
    assert stale.status_code == 409 and stale.json()["field"] == "expected_version"
    assert db.get(RegistrationApplication, created["id"]).status == "submitted"
    queue = client.get(f"{API}/queue", headers=cmde).json()
    assert [(i["application"]["id"], i["clock"]["name"]) for i in queue] == [
        (created["id"], "registration.acceptance")]
    assert client.get(f"{API}/queue", headers=reg).json() == []
    forbidden = client.post(f"{API}/applications/{created['id']}/accept", headers=reg,
                            json={"expected_version": submitted["version"]})
    assert forbidden.status_code == 403 and forbidden.json()["field"] == "action"


BAD_INPUT = [
    ("get", "/applications?limit=0", None, "limit"),
    ("get", "/applications?status=DROP%20TABLE", None, "status"),
    ("get", "/applications?q=%00", None, "q"),
    ("post", "/applications", {"kind": "initial", "device_class": "I", "product_name": "x",
                               "subcatalogue_code": "12"}, "device_class"),
    ("post", "/applications", {"kind": "initial", "subcatalogue_code": "99"}, "subcatalogue_code"),
    ("post", "/applications", {"kind": "initial", "innovation_application_id": 10**12},
     "innovation_application_id"),
    ("post", "/applications", {"kind": "initial", "product_name": "x", "device_class": "III"},
     "subcatalogue_code"),
    ("post", "/applications", {"kind": "nonsense"}, "kind"),
    ("post", "/applications", {"kind": "initial", "surprise": 1}, "surprise"),
    ("post", "/applications", {"kind": "initial", "product_name": "a\x00b"}, "body"),
    ("get", "/applications/abc", None, "app_id"),
    ("get", "/applications/99999999999", None, "app_id"),
    ("get", "/applications/0/timeline", None, "app_id"),
    ("post", "/applications/{id}/update", {"product_name": "x"}, "expected_version"),
    ("post", "/applications/{id}/update", {"expected_version": 1, "device_class": "IV"}, "device_class"),
    ("post", "/applications/{id}/submit", {}, "expected_version"),
    ("post", "/applications/{id}/submit", {"expected_version": "one"}, "expected_version"),
    ("post", "/applications/{id}/withdraw", {"expected_version": 1, "reason": ""}, "reason"),
    ("post", "/applications/{id}/request_corrections", {"expected_version": 1}, "notes"),
    ("post", "/applications/{id}/approve", {"expected_version": 1}, "password"),
    ("post", "/applications/{id}/refuse", {"expected_version": 1, "password": "x"}, "reasons"),
    ("post", "/applications/{id}/approve_conditionally", {"expected_version": 1, "password": "x",
                                                          "ground": "boredom", "conditions": []}, "ground"),
    ("post", "/applications/{id}/issue_certificate", {"expected_version": 0}, "expected_version"),
    ("post", "/applications/999999/submit", {"expected_version": 1}, "app_id"),
    ("get", "/queue?x=1", None, None),
    ("get", "/certificates?limit=9999", None, "limit"),
    ("get", "/certificates?registrant_org_id=-1", None, "registrant_org_id"),
    ("get", "/certificates/by-number/ABC123", None, "number"),
    ("get", "/certificates/by-number/国械注准20253120001", None, "number"),
    ("get", "/certificates/0", None, "certificate_id"),
    ("get", "/certificates/424242", None, "certificate_id"),
    ("get", "/certificates/424242/obligations", None, "certificate_id"),
    ("post", "/certificates/424242/cancel", {"expected_version": 1, "reason": "late"}, "actor"),
    ("post", "/certificates/1/cancel", {"expected_version": 1}, "reason"),
    ("get", "/obligations?late=maybe", None, "late"),
    ("post", "/obligations/1/fulfil", {"expected_version": 1}, "evidence_file_id"),
    ("post", "/obligations/424242/fulfil", {"expected_version": 1, "evidence_file_id": 1}, "obligation_id"),
    ("get", "/consultations?innovation_application_id=x", None, "innovation_application_id"),
    ("post", "/consultations", {"innovation_application_id": 1, "topic": "gossip", "question": "?"}, "topic"),
    ("post", "/consultations", {"innovation_application_id": 424242, "topic": "other", "question": "?"},
     "innovation_application_id"),
    ("post", "/consultations", {"innovation_application_id": 1, "topic": "other", "question": ""},
     "question"),
    ("get", "/consultations/424242", None, "consultation_id"),
    ("post", "/consultations/1/answer", {"expected_version": 1}, "answer"),
    ("post", "/consultations/1/decline", {"expected_version": 1, "reasons": ""}, "reasons"),
    ("post", "/consultations/1/schedule_meeting", {"expected_version": 1, "meeting_on": "soon",
                                                  "details": "x"}, "meeting_on"),
    ("post", "/consultations/1/issue_minutes", {"expected_version": 1}, "minutes"),
    ("post", "/consultations/1/confirm_minutes", {}, "expected_version"),
    ("post", "/consultations/424242/withdraw", {"expected_version": 1}, "consultation_id"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), BAD_INPUT,
                         ids=[f"{m} {p} {f}" for m, p, _b, f in BAD_INPUT])
def test_bad_input_is_a_4xx_naming_the_field(client, w, reg, db, method, path, body, field):
    app = RegistrationApplication(kind="initial", registrant_org_id=w.registrant.organisation_id,
                                  product_name="x", device_class="III", subcatalogue_code="12",
                                  origin="domestic")
    db.add(app)
    db.commit()
    before = db.scalar(select(func.count()).select_from(AuditEvent))
    url = API + path.replace("{id}", str(app.id))
    response = client.request(method.upper(), url, headers=reg, json=body)
    if field is None:  # unknown query parameters are ignored
        assert response.status_code == 200
        return
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["field"] == field, response.json()
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == before  # nothing written
