"""Issue 4, the configured analyses' jobs: Run now on an existing snapshot (page, API, CLI); each
analysis' own schedule (any recurrence of the kernel, monthly included) or "after each snapshot" (the
default), kept in step with the analysis; the last job of each analysis found through the kernel's
indexed job subject, exactly, however many jobs there are."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from medreg.cli import app as cli
from medreg.core import cli_support, schedules
from medreg.core import jobs as core_jobs
from medreg.core.audit import AuditEvent
from medreg.core.errors import Conflict, ValidationFailed
from medreg.core.settings import get_settings
from medreg.signals import analyses, jobs, scheduling, snapshot
from medreg.signals.models import SignalRun
from tests.signals.test_analyses_pages import site as site  # noqa: F401  (fixture)
from tests.signals.test_runs import FakeContext
from tests.signals.test_runs import world as world  # noqa: F401  (fixture)
from tests.web.conftest import app, client  # noqa: F401  (fixtures)

MONTHLY_31 = {"every": "monthly", "day_of_month": "31", "at": "02:15", "weekday": "1",
              "interval_minutes": "1440"}


def _folder():
    return get_settings().signals_snapshot_dir.absolute()


def _two(db, centre):
    a = analyses.create_analysis(db, centre, {"name": "certificates", "event_level": 2, "statistic": "prr"})
    b = analyses.create_analysis(db, centre, {"name": "registrants", "device_level": "registrant"})
    return a, b


def _events(db, action):
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_the_last_job_of_each_analysis_is_found_exactly_among_many(site, db):  # noqa: F811
    centre = site["centre_actor"]
    a, b = _two(db, centre)
    first = analyses.run_now(db, centre, a.id, _folder())
    assert first.subject == analyses.subject_of(a.id) == f"signals_analysis:{a.id}"
    # 600 later runs of the other analysis (more than the 500 the page used to look at)
    db.add_all(core_jobs.Job(kind="signals.run", params={"analysis_id": b.id},
                             subject=analyses.subject_of(b.id), status="succeeded") for _ in range(600))
    db.flush()
    rows = {r.analysis.id: r for r in analyses.overview(db, centre)}
    assert rows[a.id].last_job.id == first.id and rows[a.id].pending
    assert rows[b.id].last_job.id > first.id and not rows[b.id].pending
    with pytest.raises(Conflict) as err:  # still queued: a second run now is refused, by its subject
        analyses.run_now(db, centre, a.id, _folder())
    assert err.value.field == "analysis_id"


def test_run_now_on_an_existing_snapshot_page_api_cli(client, site, db, monkeypatch):  # noqa: F811
    centre, h = site["centre_actor"], site["centre"] | {"Accept-Language": "en"}
    a, b = _two(db, centre)
    snap = snapshot.export(db, centre, _folder())
    db.commit()
    page = client.get("/signals/analyses/", headers=h)
    assert f'<option value="{snap.version}">Snapshot v1 ({snap.reports} reports)</option>' in page.text
    assert "Next snapshot (exported now)" in page.text
    # an export is pending: a run on the next snapshot is refused, one on snapshot v1 is not
    pending = core_jobs.enqueue(db, centre, "signals.snapshot", {"folder": str(_folder())})
    db.commit()
    r = client.post(f"/signals/analyses/{a.id}/run", data={"snapshot_version": ""}, headers=h)
    assert r.status_code == 409 and f"job {pending.id}" in r.text
    r = client.post(f"/signals/analyses/{a.id}/run", data={"snapshot_version": "1"}, headers=h,
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    job = db.scalar(select(core_jobs.Job).where(core_jobs.Job.subject == analyses.subject_of(a.id)))
    assert (job.params["snapshot_version"], job.params["label"]) == (1, "certificates v1")
    for data, field in (({"snapshot_version": "7"}, "snapshot_version"),
                        ({"snapshot_version": "x"}, "snapshot_version")):
        r = client.post(f"/signals/analyses/{b.id}/run", data=data, headers=h)
        assert r.status_code == 422 and f'data-field="{field}"' in r.text
    # the API: the snapshots, then a run on one
    listed = client.get("/api/signals/snapshots", headers=h)
    assert [(s["version"], s["reports"]) for s in listed.json()] == [(1, snap.reports)]
    assert client.get("/api/signals/snapshots", headers=site["reg"]).status_code == 403
    for body, status, field in (({"snapshot_version": 9}, 422, "snapshot_version"),
                                ({"snapshot_version": 0}, 422, "snapshot_version"),
                                ({"version": 1}, 422, "version")):
        r = client.post(f"/api/signals/analyses/{b.id}/run", json=body, headers=h)
        assert (r.status_code, r.json().get("field")) == (status, field), r.text
    r = client.post(f"/api/signals/analyses/{b.id}/run", json={"snapshot_version": 1}, headers=h)
    assert r.status_code == 202, r.text
    api_job = db.get(core_jobs.Job, r.json()["id"])
    assert api_job.params["snapshot_version"] == 1 and api_job.subject == analyses.subject_of(b.id)
    # the CLI, after those runs ended
    for j in (job, api_job):
        j.status = "succeeded"
    db.commit()

    @contextmanager
    def scope():
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    username = centre.username
    out = CliRunner().invoke(cli, ["signals", "analyses", "run", str(a.id), "--user", username,
                                   "--snapshot-version", "1"])
    assert out.exit_code == 0 and "on snapshot v1" in out.output, out.output
    bad = CliRunner().invoke(cli, ["signals", "analyses", "run", str(b.id), "--user", username,
                                   "--snapshot-version", "5"])
    assert bad.exit_code == 2 and "snapshot_version" in bad.output


def test_the_queued_run_scores_the_snapshot_it_names_or_the_newest(world, db):  # noqa: F811
    centre = world["centre"]
    a = analyses.create_analysis(db, centre, {"name": "c", "event_level": 2, "statistic": "prr"})
    folder = str(world["folder"])
    first = snapshot.export(db, centre, world["folder"])
    second = snapshot.export(db, centre, world["folder"])
    ctx = FakeContext(db, jobs._validate(analyses.settings_for(a, folder, 1).__dict__))
    jobs.run_job(ctx)
    assert db.get(SignalRun, ctx.result["run_id"]).snapshot_version == first.version
    latest = FakeContext(db, jobs._validate(analyses.settings_for(a, folder, latest=True).__dict__))
    jobs.run_job(latest)
    run = db.get(SignalRun, latest.result["run_id"])
    assert (run.snapshot_version, run.label) == (second.version, "c v2")
    assert snapshot.latest(world["folder"]).version == 2  # nothing exported
    with pytest.raises(ValidationFailed) as err:
        jobs._validate(analyses.settings_for(a, folder, 1, latest=True).__dict__)
    assert err.value.field == "snapshot_version"


def test_an_analysis_on_its_own_monthly_schedule(client, site, db, monkeypatch):  # noqa: F811
    centre = site["centre_actor"]
    h = site["centre"] | {"Accept-Language": "en"}
    a, b = _two(db, centre)
    db.commit()
    page = client.get(f"/signals/analyses/{a.id}", headers=h)
    assert 'data-testid="own-schedule-state" data-every="snapshot"' in page.text
    r = client.post(f"/signals/analyses/{a.id}/schedule",
                    data=MONTHLY_31 | {"expected_version": str(a.version)}, headers=h, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/signals/analyses/?done=own-schedule&id={a.id}"
    db.refresh(a)
    sch = db.get(schedules.Schedule, a.schedule_id)
    assert (sch.name, sch.kind, sch.every, sch.day_of_month, sch.at_time, sch.enabled) == (
        f"signals.analysis.{a.id}", "signals.run", "monthly", 31, "02:15", True)
    assert sch.subject == analyses.subject_of(a.id)
    assert sch.params["latest"] is True and sch.params["analysis_id"] == a.id and sch.params["level"] == 2
    assert sch.params["folder"] == str(_folder())
    local = sch.next_run_at.astimezone(UTC)
    assert local.hour == 18 and local.minute == 15  # 02:15 Beijing on the clamped day
    page = client.get("/signals/analyses/?done=own-schedule", headers=h)
    assert "Monthly on day 31 at 02:15" in page.text and "When the analysis runs was saved." in page.text
    assert 'data-every="monthly"' in page.text and "After each snapshot" in page.text  # b still does
    zh = client.get("/signals/analyses/", headers=site["centre"] | {"Accept-Language": "zh-CN"})
    assert "每月31日 02:15" in zh.text and "每次快照之后" in zh.text
    (event,) = _events(db, "signals.analysis.schedule")
    assert (event.before, event.after) == ({"schedule": "after each snapshot"},
                                           {"schedule": "monthly on day 31 at 02:15 (Asia/Shanghai)"})
    # after each snapshot only the other analysis is queued
    assert [db.get(core_jobs.Job, i).params["analysis_id"]
            for i in analyses.enqueue_runs(db, centre, _folder(), 1)] == [b.id]
    # the worker's tick queues the analysis' run (as system) with its subject; the page shows it
    @contextmanager
    def scope():
        yield db
        db.flush()

    monkeypatch.setattr(schedules, "session_scope", scope)
    (fired,) = [f for f in schedules.tick(sch.next_run_at) if f.schedule_id == sch.id]
    job = db.get(core_jobs.Job, fired.job_id)
    assert (job.kind, job.subject, job.params["latest"]) == ("signals.run", analyses.subject_of(a.id), True)
    assert {r.analysis.id: r.last_job for r in analyses.overview(db, centre)}[a.id].id == job.id
    # the schedule follows the analysis: its settings, and off while the analysis is disabled
    analyses.update_analysis(db, centre, a.id, {"threshold": 3.5, "active": False})
    db.refresh(sch)
    assert sch.params["threshold"] == 3.5 and sch.enabled is False and sch.next_run_at is None
    analyses.update_analysis(db, centre, a.id, {"active": True})
    db.refresh(sch)
    assert sch.enabled is True and sch.next_run_at is not None
    # back to "after each snapshot": the schedule goes (audited by the kernel)
    db.commit()
    r = client.put(f"/api/signals/analyses/{a.id}/schedule", json={"every": "snapshot"}, headers=h)
    assert r.status_code == 200 and r.json() is None, r.text
    db.expire_all()
    assert db.get(analyses.SignalAnalysis, a.id).schedule_id is None
    assert db.get(schedules.Schedule, sch.id) is None and len(_events(db, "schedule.delete")) == 1


def test_own_schedule_api_cli_bad_input_and_delete(client, site, db, monkeypatch):  # noqa: F811
    centre, h = site["centre_actor"], site["centre"]
    a, _ = _two(db, centre)
    db.commit()
    for body, status, field in (({"every": "monthly", "at": "02:15"}, 422, "day_of_month"),
                                ({"every": "monthly", "at": "02:15", "day_of_month": 32}, 422,
                                 "day_of_month"),
                                ({"every": "yearly"}, 422, "every"),
                                ({"every": "weekly", "at": "02:15"}, 422, "weekday"),
                                ({"every": "daily", "at": "02:15", "expected_version": 99}, 409,
                                 "expected_version")):
        r = client.put(f"/api/signals/analyses/{a.id}/schedule", json=body, headers=h)
        assert (r.status_code, r.json().get("field")) == (status, field), r.text
    r = client.put(f"/api/signals/analyses/{a.id}/schedule", json={"every": "daily", "at": "04:00"},
                   headers=site["reg"])
    assert r.status_code == 403
    r = client.post(f"/signals/analyses/{a.id}/schedule", data=MONTHLY_31 | {"day_of_month": "0"}, headers=h)
    assert r.status_code == 422 and 'data-field="day_of_month"' in r.text
    assert 'id="own-schedule-form"' in r.text
    r = client.put(f"/api/signals/analyses/{a.id}/schedule",
                   json={"every": "weekly", "weekday": 3, "at": "04:00"}, headers=h)
    assert r.status_code == 200 and (r.json()["every"], r.json()["weekday"]) == ("weekly", 3)
    status = client.get("/api/signals/analyses/status", headers=h).json()
    assert [s["schedule"]["every"] if s["schedule"] else None for s in status] == ["weekly", None]
    assert client.get(f"/api/signals/analyses/{a.id}/schedule", headers=h).json()["at_time"] == "04:00"

    @contextmanager
    def scope():
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    runner = CliRunner()
    out = runner.invoke(cli, ["signals", "analyses", "schedule", str(a.id), "--user", centre.username,
                              "--every", "monthly", "--day-of-month", "29", "--at", "01:00"])
    assert out.exit_code == 0 and "monthly on day 29 at 01:00" in out.output, out.output
    listed = runner.invoke(cli, ["signals", "analyses", "list", "--user", centre.username])
    assert "monthly on day 29" in listed.output and "after each snapshot" in listed.output
    bad = runner.invoke(cli, ["signals", "analyses", "schedule", str(a.id), "--user", centre.username,
                              "--every", "monthly", "--at", "01:00"])
    assert bad.exit_code == 2 and "day_of_month" in bad.output
    out = runner.invoke(cli, ["signals", "schedule", "set", "--user", centre.username, "--every", "monthly",
                              "--day-of-month", "31", "--at", "02:15"])
    assert out.exit_code == 0 and "monthly on day 31" in out.output, out.output
    assert schedules.by_name(db, scheduling.NAME).day_of_month == 31
    # deleting the analysis (it never ran) removes its schedule too
    sid = db.get(analyses.SignalAnalysis, a.id).schedule_id
    analyses.delete_analysis(db, centre, a.id)
    assert db.get(schedules.Schedule, sid) is None
