"""Background jobs: claim, progress, checkpoints, retries, crash recovery, cancel, audit.verify, CLI.

Jobs commit in their own transactions (``session_scope()``), so these tests work on committed rows:
the ``committed_jobs`` fixture removes the jobs and audit events a test created and restores the
audit head afterwards.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text, update
from typer.testing import CliRunner

from medreg.cli import app as medreg_app
from medreg.core import files, jobs, worker
from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.audit import AuditEvent, AuditHead
from medreg.core.clock import utcnow
from medreg.core.db import session_scope
from medreg.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from tests.core.workers import run_workers
from tests.factories import make_actor

SYSTEM = Actor.system()
EVENTS, HEAD, JOBS = AuditEvent.__table__, AuditHead.__table__, jobs.Job.__table__
FILES = files.StoredFile.__table__


class SimulatedCrash(BaseException):
    """Stands for the worker process dying: nothing in the worker catches it."""


PROCESSED: list[tuple[int, int]] = []  # (job id, item) in the order the handler did them
SEEN_FROM_OUTSIDE: list[tuple[int, int, int | None]] = []  # (done, total) read by another session
PLAN: dict = {}  # item -> "fail" | "crash" | "cancel" on the first attempt


@jobs.job_handler("test.count", max_attempts=3, roles=(Role.ADMIN, Role.REVIEWER))
def count_items(ctx: jobs.JobContext) -> None:
    n = int(ctx.params["n"])
    start = ctx.checkpoint["next"] if ctx.checkpoint else 0
    ctx.progress(start, n, "resuming" if start else "starting")
    for i in range(start, n):
        action = PLAN.get(i) if ctx.attempt == 1 else None
        if action == "fail":
            raise RuntimeError(f"simulated failure at item {i}")
        if action == "crash":
            raise SimulatedCrash
        if action == "cancel":
            with session_scope() as s:
                jobs.cancel(s, SYSTEM, ctx.job_id)
        with ctx.session() as s:  # the handler's own unit of work, committed with its checkpoint
            s.execute(text("SELECT 1"))
            ctx.save_checkpoint({"next": i + 1}, done=i + 1, total=n, message=f"item {i}", session=s)
            PROCESSED.append((ctx.job_id, i))  # (a cancelled job's last unit is rolled back)
        with session_scope() as other:
            row = other.execute(select(JOBS.c.done, JOBS.c.total).where(JOBS.c.id == ctx.job_id)).one()
            SEEN_FROM_OUTSIDE.append((ctx.job_id, row.done, row.total))
        time.sleep(float(ctx.params.get("sleep", 0)))
    ctx.set_result({"processed_this_attempt": n - start})


@jobs.job_handler("test.always_fails", max_attempts=2)
def always_fails(ctx: jobs.JobContext) -> None:
    raise ValueError("bad data in row 7")


@pytest.fixture
def committed_jobs(engine):
    with engine.connect() as conn:
        head = conn.execute(select(HEAD)).first()
        max_event = conn.execute(select(func.max(EVENTS.c.id))).scalar() or 0
        max_job = conn.execute(select(func.max(JOBS.c.id))).scalar() or 0
        max_file = conn.execute(select(func.max(FILES.c.id))).scalar() or 0
    PROCESSED.clear(), SEEN_FROM_OUTSIDE.clear(), PLAN.clear()
    yield
    with engine.begin() as conn:
        conn.execute(delete(JOBS).where(JOBS.c.id > max_job))
        conn.execute(delete(FILES).where(FILES.c.id > max_file))
        conn.execute(delete(EVENTS).where(EVENTS.c.id > max_event))
        if head is None:
            conn.execute(delete(HEAD))
        else:
            conn.execute(update(HEAD).values(last_seq=head.last_seq, last_hash=head.last_hash))


def _enqueue(kind: str = "test.count", **params) -> int:
    with session_scope() as s:
        return jobs.enqueue(s, SYSTEM, kind, params).id


def _job(job_id: int) -> jobs.Job:
    with session_scope() as s:
        return jobs.get(s, SYSTEM, job_id)


def _items(job_id: int) -> list[int]:
    return [i for j, i in PROCESSED if j == job_id]


def test_enqueue_validates_kind_role_and_params(db):
    with pytest.raises(ValidationFailed) as err:
        jobs.enqueue(db, SYSTEM, "no.such.kind", {})
    assert err.value.field == "kind" and "audit.verify" in err.value.message
    registrant = make_actor(db, Role.REGISTRANT, OrgKind.REGISTRANT)
    with pytest.raises(PermissionDenied):
        jobs.enqueue(db, registrant, "audit.verify", {})
    for params, field in (({"batch": 5}, "params.batch"), ({"batch": "many"}, "params.batch"),
                          ({"bogus": 1}, "params")):
        with pytest.raises(ValidationFailed) as err:
            jobs.enqueue(db, SYSTEM, "audit.verify", params)
        assert err.value.field == field
    reviewer = make_actor(db, Role.REVIEWER, OrgKind.REGULATOR_UNIT)
    job = jobs.enqueue(db, reviewer, "test.count", {"n": 1})
    assert (job.status, job.attempts, job.max_attempts, job.created_by_user_id) == ("queued", 0, 3,
                                                                                   reviewer.user_id)
    assert jobs.get(db, reviewer, job.id).id == job.id
    with pytest.raises(NotFound):  # another user's job does not exist for a non-admin
        jobs.get(db, make_actor(db, Role.REVIEWER, OrgKind.REGULATOR_UNIT), job.id)
    assert [j.id for j in jobs.list_jobs(db, reviewer)] == [job.id]


def test_run_once_reports_progress_visible_to_other_sessions(committed_jobs):
    assert worker.run_once("w1") is None  # an empty queue
    job_id = _enqueue(n=4)
    assert worker.run_once("w1") == job_id
    job = _job(job_id)
    assert (job.status, job.done, job.total, job.attempts, job.worker_id) == ("succeeded", 4, 4, 1, "w1")
    assert job.result == {"processed_this_attempt": 4} and job.error is None
    assert job.started_at <= job.finished_at and job.message == "item 3"
    assert [(d, t) for j, d, t in SEEN_FROM_OUTSIDE if j == job_id] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    with session_scope() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "job",
                                                            AuditEvent.entity_id == str(job_id))).all()
    assert actions == ["job.enqueue", "job.succeeded"]
    assert worker.run_once("w1") is None


def test_failure_midway_retries_from_the_checkpoint(committed_jobs):
    PLAN[3] = "fail"
    job_id = _enqueue(n=6)
    assert worker.run_once("w1") == job_id
    job = _job(job_id)
    assert (job.status, job.attempts, job.done, job.checkpoint) == ("queued", 1, 3, {"next": 3})
    assert "simulated failure at item 3" in job.error and job.worker_id is None
    assert _items(job_id) == [0, 1, 2]
    assert worker.run_once("w2") == job_id
    job = _job(job_id)
    assert (job.status, job.attempts, job.done, job.total) == ("succeeded", 2, 6, 6)
    assert _items(job_id) == [0, 1, 2, 3, 4, 5]  # nothing done twice
    assert job.result == {"processed_this_attempt": 3} and job.error is None


def test_job_fails_after_max_attempts(committed_jobs):
    job_id = _enqueue("test.always_fails")
    assert worker.run_once("w1") == job_id and _job(job_id).status == "queued"
    assert worker.run_once("w1") == job_id
    job = _job(job_id)
    assert (job.status, job.attempts) == ("failed", 2) and "bad data in row 7" in job.error
    assert job.finished_at is not None and worker.run_once("w1") is None
    with session_scope() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "job.failed",
                                                AuditEvent.entity_id == str(job_id))).one()
    assert "ValueError: bad data in row 7" in ev.note


def _expire_lease(engine, job_id: int, seconds: int = 600) -> None:
    with engine.begin() as conn:
        conn.execute(update(JOBS).where(JOBS.c.id == job_id)
                     .values(heartbeat_at=utcnow() - timedelta(seconds=seconds)))


def test_crashed_worker_job_is_reclaimed_after_the_lease_and_resumed(engine, committed_jobs):
    PLAN[2] = "crash"
    job_id = _enqueue(n=5)
    with pytest.raises(SimulatedCrash):
        worker.run_once("w1")
    job = _job(job_id)
    assert (job.status, job.worker_id, job.checkpoint) == ("running", "w1", {"next": 2})
    assert worker.run_once("w2") is None  # the lease of w1 is still fresh
    _expire_lease(engine, job_id)
    assert worker.run_once("w2") == job_id
    job = _job(job_id)
    assert (job.status, job.worker_id, job.attempts, job.done) == ("succeeded", "w2", 2, 5)
    assert _items(job_id) == [0, 1, 2, 3, 4]
    late = jobs.JobContext(job_id, {}, None, "w1", 1)  # w1 comes back from the dead: fenced off
    with pytest.raises(jobs.JobLost):
        late.progress(1, 5)
    assert _job(job_id).done == 5


def test_stale_job_on_its_last_attempt_fails(engine, committed_jobs):
    PLAN[0] = "crash"
    job_id = _enqueue(n=2)
    with session_scope() as s:
        s.execute(update(jobs.Job).where(jobs.Job.id == job_id).values(max_attempts=1))
    with pytest.raises(SimulatedCrash):
        worker.run_once("w1")
    _expire_lease(engine, job_id)
    assert worker.run_once("w2") is None
    job = _job(job_id)
    assert job.status == "failed" and "lease expired" in job.error and job.finished_at is not None


def test_heartbeat_keeps_a_slow_job_from_being_taken_over(committed_jobs):
    job_id = _enqueue(n=3, sleep=0.4)  # 1.2 s of work, a 0.5 s lease: the heartbeat must renew it
    thread = threading.Thread(target=worker.run_once, args=("w1",), kwargs={"lease_seconds": 0.5})
    thread.start()
    time.sleep(0.3)
    taken = [worker.run_once("w2", lease_seconds=0.5) for _ in range(3) if not time.sleep(0.25)]
    thread.join(timeout=30)
    assert taken == [None, None, None]
    job = _job(job_id)
    assert (job.status, job.worker_id, job.attempts) == ("succeeded", "w1", 1)


def test_cancel_queued_and_running_jobs(committed_jobs):
    queued = _enqueue(n=2)
    with session_scope() as s:
        assert jobs.cancel(s, SYSTEM, queued).status == "cancelled"
    with session_scope() as s, pytest.raises(InvalidTransition):
        jobs.cancel(s, SYSTEM, queued)
    assert worker.run_once("w1") is None
    PLAN[2] = "cancel"  # the job is cancelled while it runs: it stops at its next progress write
    running = _enqueue(n=5)
    assert worker.run_once("w1") == running
    job = _job(running)
    assert (job.status, job.done) == ("cancelled", 2) and _items(running) == [0, 1]


def test_concurrent_workers_claim_each_job_once(committed_jobs):
    ids = [_enqueue(n=2, sleep=0.01) for _ in range(6)]
    assert run_workers(3, timeout=60) == []
    for job_id in ids:
        assert _items(job_id) == [0, 1] and _job(job_id).attempts == 1


def _commit_events(n: int) -> list[AuditEvent]:
    from medreg.core import audit

    with session_scope() as s:
        return [audit.record(s, SYSTEM, "edit", "job_test", i, after={"i": i}) for i in range(n)]


def test_audit_verify_job_walks_the_chain_in_batches(engine, committed_jobs):
    events = _commit_events(25)
    job_id = _enqueue("audit.verify", batch=10)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(EVENTS)).scalar()
        last_seq = conn.execute(select(func.max(EVENTS.c.seq))).scalar()
    assert worker.run_once("w1") == job_id
    job = _job(job_id)
    assert job.status == "succeeded" and (job.done, job.total) == (total, total)
    assert job.result["intact"] is True and job.result["events"] == total and job.result["problems"] == []
    assert job.checkpoint["last_seq"] == last_seq == job.result["head_seq"]

    with engine.begin() as conn:  # tamper with one event behind the application's back
        conn.execute(text("UPDATE audit_event SET actor_username = 'mallory' WHERE id = :id"),
                     {"id": events[7].id})
    job_id = _enqueue("audit.verify", batch=10)
    worker.run_once("w1")
    result = _job(job_id).result
    assert result["intact"] is False and result["problem_count"] == 1
    assert (result["problems"][0]["kind"], result["problems"][0]["seq"]) == ("edited", events[7].seq)


def test_audit_verify_job_resumes_from_its_checkpoint(engine, committed_jobs, monkeypatch):
    _commit_events(35)
    job_id = _enqueue("audit.verify", batch=10)
    saved: list[int] = []
    original = jobs.JobContext.save_checkpoint

    def crash_on_second_checkpoint(self, state, *args, **kw):
        if self.attempt == 1 and len(saved) == 1:
            raise SimulatedCrash
        saved.append(state["last_seq"])
        return original(self, state, *args, **kw)

    monkeypatch.setattr(jobs.JobContext, "save_checkpoint", crash_on_second_checkpoint)
    with pytest.raises(SimulatedCrash):
        worker.run_once("w1")
    first = saved[0]
    assert _job(job_id).checkpoint["last_seq"] == first
    _expire_lease(engine, job_id)
    assert worker.run_once("w2") == job_id
    assert saved[1] == first + 10  # resumed after the checkpoint, did not start again at seq 1
    job = _job(job_id)
    assert job.status == "succeeded" and job.result["intact"] is True and job.attempts == 2


def test_files_verify_job_finds_damaged_and_missing_files(committed_jobs, monkeypatch, tmp_path):
    from medreg.core.settings import get_settings

    monkeypatch.setattr(get_settings(), "file_store_dir", tmp_path / "store")
    with session_scope() as s:
        stored = [files.store(s, SYSTEM, filename=f"n{i}.txt", data=f"note {i}\n".encode())
                  for i in range(12)]
    job_id = _enqueue("files.verify", batch=10)
    worker.run_once("w1")
    job = _job(job_id)
    assert job.status == "succeeded" and job.result["intact"] is True and job.done == job.total >= 12
    damaged = files.path_of(stored[3].sha256)
    damaged.chmod(0o644)
    damaged.write_bytes(b"note X\n")
    files.path_of(stored[11].sha256).unlink()
    job_id = _enqueue("files.verify", batch=10)
    worker.run_once("w1")
    result = _job(job_id).result
    assert result["intact"] is False and result["problem_count"] == 2
    assert {(p["file_id"], p["problem"]) for p in result["problems"]} == {
        (stored[3].id, "hash_mismatch"), (stored[11].id, "missing")}


def test_cli_enqueue_list_show_cancel_and_worker(committed_jobs):
    runner = CliRunner()
    result = runner.invoke(medreg_app, ["jobs", "enqueue", "test.count", "--param", "n=3"])
    assert result.exit_code == 0, result.output
    job_id = int(result.output.split()[1])
    assert _job(job_id).params == {"n": 3}
    result = runner.invoke(medreg_app, ["jobs", "list", "--status", "queued"])
    assert result.exit_code == 0 and "test.count" in result.output
    result = runner.invoke(medreg_app, ["worker", "--once", "--worker-id", "cli-w"])
    assert result.exit_code == 0 and "1 job(s) run" in result.output
    result = runner.invoke(medreg_app, ["jobs", "show", str(job_id)])
    assert result.exit_code == 0 and "succeeded" in result.output and "3/3 (100%)" in result.output
    assert runner.invoke(medreg_app, ["jobs", "cancel", str(job_id)]).exit_code == 5
    assert runner.invoke(medreg_app, ["jobs", "show", "999999999"]).exit_code == 4
    result = runner.invoke(medreg_app, ["jobs", "enqueue", "nope"])
    assert result.exit_code == 2 and "Unknown job kind" in result.output
    assert runner.invoke(medreg_app, ["jobs", "enqueue", "test.count", "-p", "novalue"]).exit_code == 2
    assert "audit.verify" in runner.invoke(medreg_app, ["jobs", "kinds"]).output


def test_in_process_worker_thread_runs_jobs_until_stopped(committed_jobs):
    thread, stop = worker.start_in_process_worker(poll_interval=0.05)
    try:
        job_id = _enqueue(n=2)
        deadline = time.monotonic() + 20
        while _job(job_id).status != "succeeded" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _job(job_id).status == "succeeded"
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_the_jobs_menu_reaches_every_role_that_oversees_a_kind_of_job(db):
    import medreg.web.app  # noqa: F401  (registers every domain's job kinds)
    from medreg.core.templating import nav_for
    from medreg.web.jobs_pages import NAV_ROLES

    overseers = {role for spec in jobs._REGISTRY.values() for role in spec.oversee
                 if spec.func.__module__.startswith("medreg.")}  # not the kinds tests register
    assert Role.MONITORING_CENTRE in overseers and overseers <= set(NAV_ROLES)
    centre = make_actor(db, Role.MONITORING_CENTRE, OrgKind.MONITORING_CENTRE)
    registrant = make_actor(db, Role.REGISTRANT, OrgKind.REGISTRANT)
    assert "/jobs/" in [item.path for item in nav_for(centre)]
    assert "/jobs/" not in [item.path for item in nav_for(registrant)]
