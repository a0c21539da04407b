"""The registration certificate of an implant's DI on the procedure and monitor pages and in the JSON
twin; the registration API where the registrant declares the DI and anyone looks it up."""

from __future__ import annotations

from datetime import date

from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.surveillance import service_followup, service_monitoring
from medreg.surveillance.demo import DEVICES
from tests.factories import make_org, make_user
from tests.premarket.test_registration_world import build, initial, to_certificate
from tests.web.conftest import login
from tests.web.test_registration_support import bearer
from tests.web.test_surveillance_procedure_pages import FORM, _hospital

DI = DEVICES[1][1]  # the demo's made-up GTIN of the procedure FORM's implant
UNDECLARED = DEVICES[2][1]


def test_pages_and_api_show_the_certificate_or_say_that_none_is_declared(client, db):
    w = build(db)
    _app, cert = to_certificate(db, w, w.registrant, initial())
    registrant = bearer(client, w.registrant.username)
    r = client.post(f"/api/registration/certificates/{cert.id}/udi-di", json={"di": DI}, headers=registrant)
    assert r.status_code == 201, r.text
    assert r.json()["number"] == cert.number
    assert client.post(f"/api/registration/certificates/{cert.id}/udi-di", json={"di": DI},
                       headers=registrant).status_code == 409
    assert client.get(f"/api/registration/certificates/by-udi-di/{DI}").json()["id"] == cert.id
    assert client.get(f"/api/registration/certificates/by-udi-di/{UNDECLARED}").status_code == 404
    assert client.get("/api/registration/certificates/by-udi-di/12345678x").status_code == 422

    user = _hospital(db, "SITE-C")
    proc = service_followup.enrol_procedure(db, Actor.system(), dict(FORM), today=date(2025, 7, 1),
                                            hospital_code="SITE-C")
    other = service_followup.enrol_procedure(
        db, Actor.system(), {**FORM, "patient_pseudonym": "PAT-0002", "udi": f"(01){UNDECLARED}(10)L1"},
        today=date(2025, 7, 1), hospital_code="SITE-C")
    db.commit()
    client.cookies.clear()
    login(client, user.username, lang="en")
    page = client.get(f"/surveillance/procedures/{proc.id}")
    assert page.status_code == 200
    assert f'data-number="{cert.number}"' in page.text and "Maglev ventricular assist device" in page.text
    page = client.get(f"/surveillance/procedures/{other.id}?lang=en")
    assert 'id="no-certificate"' in page.text
    assert "no registrant has declared this UDI-DI" in page.text

    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    monitor = service_monitoring.create_monitor(
        db, Actor.system(), name="m", device_group="coronary_stent", udi_di=DI,
        outcome="target_lesion_failure", window_days=180, reference_start=date(2024, 1, 1),
        reference_end=date(2024, 12, 31), min_events=1)
    db.commit()
    client.cookies.clear()
    login(client, centre.username, lang="zh_CN")
    page = client.get(f"/surveillance/monitors/{monitor.id}?lang=zh_CN")
    assert f'data-number="{cert.number}"' in page.text and "有效期至" in page.text
    token = bearer(client, centre.username)
    twin = client.get(f"/api/surveillance/monitors/{monitor.id}/looks", headers=token)
    assert twin.json()["certificate"]["number"] == cert.number
