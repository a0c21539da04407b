"""The innovation pages driven like a browser, one cookie session per person: registrant -> province
-> office -> three experts -> public notice -> anonymous objection -> answer -> close -> signed decision."""

from __future__ import annotations

import re

from sqlalchemy import select

from medreg.premarket.experts.models import ExpertAssignment
from medreg.premarket.innovation.models import InnovationApplication
from medreg.premarket.innovation.rules import required_documents
from tests.factories import PASSWORD
from tests.premarket.innovation_world import PDF
from tests.web.innovation_helpers import (
    browser,
    csrf_from,
    draft,
    move_today,
    status_in,
    version_in,
    web_world,
)

FLAGS = ("domestically_first", "internationally_leading", "significant_clinical_value")


def form_draft(**overrides) -> dict:
    data = {k: ("" if v is None else v) for k, v in draft(**overrides).items()}
    for flag in FLAGS:
        data[flag] = "on" if data[flag] else ""
    return {k: v for k, v in data.items() if v != ""}


def _post(client, token, url, **data):
    return client.post(url, data={"csrf_token": token, **data})


def test_whole_flow_through_the_pages(app, db, monkeypatch):
    ww = web_world(db)
    reg, rt = browser(app, ww.registrant)
    assert reg.get("/innovation/").status_code == 200
    assert 'id="draft-form"' in reg.get("/innovation/new").text
    r = _post(reg, rt, "/innovation/new", **form_draft())
    assert r.status_code == 303, r.text
    app_id = int(re.search(r"/innovation/(\d+)", r.headers["location"]).group(1))
    page = reg.get(r.headers["location"]).text
    assert status_in(page) == "draft" and 'data-eligible="false"' in page  # no dossier yet
    assert 'data-task="submit"' in reg.get("/innovation/").text  # what is asked of me

    for i, doc in enumerate(required_documents(is_domestic=True, patent_kind="granted")):
        r = reg.post(
            f"/innovation/{app_id}/documents",
            data={"csrf_token": rt, "doc_type": doc.value, "title": doc.value},
            files={"file": (f"{doc.value}.pdf", PDF + f"page{i}".encode(), "application/pdf")},
        )
        assert r.status_code == 303, r.text
    page = reg.get(f"/innovation/{app_id}").text
    assert 'data-eligible="true"' in page and page.count('data-testid="document"') == 10
    link = re.search(r'href="(/innovation/\d+/documents/\d+)" data-testid="download"', page).group(1)
    assert reg.get(link).content.startswith(b"%PDF")

    r = _post(reg, rt, f"/innovation/{app_id}/submit", expected_version=version_in(page))
    assert r.status_code == 303
    assert status_in(reg.get(f"/innovation/{app_id}").text) == "province_review"

    prov, pt = browser(app, ww.province)
    queue = prov.get("/innovation/queue").text
    assert f'data-testid="queue-row" data-application="{app_id}"' in queue
    page = prov.get(f"/innovation/{app_id}").text
    assert 'data-action="province_pass"' in page and 'data-action="accept"' not in page
    r = _post(
        prov,
        pt,
        f"/innovation/{app_id}/province_pass",
        opinion="Meets No.83 Art.2.",
        expected_version=version_in(page),
    )
    assert r.status_code == 303

    office, ot = browser(app, ww.office)
    page = office.get(f"/innovation/{app_id}").text
    assert status_in(page) == "submitted"
    r = _post(office, ot, f"/innovation/{app_id}/accept", expected_version=version_in(page))
    assert r.status_code == 303
    page = office.get(f"/innovation/{app_id}").text
    assert status_in(page) == "accepted" and 'data-testid="acceptance-no">CQTS' in page
    chosen = re.findall(r'data-testid="candidate" data-expert="(\d+)" data-selectable="true"', page)[:3]
    assert len(chosen) == 3
    r = office.post(
        f"/innovation/{app_id}/assign_experts",
        data={
            "csrf_token": ot,
            "expected_version": version_in(page),
            "expert_ids": chosen,
            "leader_id": chosen[1],
        },
    )
    assert r.status_code == 303, r.text
    page = office.get(f"/innovation/{app_id}").text
    assert status_in(page) == "expert_review" and 'data-pending="3"' in page

    experts = {str(e.id): a for e, a in ww.experts}
    for eid in chosen:
        ex, et = browser(app, experts[eid])
        listing = ex.get("/experts/assignments").text
        assignment = re.search(rf'data-assignment="(\d+)" data-application="{app_id}"', listing).group(1)
        page = ex.get(f"/experts/assignments/{assignment}").text
        assert 'data-testid="form-give_opinion"' in page
        r = _post(
            ex,
            et,
            f"/experts/assignments/{assignment}/opinion",
            opinion="agree",
            reasoning="Novel pump, clear clinical value.",
            password=PASSWORD,
        )
        assert r.status_code == 303, r.text
        assert 'data-opinion="agree"' in ex.get(r.headers["location"]).text

    page = office.get(f"/innovation/{app_id}").text
    assert 'data-agree="3"' in page
    r = _post(
        office,
        ot,
        f"/innovation/{app_id}/conclude",
        outcome="propose",
        reasons="All three agree.",
        determined_class="III",
        notice_working_days="10",
        expected_version=version_in(page),
    )
    assert r.status_code == 303, r.text

    public, pub_token = browser(app)
    notices = public.get("/public/notices").text
    notice_id = re.search(r'data-testid="notice" data-notice="(\d+)" data-open="true"', notices).group(1)
    r = _post(
        public,
        csrf_from(notices),
        f"/public/notices/{notice_id}/objections",
        name="Li Lei",
        organisation="A hospital",
        contact="li@example.org",
        text="The novelty was published in 2019.",
    )
    assert r.status_code == 303, r.text
    assert 'data-done="file_objection"' in public.get(r.headers["location"]).text

    page = office.get(f"/innovation/{app_id}").text
    objection = re.search(
        r'data-testid="objection" data-objection="(\d+)" data-answered="false"', page
    ).group(1)
    assert "li@example.org" in page  # the office sees the objector's contact
    assert "li@example.org" not in reg.get(f"/innovation/{app_id}").text  # the applicant does not
    r = _post(
        office,
        ot,
        f"/innovation/objections/{objection}/answer",
        application_id=str(app_id),
        answer="The 2019 paper describes another pump.",
    )
    assert r.status_code == 303

    move_today(monkeypatch, 30)
    page = office.get(f"/innovation/{app_id}").text
    r = _post(office, ot, f"/innovation/{app_id}/close_notice", expected_version=version_in(page))
    assert r.status_code == 303, r.text
    page = office.get(f"/innovation/{app_id}").text
    assert status_in(page) == "decision_pending"
    r = _post(
        office,
        ot,
        f"/innovation/{app_id}/decide",
        approve="true",
        password="not my password",
        expected_version=version_in(page),
    )
    assert r.status_code == 422 and 'id="decide-password-error"' in r.text
    assert status_in(r.text) == "decision_pending"
    r = _post(
        office,
        ot,
        f"/innovation/{app_id}/decide",
        approve="true",
        password=PASSWORD,
        expected_version=version_in(page),
    )
    assert r.status_code == 303, r.text
    page = reg.get(f"/innovation/{app_id}").text
    assert status_in(page) == "approved"
    assert 'data-event="approve"' in page and 'data-event="sign"' in page
    db.expire_all()
    assert db.get(InnovationApplication, int(app_id)).decision_signature_id is not None
    assert (
        len(db.scalars(select(ExpertAssignment).where(ExpertAssignment.application_id == app_id)).all()) == 3
    )
