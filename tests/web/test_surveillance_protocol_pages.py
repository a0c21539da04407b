"""Registering a real-world evidence study protocol from the pages (and its JSON twin): the protocol is
stored timestamped with the SHA-256 of its canonical JSON and shown read-only; bad input is refused at
its field (4xx, the form kept, nothing written); only the centre, administrators and reviewers may
register; the page's protocol is the one the API and the service would register."""

from __future__ import annotations

import hashlib
import html as htmllib
import re

import pytest
from sqlalchemy import func, select

from medreg.core import audit
from medreg.core.accounts import OrgKind, Role
from medreg.core.audit import AuditEvent
from medreg.evidence.models import RegisteredProtocol
from medreg.evidence.protocol import protocol_hash
from medreg.surveillance.demo import PLANTED_DI
from medreg.surveillance.protocol_form import build_protocol
from tests.factories import make_org, make_user
from tests.surveillance.factories import stent_d_protocol
from tests.web.conftest import csrf_of, login
from tests.web.test_registration_support import bearer

FORM = {
    "title": "Stent D vs other stents: target-lesion failure at 180 days",
    "question": "Is target-lesion failure more frequent with stent D?",
    "device_group": "coronary_stent",
    "device_dis": PLANTED_DI,
    "comparator": "other stents of the registry",
    "inclusion-1-field": "age",
    "inclusion-1-op": ">=",
    "inclusion-1-value": "18",
    "inclusion-2-field": "",
    "inclusion-2-op": "==",
    "inclusion-2-value": "",
    "exclusion-1-field": "renal_failure",
    "exclusion-1-op": "==",
    "exclusion-1-value": "yes",
    "primary_outcome": "target_lesion_failure",
    "outcomes": ["death"],
    "analyses": ["kaplan_meier", "logrank", "cox_ph", "cumulative_incidence"],
    "follow_up_days": "180",
    "notes": "",
}


def _count(db) -> tuple[int, int]:
    return (db.scalar(select(func.count()).select_from(RegisteredProtocol)),
            db.scalar(select(func.count()).select_from(AuditEvent)))


@pytest.fixture
def centre(db):
    user = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    db.commit()
    return user


def _post(client, **changes):
    return client.post("/surveillance/studies/protocols/new",
                       data={**FORM, **changes, "csrf_token": csrf_of(client)}, follow_redirects=False)


