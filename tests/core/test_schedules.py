"""Schedules: create/change (audited), the tick (exactly once under a race, skip while the previous job
runs, catch up once), the worker starting due schedules, who sees which jobs, and the CLI.

The tick commits in its own transactions, so most tests work on committed rows (``committed``
removes what a test created and restores the audit head). Times in the future (2030) keep the real
clock's ticks (any ``worker.run_once``) away from a test's schedules unless it wants them.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update
from typer.testing import CliRunner

from medreg.cli import app as medreg_app
from medreg.core import jobs, schedules
from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.audit import AuditEvent, AuditHead
from medreg.core.clock import utcnow
from medreg.core.db import session_scope
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from medreg.core.recurrence import Recurrence, next_due
from tests.core.workers import run_workers
from tests.factories import make_actor

SYSTEM = Actor.system()
EVENTS, HEAD, JOBS, SCHEDULES = AuditEvent.__table__, AuditHead.__table__, jobs.Job.__table__, \
    schedules.Schedule.__table__
T0 = datetime(2030, 1, 7, 0, 0, tzinfo=UTC)  # a Monday, 08:00 Beijing time
DAILY = Recurrence("daily", at="02:15")  # 18:15 UTC
RAN: list[int] = []


def _no_bad(params: dict) -> dict:
    if params.get("bad"):
        raise ValidationFailed("bad is not allowed", field="bad")
    return params


@jobs.job_handler("test.sched", roles=(Role.ADMIN, Role.REVIEWER), validate=_no_bad)
def sched_job(ctx: jobs.JobContext) -> None:
    RAN.append(ctx.job_id)


@jobs.job_handler("test.overseen", roles=(Role.ADMIN,), oversee=(Role.INSPECTOR,))
def overseen_job(ctx: jobs.JobContext) -> None:
    pass


@pytest.fixture
def committed(engine):
    with engine.connect() as conn:
        head = conn.execute(select(HEAD)).first()
        max_event = conn.execute(select(func.max(EVENTS.c.id))).scalar() or 0
        max_job = conn.execute(select(func.max(JOBS.c.id))).scalar() or 0
    RAN.clear()
    yield
    with engine.begin() as conn:
        conn.execute(delete(SCHEDULES))
        conn.execute(delete(JOBS).where(JOBS.c.id > max_job))
        conn.execute(delete(EVENTS).where(EVENTS.c.id > max_event))
        if head is None:
            conn.execute(delete(HEAD))
        else:
            conn.execute(update(HEAD).values(last_seq=head.last_seq, last_hash=head.last_hash))


def _create(name: str = "s", rec: Recurrence = DAILY, now: datetime = T0, **params) -> int:
    with session_scope() as s:
        return schedules.create(s, SYSTEM, name, "test.sched", rec, params=params, now=now).id


def _schedule(schedule_id: int) -> schedules.Schedule:
    with session_scope() as s:
        return schedules.get(s, SYSTEM, schedule_id)


def _events(action: str) -> list[AuditEvent]:
    with session_scope() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def _jobs_of(kind: str = "test.sched") -> list[jobs.Job]:
    with session_scope() as s:
        return list(s.scalars(select(jobs.Job).where(jobs.Job.kind == kind).order_by(jobs.Job.id)))


# --- the service --------------------------------------------------------------------------------------


def test_create_checks_kind_role_params_recurrence_and_name(db):
    reviewer, registrant = make_actor(db, Role.REVIEWER), make_actor(db, Role.REGISTRANT)
    sch = schedules.create(db, reviewer, "nightly", "test.sched", DAILY, params={"n": 1}, now=T0)
    assert sch.next_run_at == datetime(2030, 1, 7, 18, 15, tzinfo=UTC) and sch.enabled
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "schedule.create",
                                               AuditEvent.entity_id == str(sch.id)))
    assert event.after["every"] == "daily" and event.after["at_time"] == "02:15"
    cases = [
        (dict(kind="no.such"), ValidationFailed, "kind"),
        (dict(actor=registrant), PermissionDenied, "kind"),
        (dict(params={"bad": True}), ValidationFailed, "bad"),
        (dict(rec=Recurrence("daily", at="25:00")), ValidationFailed, "at"),
        (dict(name=" "), ValidationFailed, "name"),
        (dict(name="x" * 121), ValidationFailed, "name"),
        (dict(name="nightly"), Conflict, "name"),
    ]
    for change, error, field in cases:
        args = dict(actor=reviewer, name="other", kind="test.sched", rec=DAILY, params={}) | change
        with pytest.raises(error) as err:
            schedules.create(db, args["actor"], args["name"], args["kind"], args["rec"],
                             params=args["params"])
        assert err.value.field == field, change


def test_change_disable_enable_and_versions(db):
    reviewer = make_actor(db, Role.REVIEWER)
    sch = schedules.create(db, reviewer, "nightly", "test.sched", DAILY, now=T0)
    schedules.change(db, reviewer, sch.id, enabled=False, expected_version=1, now=T0)
    assert sch.next_run_at is None and not sch.enabled and sch.version == 2
    later = T0 + timedelta(days=3)  # re-enabled three days later: no run for the time it was off
    schedules.change(db, reviewer, sch.id, enabled=True, now=later)
    assert sch.next_run_at == next_due(DAILY, later)
    schedules.change(db, reviewer, sch.id, recurrence=Recurrence("interval", interval_minutes=60), now=later)
    assert sch.every == "interval" and sch.at_time is None and sch.next_run_at == later + timedelta(hours=1)
    with pytest.raises(Conflict) as err:
        schedules.change(db, reviewer, sch.id, enabled=False, expected_version=1)
    assert err.value.field == "expected_version"
    with pytest.raises(NotFound):  # a user who may not start the kind does not see the schedule
        schedules.change(db, make_actor(db, Role.REGISTRANT), sch.id, enabled=False)
    updates = db.scalars(select(AuditEvent).where(AuditEvent.action == "schedule.update",
                                                  AuditEvent.entity_id == str(sch.id))).all()
    assert [(e.before["enabled"], e.after["enabled"]) for e in updates] == [(True, False), (False, True),
                                                                           (True, True)]


# --- the tick ---------------------------------------------------------------------------------------------


def test_tick_queues_once_per_due_time(committed):
    sid = _create(n=3)
    assert schedules.tick(T0) == []  # not due yet
    due = datetime(2030, 1, 7, 18, 15, tzinfo=UTC)
    fired = schedules.tick(due + timedelta(seconds=1))
    assert [(f.schedule_id, f.due_at, f.outcome) for f in fired] == [(sid, due, "queued")]
    assert schedules.tick(due + timedelta(seconds=2)) == []  # the same due time is not started again
    sch, queued = _schedule(sid), _jobs_of()
    assert [j.id for j in queued] == [fired[0].job_id] and queued[0].params == {"n": 3}
    assert sch.last_job_id == queued[0].id and sch.last_outcome == "queued" and sch.last_due_at == due
    assert sch.next_run_at == due + timedelta(days=1) and sch.version == 1  # the tick is no user edit
    (event,) = _events("schedule.run")
    assert event.actor_username == "system" and event.after["job_id"] == queued[0].id


def test_racing_ticks_start_each_due_time_exactly_once(committed):
    ids = [_create(f"s{i}") for i in range(6)]
    now = datetime(2030, 1, 8, 0, 0, tzinfo=UTC)
    barrier, results, errors = threading.Barrier(4), [], []

    def race() -> None:
        try:
            barrier.wait(timeout=30)
            results.extend(schedules.tick(now))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=race) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(f.schedule_id for f in results) == ids and {f.outcome for f in results} == {"queued"}
    assert len(_jobs_of()) == 6 and len(_events("schedule.run")) == 6


def test_racing_workers_start_a_due_schedule_once_and_run_its_job(committed):
    sid = _create(rec=Recurrence("interval", interval_minutes=60), now=utcnow() - timedelta(hours=3))
    assert run_workers(3, timeout=120, lease_seconds=30) == []
    (job,) = _jobs_of()
    assert [job.id] == RAN and job.status == jobs.JobStatus.SUCCEEDED
    sch = _schedule(sid)
    assert sch.last_job_id == job.id and sch.next_run_at > utcnow() - timedelta(seconds=5)
    assert "caught up once for 3 due times" in (sch.last_note or "")


def test_a_run_is_skipped_while_the_previous_job_is_pending(committed):
    sid = _create()
    first_due = datetime(2030, 1, 7, 18, 15, tzinfo=UTC)
    (first,) = schedules.tick(first_due)
    (skipped,) = schedules.tick(first_due + timedelta(days=1))
    assert skipped.outcome == "skipped" and skipped.job_id is None
    sch = _schedule(sid)
    assert sch.skipped_runs == 1 and sch.last_outcome == "skipped" and sch.last_job_id == first.job_id
    assert sch.last_note == f"job {first.job_id} was still queued"
    assert len(_jobs_of()) == 1 and len(_events("schedule.skip")) == 1
    with session_scope() as s:  # the job finishes; the next due time starts a new one
        s.execute(update(jobs.Job).where(jobs.Job.id == first.job_id).values(status=jobs.JobStatus.SUCCEEDED))
    (again,) = schedules.tick(first_due + timedelta(days=2))
    assert again.outcome == "queued" and again.job_id != first.job_id


def test_after_downtime_a_schedule_catches_up_once(committed):
    sid = _create()  # due 2030-01-07 18:15 UTC; the workers were down for five days
    now = datetime(2030, 1, 12, 20, 0, tzinfo=UTC)
    (fired,) = schedules.tick(now)
    assert fired.due_at == datetime(2030, 1, 7, 18, 15, tzinfo=UTC) and fired.outcome == "queued"
    assert fired.note == "caught up once for 6 due times"  # 7th..12th January 18:15 UTC
    assert _schedule(sid).next_run_at == datetime(2030, 1, 13, 18, 15, tzinfo=UTC)
    assert schedules.tick(now + timedelta(minutes=1)) == [] and len(_jobs_of()) == 1
    assert _events("schedule.run")[0].after["missed"] == 5


def test_refused_params_and_unknown_kinds(committed):
    sid = _create()
    with session_scope() as s:  # params that the kind refuses by the time the schedule is due
        s.execute(update(schedules.Schedule).where(schedules.Schedule.id == sid).values(params={"bad": True}))
        s.add(schedules.Schedule(name="elsewhere", kind="test.not_here", params={}, every="daily",
                                 at_time="02:15", next_run_at=T0))
    (failed,) = schedules.tick(T0 + timedelta(days=1))
    assert failed.outcome == "failed" and failed.note == "bad is not allowed" and _jobs_of() == []
    assert _schedule(sid).next_run_at == datetime(2030, 1, 8, 18, 15, tzinfo=UTC)
    assert len(_events("schedule.fail")) == 1
    with session_scope() as s:  # the kind this process does not know stays due for one that does
        other = s.scalar(select(schedules.Schedule).where(schedules.Schedule.name == "elsewhere"))
        assert other.next_run_at == T0 and other.last_outcome is None


# --- who sees which jobs ------------------------------------------------------------------------------------


def test_users_see_their_own_jobs_and_every_job_of_the_kinds_they_oversee(db):
    inspector, reviewer = make_actor(db, Role.INSPECTOR), make_actor(db, Role.REVIEWER)
    by_system = jobs.enqueue(db, SYSTEM, "test.overseen")
    own = jobs.enqueue(db, reviewer, "test.sched")
    assert jobs.get(db, inspector, by_system.id) is by_system
    assert {j.id for j in jobs.list_jobs(db, inspector)} >= {by_system.id}
    assert own.id not in {j.id for j in jobs.list_jobs(db, inspector)}
    with pytest.raises(NotFound):
        jobs.get(db, inspector, own.id)
    with pytest.raises(NotFound):
        jobs.get(db, reviewer, by_system.id)
    assert {j.id for j in jobs.list_jobs(db, reviewer)} == {own.id}
    assert jobs.cancel(db, inspector, by_system.id).status == jobs.JobStatus.CANCELLED


# --- the CLI ---------------------------------------------------------------------------------------------


def test_cli_add_list_disable_enable(committed):
    runner = CliRunner()
    done = runner.invoke(medreg_app, ["schedules", "add", "nightly audit", "--kind", "test.sched", "--every",
                                      "weekly", "--weekday", "sun", "--at", "03:00", "-p", "n=2"])
    assert done.exit_code == 0, done.output
    sid = int(done.output.split()[1])
    assert _schedule(sid).weekday == 7 and _schedule(sid).params == {"n": 2}
    listed = runner.invoke(medreg_app, ["schedules", "list"])
    assert listed.exit_code == 0 and "nightly audit" in listed.output and "weekly on sun" in listed.output
    assert runner.invoke(medreg_app, ["schedules", "disable", str(sid)]).exit_code == 0
    assert _schedule(sid).next_run_at is None
    assert runner.invoke(medreg_app, ["schedules", "enable", str(sid)]).exit_code == 0
    assert _schedule(sid).next_run_at > utcnow()
    bad = runner.invoke(medreg_app, ["schedules", "add", "x", "--kind", "test.sched", "--every", "daily",
                                     "--at", "7pm"])
    assert bad.exit_code == 2 and "[at]" in bad.output
    assert runner.invoke(medreg_app, ["schedules", "enable", "999999"]).exit_code == 4


def test_cli_monthly_schedule_and_delete(committed):
    runner = CliRunner()
    done = runner.invoke(medreg_app, ["schedules", "add", "monthly check", "--kind", "test.sched", "--every",
                                      "monthly", "--day-of-month", "31", "--at", "02:15"])
    assert done.exit_code == 0, done.output
    sid = int(done.output.split()[1])
    sch = _schedule(sid)
    assert (sch.every, sch.day_of_month, sch.at_time) == ("monthly", 31, "02:15")
    assert sch.next_run_at == next_due(Recurrence("monthly", at="02:15", day_of_month=31), sch.created_at)
    listed = runner.invoke(medreg_app, ["schedules", "list"])
    assert "monthly on day 31" in listed.output
    bad = runner.invoke(medreg_app, ["schedules", "add", "y", "--kind", "test.sched", "--every", "monthly",
                                     "--day-of-month", "32", "--at", "02:15"])
    assert bad.exit_code == 2 and "[day_of_month]" in bad.output
    assert runner.invoke(medreg_app, ["schedules", "delete", str(sid)]).exit_code == 0
    with session_scope() as s:
        assert s.get(schedules.Schedule, sid) is None
    (event,) = _events("schedule.delete")
    assert event.before["day_of_month"] == 31 and event.before["every"] == "monthly"
    assert runner.invoke(medreg_app, ["schedules", "delete", str(sid)]).exit_code == 4


def test_a_monthly_schedule_fires_on_the_clamped_day_and_passes_its_subject(committed):
    rec = Recurrence("monthly", at="02:15", day_of_month=31)
    with session_scope() as s:
        sid = schedules.create(s, SYSTEM, "m", "test.sched", rec, subject="thing:7",
                               now=datetime(2030, 4, 1, tzinfo=UTC)).id
    due = datetime(2030, 4, 29, 18, 15, tzinfo=UTC)  # 30 April 02:15 Beijing: April has 30 days
    assert _schedule(sid).next_run_at == due
    (fired,) = schedules.tick(due)
    (job,) = _jobs_of()
    assert job.id == fired.job_id and job.subject == "thing:7"
    assert _schedule(sid).next_run_at == datetime(2030, 5, 30, 18, 15, tzinfo=UTC)  # 31 May again


def test_latest_job_by_subject_is_exact_whatever_the_number_of_jobs(db):
    reviewer = make_actor(db, Role.REVIEWER)
    a1 = jobs.enqueue(db, reviewer, "test.sched", {"n": 1}, subject="thing:1")
    jobs.enqueue(db, reviewer, "test.sched", {"n": 2}, subject="thing:2")
    a2 = jobs.enqueue(db, reviewer, "test.sched", {"n": 3}, subject="thing:1")
    for i in range(30):  # many later jobs of other subjects (and none) do not hide them
        jobs.enqueue(db, reviewer, "test.sched", {"n": i}, subject="other" if i % 2 else None)
    found = jobs.latest_by_subject(db, "test.sched", ["thing:1", "thing:2", "thing:3"])
    assert found["thing:1"].id == a2.id and found["thing:2"].params == {"n": 2} and "thing:3" not in found
    db.execute(update(jobs.Job).where(jobs.Job.id == a2.id).values(status="succeeded"))
    pending = jobs.latest_by_subject(db, "test.sched", ["thing:1"], statuses=("queued", "running"))
    assert pending["thing:1"].id == a1.id
    assert jobs.latest_by_subject(db, "test.sched", []) == {}
    with pytest.raises(ValidationFailed) as err:
        jobs.enqueue(db, reviewer, "test.sched", {}, subject="x" * 121)
    assert err.value.field == "subject"
