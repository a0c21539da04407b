"""Export sales certificates over HTTP: the public check (page and JSON twin, no login) for a valid,
expired and revoked certificate, a wrong code answered exactly like an unknown number; the provincial
bureau's issue form; the holder's certificate with its QR code and PDF. Both databases."""

from __future__ import annotations

import re
from datetime import date

import pytest

from medreg.core import qr
from medreg.premarket.registration import service_export
from tests.premarket.test_registration_world import build, initial, to_certificate
from tests.web.conftest import csrf_of, login

TODAY = date(2026, 11, 30)


@pytest.fixture
def world(db, monkeypatch):
    monkeypatch.setattr("medreg.core.clock.today_shanghai", lambda: TODAY)
    monkeypatch.setattr("medreg.premarket.registration.pages_export.today_shanghai", lambda: TODAY)
    monkeypatch.setattr("medreg.premarket.registration.service_support.today_shanghai", lambda: TODAY)
    w = build(db)
    _app, cert = to_certificate(db, w, w.registrant, initial())
    valid = service_export.issue_export_certificate(db, w.beijing, {"registration_numbers": [cert.number]},
                                                    on=date(2026, 11, 2))
    expired = service_export.issue_export_certificate(
        db, w.beijing, {"registration_numbers": [cert.number], "valid_until": "2026-11-29"},
        on=date(2026, 11, 2))
    revoked = service_export.issue_export_certificate(db, w.beijing, {"registration_numbers": [cert.number]},
                                                      on=date(2026, 11, 2))
    service_export.revoke_export_certificate(db, w.beijing, revoked.id, "Art.10: no longer made",
                                             on=date(2026, 11, 20))
    db.commit()
    return w, cert, valid, expired, revoked


def _verify(client, number, code, lang="en"):
    return client.get("/verify/export", params={"number": number, "code": code, "lang": lang})


def test_public_check_of_a_valid_certificate_page_and_json(client, world):
    _w, cert, valid, _e, _r = world
    page = _verify(client, valid.number_en, valid.verification_code)
    assert page.status_code == 200
    assert 'data-status="valid"' in page.text and "Beijing Heart Co" in page.text
    assert cert.number in page.text and "Maglev ventricular assist device" in page.text
    zh = _verify(client, valid.number_zh, valid.verification_code.lower(), lang="zh_CN")
    assert "有效" in zh.text and 'data-status="valid"' in zh.text
    api = client.get("/api/verify/export",
                     params={"number": valid.number_en, "code": valid.verification_code})
    assert api.status_code == 200
    body = api.json()
    assert body["status"] == "valid" and body["holder"] == "Beijing Heart Co"
    assert body["devices"] == [{"product_name": "Maglev ventricular assist device",
                                "model_spec": "HM-3; HM-3S", "registration_number": cert.number}]
    assert body["issued_on"] == "2026-11-02" and body["checked_on"] == TODAY.isoformat()
    assert "verification_code" not in body


def test_wrong_code_is_answered_exactly_like_an_unknown_number(client, world):
    _w, _c, valid, _e, _r = world
    wrong_code = "ZZZZ-ZZZZ-ZZZZ" if valid.verification_code != "ZZZZ-ZZZZ-ZZZZ" else "YYYY-YYYY-YYYY"
    wrong = client.get("/api/verify/export", params={"number": valid.number_en, "code": wrong_code})
    unknown = client.get("/api/verify/export", params={"number": "No.MDBJ2026000999", "code": wrong_code})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
    pages = []
    for n in (valid.number_en, "No.MDBJ2026000999"):
        text = _verify(client, n, wrong_code).text
        assert 'id="no-match"' in text and "Beijing Heart Co" not in text
        pages.append(text[text.index("<main"):text.index("</main>")].replace(f'value="{n}"', 'value="N"'))
    assert pages[0] == pages[1]


def test_expired_and_revoked_are_shown_as_such(client, world):
    _w, _c, _v, expired, revoked = world
    page = _verify(client, expired.number_en, expired.verification_code)
    assert 'data-status="expired"' in page.text and 'id="expired-warning"' in page.text
    page = _verify(client, revoked.number_en, revoked.verification_code, lang="zh_CN")
    assert 'data-status="revoked"' in page.text and 'id="revoked-warning"' in page.text
    assert "已作废" in page.text
    api = client.get("/api/verify/export",
                     params={"number": revoked.number_zh, "code": revoked.verification_code})
    assert api.json()["status"] == "revoked" and api.json()["revoked_on"] == "2026-11-20"


def test_province_issues_through_the_form_and_the_holder_sees_code_qr_and_pdf(client, world, db):
    w, cert, _v, _e, _r = world
    login(client, w.beijing.username)
    token = csrf_of(client)
    done = client.post("/registration/export-certificates",
                       data={"registration_numbers": cert.number, "csrf_token": token})
    assert done.status_code == 303, done.text
    export_id = int(re.search(r"/export-certificates/(\d+)", done.headers["location"]).group(1))
    client.post("/logout", data={"csrf_token": token})
    login(client, w.registrant.username)
    page = client.get(f"/registration/export-certificates/{export_id}?lang=en")
    assert page.status_code == 200
    code = re.search(r'data-testid="verification-code">([0-9A-Z-]{14})<', page.text).group(1)
    assert "<svg" in page.text and "/verify/export?number=No.MDBJ2026000004&amp;code=" + code in page.text
    # the QR code on the page is the one of the verification URL
    url = f"http://testserver/verify/export?number=No.MDBJ2026000004&code={code}"
    assert qr.svg(url, module=3, title="No.MDBJ2026000004") in page.text
    pdf = client.get(f"/registration/export-certificates/{export_id}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    listing = client.get("/registration/export-certificates")
    assert listing.status_code == 200 and 'id="issue"' not in listing.text  # registrants do not issue


def test_other_registrants_and_other_provinces_cannot_open_or_issue(client, world):
    w, cert, valid, _e, _r = world
    login(client, w.other.username)
    assert client.get(f"/registration/export-certificates/{valid.id}").status_code == 404
    assert client.get(f"/api/registration/export-certificates/{valid.id}").status_code == 404
    token = csrf_of(client)
    client.post("/logout", data={"csrf_token": token})
    login(client, w.shanghai.username)
    token = csrf_of(client)
    refused = client.post("/registration/export-certificates",
                          data={"registration_numbers": cert.number, "csrf_token": token})
    assert refused.status_code == 403
    api = client.post("/api/registration/export-certificates", json={"registration_numbers": [cert.number]},
                      headers={"X-CSRF-Token": token})
    assert api.status_code == 403 and api.json()["field"] == "actor"


def test_the_public_sees_the_check_page_without_login(client, world):
    page = client.get("/verify/export?lang=en")
    assert page.status_code == 200 and 'id="verify-export"' in page.text and 'id="no-match"' not in page.text
    assert "/verify/export" in client.get("/?lang=en").text  # linked from the public home page
    assert client.get("/registration/export-certificates").status_code in (303, 401)
