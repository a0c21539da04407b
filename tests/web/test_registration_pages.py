"""HTML pages of registration: roles and tenancy, CSRF, PRG with errors next to the field, signed
decisions, certificates with obligations, consultations, the public look-up, zh_CN / en labels."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from medreg.core.clock import today_shanghai
from medreg.premarket.registration import service
from medreg.premarket.registration.models import (
    Consultation,
    PostApprovalObligation,
    RegistrationApplication,
)
from tests.factories import PASSWORD
from tests.premarket.test_registration_world import initial
from tests.web.conftest import csrf_of, login
from tests.web.test_registration_support import world


@pytest.fixture
def w(db):
    return world(db)


def as_user(app, username: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    assert login(client, username).status_code == 303
    return client


def post(client: TestClient, url: str, data: dict, files=None):
    return client.post(url, data={"csrf_token": csrf_of(client), **data}, files=files)


def status_of(html: str) -> str:
    match = re.search(r'data-testid="status" data-status="([a-z_]+)"', html)
    assert match, "the page shows a status badge"
    return match.group(1)


def version_in(html: str, form_id: str) -> str:
    form = html[html.index(f'id="{form_id}"'):]
    return re.search(r'name="expected_version" value="(\d+)"', form).group(1)


def _review_completed(db, w, **over):
    today = today_shanghai()
    app = service.create_application(db, w.registrant, initial(**over), on=today)
    service.submit(db, w.registrant, app.id, on=today)
    service.accept(db, w.cmde, app.id, on=today)
    service.start_review(db, w.cmde, app.id, on=today)
    service.complete_review(db, w.cmde, app.id, "Favourable.", on=today)
    db.commit()
    return app


PRIVATE = ["/registration/", "/registration/new", "/registration/queue", "/registration/obligations",
           "/registration/consultations", "/registration/1", "/registration/consultations/1"]


@pytest.mark.parametrize("path", PRIVATE)
def test_private_pages_send_the_anonymous_visitor_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_registrant_drafts_and_submits_through_the_forms(app, w, db):
    browser = as_user(app, w.registrant.username)
    page = browser.get("/registration/new")
    assert page.status_code == 200 and 'id="application-form"' in page.text
    assert f'<option value="{w.innovation_id}"' in page.text  # the approved innovative application
    created = post(browser, "/registration/new",
                   {**initial(), "innovation_application_id": str(w.innovation_id)})
    assert created.status_code == 303
    case_url = created.headers["location"].split("?")[0]
    case = browser.get(case_url)
    assert status_of(case.text) == "draft"
    assert 'data-testid="innovative"' in case.text and 'data-testid="priority"' in case.text
    assert 'data-action="submit"' in case.text and 'data-action="accept"' not in case.text
    done = post(browser, f"{case_url}/act/submit",
                {"expected_version": version_in(case.text, "action-submit")})
    assert done.status_code == 303
    case = browser.get(case_url)
    assert status_of(case.text) == "submitted"
    assert 'data-clock="registration.acceptance"' in case.text and 'data-event="submit"' in case.text
    assert re.search(r'<time datetime="[0-9T:.-]+\+08:00">', case.text)  # Beijing time
    assert "registration" in browser.get("/registration/").text

    # The other registrant may not know the case exists; the regulator sees it in the queue.
    other = as_user(app, w.other.username)
    assert other.get(case_url).status_code == 404
    assert case_url not in other.get("/registration/").text
    assert other.get("/registration/queue").status_code == 403
    office = as_user(app, w.cmde.username)
    queue = office.get("/registration/queue")
    assert queue.status_code == 200 and f'href="{case_url}"' in queue.text
    office_case = office.get(case_url).text
    assert {'data-action="accept"', 'data-action="request_corrections"'} <= set(
        re.findall(r'data-action="[a-z_]+"', office_case))
    assert 'data-action="withdraw"' not in office_case
    # A provincial bureau sees the Class III case but may not act on it (Order 47 Art.8).
    province_case = as_user(app, w.beijing.username).get(case_url).text
    assert status_of(province_case) == "submitted" and 'data-action="accept"' not in province_case


def test_bad_form_input_is_shown_next_to_its_field_and_nothing_is_written(app, w, db):
    browser = as_user(app, w.registrant.username)
    count = db.scalar(select(func.count()).select_from(RegistrationApplication))
    refused = post(browser, "/registration/new", {**initial(), "subcatalogue_code": "99"})
    assert refused.status_code == 422
    assert 'data-testid="field-error" data-field="subcatalogue_code"' in refused.text
    assert 'value="Maglev ventricular assist device"' in refused.text  # the input is kept
    no_token = browser.post("/registration/new", data=initial())
    assert no_token.status_code == 403
    assert db.scalar(select(func.count()).select_from(RegistrationApplication)) == count


def test_csrf_missing_on_an_action_is_403_and_nothing_changes(app, w, db):
    app_row = _review_completed(db, w)
    office = as_user(app, w.cmde.username)
    response = office.post(f"/registration/{app_row.id}/act/approve",
                           data={"expected_version": str(app_row.version), "password": PASSWORD})
    assert response.status_code == 403
    db.expire_all()
    assert db.get(RegistrationApplication, app_row.id).status == "review_completed"


def test_signed_decision_needs_the_password_then_issues_the_certificate(app, w, db, client):
    app_row = _review_completed(db, w)
    office = as_user(app, w.cmde.username)
    url = f"/registration/{app_row.id}"
    page = office.get(url).text
    assert {'data-action="approve"', 'data-action="approve_conditionally"', 'data-action="refuse"'} <= set(
        re.findall(r'data-action="[a-z_]+"', page))
    version = version_in(page, "action-approve")
    wrong = post(office, f"{url}/act/approve", {"expected_version": version, "password": "guess"})
    assert wrong.status_code == 422
    assert 'id="approve-password-error"' in wrong.text and status_of(wrong.text) == "review_completed"
    stale = post(office, f"{url}/act/approve",
                 {"expected_version": str(int(version) - 1), "password": PASSWORD})
    assert stale.status_code == 409 and 'data-field="expected_version"' in stale.text
    ok = post(office, f"{url}/act/approve", {"expected_version": version, "password": PASSWORD})
    assert ok.status_code == 303
    page = office.get(url).text
    assert status_of(page) == "approved"
    issued = post(office, f"{url}/act/issue_certificate",
                  {"expected_version": version_in(page, "action-issue_certificate")})
    assert issued.status_code == 303 and "/registration/certificates/" in issued.headers["location"]
    cert_page = office.get(issued.headers["location"]).text
    number = re.search(r'data-testid="certificate-number">([^<]+)<', cert_page).group(1)
    assert number.startswith("国械注准")
    assert f'data-testid="certificate-link">{number}' in office.get(url).text

    # The public finds it without logging in, by number, product or registrant.
    for q in (number, "Maglev", "Beijing Heart"):
        found = client.get("/public/certificates", params={"q": q})
        assert found.status_code == 200 and number in found.text, q
    assert 'id="no-certificates"' in client.get("/public/certificates", params={"q": "nothing"}).text
    public_cert = client.get(issued.headers["location"].split("?")[0])
    assert public_cert.status_code == 200 and "Beijing Heart Co" in public_cert.text
    assert 'id="apply-change"' not in public_cert.text and 'data-action="fulfil"' not in public_cert.text


def test_conditional_approval_shows_the_obligation_late_badge_and_fulfilment(app, w, db):
    app_row = _review_completed(db, w)
    office = as_user(app, w.cmde.username)
    url = f"/registration/{app_row.id}"
    version = version_in(office.get(url).text, "action-approve_conditionally")
    due = (today_shanghai() + timedelta(days=300)).isoformat()
    missing = post(office, f"{url}/act/approve_conditionally", {
        "expected_version": version, "password": PASSWORD, "ground": "rare_disease"})
    assert missing.status_code == 422 and 'data-field="conditions"' in missing.text
    ok = post(office, f"{url}/act/approve_conditionally", {
        "expected_version": version, "password": PASSWORD, "ground": "rare_disease",
        "condition_1_description": "Registry study of 200 patients", "condition_1_due_on": due})
    assert ok.status_code == 303, ok.text
    page = office.get(url).text
    cert_url = post(office, f"{url}/act/issue_certificate",
                    {"expected_version": version_in(page, "action-issue_certificate")}).headers["location"]
    cert_page = office.get(cert_url).text
    assert 'data-testid="conditional"' in cert_page and "Registry study of 200 patients" in cert_page
    assert 'data-testid="late"' not in cert_page

    ob = db.scalars(select(PostApprovalObligation)).one()
    ob.due_on = today_shanghai() - timedelta(days=2)
    db.commit()
    overview = office.get("/registration/obligations").text
    assert f'<tr data-id="{ob.id}" class="overdue" data-late="true">' in overview
    registrant = as_user(app, w.registrant.username)
    mine = registrant.get(cert_url.split("?")[0]).text
    assert 'data-testid="late"' in mine and 'id="apply-renewal"' in mine
    form_id = f"fulfil-{ob.id}"
    cert_id = cert_url.split("/")[-1].split("?")[0]
    empty = post(registrant, f"/registration/obligations/{ob.id}/fulfil",
                 {"expected_version": version_in(mine, form_id), "certificate_id": cert_id})
    assert empty.status_code == 422 and 'data-field="evidence"' in empty.text
    done = post(registrant, f"/registration/obligations/{ob.id}/fulfil",
                {"expected_version": version_in(mine, form_id), "certificate_id": cert_id},
                files={"evidence": ("report.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
                                    "application/pdf")})
    assert done.status_code == 303, done.text
    db.expire_all()
    assert db.get(PostApprovalObligation, ob.id).status == "fulfilled"
    assert 'data-obligation-status="fulfilled"' in registrant.get(cert_url.split("?")[0]).text


def test_consultation_asked_by_the_registrant_and_answered_by_the_office(app, w, db):
    registrant = as_user(app, w.registrant.username)
    page = registrant.get("/registration/consultations")
    assert page.status_code == 200 and 'id="consultation-form"' in page.text
    asked = post(registrant, "/registration/consultations", {
        "innovation_application_id": str(w.innovation_id), "topic": "major_safety",
        "question": "Is the haemolysis test plan adequate?"})
    assert asked.status_code == 303
    c_url = asked.headers["location"].split("?")[0]
    mine = registrant.get(c_url).text
    assert status_of(mine) == "submitted" and 'data-clock="registration.consultation_answer"' in mine
    assert 'data-action="withdraw"' in mine and 'data-action="answer"' not in mine
    assert as_user(app, w.other.username).get(c_url).status_code == 404

    office = as_user(app, w.cmde.username)
    theirs = office.get(c_url).text
    assert 'data-action="answer"' in theirs and 'data-action="withdraw"' not in theirs
    blank = post(office, f"{c_url}/act/answer", {"expected_version": version_in(theirs, "action-answer"),
                                                 "answer": "  "})
    assert blank.status_code == 422 and 'data-field="answer"' in blank.text
    answered = post(office, f"{c_url}/act/answer", {"expected_version": version_in(theirs, "action-answer"),
                                                    "answer": "Yes, per ISO 10993-4."})
    assert answered.status_code == 303
    assert status_of(registrant.get(c_url).text) == "answered"
    assert db.scalar(select(Consultation.answer)) == "Yes, per ISO 10993-4."


def test_labels_in_chinese_and_english_and_nav_by_role(app, w, client):
    browser = as_user(app, w.registrant.username)
    zh = browser.get("/registration/", params={"lang": "zh_CN"}).text
    en = browser.get("/registration/", params={"lang": "en"}).text
    assert "<h1>注册申请</h1>" in zh and "<h1>Registration applications</h1>" in en
    assert 'href="/registration/obligations"' in browser.get("/").text
    assert 'href="/registration/queue"' not in browser.get("/").text
    public = client.get("/public/certificates", params={"lang": "zh_CN"}).text
    assert "<h1>注册证查询</h1>" in public
    home = client.get("/").text
    assert 'href="/public/certificates"' in home and 'href="/registration/"' not in home
    office = as_user(app, w.cmde.username)
    assert 'href="/registration/queue"' in office.get("/").text
    assert "<h1>Registration queue</h1>" in office.get("/registration/queue", params={"lang": "en"}).text
    assert "<h1>注册审评队列</h1>" in office.get("/registration/queue", params={"lang": "zh_CN"}).text
