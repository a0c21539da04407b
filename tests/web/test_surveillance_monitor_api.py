"""Defining a monitor over the API: continuous or group-sequential (number or timing of looks), the
critical value of the design, 4xx naming the field on a bad design, only the monitoring centre."""

from __future__ import annotations

from medreg.core.accounts import OrgKind, Role
from medreg.surveillance.demo import DEVICES
from medreg.surveillance.maxsprt import poisson_critical_value
from tests.factories import make_org, make_user
from tests.web.conftest import login
from tests.web.test_registration_support import bearer

BODY = {"name": "Stent D TLF", "device_group": "coronary_stent", "udi_di": DEVICES[3][1],
        "outcome": "target_lesion_failure", "window_days": 180, "reference_start": "2024-01-01",
        "reference_end": "2024-12-31", "alpha": 0.05, "sample_size": 30, "min_events": 1}


def test_centre_defines_continuous_and_group_sequential_monitors(client, db):
    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    registrant = make_user(db, Role.REGISTRANT, org=make_org(db, OrgKind.REGISTRANT))
    db.commit()
    h = bearer(client, centre.username)
    r = client.post("/api/surveillance/monitors", json=BODY, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["look_plan"] is None
    assert r.json()["critical_value"] == poisson_critical_value(30, 0.05).critical_value
    r = client.post("/api/surveillance/monitors", json={**BODY, "look_at": [0.25, 0.5, 1]}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["look_plan"] == [7.5, 15.0, 30.0] and r.json()["planned_looks"] == 3
    assert r.json()["critical_value"] == poisson_critical_value(30, 0.05, looks=[7.5, 7.5, 15]).critical_value
    grouped = r.json()["id"]
    login(client, centre.username)
    page = client.get(f"/surveillance/monitors/{grouped}")
    assert '<span id="look-plan">7.5, 15.0, 30.0</span>' in page.text
    r = client.post("/api/surveillance/monitors", json={**BODY, "look_at": [0.25, 0.5]}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "look_at"
    r = client.post("/api/surveillance/monitors", json={**BODY, "registrant_org_id": centre.organisation_id},
                    headers=h)
    assert r.status_code == 422 and r.json()["field"] == "registrant_org_id"
    r = client.post("/api/surveillance/monitors", json=BODY, headers=bearer(client, registrant.username))
    assert r.status_code == 403
