"""A study analysis cited as real-world evidence in a registration case: through the report page and
the API, audited with both hashes, shown to those who may see the case, refused (4xx, nothing written)
for a case or a study one may not see, a second time, or bad input."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from medreg.core import audit
from medreg.core.accounts import OrgKind, Role
from medreg.evidence import service as evidence
from medreg.evidence.models import EvidenceCitation
from medreg.premarket.registration import service as registration
from medreg.surveillance.models import Monitor
from tests.factories import actor_for, make_org, make_user
from tests.premarket.test_registration_world import initial
from tests.surveillance.factories import small_protocol
from tests.web.conftest import login
from tests.web.test_registration_support import bearer

DI = "06991000000012"


@pytest.fixture
def cited(db):
    owner_org, other_org = make_org(db, OrgKind.REGISTRANT), make_org(db, OrgKind.REGISTRANT)
    db.add(Monitor(name="Stent X", device_group="coronary_stent", udi_di=DI, registrant_org_id=owner_org.id,
                   outcome="death", window_days=30, reference_start=date(2024, 1, 1),
                   reference_end=date(2024, 12, 31), alpha=0.05, sample_size=20.0, min_events=4,
                   critical_value=3.2))  # fmt: skip
    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    protocol = evidence.register_protocol(
        db,
        actor_for(centre),
        small_protocol(title="Stent X", device_group="coronary_stent", device_dis=(DI,)),
    )  # fmt: skip
    analysis = evidence.record_analysis(
        db, actor_for(centre), protocol.id, data_cutoff=date(2026, 6, 30),
        results={"n": 40, "n_device": 20, "logrank": {"statistic": 1.5, "p_value": 0.22}},
    )  # fmt: skip
    owner = make_user(db, Role.REGISTRANT, org=owner_org)
    other = make_user(db, Role.REGISTRANT, org=other_org)
    mine = registration.create_application(db, actor_for(owner), initial())
    theirs = registration.create_application(db, actor_for(other), initial())
    reviewer = make_user(db, Role.REVIEWER, org=make_org(db, OrgKind.REGULATOR_UNIT))
    db.commit()
    return dict(owner=owner, other=other, reviewer=reviewer, centre=centre, analysis=analysis, mine=mine,
                theirs=theirs)  # fmt: skip


def _count(db) -> int:
    return db.scalar(select(func.count()).select_from(EvidenceCitation))


def test_the_registrant_cites_its_study_in_its_application(client, db, cited):
    a, mine = cited["analysis"], cited["mine"]
    login(client, cited["owner"].username)
    page = client.get(f"/surveillance/studies/analyses/{a.id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and 'id="no-citations"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    form = {"csrf_token": token, "application_id": str(mine.id), "note": "Clinical evaluation, 4.2"}
    done = client.post(f"/surveillance/studies/analyses/{a.id}/cite", data=form)
    assert done.status_code == 303
    page = client.get(done.headers["location"], headers={"Accept-Language": "zh-CN"})
    assert f'data-application="{mine.id}"' in page.text and "作为真实世界证据的引用" in page.text
    row = db.scalar(select(EvidenceCitation))
    assert (row.results_sha256, row.protocol_sha256) == (a.results_sha256, a.protocol_sha256)
    events = [e for e in audit.history(db, "evidence_analysis", a.id) if e.action == "evidence.analysis.cite"]
    assert len(events) == 1
    twin = client.get(f"/api/surveillance/studies/analyses/{a.id}").json()
    assert [c["application_id"] for c in twin["citations"]] == [mine.id]
    # refused, 4xx with the reason, nothing written
    n = _count(db)
    for value, status in [(str(mine.id), 409), ("abc", 422), ("0", 422), (str(cited["theirs"].id), 404),
                          ("987654", 404)]:  # fmt: skip
        r = client.post(f"/surveillance/studies/analyses/{a.id}/cite", headers={"Accept-Language": "en"},
                        data={"csrf_token": token, "application_id": value})  # fmt: skip
        assert r.status_code == status and 'data-testid="form-error"' in r.text, value
        assert 'data-field="application_id"' in r.text
    assert _count(db) == n
    # the reviewer sees the study but not the registrant's draft, so not its citation either
    client.cookies.clear()
    login(client, cited["reviewer"].username)
    assert 'data-testid="citation"' not in client.get(f"/surveillance/studies/analyses/{a.id}").text


def test_citations_through_the_api_and_tenancy(client, db, cited):
    a = cited["analysis"]
    other = bearer(client, cited["other"].username)  # cannot see the study: it "does not exist"
    r = client.post(f"/api/surveillance/studies/analyses/{a.id}/citations", headers=other,
                    json={"application_id": cited["theirs"].id})  # fmt: skip
    assert r.status_code == 404
    owner = bearer(client, cited["owner"].username)
    for body in ({}, {"application_id": "x"}, {"application_id": 0}, {"application_id": 1, "extra": 1},
                 {"application_id": cited["mine"].id, "note": "x" * 2001}):  # fmt: skip
        assert client.post(f"/api/surveillance/studies/analyses/{a.id}/citations", headers=owner,
                           json=body).status_code == 422  # fmt: skip
    assert _count(db) == 0
    ok = client.post(f"/api/surveillance/studies/analyses/{a.id}/citations", headers=owner,
                     json={"application_id": cited["mine"].id, "note": "RWE"})  # fmt: skip
    assert ok.status_code == 201 and ok.json()["results_sha256"] == a.results_sha256
    centre = bearer(client, cited["centre"].username)  # the centre cannot see a registrant's draft case
    r = client.post(f"/api/surveillance/studies/analyses/{a.id}/citations", headers=centre,
                    json={"application_id": cited["mine"].id})  # fmt: skip
    assert r.status_code == 404 and r.json()["field"] == "application_id"


def test_the_registration_case_page_links_to_the_cited_study(client, db, cited):
    a, mine = cited["analysis"], cited["mine"]
    login(client, cited["owner"].username)
    before = client.get(f"/registration/{mine.id}", headers={"Accept-Language": "en"})
    assert before.status_code == 200 and f'data-related="rwe-study-{a.id}"' not in before.text
    owner = bearer(client, cited["owner"].username)
    assert client.post(f"/api/surveillance/studies/analyses/{a.id}/citations", headers=owner,
                       json={"application_id": mine.id}).status_code == 201  # fmt: skip
    page = client.get(f"/registration/{mine.id}", headers={"Accept-Language": "zh-CN"})
    assert f'href="/surveillance/studies/analyses/{a.id}" data-related="rwe-study-{a.id}"' in page.text
    assert "真实世界证据：研究分析" in page.text and "Stent X (2026-06-30)" in page.text
    login(client, cited["other"].username)  # another registrant: the case does not exist for it
    assert client.get(f"/registration/{mine.id}").status_code == 404
