"""The vigilance JSON API: a report from creation to closing, quality returned on save (in both
languages), field-level 4xx, tenancy over HTTP, the code picker and the clocks."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from medreg.core import auth
from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from tests.factories import make_org, make_user
from tests.vigilance.world import form
from tests.web.conftest import app, client  # noqa: F401  (fixtures)


def _token(db: Session, role: str, kind: str, province: str | None = "Beijing"):
    org = make_org(db, kind, province=province)
    user = make_user(db, role, org=org)
    return org, {"Authorization": f"Bearer {auth.issue_token(db, Actor.system(), user.id, 't')}"}


@pytest.fixture
def people(db):
    hospital_org, hospital = _token(db, Role.HOSPITAL, OrgKind.HOSPITAL)
    registrant_org, registrant = _token(db, Role.REGISTRANT, OrgKind.REGISTRANT, "Jiangsu")
    _, province = _token(db, Role.MONITORING_CENTRE, OrgKind.MONITORING_CENTRE)
    _, national = _token(db, Role.MONITORING_CENTRE, OrgKind.MONITORING_CENTRE, None)
    _, stranger = _token(db, Role.HOSPITAL, OrgKind.HOSPITAL)
    db.commit()
    return {
        "hospital": hospital,
        "registrant": registrant,
        "province": province,
        "national": national,
        "stranger": stranger,
        "registrant_org": registrant_org.id,
    }


def _post(client, url, who, body, status=200):  # noqa: F811
    r = client.post(url, json=body, headers=who)
    assert r.status_code == status, r.text
    return r.json()


def test_flow_from_report_to_close(client, people):  # noqa: F811
    p = people
    report = form(device__registrant_org_id=p["registrant_org"])  # aware 3 Mar 2025
    out = _post(client, "/api/vigilance/reports", p["hospital"], report, 201)
    case = out["case"]
    assert case["status"] == "draft" and case["udi_di"] == "06901234567892"
    assert out["quality"]["score"] == 100
    cid, v = case["id"], case["version"]
    out = _post(client, f"/api/vigilance/reports/{cid}/submit", p["hospital"], {"expected_version": v})
    case = out["case"]
    assert case["status"] == "submitted" and case["late"] is True  # aware in March 2025: long overdue
    assert out["quality"]["parts"][1]["reasons"][0]["msgid"].startswith("Reported {days} day(s)")
    assert client.get(f"/api/vigilance/reports/{cid}", headers=p["stranger"]).status_code == 404
    r = client.post(
        f"/api/vigilance/reports/{cid}/accept",
        json={"expected_version": case["version"]},
        headers=p["registrant"],
    )
    assert r.status_code == 403
    case = _post(
        client, f"/api/vigilance/reports/{cid}/accept", p["province"], {"expected_version": case["version"]}
    )["case"]
    final = dict(report, evaluation={"summary": "Moulding defect confirmed.", "causality": "related"})
    case = _post(
        client,
        f"/api/vigilance/reports/{cid}/versions",
        p["registrant"],
        {"expected_version": case["version"], "kind": "final", "content": final},
    )["case"]
    case = _post(
        client, f"/api/vigilance/reports/{cid}/close", p["national"], {"expected_version": case["version"]}
    )["case"]
    assert case["status"] == "closed"
    detail = client.get(f"/api/vigilance/reports/{cid}", headers=p["hospital"]).json()
    assert [v["kind"] for v in detail["versions"]] == ["initial", "final"]
    stats = client.get("/api/vigilance/stats/reporter", headers=p["national"]).json()
    assert [(s["reports"], s["late"]) for s in stats] == [(1, 1)]


def test_quality_reasons_are_translated(client, people):  # noqa: F811
    body = form(event__event_date="2025-03-04")
    en = _post(client, "/api/vigilance/reports?lang=en", people["hospital"], body, 201)
    zh = _post(client, "/api/vigilance/reports?lang=zh_CN", people["hospital"], body, 201)
    assert (
        en["quality"]["parts"][2]["reasons"][0]["message"] == "The event date is after the date of awareness."
    )
    assert zh["quality"]["parts"][2]["reasons"][0]["message"] == "事件发生日期晚于发现或者获知日期。"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (form(codes__device_problem=["E0101"]), "codes.device_problem"),
        (form(patient__name="Zhang San"), "patient.name"),
        (form(event__outcome="fatal"), "event.outcome"),
    ],
)
def test_bad_input_is_422_with_field(client, people, body, field):  # noqa: F811
    r = client.post("/api/vigilance/reports", json=body, headers=people["hospital"])
    assert r.status_code == 422 and r.json()["field"] == field


def test_bad_udi_is_422(client, people):  # noqa: F811
    r = client.post(
        "/api/vigilance/reports", json=form(device__udi="(01)06901234567890"), headers=people["hospital"]
    )
    assert r.status_code == 422 and r.json()["field"] == "device.udi"


def test_stale_version_is_409(client, people):  # noqa: F811
    case = _post(client, "/api/vigilance/reports", people["hospital"], form(), 201)["case"]
    r = client.post(
        f"/api/vigilance/reports/{case['id']}/submit",
        json={"expected_version": 99},
        headers=people["hospital"],
    )
    assert r.status_code == 409


def test_code_picker(client, people):  # noqa: F811
    out = client.get("/api/vigilance/aet/search", params={"q": "air leak"}).json()
    assert out["hits"][0]["code"] == "A050402" and out["release"].startswith("A:2024")
    zh = client.get("/api/vigilance/aet/search", params={"q": "断裂", "lang": "zh_CN"}).json()
    assert zh["hits"] == [] and "没有中文术语" in zh["note"]
    code = client.get("/api/vigilance/aet/codes/G04081", params={"lang": "en"}).json()
    assert code["valid"] is False and "G04040" in code["reason"]
    assert [t["code"] for t in code["path"]] == ["G04", "G04081"]
    assert client.get("/api/vigilance/aet/codes/ZZ1").status_code == 422
    s = client.post(
        "/api/vigilance/aet/suggest?lang=en",
        json={"narrative": "The catheter tip fractured.", "outcome": "death"},
        headers=people["hospital"],
    ).json()
    assert s["suggestions"][0]["code"] == "F02" and "death" in s["suggestions"][0]["reason"]


def test_clocks(client):  # noqa: F811
    out = client.get(
        "/api/vigilance/clocks",
        params={"outcome": "death", "reporter_role": "using_entity", "aware_at": "2025-09-24T11:00:00+08:00"},
    ).json()
    d = out["deadlines"][0]
    assert (d["article"], d["limit"], d["due_on"], d["rolled_due_on"]) == (
        "Order 1 Art.25",
        7,
        "2025-10-01",
        "2025-10-09",
    )
    none = client.get(
        "/api/vigilance/clocks",
        params={"outcome": "other", "reporter_role": "registrant", "aware_at": "2025-09-24T11:00:00+08:00"},
    ).json()
    assert none["deadlines"] == [] and none["article"] == "Order 1 Art.18, Art.25"
    r = client.get(
        "/api/vigilance/clocks",
        params={"outcome": "death", "reporter_role": "registrant", "aware_at": "2025-09-24T11:00:00"},
    )
    assert r.status_code == 422


def test_duplicates_and_clusters_over_http(client, people, db):  # noqa: F811
    ids = []
    for _ in range(3):
        case = _post(client, "/api/vigilance/reports", people["hospital"], form(), 201)["case"]
        ids.append(_post(client, f"/api/vigilance/reports/{case['id']}/submit", people["hospital"],
                         {"expected_version": case["version"]})["case"]["id"])
    pairs = client.get("/api/vigilance/duplicates", headers=people["national"]).json()
    assert len(pairs) == 3 and pairs[0]["score"] == 1.0
    clusters = client.get("/api/vigilance/clusters", headers=people["national"]).json()
    assert clusters[0]["case_ids"] == ids and clusters[0]["lot"] == "LOT42"
    r = client.post("/api/vigilance/duplicates/decide", headers=people["hospital"],
                    json={"case_a": ids[0], "case_b": ids[1], "decision": "merged"})
    assert r.status_code == 403
    r = client.post("/api/vigilance/duplicates/decide", headers=people["province"],
                    json={"case_a": ids[0], "case_b": ids[1], "decision": "merged"})
    assert r.status_code == 201 and r.json()["decision"] == "merged"
    assert client.get("/api/vigilance/duplicates?threshold=2", headers=people["national"]).status_code == 422


def test_bulk_import_job_is_queued_through_the_api(client, people):  # noqa: F811
    from tests.vigilance.test_bulk import _csv

    r = client.post("/api/vigilance/import/jobs?filename=big.csv&batch=1000", content=_csv(3),
                    headers=people["hospital"])
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] == "queued" and job["id"] >= 1
    r = client.get(f"/api/jobs/{job['id']}", headers=people["hospital"])
    assert r.status_code == 200 and r.json()["kind"] == "vigilance.import"
    hospital = people["hospital"]
    r = client.post("/api/vigilance/import/jobs?filename=big.pdf", content=_csv(3), headers=hospital)
    assert r.status_code == 422 and r.json()["field"] == "filename"
    r = client.post("/api/vigilance/import/jobs?filename=big.csv&format=openfda", content=_csv(3),
                    headers=hospital)
    assert r.status_code == 422 and r.json()["field"] == "filename"  # an openfda import is a .json file
    r = client.post("/api/vigilance/import/jobs?filename=big.xlsx", content=_csv(3), headers=hospital)
    assert r.status_code == 422 and r.json()["field"] == "file"  # a CSV is not a workbook
    r = client.post("/api/vigilance/import/jobs?filename=big.json&reporter_role=nobody", content=b"{}",
                    headers=hospital)
    assert r.status_code == 422
    r = client.post("/api/vigilance/import/jobs?filename=maude.json", content=b'{"results": []}',
                    headers=hospital)
    assert r.status_code == 202 and r.json()["status"] == "queued"
    r = client.post("/api/vigilance/import/jobs?batch=5", content=_csv(3), headers=people["hospital"])
    assert r.status_code == 422
    r = client.post("/api/vigilance/import/jobs", content=_csv(3), headers=people["province"])
    assert r.status_code == 403
