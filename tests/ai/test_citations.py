"""A registrant cites an evidence pack on its change registration application: rules, audit on both
records, tenancy, and the citation shown on the pack (registrant) and on the application (reviewer)."""

from __future__ import annotations

import pytest

from medreg.ai import service_citations, service_evidence, service_runs
from medreg.core import audit
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from medreg.premarket.registration import service as registration
from tests.ai.world import run_body, scores_for, synthetic_cases
from tests.premarket.test_registration_world import build, initial, to_certificate, wd


@pytest.fixture
def case(db):
    w = build(db)
    from medreg.ai import service

    d = service.register_database(db, w.cmde, {"code": "CITE-DB", "name": "n", "task": "binary",
                                               "modality": "CT"})
    cases = synthetic_cases(80, seed=4)
    v = service.add_version(db, w.cmde, d.id, {"provenance": "synthetic (tests)", "cases": cases,
                                               "metadata_fields": ["site", "sex"]})
    r1 = service_runs.submit_run(db, w.registrant, v.id, run_body(scores_for(cases, seed=1)))
    body2 = run_body(scores_for(cases, seed=2, noise=0.2), "2.0")
    r2 = service_runs.submit_run(db, w.registrant, v.id, body2)
    pack = service_evidence.create_pack(db, w.registrant, kind="version_change", run_a=r1.id, run_b=r2.id,
                                        changes=["training_data_added"])
    first, cert = to_certificate(db, w, w.registrant, initial())
    change = registration.create_application(db, w.registrant, {"kind": "change", "registration_id": cert.id,
                                                                "changes": {"model_spec": "HM-3; HM-3P"}},
                                             on=wd(60))
    return w, pack, first, change


def test_cite_a_pack_on_a_change_application(db, case):
    w, pack, _first, change = case
    c = service_citations.cite_pack(db, w.registrant, pack.id, change.id)
    shown = service_citations.citations_of_pack(db, w.registrant, pack.id)
    assert [x["application_id"] for x in shown] == [change.id]
    with pytest.raises(Conflict):
        service_citations.cite_pack(db, w.registrant, pack.id, change.id)
    events = audit.history(db, "registration_application", change.id)
    assert any(e.action == "ai.evidence.cite" and e.after["pack_sha256"] == pack.pack_sha256 for e in events)
    assert [e.action for e in audit.history(db, "ai_evidence_citation", c.id)] == ["ai.evidence.cite"]
    # the reviewer sees the pack on the application once it is submitted, not while a draft
    with pytest.raises(NotFound):
        service_citations.packs_of_application(db, w.cmde, change.id)
    registration.submit(db, w.registrant, change.id, on=wd(61))
    packs = service_citations.packs_of_application(db, w.cmde, change.id)
    assert [(p["pack_id"], p["outcome"]) for p in packs] == [(pack.id, pack.decision["outcome"])]


def test_citation_rules_and_tenancy(db, case):
    w, pack, first, change = case
    with pytest.raises(ValidationFailed) as err:  # an initial registration, already decided
        service_citations.cite_pack(db, w.registrant, pack.id, first.id)
    assert err.value.field == "application_id"
    with pytest.raises(NotFound):  # another registrant sees neither the pack nor the application
        service_citations.cite_pack(db, w.other, pack.id, change.id)
    with pytest.raises(PermissionDenied):  # a reviewer does not cite for the registrant
        service_citations.cite_pack(db, w.cmde, pack.id, change.id)
    with pytest.raises(NotFound):
        service_citations.packs_of_application(db, w.other, change.id)
    registration.withdraw(db, w.registrant, change.id, "no longer needed", on=wd(62))
    with pytest.raises(ValidationFailed):
        service_citations.cite_pack(db, w.registrant, pack.id, change.id)
    assert service_citations.citable_applications(db, w.registrant) == []


def test_citation_over_http_and_pages(client, db, case):
    from tests.ai.test_api import _user
    from tests.web.test_registration_support import bearer

    w, pack, _first, change = case
    registration.submit(db, w.registrant, change.id, on=wd(61))
    db.commit()
    reg, cur = bearer(client, _user(db, w.registrant)), bearer(client, _user(db, w.cmde))
    page = client.get(f"/ai/evidence/{pack.id}", headers=reg)
    assert 'id="cite-form"' in page.text and f'value="{change.id}"' in page.text
    r = client.post(f"/api/ai/evidence/{pack.id}/citations", headers=reg, json={"application_id": 10**40})
    assert r.status_code == 422
    r = client.post(f"/api/ai/evidence/{pack.id}/citations", headers=reg, json={"application_id": change.id})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/ai/evidence/{pack.id}/citations", headers=reg, json={"application_id": change.id})
    assert r.status_code == 409 and "application_id" in r.text
    cited = client.get(f"/api/ai/evidence/{pack.id}/citations", headers=reg).json()
    assert cited[0]["application_id"] == change.id
    page = client.get(f"/ai/evidence/{pack.id}", headers=reg)
    assert f'data-application="{change.id}"' in page.text
    page = client.get(f"/ai/applications/{change.id}/evidence", headers=cur)
    assert page.status_code == 200 and f'data-pack="{pack.id}"' in page.text
    other = bearer(client, _user(db, w.other))
    assert client.get(f"/api/ai/applications/{change.id}/evidence", headers=other).status_code == 404


def test_the_application_page_links_to_its_evidence_packs_for_owner_and_reviewer_only(client, db, case):
    """premarket may not import ai: the link comes through medreg.core.related, registered by the AI pages."""
    from medreg.core.related import related_links
    from tests.ai.test_api import _user
    from tests.web.test_registration_support import bearer

    w, pack, first, change = case
    registration.submit(db, w.registrant, change.id, on=wd(61))
    db.commit()
    reg, cur = bearer(client, _user(db, w.registrant)), bearer(client, _user(db, w.cmde))
    other = bearer(client, _user(db, w.other))
    link = f'href="/ai/applications/{change.id}/evidence" data-related="ai-evidence"'
    page = client.get(f"/registration/{change.id}", headers=reg)
    assert page.status_code == 200 and link not in page.text  # nothing cited yet: no link
    service_citations.cite_pack(db, w.registrant, pack.id, change.id)
    db.commit()
    for who in (reg, cur):
        page = client.get(f"/registration/{change.id}", headers=who)
        assert page.status_code == 200 and link in page.text and 'id="related-links"' in page.text
        assert "(1)" in page.text.split(link, 1)[1][:80]
        target = client.get(f"/ai/applications/{change.id}/evidence", headers=who)
        assert target.status_code == 200 and f'data-pack="{pack.id}"' in target.text
    page = client.get(f"/registration/{change.id}", headers=other)
    assert page.status_code == 404 and "/ai/applications/" not in page.text
    assert related_links(db, w.other, "registration_application", change.id) == []
    links = related_links(db, w.cmde, "registration_application", change.id)
    assert [x.key for x in links] == ["ai-evidence"]
    page = client.get(f"/registration/{first.id}", headers=reg)  # another application of the same owner
    assert page.status_code == 200 and "data-related=" not in page.text
