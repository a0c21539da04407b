"""The ``on_abandon`` hook of a job kind: run once whenever a job ends without success, by whoever ends it
(the worker whose handler failed on its last attempt or stopped after a cancel, ``jobs.cancel`` when no
handler runs the job, the sweep of the next worker when the worker died), in that caller's unit of work;
a failing hook never undoes the job's state change. Jobs commit, so these tests use committed rows."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from medreg.core import jobs, worker
from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.audit import AuditEvent
from medreg.core.db import session_scope
from medreg.core.errors import InvalidTransition, PermissionDenied
from tests.core.test_jobs import SYSTEM, SimulatedCrash, _expire_lease, _job, committed_jobs  # noqa: F401

hook_calls: list[tuple[int, str, str]] = []  # (job id, status seen by the hook, reason)
PLAN: dict = {}  # "fail", "crash", "cancel", "hook_fails"


def _hook(session, job: jobs.Job, reason: str) -> None:
    hook_calls.append((job.id, job.status, reason))
    job.message = f"cleaned up ({len(hook_calls)})"
    if PLAN.get("hook_fails"):
        session.execute(update(jobs.Job).where(jobs.Job.id == job.id).values(done=999))  # undone
        raise RuntimeError("clean-up broke")


@jobs.job_handler("test.abandonable", max_attempts=2, roles=(Role.ADMIN,), on_abandon=_hook)
def abandonable(ctx: jobs.JobContext) -> None:
    ctx.save_checkpoint({"started": True}, done=1, total=2)
    if PLAN.get("cancel"):
        with session_scope() as s:
            jobs.cancel(s, SYSTEM, ctx.job_id)  # a live handler: the hook waits for it to stop
        assert hook_calls == []
    if PLAN.get("crash"):
        raise SimulatedCrash
    if PLAN.get("fail"):
        raise ValueError("bad row")
    ctx.progress(2, 2)


@pytest.fixture
def plan(committed_jobs):  # noqa: F811
    hook_calls.clear(), PLAN.clear()
    yield PLAN
    PLAN.clear()


def _enqueue() -> int:
    with session_scope() as s:
        return jobs.enqueue(s, SYSTEM, "test.abandonable", {}).id


def _actions(job_id: int) -> list[str]:
    with session_scope() as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "job",
                                                              AuditEvent.entity_id == str(job_id))
                              .order_by(AuditEvent.seq)))


def test_success_and_a_retry_do_not_abandon(plan):
    job_id = _enqueue()
    assert worker.run_once("w1") == job_id and _job(job_id).status == "succeeded"
    plan["fail"] = True
    job_id = _enqueue()
    assert worker.run_once("w1") == job_id and _job(job_id).status == "queued"
    assert hook_calls == []


def test_final_failure_of_the_handler_runs_the_hook_with_the_failed_status(plan):
    plan["fail"] = True
    job_id = _enqueue()
    worker.run_once("w1"), worker.run_once("w1")
    job = _job(job_id)
    assert (job.status, job.message) == ("failed", "cleaned up (1)")
    assert hook_calls == [(job_id, "failed", "failed: ValueError: bad row")]
    assert _actions(job_id) == ["job.enqueue", "job.failed"]


def test_cancel_while_queued_runs_the_hook_in_the_callers_unit_of_work(plan):
    job_id = _enqueue()
    with pytest.raises(RuntimeError), session_scope() as s:  # the caller's transaction is rolled back
        jobs.cancel(s, SYSTEM, job_id)
        assert hook_calls == [(job_id, "cancelled", "cancelled while queued")]
        raise RuntimeError("the request failed after the cancel")
    assert _job(job_id).status == "queued"  # neither the cancel nor the hook's work happened
    with session_scope() as s:
        jobs.cancel(s, SYSTEM, job_id)
    job = _job(job_id)
    assert (job.status, job.message, job.worker_id) == ("cancelled", "cleaned up (2)", None)
    assert worker.run_once("w1") is None and len(hook_calls) == 2


def test_cancel_of_a_running_job_waits_for_its_handler_to_stop(plan):
    plan["cancel"] = True
    job_id = _enqueue()
    assert worker.run_once("w1") == job_id  # the handler's next write raised JobLost
    assert hook_calls == [(job_id, "cancelled", "cancelled while running")]
    job = _job(job_id)
    assert (job.status, job.worker_id, job.message) == ("cancelled", None, "cleaned up (1)")


def test_dead_worker_on_the_last_attempt_is_failed_by_the_next_worker_with_the_hook(engine, plan):
    plan["crash"] = True
    job_id = _enqueue()
    with session_scope() as s:
        s.execute(update(jobs.Job).where(jobs.Job.id == job_id).values(max_attempts=1))
    with pytest.raises(SimulatedCrash):
        worker.run_once("w1")
    assert worker.run_once("w2") is None and hook_calls == []  # the lease is fresh: w1 may be alive
    _expire_lease(engine, job_id)
    assert worker.run_once("w2") is None
    job = _job(job_id)
    assert (job.status, job.worker_id, job.message) == ("failed", None, "cleaned up (1)")
    lost = "failed: worker lost (lease expired) on the last allowed attempt"
    assert hook_calls == [(job_id, "failed", lost)]
    assert _actions(job_id) == ["job.enqueue", "job.failed"]
    assert worker.run_once("w3") is None and len(hook_calls) == 1  # once


def test_cancel_with_a_dead_worker_runs_the_hook_at_once(engine, plan):
    plan["crash"] = True
    job_id = _enqueue()
    with pytest.raises(SimulatedCrash):
        worker.run_once("w1")
    _expire_lease(engine, job_id)
    with session_scope() as s:
        jobs.cancel(s, SYSTEM, job_id)
    assert hook_calls == [(job_id, "cancelled", "cancelled while running with a dead worker")]
    assert _job(job_id).worker_id is None and worker.run_once("w2") is None and len(hook_calls) == 1


def test_cancel_of_a_live_worker_that_then_dies_gets_the_hook_from_the_sweep(engine, plan):
    plan["crash"] = True
    job_id = _enqueue()
    with pytest.raises(SimulatedCrash):
        worker.run_once("w1")
    with session_scope() as s:  # the heartbeat is fresh: the cancel leaves the hook to w1
        jobs.cancel(s, SYSTEM, job_id)
    assert hook_calls == [] and _job(job_id).worker_id == "w1"
    assert worker.run_once("w2") is None and hook_calls == []
    _expire_lease(engine, job_id)  # w1 never came back
    assert worker.run_once("w2") is None
    assert hook_calls == [(job_id, "cancelled", "cancelled; its worker died before stopping")]
    assert _job(job_id).worker_id is None and worker.run_once("w2") is None and len(hook_calls) == 1


def test_a_failing_hook_keeps_the_state_change_records_the_error_and_can_run_again(plan):
    plan["hook_fails"] = True
    job_id = _enqueue()
    with session_scope() as s:
        jobs.cancel(s, SYSTEM, job_id)
    job = _job(job_id)
    assert job.status == "cancelled" and job.done == 0 and job.message is None  # the hook's work undone
    assert "on_abandon failed: RuntimeError: clean-up broke" in job.error
    assert _actions(job_id) == ["job.enqueue", "job.cancel", "job.abandon_failed"]
    with session_scope() as s, pytest.raises(PermissionDenied):
        jobs.rerun_abandon(s, Actor(user_id=None, username="r", roles=frozenset({Role.REVIEWER})), job_id)
    plan.pop("hook_fails")
    with session_scope() as s:
        job, ok = jobs.rerun_abandon(s, SYSTEM, job_id)
    assert ok and _job(job_id).message == "cleaned up (2)"
    assert _actions(job_id)[-1] == "job.abandon" and len(hook_calls) == 2
    queued = _enqueue()
    with session_scope() as s, pytest.raises(InvalidTransition):
        jobs.rerun_abandon(s, SYSTEM, queued)


def test_cli_clean_up(plan):
    from typer.testing import CliRunner

    from medreg.cli import app as medreg_app

    job_id = _enqueue()
    with session_scope() as s:
        jobs.cancel(s, SYSTEM, job_id)
    out = CliRunner().invoke(medreg_app, ["jobs", "clean-up", str(job_id)])
    assert out.exit_code == 0 and f"job {job_id} cleaned up: cleaned up (2)" in out.output
    assert CliRunner().invoke(medreg_app, ["jobs", "clean-up", str(_enqueue())]).exit_code == 5


def test_a_process_without_the_kind_records_the_hook_as_not_run(plan, monkeypatch):
    job_id = _enqueue()
    monkeypatch.delitem(jobs._REGISTRY, "test.abandonable")
    with session_scope() as s:
        jobs.cancel(s, SYSTEM, job_id)
    assert "is not registered in this process" in _job(job_id).error and hook_calls == []
    monkeypatch.undo()
    with session_scope() as s:
        assert jobs.rerun_abandon(s, SYSTEM, job_id)[1]
    assert len(hook_calls) == 1
