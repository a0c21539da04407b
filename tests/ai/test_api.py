"""JSON API of the AI domain: the whole flow over HTTP, tenancy, bad input (4xx with the field, nothing
written), and a walk over every GET route a registrant can call checking no label ever comes back."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from medreg.ai.models import EvalRun
from tests.ai.world import build, run_body, scores_for, synthetic_cases
from tests.web.test_registration_support import bearer

API = "/api/ai"


@pytest.fixture
def w(db):
    world = build(db)
    db.commit()
    return world


def _user(db, actor):
    from medreg.core.accounts import User

    return db.get(User, actor.user_id).username


@pytest.fixture
def flow(client, db, w):
    cur = bearer(client, _user(db, w.curator))
    reg = bearer(client, _user(db, w.reg_a))
    other = bearer(client, _user(db, w.reg_b))
    r = client.post(f"{API}/databases", headers=cur, json={
        "code": "DR-FUNDUS", "name": "DR grading (synthetic)", "task": "binary",
        "modality": "fundus photograph"})
    assert r.status_code == 201, r.text
    cases = synthetic_cases(60, seed=21)
    r = client.post(f"{API}/databases/{r.json()['id']}/versions", headers=cur,
                    json={"provenance": "synthetic (tests)", "metadata_fields": ["site", "sex"],
                          "cases": cases})
    assert r.status_code == 201, r.text
    return {"cur": cur, "reg": reg, "other": other, "cases": cases, "version": r.json()}


def _submit(client, flow):
    url = f"{API}/versions/{flow['version']['id']}/runs"
    return client.post(url, headers=flow["reg"], json=run_body(scores_for(flow["cases"])))


def test_flow_over_http(client, db, flow):
    v = flow["version"]
    ids = client.get(f"{API}/versions/{v['id']}/cases", headers=flow["reg"]).json()["case_ids"]
    assert ids == sorted(c["case_id"] for c in flow["cases"])
    r = _submit(client, flow)
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["metrics"]["n"] == 60 and len(run["signature"]) == 64
    assert client.get(f"{API}/runs/{run['id']}/verify", headers=flow["reg"]).json()["intact"] is True
    assert client.get(f"{API}/runs/{run['id']}", headers=flow["other"]).status_code == 404
    assert client.get(f"{API}/runs", headers=flow["other"]).json() == []
    assert client.get(f"{API}/versions/{v['id']}/verify", headers=flow["reg"]).status_code == 403
    assert client.get(f"{API}/versions/{v['id']}/verify", headers=flow["cur"]).json()["intact"] is True
    t = client.post(f"{API}/triage", headers=flow["reg"], json={"changes": ["defect_fix"]})
    assert t.status_code == 200 and t.json()["outcome"] == "qms_control"


@pytest.mark.parametrize(("mutate", "status", "field"), [
    (lambda b: {**b, "outputs": b["outputs"][1:]}, 422, "outputs"),
    (lambda b: {**b, "outputs": [{**b["outputs"][0], "score": 7}] + b["outputs"][1:]}, 422,
     "outputs.0.score"),
    (lambda b: {**b, "outputs": b["outputs"] + [{"case_id": "nope", "score": 0.1}]}, 422,
     "outputs.60.case_id"),
    (lambda b: {**b, "threshold": 3}, 422, "threshold"),
    (lambda b: {**b, "labels": {"case-0000": "1"}}, 422, "labels"),
])
def test_bad_runs_are_4xx_with_the_field_and_write_nothing(client, db, flow, mutate, status, field):
    body = mutate(run_body(scores_for(flow["cases"])))
    r = client.post(f"{API}/versions/{flow['version']['id']}/runs", headers=flow["reg"], json=body)
    assert r.status_code == status, r.text
    assert field in json.dumps(r.json())
    assert db.scalar(select(func.count()).select_from(EvalRun)) == 0


def test_a_registrant_cannot_curate(client, flow):
    r = client.post(f"{API}/databases", headers=flow["reg"],
                    json={"code": "MINE", "name": "x", "task": "binary", "modality": "CT"})
    assert r.status_code == 403


def test_no_route_returns_a_label(client, db, flow):
    v = flow["version"]
    r = _submit(client, flow)
    run = r.json()
    gets = [f"{API}/databases", f"{API}/databases/{v['database_id']}/versions", f"{API}/versions/{v['id']}",
            f"{API}/versions/{v['id']}/cases", f"{API}/versions/{v['id']}/verify", f"{API}/runs",
            f"{API}/runs/{run['id']}", f"{API}/runs/{run['id']}/verify"]
    secrets_ = {json.dumps({"case_id": c["case_id"], "label": c["label"]}) for c in flow["cases"]}
    for url in gets:
        text = client.get(url, headers=flow["reg"]).text
        assert '"label"' not in text and '"labels"' not in text and "salt" not in text, url
        assert not any(s in text for s in secrets_)
        assert "tiny" not in text
    schema = client.get("/openapi.json").json()
    for name, comp in schema["components"]["schemas"].items():
        if name in {"DatabaseRead", "VersionRead", "RunRead"}:
            assert not {"label", "labels", "salt"} & set(comp.get("properties", {})), name
