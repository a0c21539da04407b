"""The 分类界定 pages over HTTP: file from a classification result, the reviewer's queue (longest waiting
first), the case page with the engine's trace, the signed decision, publication, the public list; refused
actions re-render with the field and the status (the browser test is tests/e2e/test_catalog_requests.py)."""

from __future__ import annotations

import html
import json
import re
from datetime import date

from medreg.catalog import service_requests as svc
from medreg.catalog.schemas import DeviceDescription
from tests.factories import PASSWORD, actor_for, make_org, make_user
from tests.web.conftest import csrf_of, login

ROBOT = {"name": "腹腔内窥镜手术控制系统", "structure": "active", "contact": "contact",
         "effect_on_outcome": "important"}


def _people(db):
    org = make_org(db, "registrant")
    reg = make_user(db, "registrant", org=org)
    rev = make_user(db, "reviewer", org=make_org(db, "regulator_unit"))
    db.commit()
    return reg, rev


def test_registrant_files_from_the_classification_result(client, db):
    reg, _rev = _people(db)
    assert login(client, reg.username).status_code == 303
    token = csrf_of(client)
    form = {"csrf_token": token, "name": ROBOT["name"], "structure": "active", "contact": "contact",
            "effect_on_outcome": "important"}
    page = client.post("/catalog/classify?lang=en", data=form)
    assert 'data-action="file-request"' in page.text
    facts = html.unescape(re.search(r"name=\"facts\" value='([^']+)'", page.text).group(1))
    assert json.loads(facts)["name"] == ROBOT["name"]
    filed = client.post("/catalog/requests", data={"csrf_token": token, "facts": facts})
    assert filed.status_code == 303
    case = client.get(filed.headers["location"] + "?lang=en")
    assert case.status_code == 200 and "Submitted, awaiting review" in case.text
    assert "令第15号 第六条（六）" in case.text and 'data-testid="trace-row"' in case.text
    assert 'data-action="withdraw"' in case.text and 'data-action="decide"' not in case.text
    mine = client.get("/catalog/requests?lang=zh_CN")
    assert ROBOT["name"] in mine.text and "已提交，待审查" in mine.text
    bad = client.post("/catalog/requests", data={"csrf_token": token, "facts": '{"sterile": "maybe"}'})
    assert bad.status_code == 422 and "sterile" in bad.text
    no_name = client.post("/catalog/requests", data={"csrf_token": token, "facts": '{"sterile": true}'})
    assert no_name.status_code == 422 and "name" in no_name.text


def test_queue_decide_publish_and_public_list(client, db):
    reg, rev = _people(db)
    facts = DeviceDescription(**ROBOT).model_dump()
    old = svc.submit(db, actor_for(reg), {**facts, "name": "早提交的手术控制系统"}, date(2026, 10, 5))
    new = svc.submit(db, actor_for(reg), facts, date(2026, 11, 20))
    db.commit()
    assert client.get("/catalog/requests").status_code == 303  # the queue needs a login
    login(client, rev.username)
    queue = client.get("/catalog/requests?lang=en").text
    ids = re.findall(r'data-testid="request-row" data-id="(\d+)"', queue)
    assert ids.index(str(old.id)) < ids.index(str(new.id))  # the longest waiting first
    # the statutory clock: 20 working days (Order 739 Art.23); filed 5 Oct 2026 -> due date shown
    assert "Order 739, Art.23" in queue and 'data-testid="due-on"' in queue
    old_case = client.get(f"/catalog/requests/{old.id}?lang=zh_CN").text
    assert "国务院令第739号 第二十三条" in old_case and 'data-testid="due-on"' in old_case
    token = csrf_of(client)
    case = client.get(f"/catalog/requests/{new.id}?lang=en").text
    assert 'data-action="decide"' in case and "opinion when the request was filed" in case
    wrong = client.post(f"/catalog/requests/{new.id}/decide?lang=en", data={
        "csrf_token": token, "expected_version": new.version, "decided_class": "III", "reason": "Art.6(6)",
        "password": "not-the-password"})
    assert wrong.status_code == 422 and 'data-field="password"' in wrong.text
    stale = client.post(f"/catalog/requests/{new.id}/decide", data={
        "csrf_token": token, "expected_version": new.version + 5, "decided_class": "III",
        "reason": "Art.6(6)", "password": PASSWORD})
    assert stale.status_code == 409 and 'data-field="expected_version"' in stale.text
    ok = client.post(f"/catalog/requests/{new.id}/decide", data={
        "csrf_token": token, "expected_version": new.version, "decided_class": "III",
        "reason": "令第15号 第六条（六）", "password": PASSWORD})
    assert ok.status_code == 303
    assert client.get("/catalog/determinations").text.count('data-testid="determination-row"') == 0
    db.refresh(new)
    pub = client.post(f"/catalog/requests/{new.id}/publish", data={"csrf_token": token,
                                                                 "expected_version": new.version})
    assert pub.status_code == 303
    client.post("/logout", data={"csrf_token": token})
    public = client.get("/catalog/determinations?lang=zh_CN")
    assert public.status_code == 200 and public.text.count('data-testid="determination-row"') == 1
    assert "第三类" in public.text and ROBOT["name"] in public.text
    assert client.get(f"/catalog/requests/{new.id}").status_code == 200  # published: public case page
    assert client.get(f"/catalog/requests/{old.id}").status_code == 404  # not published
    assert client.get("/catalog/requests/" + "9" * 40).status_code == 422
