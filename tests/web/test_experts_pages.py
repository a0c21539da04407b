"""Expert pages: the pool for the office only, an expert's own assignments, the signed opinion form
(errors next to their field, nothing written), and the JSON twins."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from medreg.core.audit import AuditEvent
from medreg.premarket.experts.models import ExpertAssignment
from tests.factories import PASSWORD
from tests.web.innovation_helpers import browser, status_in, to_stage, web_world


@pytest.fixture
def ww(db):
    return web_world(db)


def test_expert_pool_is_for_the_office(app, db, ww, client):
    office, _ = browser(app, ww.office)
    page = office.get("/experts/")
    assert page.status_code == 200 and page.text.count('data-testid="expert-row"') == 4
    for who in (ww.registrant, ww.province, ww.experts[0][1]):
        c, _ = browser(app, who)
        assert c.get("/experts/").status_code == 403
    assert len(client.get("/api/experts", headers=ww.h(ww.office)).json()) == 4
    assert 'href="/experts/"' in office.get("/").text


def test_assignments_and_signed_opinion(app, db, ww):
    case = to_stage(db, ww, "expert_review")
    first, second = ww.experts[0][1], ww.experts[3][1]  # the fourth expert is not assigned
    ex, token = browser(app, first)
    listing = ex.get("/experts/assignments?lang=en").text
    assignment = re.search(
        rf'data-assignment="(\d+)" data-application="{case.id}" data-pending="true"', listing
    )
    assert assignment and "My assignments" in listing
    url = f"/experts/assignments/{assignment.group(1)}"
    page = ex.get(url).text
    assert status_in(page) == "expert_review" and 'data-action="give_opinion"' in page
    assert ex.get(f"/innovation/{case.id}").status_code == 200  # the dossier of an assigned case

    outsider, _ = browser(app, second)
    assert outsider.get(url).status_code == 404
    assert outsider.get(f"/innovation/{case.id}").status_code == 404
    assert 'id="no-assignments"' in outsider.get("/experts/assignments").text
    registrant, _ = browser(app, ww.registrant)
    assert registrant.get(url).status_code == 403

    def events() -> int:
        db.expire_all()
        return db.scalar(select(func.count()).select_from(AuditEvent))

    before = events()
    r = ex.post(
        f"{url}/opinion?lang=zh_CN",
        data={
            "csrf_token": token,
            "opinion": "agree",
            "reasoning": "Reasoned opinion text.",
            "password": "wrong",
        },
    )
    assert r.status_code == 422 and 'id="give_opinion-password-error"' in r.text and "密码不正确" in r.text
    assert 'value="agree" required checked' in r.text  # the choice is kept, the password is not
    r = ex.post(
        f"{url}/opinion",
        data={
            "csrf_token": token,
            "opinion": "maybe",
            "reasoning": "Reasoned opinion text.",
            "password": PASSWORD,
        },
    )
    assert r.status_code == 422 and 'data-field="opinion"' in r.text
    r = ex.post(f"{url}/opinion", data={"opinion": "agree", "reasoning": "No token.", "password": PASSWORD})
    assert r.status_code == 403
    assert events() == before
    assert db.get(ExpertAssignment, int(assignment.group(1))).submitted_at is None

    r = ex.post(
        f"{url}/opinion",
        data={
            "csrf_token": token,
            "opinion": "disagree",
            "reasoning": "Not new: see the 2019 paper.",
            "password": PASSWORD,
        },
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?done=give_opinion")
    page = ex.get(r.headers["location"]).text
    assert 'data-opinion="disagree"' in page and 'data-testid="form-give_opinion"' not in page
    r = ex.post(
        f"{url}/opinion",
        data={
            "csrf_token": token,
            "opinion": "agree",
            "reasoning": "Changed my mind meanwhile.",
            "password": PASSWORD,
        },
    )
    assert r.status_code == 409  # once (CMDE Art.17)
    office, _ = browser(app, ww.office)
    assert 'data-disagree="1"' in office.get(f"/innovation/{case.id}").text
