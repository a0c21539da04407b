"""Vigilance pages: file a report through the form (quality reasons shown), submit it, the provincial
centre returns it and accepts the correction; both languages; field errors on the form."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from medreg.core.accounts import OrgKind, Role
from tests.factories import make_org, make_user
from tests.web.conftest import app, csrf_of, login  # noqa: F401  (fixtures)

FORM = {
    "reporter.role": "using_entity",
    "device.generic_name": "Central venous catheter (demo)",
    "device.registration_number": "国械注准20253030001",
    "device.udi": "(01)06901234567892(11)250101(17)271231(10)LOT42",
    "device.model": "CVC-7F",
    "event.event_date": "2025-03-04",
    "event.aware_at": "2025-03-03T10:00",
    "event.outcome": "serious_injury",
    "event.province": "Beijing",
    "patient.age_years": "67",
    "patient.sex": "female",
    "event.description": "The catheter tip fractured during insertion.",
    "codes.device_problem": "A040101",
    "codes.health_impact": "F1901",
}


@pytest.fixture
def users(db):
    hospital = make_user(db, Role.HOSPITAL, org=make_org(db, OrgKind.HOSPITAL, province="Beijing"))
    centre = make_user(
        db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE, province="Beijing")
    )
    db.commit()
    return hospital, centre


def _client(app, user, lang):  # noqa: F811
    c = TestClient(app, follow_redirects=False)
    c.cookies.set("lang", lang)
    assert login(c, user.username).status_code in (302, 303)
    return c


def _post(c, url, data):
    return c.post(url, data={**data, "csrf_token": csrf_of(c)})


@pytest.mark.parametrize(
    ("lang", "texts"),
    [
        (
            "en",
            ("Report quality", "The event date is after the date of awareness.", "Returned for correction"),
        ),
        ("zh_CN", ("报告质量", "事件发生日期晚于发现或者获知日期。", "退回修改")),
    ],
)
def test_file_submit_return_accept(app, users, lang, texts):  # noqa: F811
    hospital, centre = users
    h = _client(app, hospital, lang)
    assert h.get("/vigilance/new").status_code == 200
    r = _post(h, "/vigilance/new", FORM)
    assert r.status_code == 303, r.text
    url = r.headers["location"].split("?")[0]
    page = h.get(url).text
    assert texts[0] in page and texts[1] in page  # quality and its reason, in the page's language
    version = re.search(r'name="expected_version" value="(\d+)"', page).group(1)
    assert _post(h, f"{url}/submit", {"expected_version": version}).status_code == 303
    c = _client(app, centre, lang)
    page = c.get(url).text
    version = re.search(r'name="expected_version" value="(\d+)"', page).group(1)
    assert (
        _post(c, f"{url}/return_for_correction", {"expected_version": version, "reason": "Lot?"}).status_code
        == 303
    )
    assert texts[2] in c.get(url).text
    page = h.get(url).text
    version = re.search(r'name="expected_version" value="(\d+)"', page).group(1)
    assert _post(h, f"{url}/resubmit", {"expected_version": version}).status_code == 303
    page = c.get(url).text
    version = re.search(r'name="expected_version" value="(\d+)"', page).group(1)
    assert _post(c, f"{url}/accept", {"expected_version": version}).status_code == 303
    assert 'data-status="at_national"' in c.get(url).text
    assert url.split("/")[-1] in c.get("/vigilance/").text


def test_form_errors_name_the_field(app, users):  # noqa: F811
    h = _client(app, users[0], "en")
    r = _post(h, "/vigilance/new", {**FORM, "codes.device_problem": "E0101"})
    assert r.status_code == 422
    assert 'data-field="codes.device_problem"' in r.text and 'value="E0101"' in r.text
    r = _post(h, "/vigilance/new", {**FORM, "patient.age_years": "old"})
    assert r.status_code == 422 and 'data-field="patient.age_years"' in r.text


def test_stale_version_and_foreign_report(app, users, db):  # noqa: F811
    h = _client(app, users[0], "en")
    url = _post(h, "/vigilance/new", FORM).headers["location"].split("?")[0]
    assert _post(h, f"{url}/submit", {"expected_version": "999"}).status_code == 409
    other = make_user(db, Role.HOSPITAL, org=make_org(db, OrgKind.HOSPITAL))
    db.commit()
    assert _client(app, other, "en").get(url).status_code == 404


def test_centre_review_and_registrant_final_report(app, db):  # noqa: F811
    from datetime import timedelta

    from medreg.vigilance import service
    from tests.vigilance.world import AWARE, form, make_world

    w = make_world(db)
    ids = []
    for _ in range(3):
        case = service.create_report(
            db, w.hospital, form(device__registrant_org_id=w.registrant.organisation_id)
        )
        ids.append(service.submit(db, w.hospital, case.id, now=AWARE + timedelta(days=1)).id)
    from medreg.core.accounts import User

    national = db.get(User, w.national.user_id)
    registrant = db.get(User, w.registrant.user_id)
    hospital = db.get(User, w.hospital.user_id)
    db.commit()
    c = _client(app, national, "zh_CN")
    page = c.get("/vigilance/review").text
    assert 'data-testid="duplicate-row"' in page and 'data-testid="cluster"' in page and "重复" in page
    assert 'data-testid="by-reporter-row"' in page and "逾期" in page
    r = _post(
        c, "/vigilance/review/decide", {"case_a": str(ids[0]), "case_b": str(ids[1]), "decision": "merged"}
    )
    assert r.status_code == 303
    assert f'data-pair="{ids[0]}-{ids[1]}"' not in c.get("/vigilance/review").text
    r = _post(
        c, "/vigilance/review/decide", {"case_a": str(ids[0]), "case_b": str(ids[0]), "decision": "merged"}
    )
    assert r.status_code == 422
    assert _client(app, hospital, "en").get("/vigilance/review").status_code == 403

    reg = _client(app, registrant, "en")
    page = reg.get(f"/vigilance/{ids[2]}").text
    assert 'data-testid="final-form"' in page
    version = re.search(r'name="expected_version" value="(\d+)"', page).group(1)
    r = _post(reg, f"/vigilance/{ids[2]}/final", {"expected_version": version, "evaluation.summary": ""})
    assert r.status_code == 422 and "evaluation" in r.text
    r = _post(
        reg,
        f"/vigilance/{ids[2]}/final",
        {"expected_version": version, "evaluation.summary": "Confirmed.", "codes.investigation_type": "B01"},
    )
    assert r.status_code == 303
    assert "final" in reg.get(f"/vigilance/{ids[2]}").text


@pytest.mark.parametrize(("lang", "kind_label"), [("en", "Follow-up report"), ("zh_CN", "补充报告")])
def test_follow_up_page_adds_a_version_and_shows_what_changed(app, users, lang, kind_label):  # noqa: F811
    h = _client(app, users[0], lang)
    url = _post(h, "/vigilance/new", FORM).headers["location"].split("?")[0]
    assert h.get(f"{url}/follow-up").status_code == 200  # a draft: the page shows, the service refuses
    version = re.search(r'name="expected_version" value="(\d+)"', h.get(url).text).group(1)
    r = _post(h, f"{url}/follow-up", {**FORM, "expected_version": version})
    assert r.status_code == 409  # no follow-up before the first report is submitted
    assert _post(h, f"{url}/submit", {"expected_version": version}).status_code == 303
    page = h.get(url).text
    assert 'id="add-follow-up"' in page
    form_page = h.get(f"{url}/follow-up").text  # starts from the current version
    assert 'value="CVC-7F"' in form_page and 'value="2025-03-03T10:00"' in form_page
    assert 'value="A040101"' in form_page and 'data-testid="picker-codes.device_problem"' in form_page
    version = re.search(r'name="expected_version" value="(\d+)"', form_page).group(1)
    changed = {**FORM, "event.actions_taken": "Device returned to the registrant.",
               "codes.component": "G04129",
               "expected_version": version}
    r = _post(h, f"{url}/follow-up", {**changed, "codes.device_problem": "E0101"})
    assert r.status_code == 422 and 'data-field="codes.device_problem"' in r.text
    assert 'value="Device returned to the registrant."' not in r.text  # a textarea keeps it as text
    assert "Device returned to the registrant." in r.text
    assert _post(h, f"{url}/follow-up", changed).status_code == 303
    page = h.get(url).text
    row = re.search(r'<tr data-version="2" data-kind="follow_up">(.*?)</tr>', page, re.S).group(1)
    assert kind_label in row and "codes.component" in row and "event.actions_taken" in row
    assert "device.model" not in row
    api = h.get(f"/api/vigilance/reports/{url.split('/')[-1]}").json()
    assert [v["kind"] for v in api["versions"]] == ["initial", "follow_up"]


def test_follow_up_of_another_organisations_report_is_not_found(app, users, db):  # noqa: F811
    h = _client(app, users[0], "en")
    url = _post(h, "/vigilance/new", FORM).headers["location"].split("?")[0]
    other = make_user(db, Role.HOSPITAL, org=make_org(db, OrgKind.HOSPITAL))
    db.commit()
    assert _client(app, other, "en").get(f"{url}/follow-up").status_code == 404


def test_aet_picker_fragment_searches_the_fields_annex(app, users):  # noqa: F811
    h = _client(app, users[0], "en")
    r = h.get("/vigilance/aet-picker", params={"field": "codes.device_problem", "aet_q": "fracture"})
    assert r.status_code == 200
    codes = re.findall(r'data-code="([A-Z0-9]+)"', r.text)
    assert codes[:2] == ["A040101", "A040104"] and all(c.startswith("A") for c in codes)
    assert "getElementById('codes.device_problem')" in r.text
    r = h.get("/vigilance/aet-picker", params={"field": "codes.component", "aet_q": "fracture"})
    assert all(c.startswith("G") for c in re.findall(r'data-code="([A-Z0-9]+)"', r.text))
    assert "No IMDRF term matches." in h.get("/vigilance/aet-picker", params={"field": "codes.health_impact",
                                                                             "aet_q": "zzzqqq"}).text
    zh = _client(app, users[0], "zh_CN")
    r = zh.get("/vigilance/aet-picker", params={"field": "codes.device_problem", "aet_q": "断裂"})
    assert "没有匹配的IMDRF术语" in r.text
    assert h.get("/vigilance/aet-picker", params={"field": "device.model", "aet_q": "x"}).status_code == 422
    assert h.get("/vigilance/aet-picker", params={"field": "codes.x" * 10, "aet_q": "x"}).status_code == 422
