"""Bad input on every innovation and expert API endpoint: a 4xx naming the field, nothing written;
stale versions are 409; other people's cases are 404, other roles' actions 403."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from medreg.core.audit import AuditEvent
from tests.factories import PASSWORD
from tests.web.innovation_helpers import to_stage, web_world

API = "/api/innovation/applications"


@pytest.fixture
def ww(db):
    return web_world(db)


def _events(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(AuditEvent))


def _check(client, db, who, method, url, expected_status, field, **kwargs):
    before = _events(db)
    r = client.request(method, url, headers=who, **kwargs)
    assert r.status_code == expected_status, (url, r.text)
    body = r.json()
    assert body["field"] == field, (url, body)
    assert body["message"]
    assert _events(db) == before, f"{url} wrote something"
    return body


# (stage of the application, who, method, path after /applications/{id}, json, status, field)
CASES = [
    ("draft", "registrant", "PATCH", "", {"intended_use": "x"}, 422, "expected_version"),
    (
        "draft",
        "registrant",
        "PATCH",
        "",
        {"patent_number": "12345", "expected_version": "V"},
        422,
        "patent_number",
    ),
    (
        "draft",
        "registrant",
        "PATCH",
        "",
        {"proposed_class": "IV", "expected_version": "V"},
        422,
        "proposed_class",
    ),
    ("draft", "registrant", "PATCH", "", {"unknown": 1, "expected_version": "V"}, 422, "unknown"),
    ("draft", "registrant", "POST", "/submit", {}, 422, "expected_version"),
    ("draft", "registrant", "POST", "/submit", {"expected_version": "one"}, 422, "expected_version"),
    ("draft", "registrant", "POST", "/withdraw", {"reason": "No.", "expected_version": "V"}, 409, "action"),
    ("province_review", "province", "POST", "/province-pass", {"expected_version": "V"}, 422, "opinion"),
    (
        "province_review",
        "province",
        "POST",
        "/province-pass",
        {"opinion": "ok", "expected_version": "V"},
        422,
        "opinion",
    ),
    ("province_review", "province", "POST", "/province-refuse", {"expected_version": "V"}, 422, "reasons"),
    (
        "province_review",
        "other_province",
        "POST",
        "/province-pass",
        {"opinion": "Fine.", "expected_version": "V"},
        404,
        "application_id",
    ),
    ("province_review", "registrant", "POST", "/withdraw", {"expected_version": "V"}, 422, "reason"),
    ("accepted", "office", "POST", "/accept", {"expected_version": 0}, 422, "expected_version"),
    ("accepted", "office", "POST", "/request-supplement", {"expected_version": "V"}, 422, "items"),
    (
        "accepted",
        "office",
        "POST",
        "/refuse-acceptance",
        {"reasons": "", "expected_version": "V"},
        422,
        "reasons",
    ),
    ("accepted", "registrant", "POST", "/provide-supplement", {"expected_version": "V"}, 422, "note"),
    (
        "accepted",
        "office",
        "POST",
        "/assign-experts",
        {"expert_ids": [], "expected_version": "V"},
        422,
        "expert_ids",
    ),
    (
        "accepted",
        "office",
        "POST",
        "/assign-experts",
        {"expert_ids": ["a"], "expected_version": "V"},
        422,
        "expert_ids.0",
    ),
    (
        "accepted",
        "office",
        "POST",
        "/assign-experts",
        {"expert_ids": [999999, 999998, 999997], "expected_version": "V"},
        422,
        "expert_ids",
    ),
    ("accepted", "registrant", "POST", "/accept", {"expected_version": "V"}, 409, "action"),
    (
        "expert_review",
        "office",
        "POST",
        "/conclude",
        {"outcome": "maybe", "reasons": "Because.", "expected_version": "V"},
        422,
        "outcome",
    ),
    (
        "expert_review",
        "office",
        "POST",
        "/conclude",
        {"outcome": "propose", "reasons": "Because.", "notice_working_days": 5, "expected_version": "V"},
        422,
        "notice_working_days",
    ),
    (
        "expert_review",
        "office",
        "POST",
        "/conclude",
        {"outcome": "propose", "reasons": "Because.", "expected_version": "V"},
        409,
        "action",
    ),
    ("expert_review", "office", "POST", "/close-notice", {}, 422, "expected_version"),
    (
        "expert_review",
        "office",
        "POST",
        "/decide",
        {"approve": True, "expected_version": "V"},
        422,
        "password",
    ),
    (
        "expert_review",
        "office",
        "POST",
        "/decide",
        {"approve": "perhaps", "password": PASSWORD, "expected_version": "V"},
        422,
        "approve",
    ),
    (
        "expert_review",
        "office",
        "POST",
        "/terminate",
        {"ground": "boredom", "reasons": "Bored.", "expected_version": "V"},
        422,
        "ground",
    ),
    ("public_notice", "office", "POST", "/close-notice", {"expected_version": "V"}, 409, "today"),
    ("public_notice", "registrant", "POST", "/close-notice", {"expected_version": "V"}, 403, "action"),
]


@pytest.mark.parametrize(("stage", "who", "method", "path", "body", "status", "field"), CASES)
def test_bad_input_is_refused_with_the_field(client, db, ww, stage, who, method, path, body, status, field):
    app = to_stage(db, ww, stage)
    body = {k: (app.version if v == "V" else v) for k, v in body.items()}  # the current version
    _check(client, db, ww.h(getattr(ww, who)), method, f"{API}/{app.id}{path}", status, field, json=body)


def test_bad_create_and_queries(client, db, ww):
    reg = ww.h(ww.registrant)
    _check(client, db, reg, "POST", API, 422, "product_name", json={})
    _check(
        client, db, reg, "POST", API, 422, "patent_number", json={"product_name": "X", "patent_number": "1"}
    )
    _check(client, db, reg, "POST", API, 422, "bogus", json={"product_name": "X", "bogus": True})
    _check(client, db, ww.h(ww.office), "POST", API, 403, "actor", json={"product_name": "X"})
    _check(client, db, reg, "GET", API, 422, "limit", params={"limit": 0})
    _check(client, db, reg, "GET", f"{API}/abc", 422, "app_id")
    _check(client, db, reg, "GET", f"{API}/999999", 404, "application_id")
    _check(client, db, reg, "GET", "/api/experts/candidates", 422, "application_id")
    assert client.get(API).status_code == 401  # anonymous


def test_bad_documents(client, db, ww):
    app = to_stage(db, ww, "draft")
    reg, url = ww.h(ww.registrant), f"{API}/{app.id}/documents"
    pdf = {"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}
    _check(client, db, reg, "POST", url, 422, "file", data={"doc_type": "technical_file", "title": "T"})
    _check(client, db, reg, "POST", url, 422, "doc_type", data={"doc_type": "novel", "title": "T"}, files=pdf)
    _check(
        client,
        db,
        reg,
        "POST",
        url,
        422,
        "file",
        data={"doc_type": "technical_file", "title": "T"},
        files={"file": ("a.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
    )
    _check(
        client,
        db,
        ww.h(ww.other_registrant),
        "POST",
        url,
        404,
        "application_id",
        data={"doc_type": "technical_file", "title": "T"},
        files=pdf,
    )


def test_bad_objections_and_answers(client, db, ww):
    app = to_stage(db, ww, "public_notice")
    notice = client.get("/api/innovation/notices", params={"current": True})
    token = {"X-CSRF-Token": notice.headers["X-CSRF-Token"]}
    notice_id = next(n["id"] for n in notice.json() if n["application_id"] == app.id)
    good = {"name": "Li Lei", "contact": "li@example.org", "text": "A sufficiently long objection text."}
    url = f"/api/innovation/notices/{notice_id}/objections"
    _check(client, db, token, "POST", url, 422, "name", json={**good, "name": ""})
    _check(client, db, token, "POST", url, 422, "text", json={**good, "text": "short"})
    _check(
        client, db, token, "POST", "/api/innovation/notices/999999/objections", 404, "notice_id", json=good
    )
    assert client.post(url, json=good, headers=token).status_code == 201
    _check(client, db, token, "POST", url, 409, "text", json=good)  # the same objection twice (CMDE Art.27)
    objection_id = client.get(f"{API}/{app.id}/objections", headers=ww.h(ww.office)).json()[0]["id"]
    answer = f"/api/innovation/objections/{objection_id}/answer"
    _check(client, db, ww.h(ww.office), "POST", answer, 422, "answer", json={})
    _check(client, db, ww.h(ww.registrant), "POST", answer, 403, "action", json={"answer": "Not yours."})


def test_stale_versions_are_409(client, db, ww):
    app = to_stage(db, ww, "province_review")
    seen = app.version
    prov = ww.h(ww.province)
    body = {"opinion": "Meets No.83 Art.2.", "expected_version": seen - 1}
    _check(client, db, prov, "POST", f"{API}/{app.id}/province-pass", 409, "expected_version", json=body)
    r = client.post(f"{API}/{app.id}/province-pass", headers=prov, json={**body, "expected_version": seen})
    assert r.status_code == 200 and r.json()["version"] == seen + 1
    # The office still holds the version it saw before the province acted.
    _check(
        client,
        db,
        ww.h(ww.office),
        "POST",
        f"{API}/{app.id}/accept",
        409,
        "expected_version",
        json={"expected_version": seen},
    )
    assert (
        client.get(f"{API}/{app.id}", headers=ww.h(ww.office)).json()["application"]["status"] == "submitted"
    )


def test_bad_expert_api_input(client, db, ww):
    office = ww.h(ww.office)
    expert_row, expert_actor = ww.experts[0]
    _check(client, db, office, "POST", "/api/experts", 422, "user_id", json={})
    _check(
        client, db, office, "PATCH", f"/api/experts/{expert_row.id}", 422, "active", json={"active": "maybe"}
    )
    _check(client, db, office, "PATCH", "/api/experts/999999", 404, "expert_id", json={"active": False})
    _check(
        client,
        db,
        office,
        "POST",
        f"/api/experts/{expert_row.id}/interests",
        422,
        "kind",
        json={"organisation_id": ww.registrant_org_id, "kind": "bribe"},
    )
    _check(client, db, ww.h(ww.registrant), "GET", "/api/experts", 403, "actor")
    app = to_stage(db, ww, "expert_review")
    mine = client.get("/api/experts/assignments", headers=ww.h(expert_actor)).json()
    url = f"/api/experts/assignments/{mine[0]['id']}/opinion"
    good = {"opinion": "agree", "reasoning": "Reasoned opinion text.", "password": PASSWORD}
    _check(client, db, ww.h(expert_actor), "POST", url, 422, "opinion", json={**good, "opinion": "maybe"})
    _check(client, db, ww.h(expert_actor), "POST", url, 422, "password", json={**good, "password": "wrong"})
    _check(client, db, ww.h(ww.experts[3][1]), "POST", url, 404, "assignment_id", json=good)
    assert client.get(f"/api/experts/candidates?application_id={app.id}", headers=office).status_code == 200
