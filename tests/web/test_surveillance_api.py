"""Surveillance JSON API: import (201 / 422 with the row report), tenancy, looks, alerts, bad input."""

from __future__ import annotations

from datetime import date

import pytest

from medreg.core.accounts import OrgKind, Role
from medreg.surveillance import service, service_monitoring
from medreg.surveillance.demo import DEVICES, to_csv
from medreg.surveillance.importer import COLUMNS
from tests.factories import actor_for, make_org, make_user
from tests.web.test_registration_support import bearer

API = "/api/surveillance"
DI = DEVICES[0][1]


def _csv(n, start=0, **over):
    rows = []
    for i in range(start, start + n):
        row = {c: "" for c in COLUMNS}
        row.update(
            patient_pseudonym=f"API-{i:04d}",
            procedure_date="2025-03-01",
            device_group="coronary_stent",
            udi=f"(01){DI}(10)L{i}",
            age="70",
            sex="F",
            diabetes="1",
            renal_failure="0",
            prior_mi="0",
            follow_up_end="2026-01-01",
        )
        row.update(over)
        rows.append(row)
    return to_csv(rows)


@pytest.fixture
def w(db):
    centre_user = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    users = {"centre": centre_user}
    for code in ("H1", "H2"):
        org = make_org(db, OrgKind.HOSPITAL)
        service.enrol_hospital(
            db,
            actor_for(centre_user),
            organisation_id=org.id,
            code=code,
            device_groups=["coronary_stent"],
            enrolled_on=date(2024, 1, 1),
        )
        users[code] = make_user(db, Role.HOSPITAL, org=org)
    db.commit()
    return users


def test_import_and_tenancy_over_http(client, w):
    h1, h2, centre = (bearer(client, w[k].username) for k in ("H1", "H2", "centre"))
    r = client.post(f"{API}/import?filename=h1.csv", content=_csv(3).encode(), headers=h1)
    assert r.status_code == 201, r.text
    assert r.json()["rows"] == 3
    assert client.get(f"{API}/procedures", headers=h1).json()["total"] == 3
    assert client.get(f"{API}/procedures", headers=h2).json()["total"] == 0
    assert client.get(f"{API}/procedures", headers=centre).json()["total"] == 3
    assert (
        client.post(f"{API}/import?hospital=H1", content=_csv(1, 10).encode(), headers=h2).status_code == 404
    )


def test_bad_import_is_a_422_with_every_problem_and_saves_nothing(client, w):
    h1 = bearer(client, w["H1"].username)
    r = client.post(f"{API}/import", content=_csv(2, age="7").encode(), headers=h1)
    assert r.status_code == 422
    body = r.json()
    assert body["field"] == "file"
    assert [(e["row"], e["field"]) for e in body["details"]["errors"]] == [(2, "age"), (3, "age")]
    assert client.get(f"{API}/procedures", headers=h1).json()["total"] == 0
    assert client.post(f"{API}/import", content=b"\xff\xfe", headers=h1).status_code == 422


def test_critical_value_and_bad_parameters(client):
    r = client.get(f"{API}/critical-value", params={"sample_size": 10, "min_events": 3})
    assert r.status_code == 200
    assert r.json()["critical_value"] == pytest.approx(3.06424796686384, abs=1e-8)  # Sequential table
    assert client.get(f"{API}/critical-value", params={"sample_size": 0}).status_code == 422
    r = client.get(f"{API}/critical-value", params={"sample_size": 1, "min_events": 9})
    assert r.status_code == 422 and r.json()["field"] == "min_events"


def test_monitors_looks_and_alert_actions(client, db, w):
    centre_actor = actor_for(w["centre"])
    m = service_monitoring.create_monitor(
        db,
        centre_actor,
        name="m",
        device_group="coronary_stent",
        udi_di=DI,
        outcome="death",
        window_days=30,
        reference_start=date(2024, 1, 1),
        reference_end=date(2024, 12, 31),
    )
    db.commit()
    centre, h1 = bearer(client, w["centre"].username), bearer(client, w["H1"].username)
    r = client.get(f"{API}/monitors/{m.id}/looks", headers=centre)
    assert r.status_code == 200 and r.json()["looks"] == []
    assert client.get(f"{API}/monitors", headers=h1).status_code == 403
    assert client.get(f"{API}/monitors/999/looks", headers=centre).status_code == 404
    assert (
        client.post(f"{API}/alerts/1/explode", json={"expected_version": 1}, headers=centre).status_code
        == 422
    )
    assert (
        client.post(f"{API}/alerts/1/confirm", json={"expected_version": 1}, headers=centre).status_code
        == 404
    )
    # no reference data yet: the risk model cannot be fitted -> 422 naming the field
    r = client.post(f"{API}/run", json={"as_of": "2025-06-01"}, headers=centre)
    assert r.status_code == 422 and r.json()["field"] == "reference_end"
