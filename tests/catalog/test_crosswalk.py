"""NMPA category ↔ FDA product code candidates, and reviewers' audited decisions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from medreg.catalog import catalogue, crosswalk, queries, service
from medreg.core.audit import AuditEvent
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.factories import make_actor


def entry(code: str) -> catalogue.CatalogueEntry:
    return next(e for e in catalogue.shipped_entries() if e.category2_code == code)


def test_fda_file_is_the_shipped_copy():
    codes = crosswalk.fda_codes()
    assert len(codes) == 7039  # SOURCE.md: 7,039 rows
    dzh = next(c for c in codes if c.product_code == "DZH")
    assert (dzh.device_name, dzh.device_class, dzh.regulation_number) == (
        "Saw, Bone, Ac-Powered", "2", "872.4120")


def test_candidates_rank_specific_matches_first():
    saw = crosswalk.candidates(entry("04-09-01"))
    assert [c["product_code"] for c in saw[:2]] == ["HSO", "DZH"]
    assert saw[1]["matched_terms"] == ["锯", "骨"] and saw[1]["provenance"] == "text_match"
    assert all(c["score"] >= crosswalk.MIN_SCORE for c in saw)
    hf = crosswalk.candidates(entry("01-03-01"))
    assert hf[0]["product_code"] == "DWG" and hf[0]["device_name"] == "Electrosurgical Device"
    # generic words alone (系统, 设备, 手术 …) never make a candidate
    assert all(set(c["matched_terms"]) - {"系统", "设备", "控制", "手术", "导管"} for c in hf)


def test_reviewer_confirms_and_rejects_links_audited(db):
    reviewer = make_actor(db, "reviewer", "regulator_unit")
    link = service.decide_link(db, reviewer, "04-09-01", "DZH", "confirmed", "bone saw, powered")
    body = queries.fda_links(db, "04-09-01")
    first = body["links"][0]
    assert body["nmpa_classes"] == ["I", "II"]
    assert (first["product_code"], first["status"], first["provenance"], first["fda_class"]) == (
        "DZH", "confirmed", "reviewer", "2")
    service.decide_link(db, reviewer, "04-09-01", "JZZ", "rejected", "laryngeal saw", None)
    statuses = {x["product_code"]: x["status"] for x in queries.fda_links(db, "04-09-01")["links"]}
    assert statuses["JZZ"] == "rejected" and statuses["HSO"] == "candidate"
    with pytest.raises(Conflict):
        service.decide_link(db, reviewer, "04-09-01", "DZH", "rejected", "",
                            expected_version=link.version + 5)
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "crosswalk_link_decided")).all()
    assert len(events) >= 2


@pytest.mark.parametrize(("role", "code", "product", "decision", "error", "field"), [
    ("registrant", "04-09-01", "DZH", "confirmed", PermissionDenied, None),
    ("reviewer", "04-09-01", "DZH", "maybe", ValidationFailed, "decision"),
    ("reviewer", "99-99-99", "DZH", "confirmed", NotFound, "code"),
    ("reviewer", "04-09-01", "ZZZZ", "confirmed", NotFound, "product_code"),
])
def test_bad_decisions_are_refused(db, role, code, product, decision, error, field):
    actor = make_actor(db, role, "regulator_unit" if role == "reviewer" else "registrant")
    with pytest.raises(error) as err:
        service.decide_link(db, actor, code, product, decision)
    assert err.value.field == field


def test_api_lists_candidates_and_needs_login_to_decide(client):
    from tests.web.conftest import csrf_of

    body = client.get("/api/v1/catalog/entries/04-09-01/fda").json()
    assert body["links"][0]["product_code"] == "HSO"
    r = client.post("/api/v1/catalog/entries/04-09-01/fda/DZH", json={"decision": "confirmed"},
                    headers={"X-CSRF-Token": csrf_of(client)})
    assert r.status_code == 401
    bad = client.get("/api/v1/catalog/entries/9/fda")
    assert bad.status_code == 422 and bad.json()["field"] == "code"
