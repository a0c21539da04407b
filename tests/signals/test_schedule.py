"""The snapshot schedule of the configured analyses: set from the analyses page, the API and the CLI
(audited by the kernel), shown with its next run and its last scheduled job; the worker's tick starts
``signals.snapshot``; the centre opens the page of a job the scheduler queued (jobs of kinds it
oversees); bad input is a 4xx naming the field."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from medreg.cli import app as cli
from medreg.core import cli_support, schedules
from medreg.core import jobs as core_jobs
from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.audit import AuditEvent
from medreg.core.errors import ValidationFailed
from medreg.core.settings import get_settings
from medreg.signals import analyses, scheduling
from tests.factories import actor_for, make_org, make_user
from tests.signals.test_web import _bearer
from tests.web.conftest import app, client  # noqa: F401  (fixtures)

WEEKLY = {"enabled": "1", "every": "weekly", "weekday": "1", "at": "02:15", "interval_minutes": "1440"}


@pytest.fixture
def site(db, tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "signals_snapshot_dir", tmp_path / "snapshots")

    @contextmanager
    def scope():  # the tick and the CLI work in the test's session
        yield db
        db.flush()

    monkeypatch.setattr(schedules, "session_scope", scope)
    monkeypatch.setattr(cli_support, "session_scope", scope)
    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    reg = make_user(db, Role.REGISTRANT, org=make_org(db, OrgKind.REGISTRANT))
    people = {"centre": _bearer(db, centre), "centre_actor": actor_for(centre), "reg": _bearer(db, reg),
              "reg_actor": actor_for(reg)}
    db.commit()
    return people


def test_centre_sets_the_schedule_on_the_page_and_sees_the_scheduled_job(client, site, db):  # noqa: F811
    h = site["centre"] | {"Accept-Language": "en"}
    page = client.get("/signals/analyses/", headers=h)
    assert page.status_code == 200 and 'data-testid="schedule-state" data-enabled="false"' in page.text
    assert "Not scheduled" in page.text
    r = client.post("/signals/analyses/schedule", data=WEEKLY, headers=h, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signals/analyses/?done=schedule"
    sch = schedules.by_name(db, scheduling.NAME)
    assert (sch.kind, sch.every, sch.weekday, sch.at_time, sch.enabled) == ("signals.snapshot", "weekly", 1,
                                                                             "02:15", True)
    assert sch.params == {"folder": str(get_settings().signals_snapshot_dir.absolute()), "incremental": True}
    assert sch.next_run_at.astimezone(UTC).weekday() == 6  # Monday 02:15 Beijing is Sunday 18:15 UTC
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "schedule.create"))
    assert event.actor_user_id == site["centre_actor"].user_id
    page = client.get("/signals/analyses/?done=schedule", headers=h)
    assert "Every Monday at 02:15" in page.text and 'data-testid="next-run">—' not in page.text
    assert "The snapshot schedule was saved." in page.text
    # the worker's tick at the due time queues signals.snapshot as system; the centre sees that job
    analyses.create_analysis(db, site["centre_actor"], {"name": "weekly"})
    (fired,) = schedules.tick(sch.next_run_at)
    db.commit()
    job = db.get(core_jobs.Job, fired.job_id)
    assert (job.kind, job.created_by_user_id, job.params["folder"]) == ("signals.snapshot", None,
                                                                       sch.params["folder"])
    page = client.get("/signals/analyses/", headers=site["centre"] | {"Accept-Language": "zh-CN"})
    assert 'data-testid="schedule-job-status" data-status="queued"' in page.text and "排队中" in page.text
    assert f'href="/jobs/{job.id}"' in page.text and "每周一 02:15" in page.text
    assert client.get(f"/jobs/{job.id}", headers=h).status_code == 200
    assert client.get(f"/api/jobs/{job.id}", headers=h).json()["kind"] == "signals.snapshot"
    assert job.id in [j["id"] for j in client.get("/api/jobs/", headers=h).json()]
    assert client.get(f"/jobs/{job.id}", headers=site["reg"]).status_code == 404  # not the registrant's
    # a signals.run the scheduled snapshot queues (as system) is the centre's to open too
    run = core_jobs.enqueue(db, Actor.system(), "signals.run", {"folder": "/tmp/x", "label": "weekly v1"})
    db.commit()
    assert client.get(f"/jobs/{run.id}", headers=h).status_code == 200
    # turned off: no next run, the recurrence kept
    r = client.post("/signals/analyses/schedule", data=WEEKLY | {"enabled": "", "expected_version": "1"},
                    headers=h, follow_redirects=False)
    assert r.status_code == 303
    db.refresh(sch)
    assert (sch.enabled, sch.next_run_at, sch.every) == (False, None, "weekly")


@pytest.mark.parametrize("changes, field", [
    ({"every": "yearly"}, "every"), ({"every": "monthly"}, "day_of_month"),
    ({"every": "monthly", "day_of_month": "32"}, "day_of_month"), ({"at": "7pm"}, "at"),
    ({"at": "24:00"}, "at"),
    ({"weekday": "9"}, "weekday"), ({"weekday": "mon"}, "weekday"),
    ({"every": "interval", "interval_minutes": "abc"}, "interval_minutes"),
    ({"every": "interval", "interval_minutes": "4"}, "interval_minutes"),
    ({"every": "interval", "interval_minutes": "9" * 40}, "interval_minutes"),
    ({"expected_version": "abc"}, "expected_version"),
    ({"keep": "0"}, "keep"), ({"keep": "two"}, "keep"), ({"keep": "10001"}, "keep"), ({"keep": "-1"}, "keep"),
])
def test_bad_schedule_input_re_renders_the_page_with_field_and_reason(client, site, db, changes,  # noqa: F811
                                                                      field):
    r = client.post("/signals/analyses/schedule", data=WEEKLY | changes, headers=site["centre"])
    assert r.status_code == 422, r.text
    assert f'data-field="{field}"' in r.text and 'id="schedule-form"' in r.text
    assert schedules.by_name(db, scheduling.NAME) is None


def test_api_reads_and_sets_the_schedule(client, site, db):  # noqa: F811
    h = site["centre"]
    assert client.get("/api/signals/schedule", headers=h).json()["configured"] is False
    r = client.put("/api/signals/schedule", json={"every": "daily", "at": "03:30"}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["every"], body["at"], body["enabled"], body["version"]) == ("daily", "03:30", True, 1)
    assert datetime.fromisoformat(body["next_run_at"]).astimezone(UTC).strftime("%H:%M") == "19:30"
    for payload, status, field in (
            ({"every": "weekly", "at": "03:30"}, 422, "weekday"),
            ({"every": "daily", "at": "3:30"}, 422, "at"),
            ({"every": "interval"}, 422, "interval_minutes"),
            ({"every": "daily", "at": "03:30", "expected_version": 7}, 409, "expected_version")):
        r = client.put("/api/signals/schedule", json=payload, headers=h)
        assert (r.status_code, r.json().get("field")) == (status, field), r.text
    r = client.put("/api/signals/schedule", json={"every": "interval", "interval_minutes": 360,
                                                  "expected_version": 1}, headers=h)
    assert r.status_code == 200 and r.json()["interval_minutes"] == 360 and r.json()["at"] is None
    assert client.get("/api/signals/schedule", headers=site["reg"]).status_code == 403
    r = client.put("/api/signals/schedule", json={"every": "daily", "at": "03:30"}, headers=site["reg"])
    assert r.status_code == 403
    assert db.scalar(select(schedules.Schedule)).version == 2


def test_the_schedule_keeps_the_versions_it_is_told_to(client, site, db, monkeypatch):  # noqa: F811
    h = site["centre"] | {"Accept-Language": "en"}
    page = client.get("/signals/analyses/", headers=h)
    assert 'data-testid="schedule-keep" data-keep=""' in page.text and "Every version" in page.text
    r = client.post("/signals/analyses/schedule", data=WEEKLY | {"keep": " 3 "}, headers=h,
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    sch = schedules.by_name(db, scheduling.NAME)
    assert sch.params["keep"] == 3
    page = client.get("/signals/analyses/", headers=site["centre"] | {"Accept-Language": "zh-CN"})
    assert 'data-testid="schedule-keep" data-keep="3"' in page.text and "最新的 3 个版本" in page.text
    assert 'name="keep"' in page.text and 'value="3"' in page.text
    # the job the tick starts carries it (the snapshot job prunes to it: test_retention.py)
    (fired,) = schedules.tick(sch.next_run_at)
    db.commit()
    assert db.get(core_jobs.Job, fired.job_id).params["keep"] == 3
    # emptied: the installation's setting applies (every version unless it is set); audited
    monkeypatch.setattr(get_settings(), "signals_keep_snapshots", 5)
    db.refresh(sch)
    r = client.post("/signals/analyses/schedule", headers=h, follow_redirects=False,
                    data=WEEKLY | {"keep": "", "expected_version": str(sch.version)})
    assert r.status_code == 303, r.text
    db.refresh(sch)
    assert "keep" not in sch.params
    page = client.get("/signals/analyses/", headers=h)
    assert 'data-keep="5"' in page.text and "(the installation's setting)" in page.text
    update = db.scalars(select(AuditEvent).where(AuditEvent.action == "schedule.update")).all()[-1]
    assert update.before["params"]["keep"] == 3 and "keep" not in update.after["params"]
    # the API reads and sets it, with the field named when it is wrong
    body = client.get("/api/signals/schedule", headers=h).json()
    assert (body["keep"], body["kept_versions"]) == (None, 5)
    r = client.put("/api/signals/schedule", json={"every": "daily", "at": "03:30", "keep": 2,
                                                  "expected_version": sch.version}, headers=h)
    assert r.status_code == 200 and (r.json()["keep"], r.json()["kept_versions"]) == (2, 2), r.text
    for bad in (0, 10_001, "many", True):
        r = client.put("/api/signals/schedule", headers=h,
                       json={"every": "daily", "at": "03:30", "keep": bad})
        assert (r.status_code, r.json().get("field")) == (422, "keep"), r.text
    for bad in (0, 10_001, True, "many"):  # the service, checked by the snapshot job's validation
        with pytest.raises(ValidationFailed) as err:
            scheduling.set_schedule(db, site["centre_actor"], {"every": "daily", "at": "03:30", "keep": bad})
        assert err.value.field == "keep"


def test_cli_sets_shows_and_turns_off_the_schedule(site, db):
    user, runner = site["centre_actor"].username, CliRunner()
    res = runner.invoke(cli, ["signals", "schedule", "show", "--user", user])
    assert res.exit_code == 0 and "not set" in res.output
    res = runner.invoke(cli, ["signals", "schedule", "off", "--user", user])
    assert res.exit_code == 2 and "[schedule]" in res.output
    res = runner.invoke(cli, ["signals", "schedule", "set", "--user", user, "--every", "weekly", "--weekday",
                              "fri", "--at", "22:00"])
    assert res.exit_code == 0 and "weekly on fri at 22:00" in res.output and "next run: 20" in res.output
    res = runner.invoke(cli, ["signals", "schedule", "set", "--user", user, "--every", "weekly", "--weekday",
                              "funday", "--at", "22:00"])
    assert res.exit_code == 2 and "[weekday]" in res.output
    res = runner.invoke(cli, ["signals", "schedule", "show", "--user", user])
    assert "keeps every snapshot version (the installation's setting)" in res.output
    daily = ["signals", "schedule", "set", "--user", user, "--every", "daily", "--at", "01:00"]
    res = runner.invoke(cli, [*daily, "--keep", "4"])
    assert res.exit_code == 0 and "keeps the newest 4 snapshot version(s)" in res.output
    res = runner.invoke(cli, [*daily, "--keep", "0"])
    assert res.exit_code == 2 and "[keep]" in res.output
    res = runner.invoke(cli, ["signals", "schedule", "off", "--user", user])
    assert res.exit_code == 0 and ", off" in res.output and "next run: -" in res.output
    assert "keeps the newest 4" in res.output  # turning it off keeps what it keeps
    reg = site["reg_actor"].username
    res = runner.invoke(cli, ["signals", "schedule", "set", "--user", reg, "--every", "daily",
                              "--at", "01:00"])
    assert res.exit_code == 3
