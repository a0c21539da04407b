"""Editing a monitor over HTTP and the CLI: ``PATCH /api/surveillance/monitors/{id}`` (name and notes
always; the design before the first look; 409 naming the field after it), ``POST .../supersede``,
the edit and "define a new monitor from this one" pages (prefilled; a refusal names the field, the
form kept), the links on the monitor page, and ``medreg surveillance monitor-edit|monitor-supersede``."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from medreg.cli import app
from medreg.core import cli_support
from medreg.core.accounts import OrgKind, Role
from medreg.surveillance.maxsprt import poisson_critical_value
from medreg.surveillance.models import Look, Monitor
from tests.factories import make_org, make_user
from tests.web.conftest import csrf_of, login
from tests.web.test_registration_support import bearer
from tests.web.test_surveillance_monitor_api import BODY


@pytest.fixture
def centre(db):
    user = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    db.commit()
    return user


def _look(db, monitor_id):
    m = db.get(Monitor, monitor_id)
    db.add(
        Look(
            monitor_id=m.id,
            look_no=1,
            as_of=date(2025, 1, 31),
            procedures=10,
            observed=0.0,
            expected=0.5,
            llr=0.0,
            critical_value=m.critical_value,
        )
    )
    db.commit()


def test_api_edit_before_and_after_the_first_look_and_supersede(client, db, centre):
    h = bearer(client, centre.username)
    m = client.post("/api/surveillance/monitors", json=BODY, headers=h).json()
    url = f"/api/surveillance/monitors/{m['id']}"
    r = client.patch(url, json={"alpha": 0.01, "look_at": [0.5, 1], "notes": "tighter"}, headers=h)
    assert r.status_code == 200, r.text
    assert (r.json()["alpha"], r.json()["look_plan"], r.json()["notes"]) == (0.01, [15.0, 30.0], "tighter")
    assert (
        r.json()["critical_value"]
        == poisson_critical_value(30, 0.01, min_events=1, looks=[15, 15]).critical_value
    )
    for bad, field, code in (
        ({"alpha": 0.9}, "alpha", 422),
        ({"critical_value": 2}, "critical_value", 422),
        ({"reference_start": "2024-02-30"}, "reference_start", 422),
        ({"reference_end": "2023-01-01"}, "reference_end", 422),
        ({"name": ""}, "name", 422),
    ):
        r = client.patch(url, json=bad, headers=h)
        assert r.status_code == code and r.json()["field"] == field, (bad, r.text)
    owner = make_user(db, Role.REGISTRANT, org=make_org(db, OrgKind.REGISTRANT))
    db.commit()
    assert client.patch(url, json={"name": "x"}, headers=bearer(client, owner.username)).status_code == 403
    _look(db, m["id"])
    r = client.patch(url, json={"alpha": 0.05}, headers=h)
    assert r.status_code == 409 and r.json()["field"] == "alpha" and "new monitor" in r.text
    r = client.patch(url, json={"name": "Stent D TLF (renamed)", "alpha": 0.01}, headers=h)  # same alpha
    assert r.status_code == 200 and r.json()["name"] == "Stent D TLF (renamed)"
    sup = client.post(
        f"{url}/supersede", json={**BODY, "alpha": 0.01, "min_events": 4, "reason": "M = 4"}, headers=h
    )
    assert sup.status_code == 201, sup.text
    assert sup.json()["supersedes_id"] == m["id"] and sup.json()["min_events"] == 4
    old = client.get(f"{url}/looks", headers=h).json()["monitor"]
    assert old["status"] == "stopped" and old["stop_reason"].startswith(
        f"Superseded by monitor {sup.json()['id']}"
    )
    r = client.post(f"{url}/supersede", json={**BODY, "reason": "again"}, headers=h)
    assert r.status_code == 409
    r = client.post(f"/api/surveillance/monitors/{sup.json()['id']}/supersede", json=BODY, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "reason"
    assert client.patch("/api/surveillance/monitors/987654", json={"name": "x"}, headers=h).status_code == 404


def test_pages_edit_the_design_then_only_the_name_and_define_a_new_monitor(client, db, centre):
    h = bearer(client, centre.username)
    m = client.post("/api/surveillance/monitors", json={**BODY, "look_at": [0.5, 1]}, headers=h).json()
    login(client, centre.username)
    page = client.get(f"/surveillance/monitors/{m['id']}")
    assert f'href="/surveillance/monitors/{m["id"]}/edit"' in page.text
    assert f'href="/surveillance/monitors/{m["id"]}/supersede"' in page.text
    form = client.get(f"/surveillance/monitors/{m['id']}/edit")
    assert form.status_code == 200 and 'data-mode="design"' in form.text
    assert 'id="look_at" name="look_at"' in form.text and 'value="0.5,1"' in form.text
    assert 'id="looks-look_at" checked' in form.text and 'value="2024-01-01"' in form.text
    data = {
        "csrf_token": csrf_of(client),
        "design": "1",
        "name": "Stent D",
        "notes": "",
        "device_group": "coronary_stent",
        "udi_di": BODY["udi_di"],
        "outcome": "target_lesion_failure",
        "window_days": "180",
        "reference_start": "2024-01-01",
        "reference_end": "2024-12-31",
        "alpha": "0.05",
        "sample_size": "30",
        "min_events": "2",
        "kind": "maxsprt_poisson",
        "looks": "continuous",
        "cusum_odds_ratio": "2",
        "cusum_null_odds_ratio": "1",
        "cusum_false_alarm": "0.05",
    }
    r = client.post(
        f"/surveillance/monitors/{m['id']}/edit", data={**data, "window_days": "0"}, follow_redirects=False
    )
    assert r.status_code == 422 and 'data-field="window_days"' in r.text and 'value="Stent D"' in r.text
    r = client.post(f"/surveillance/monitors/{m['id']}/edit", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text[:800]
    assert r.headers["location"] == f"/surveillance/monitors/{m['id']}?edited=1"
    shown = client.get(r.headers["location"], headers={"Accept-Language": "en"}).text
    assert 'data-done="edit"' in shown and "Changes to the monitor saved." in shown
    assert 'data-done="edit"' not in client.get(f"/surveillance/monitors/{m['id']}").text
    db.expire_all()
    row = db.get(Monitor, m["id"])
    assert (row.name, row.min_events, row.look_plan) == ("Stent D", 2, None)
    _look(db, m["id"])
    form = client.get(f"/surveillance/monitors/{m['id']}/edit")
    assert (
        'data-mode="text"' in form.text
        and 'id="alpha"' not in form.text
        and 'id="supersede-link"' in form.text
    )
    r = client.post(
        f"/surveillance/monitors/{m['id']}/edit", data={**data, "min_events": "4"}, follow_redirects=False
    )  # a stale design form after the first look
    assert r.status_code == 409 and 'data-field="min_events"' in r.text
    r = client.post(
        f"/surveillance/monitors/{m['id']}/edit",
        data={"csrf_token": csrf_of(client), "name": "Stent D v1", "notes": "first design"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    sup = client.get(f"/surveillance/monitors/{m['id']}/supersede")
    assert (
        'data-mode="supersede"' in sup.text
        and 'id="min_events" name="min_events" type="number" value="2"' in sup.text
    )
    r = client.post(
        f"/surveillance/monitors/{m['id']}/supersede", data={**data, "reason": ""}, follow_redirects=False
    )
    assert r.status_code == 422 and 'data-field="reason"' in r.text
    r = client.post(
        f"/surveillance/monitors/{m['id']}/supersede",
        data={**data, "name": "Stent D v2", "min_events": "4", "reason": "M = 4"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    db.expire_all()
    new = db.scalar(select(Monitor).where(Monitor.supersedes_id == m["id"]))
    assert r.headers["location"] == f"/surveillance/monitors/{new.id}" and new.min_events == 4
    old_page = client.get(f"/surveillance/monitors/{m['id']}", headers={"Accept-Language": "en"})
    assert 'data-related="superseded-by"' in old_page.text and f"#{new.id} Stent D v2" in old_page.text
    assert 'data-testid="stopped"' in old_page.text
    new_page = client.get(f"/surveillance/monitors/{new.id}")
    assert 'data-related="supersedes"' in new_page.text
    owner = make_user(db, Role.REGISTRANT, org=make_org(db, OrgKind.REGISTRANT))
    db.commit()
    login(client, owner.username)
    assert client.get(f"/surveillance/monitors/{m['id']}/edit").status_code == 403


@pytest.fixture
def cli_centre(db, monkeypatch):
    @contextmanager
    def scope():
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    return make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE)).username


def test_cli_monitor_edit_and_supersede(db, cli_centre):
    runner = CliRunner()
    from medreg.core.accounts import User
    from medreg.surveillance import service_monitoring
    from tests.factories import actor_for

    actor = actor_for(db.scalar(select(User).where(User.username == cli_centre)))
    m = service_monitoring.create_monitor(
        db, actor, **{**BODY, "reference_start": date(2024, 1, 1), "reference_end": date(2024, 12, 31)}
    )
    r = runner.invoke(
        app,
        [
            "surveillance",
            "monitor-edit",
            str(m.id),
            "--user",
            cli_centre,
            "--set",
            "alpha=0.01",
            "--set",
            "look_at=0.5,1",
            "--notes",
            "n",
        ],
    )
    assert r.exit_code == 0, r.output
    assert (m.alpha, m.look_plan, m.notes) == (0.01, [15.0, 30.0], "n")
    r = runner.invoke(
        app, ["surveillance", "monitor-edit", str(m.id), "--user", cli_centre, "--set", "alpha=2"]
    )
    assert r.exit_code != 0 and "alpha" in r.output
    _look(db, m.id)
    r = runner.invoke(app, ["surveillance", "monitor-edit", str(m.id), "--user", cli_centre, "--continuous"])
    assert r.exit_code != 0 and "planned_looks" in r.output
    r = runner.invoke(
        app,
        [
            "surveillance",
            "monitor-supersede",
            str(m.id),
            "--user",
            cli_centre,
            "--reason",
            "M=4",
            "--set",
            "min_events=4",
        ],
    )
    assert r.exit_code == 0, r.output
    new = db.scalar(select(Monitor).where(Monitor.supersedes_id == m.id))
    assert (new.min_events, new.alpha, new.look_plan, new.name) == (4, 0.01, [15.0, 30.0], m.name)
    assert m.status == "stopped"


def test_api_takes_notes_at_creation(client, db, centre):
    h = bearer(client, centre.username)
    body = {**BODY, "notes": " Agreed on 2024-12-01. "}
    r = client.post("/api/surveillance/monitors", json=body, headers=h)
    assert r.status_code == 201 and r.json()["notes"] == "Agreed on 2024-12-01.", r.text
    r = client.post("/api/surveillance/monitors", json={**BODY, "notes": "x" * 4001}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "notes"
