"""The JSON API of the innovative special review, end to end: registrant -> province -> office ->
three experts -> public notice -> objection -> answer -> close -> signed decision."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from medreg.core.audit import AuditEvent
from medreg.premarket.innovation.models import InnovationApplication, Objection
from tests.factories import PASSWORD
from tests.web.innovation_helpers import draft, move_today, upload_dossier, web_world

API = "/api/innovation"


@pytest.fixture
def ww(db):
    return web_world(db)


def _status(client, ww, app_id, actor=None):
    r = client.get(f"{API}/applications/{app_id}", headers=ww.h(actor or ww.office))
    assert r.status_code == 200, r.text
    return r.json()


def test_whole_flow_through_the_api(client, ww, db, monkeypatch):
    reg, office, prov = ww.h(ww.registrant), ww.h(ww.office), ww.h(ww.province)
    r = client.post(f"{API}/applications", json=draft(), headers=reg)
    assert r.status_code == 201, r.text
    app = r.json()
    app_id, v = app["id"], app["version"]
    assert app["status"] == "draft" and app["patent_number"].startswith("ZL")

    r = client.patch(
        f"{API}/applications/{app_id}",
        headers=reg,
        json={"intended_use": "Bridge to transplant", "expected_version": v},
    )
    assert r.status_code == 200 and r.json()["intended_use"] == "Bridge to transplant"
    upload_dossier(client, reg, app_id)
    elig = client.get(f"{API}/applications/{app_id}/eligibility", headers=reg).json()
    assert elig["eligible"] is True and all(c["article"] for c in elig["criteria"])
    tasks = client.get(f"{API}/tasks", headers=reg).json()
    assert [t["action"] for t in tasks if t["application_id"] == app_id] == ["submit"]

    v = _status(client, ww, app_id, ww.registrant)["application"]["version"]
    r = client.post(f"{API}/applications/{app_id}/submit", json={"expected_version": v}, headers=reg)
    assert r.status_code == 200 and r.json()["status"] == "province_review", r.text
    queue = client.get(f"{API}/queue", headers=prov).json()
    assert [q["application_id"] for q in queue] == [app_id] and queue[0]["due_on"]

    v = r.json()["version"]
    r = client.post(
        f"{API}/applications/{app_id}/province-pass",
        headers=prov,
        json={"opinion": "Meets Art.2 of No.83.", "expected_version": v},
    )
    assert r.status_code == 200 and r.json()["status"] == "submitted", r.text
    r = client.post(
        f"{API}/applications/{app_id}/accept", headers=office, json={"expected_version": r.json()["version"]}
    )
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    assert r.json()["acceptance_no"].startswith("CQTS")

    cands = client.get("/api/experts/candidates", params={"application_id": app_id}, headers=office).json()
    chosen = [c["expert"]["id"] for c in cands if c["eligible"] and not c["conflicted"]][:3]
    assert len(chosen) == 3
    r = client.post(
        f"{API}/applications/{app_id}/assign-experts",
        headers=office,
        json={"expert_ids": chosen, "expected_version": r.json()["version"]},
    )
    assert r.status_code == 201, r.text
    detail = _status(client, ww, app_id)
    assert detail["application"]["status"] == "expert_review" and len(detail["assignments"]) == 3

    by_expert = {e.id: a for e, a in ww.experts}
    for eid, opinion in zip(chosen, ["agree", "agree", "disagree"], strict=True):
        eh = ww.h(by_expert[eid])
        mine = client.get("/api/experts/assignments", params={"pending": True}, headers=eh).json()
        assert [m["application_id"] for m in mine] == [app_id]
        r = client.post(
            f"/api/experts/assignments/{mine[0]['id']}/opinion",
            headers=eh,
            json={"opinion": opinion, "reasoning": "Reasoned opinion text.", "password": PASSWORD},
        )
        assert r.status_code == 200 and r.json()["opinion"] == opinion, r.text
        assert r.json()["signature_id"]
    assert client.get("/api/experts/assignments", params={"pending": True}, headers=eh).json() == []

    v = _status(client, ww, app_id)["application"]["version"]
    r = client.post(
        f"{API}/applications/{app_id}/conclude",
        headers=office,
        json={"outcome": "propose", "reasons": "Majority agrees.", "expected_version": v},
    )
    assert r.status_code == 200 and r.json()["status"] == "public_notice", r.text

    # The public: no login; the CSRF token comes with the notice list.
    client.cookies.clear()
    r = client.get(f"{API}/notices", params={"current": True})
    assert r.status_code == 200
    notice = next(n for n in r.json() if n["application_id"] == app_id)
    assert notice["open"] and notice["product_name"] == draft()["product_name"]
    body = {
        "name": "Li Lei",
        "organisation": "Some hospital",
        "contact": "li@example.org",
        "text": "The claimed novelty was published in 2019.",
    }
    assert client.post(f"{API}/notices/{notice['id']}/objections", json=body).status_code == 403
    token = r.headers["X-CSRF-Token"]
    r = client.post(f"{API}/notices/{notice['id']}/objections", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 201, r.text
    objection_id = r.json()["id"]
    seen_by_registrant = client.get(f"{API}/applications/{app_id}/objections", headers=reg).json()
    assert seen_by_registrant[0]["contact"] is None  # the contact is for the office only
    assert client.get(f"{API}/applications/{app_id}/objections", headers=office).json()[0]["contact"]

    v = _status(client, ww, app_id)["application"]["version"]
    r = client.post(f"{API}/applications/{app_id}/close-notice", headers=office, json={"expected_version": v})
    assert r.status_code == 409 and r.json()["field"] == "today"  # the notice still runs
    r = client.post(
        f"{API}/objections/{objection_id}/answer",
        headers=office,
        json={"answer": "The 2019 paper describes a different pump."},
    )
    assert r.status_code == 200 and r.json()["answered_at"], r.text

    move_today(monkeypatch, 30)
    r = client.post(f"{API}/applications/{app_id}/close-notice", headers=office, json={"expected_version": v})
    assert r.status_code == 200 and r.json()["status"] == "decision_pending", r.text
    v = r.json()["version"]
    r = client.post(
        f"{API}/applications/{app_id}/decide",
        headers=office,
        json={"approve": True, "password": "wrong password", "expected_version": v},
    )
    assert r.status_code == 422 and r.json()["field"] == "password"
    r = client.post(
        f"{API}/applications/{app_id}/decide",
        headers=office,
        json={"approve": True, "password": PASSWORD, "expected_version": v},
    )
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    timeline = client.get(f"{API}/applications/{app_id}/timeline", headers=reg).json()
    actions = [e["action"] for e in timeline["events"]]
    assert actions[0] == "create_draft" and actions[-2:] == ["sign", "approve"]
    r = client.post(
        f"{API}/applications/{app_id}/terminate",
        headers=office,
        json={
            "ground": "patent_rights_lost",
            "reasons": "The core patent was invalidated.",
            "expected_version": r.json()["version"],
        },
    )
    assert r.status_code == 200 and r.json()["status"] == "terminated", r.text
    assert db.scalar(select(func.count()).select_from(Objection)) >= 1


def test_documents_download_only_for_those_who_see_the_case(client, ww):
    reg = ww.h(ww.registrant)
    app_id = client.post(f"{API}/applications", json=draft(), headers=reg).json()["id"]
    upload_dossier(client, reg, app_id)
    doc = _status(client, ww, app_id, ww.registrant)["documents"][0]
    r = client.get(f"{API}/applications/{app_id}/documents/{doc['id']}", headers=reg)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert r.headers["content-type"] == "application/pdf"
    for other in (ww.other_registrant, ww.office):  # a draft is invisible to the office too
        assert (
            client.get(f"{API}/applications/{app_id}/documents/{doc['id']}", headers=ww.h(other)).status_code
            == 404
        )
    assert client.get(f"{API}/applications/{app_id}/documents/{doc['id']}").status_code == 401


def test_supplement_and_withdraw(client, ww, db):
    fh, office = ww.h(ww.foreign), ww.h(ww.office)
    app_id = client.post(f"{API}/applications", json=draft(), headers=fh).json()["id"]
    upload_dossier(client, fh, app_id, is_domestic=False)
    r = client.patch(
        f"{API}/applications/{app_id}",
        json={"technical_field": "cardiac surgery", "expected_version": 1},
        headers=fh,
    )
    assert r.json()["version"] == 2
    r = client.post(f"{API}/applications/{app_id}/submit", json={"expected_version": 1}, headers=fh)
    assert r.status_code == 409 and r.json()["field"] == "expected_version"  # stale: someone edited
    assert _status(client, ww, app_id, ww.foreign)["application"]["status"] == "draft"
    v = _status(client, ww, app_id, ww.foreign)["application"]["version"]
    r = client.post(f"{API}/applications/{app_id}/submit", json={"expected_version": v}, headers=fh)
    assert r.json()["status"] == "submitted"  # overseas: straight to the office (No.83 Art.5)
    r = client.post(
        f"{API}/applications/{app_id}/request-supplement",
        headers=office,
        json={"items": "Translate the IFU into Chinese.", "expected_version": r.json()["version"]},
    )
    assert r.json()["status"] == "supplement_requested"
    v = r.json()["version"]
    r = client.post(
        f"{API}/applications/{app_id}/provide-supplement",
        headers=fh,
        json={"note": "Translated.", "expected_version": v},
    )
    assert r.status_code == 422 and r.json()["field"] == "documents"
    r = client.post(
        f"{API}/applications/{app_id}/documents",
        headers=fh,
        data={"doc_type": "supplement", "title": "IFU (zh)"},
        files={"file": ("ifu-zh.pdf", b"%PDF-1.4\n% zh ifu\n%%EOF\n", "application/pdf")},
    )
    assert r.status_code == 201, r.text
    r = client.post(
        f"{API}/applications/{app_id}/provide-supplement",
        headers=fh,
        json={"note": "Translated.", "expected_version": v},
    )
    assert r.status_code == 200 and r.json()["status"] == "submitted", r.text
    r = client.post(
        f"{API}/applications/{app_id}/withdraw",
        headers=fh,
        json={"reason": "Strategy changed.", "expected_version": r.json()["version"]},
    )
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert db.get(InnovationApplication, app_id).withdrawal_reason == "Strategy changed."
    n = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_id == str(app_id)))
    assert n >= 5