def test_centre_registers_a_protocol_and_sees_it_read_only_with_its_hash(client, db, centre):
    login(client, centre.username)
    form = client.get("/surveillance/studies/protocols/new", headers={"Accept-Language": "en"})
    assert form.status_code == 200 and 'id="protocol-form"' in form.text
    done = _post(client)
    assert done.status_code == 303
    row = db.scalar(select(RegisteredProtocol))
    assert done.headers["location"] == f"/surveillance/studies/protocols/{row.id}?done=register"
    c = row.content
    assert c["outcomes"] == ["target_lesion_failure", "death"]  # the primary first
    assert c["inclusion"] == [{"field": "age", "op": ">=", "value": 18}]  # typed, blank row ignored
    assert c["exclusion"] == [{"field": "renal_failure", "op": "==", "value": True}]
    assert c["device_dis"] == [PLANTED_DI] and c["follow_up_days"] == 180
    assert row.registered_by == centre.username and row.registered_at is not None
    history = audit.history(db, "evidence_protocol", row.id)
    assert [e.action for e in history] == ["evidence.protocol.register"]
    page = client.get(done.headers["location"], headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert f'<code id="protocol-hash">{row.sha256}</code>' in page.text
    assert 'data-done="register"' in page.text and "<form" not in page.text.split('id="protocol"')[1]
    canonical = htmllib.unescape(re.search(r'<pre id="canonical">(.*?)</pre>', page.text, re.S).group(1))
    assert hashlib.sha256(canonical.encode("utf-8")).hexdigest() == row.sha256  # anyone can check it
    zh = client.get(done.headers["location"], headers={"Accept-Language": "zh-CN"}).text
    assert "靶病变失败" in zh and "注册" in zh  # the outcome's label in Chinese
    # the page registered exactly what the shared builder (and so the API) would register
    same = {**FORM, "outcomes": ["target_lesion_failure", "death"],
            "inclusion": [{"field": "age", "op": ">=", "value": "18"}],
            "exclusion": [{"field": "renal_failure", "op": "==", "value": "yes"}]}
    assert row.sha256 == protocol_hash(build_protocol(same))
    again = _post(client)  # the same protocol twice: a conflict, said on the form
    assert again.status_code == 409 and 'data-error="conflict"' in again.text


@pytest.mark.parametrize(("changes", "field"), [
    ({"title": ""}, "title"),
    ({"question": "   "}, "question"),
    ({"device_group": "kidney"}, "device_group"),
    ({"device_dis": "0697000000000"}, "device_dis"),
    ({"device_dis": "06970000000001"}, "device_dis"),  # wrong check digit
    ({"device_dis": ""}, "device_dis"),
    ({"inclusion-1-value": "old"}, "inclusion-1"),
    ({"inclusion-1-value": "300"}, "inclusion-1"),
    ({"inclusion-1-field": "patient_pseudonym"}, "inclusion-1"),
    ({"exclusion-1-op": ">"}, "exclusion-1"),
    ({"exclusion-1-value": "maybe"}, "exclusion-1"),
    ({"primary_outcome": "", "outcomes": []}, "outcomes"),
    ({"primary_outcome": "headache"}, "outcomes"),
    ({"analyses": []}, "analyses"),
    ({"analyses": ["anova"]}, "analyses"),
    ({"follow_up_days": "six months"}, "follow_up_days"),
    ({"follow_up_days": "0"}, "follow_up_days"),
    ({"title": "x" * 100_001}, "title"),
])
def test_bad_input_is_refused_at_its_field_and_nothing_is_written(client, db, centre, changes, field):
    login(client, centre.username)
    before = _count(db)
    response = _post(client, **changes)
    assert response.status_code == 422, response.text[:300]
    assert f'data-field="{field}"' in response.text and 'id="protocol-form"' in response.text
    assert _count(db) == before
    kept = FORM["question"] if field != "question" else FORM["title"]
    assert htmllib.escape(kept, quote=False) in response.text  # the form comes back as typed


def test_a_refused_form_keeps_every_choice(client, db, centre):
    login(client, centre.username)
    r = _post(client, primary_outcome="", outcomes=["death", "major_bleeding"], analyses=["logrank"])
    assert r.status_code == 422 and 'data-field="outcomes"' in r.text
    for checked in ("outcome-death", "outcome-major_bleeding", "analysis-logrank"):
        assert re.search(rf'id="{checked}"[^>]* checked', r.text), checked
    assert not re.search(r'id="analysis-cox_ph"[^>]* checked', r.text)
    assert 'value="renal_failure" selected' in r.text and 'id="exclusion-1-value" name="exclusion-1-value"' \
        ' maxlength="20" value="yes"' in r.text


@pytest.mark.parametrize("role", [Role.REGISTRANT, Role.HOSPITAL])
def test_only_centre_and_reviewers_register(client, db, role):
    kind = OrgKind.REGISTRANT if role == Role.REGISTRANT else OrgKind.HOSPITAL
    user = make_user(db, role, org=make_org(db, kind))
    db.commit()
    login(client, user.username)
    before = _count(db)
    assert client.get("/surveillance/studies/protocols/new").status_code == 403
    assert _post(client).status_code == 403
    assert _count(db) == before
    headers = bearer(client, user.username)
    api = client.post("/api/surveillance/studies/protocols", json=_body(), headers=headers)
    assert api.status_code == 403


def test_reviewer_may_register(client, db, reviewer):
    login(client, reviewer.username)
    assert _post(client).status_code == 303


def _body(**changes) -> dict:
    return {"title": FORM["title"], "question": FORM["question"], "device_group": "coronary_stent",
            "device_dis": [PLANTED_DI], "comparator": FORM["comparator"],
            "outcomes": ["target_lesion_failure"], "analyses": ["kaplan_meier", "logrank", "cox_ph",
                                                                 "cumulative_incidence"],
            "follow_up_days": 180, "inclusion": [{"field": "age", "op": ">=", "value": 18}], **changes}


def test_api_twin_registers_the_same_protocol_as_the_service(client, db, centre):
    headers = bearer(client, centre.username)
    created = client.post("/api/surveillance/studies/protocols", json=_body(), headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["sha256"] == protocol_hash(stent_d_protocol())
    twin = client.get(f"/api/surveillance/studies/protocols/{created.json()['id']}", headers=headers)
    assert twin.status_code == 200 and twin.json()["content"]["device_dis"] == [PLANTED_DI]
    bad = client.post("/api/surveillance/studies/protocols",
                      json=_body(inclusion=[{"field": "sex", "op": "<", "value": "M"}]), headers=headers)
    assert bad.status_code == 422 and bad.json()["field"] == "inclusion-1"
    assert client.get("/api/surveillance/studies/protocols/987654", headers=headers).status_code == 404
