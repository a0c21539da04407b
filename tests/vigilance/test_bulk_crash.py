"""A real crash of the worker running a background import (issue 7): a worker process
(``tests/crash_worker.py``, through ``tests.crashing``) is killed with SIGKILL after two committed
batches, its lease (one second, from ``MEDREG_JOB_LEASE_SECONDS``) runs out, and then

(a) another worker resumes the import from its checkpoint, and the reports equal those of an
    uninterrupted run of the same file (case columns and stored forms);
(b) on the last allowed attempt the next worker marks the job failed and the kind's ``on_abandon``
    hook removes the drafts the dead worker had committed;
(c) a cancel of a job no handler runs (queued for a retry, or running with a dead worker) removes them
    at once, through the same hook.

Polling only, with a generous timeout: nothing here depends on how fast the machine is."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from medreg.core import audit, audit_verify, jobs, worker
from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.db import session_scope
from medreg.vigilance import bulk
from medreg.vigilance.models import CASE_FIELDS, VigilanceCase, VigilanceReportVersion
from tests.crashing import crash_while_blocked, short_lease, until  # noqa: F401  (fixture)
from tests.vigilance.test_bulk import _count, _csv, _events, _job, _job_cases, _start


def _crash_after_two_batches(job_id: int, tmp_path: Path) -> None:
    """Run the job in a worker process, SIGKILL it while it holds the job after two committed batches."""
    def holds_the_job_after_two_batches():
        job = _job(job_id)
        assert (job.status, job.worker_id, job.checkpoint["next_row"]) == ("running", "crash-victim", 20)

    crash_while_blocked(tmp_path, "medreg.vigilance.bulk:_Filer.file", 3,
                        while_blocked=holds_the_job_after_two_batches)


def _reports(job_id: int) -> list[tuple[dict, dict]]:
    """What the job imported, in file order: each case's columns (as ``create_report`` fills them) and
    its stored form. Ids and times are left out."""
    with session_scope() as s:
        rows = s.execute(select(VigilanceCase, VigilanceReportVersion.content).join(
            VigilanceReportVersion, VigilanceCase.id == VigilanceReportVersion.case_id)
            .where(VigilanceCase.import_job_id == job_id).order_by(VigilanceCase.id)).all()
        return [(audit.snapshot(case, CASE_FIELDS), content) for case, content in rows]


def _imports(job_id: int) -> list[str]:
    with session_scope() as s:
        ev = audit.AuditEvent
        rows = s.scalars(select(ev.after).where(ev.entity_type == "vigilance_import").order_by(ev.seq))
        return [a["file_rows"] for a in rows if a["job"] == job_id]


@pytest.mark.usefixtures("short_lease")
def test_killed_worker_a_second_worker_resumes_from_the_checkpoint(hospital, tmp_path):
    data = _csv(47)
    reference = _start(hospital, data, batch=10)
    assert worker.run_once("w-ref") == reference  # the uninterrupted run of the same file
    job_id = _start(hospital, data, batch=10)
    _crash_after_two_batches(job_id, tmp_path)
    assert len(_job_cases(job_id)) == 20  # the two committed batches survive the crash
    assert until(lambda: worker.run_once("w2") == job_id, "the lease to expire and w2 to take over")
    job, ref = _job(job_id), _job(reference)
    assert (job.status, job.attempts, job.worker_id, job.done) == ("succeeded", 2, "w2", 47)
    assert _imports(job_id) == ["1-10", "11-20", "21-30", "31-40", "41-47"]  # resumed at row 21
    drop = {"first_id", "last_id"}
    assert {k: v for k, v in job.result.items() if k not in drop} == {
        k: v for k, v in ref.result.items() if k not in drop}
    assert _reports(job_id) == _reports(reference) and len(_reports(job_id)) == 47
    with session_scope() as s:
        assert audit_verify.verify(s) == []


@pytest.mark.usefixtures("short_lease")
def test_killed_on_the_last_attempt_the_job_fails_and_its_drafts_go(hospital, tmp_path):
    job_id = _start(hospital, _csv(47), batch=10)
    with session_scope() as s:  # two attempts spent already: the crash is on the last one
        s.execute(update(jobs.Job).where(jobs.Job.id == job_id).values(attempts=2))
    _crash_after_two_batches(job_id, tmp_path)
    ids = _job_cases(job_id)
    assert len(ids) == 20
    until(lambda: worker.run_once("w2") is None and _job(job_id).status == "failed",
           "the next worker to fail the job")
    job = _job(job_id)
    assert (job.attempts, job.worker_id) == (3, None) and "lease expired" in job.error
    assert job.message == "failed: 20 imported reports rolled back"
    assert job.result == {"status": "rolled_back", "rolled_back": 20, "kept": 0}
    assert _job_cases(job_id) == [] and _count(hospital) == (0, 0, 0)
    assert len(_events("create", ids)) == 20 and len(_events("rollback", ids)) == 20
    with session_scope() as s:
        assert audit_verify.verify(s) == []


@pytest.mark.usefixtures("short_lease")
def test_cancel_with_a_dead_worker_removes_the_drafts_at_once(hospital, tmp_path):
    job_id = _start(hospital, _csv(47), batch=10)
    _crash_after_two_batches(job_id, tmp_path)
    until(lambda: _job(job_id).heartbeat_at < utcnow() - timedelta(seconds=1),
           "the lease of the dead worker to expire")
    with session_scope() as s:
        job = jobs.cancel(s, hospital, job_id)
        assert job.message == "cancelled: 20 imported reports rolled back"  # in the cancel's transaction
    assert _job_cases(job_id) == [] and _job(job_id).worker_id is None
    assert worker.run_once("w2") is None and _job(job_id).result["rolled_back"] == 20


def test_cancel_while_queued_for_a_retry_removes_the_drafts(hospital, monkeypatch):
    job_id = _start(hospital, _csv(47), batch=10)
    original, done = bulk._Filer.file, []

    def fail_on_third_batch(self, session, batch):
        if len(done) == 2:
            raise RuntimeError("disk full")
        done.append(len(batch))
        return original(self, session, batch)

    monkeypatch.setattr(bulk._Filer, "file", fail_on_third_batch)
    assert worker.run_once("w1") == job_id and _job(job_id).status == "queued"
    ids = _job_cases(job_id)
    assert len(ids) == 20
    with session_scope() as s:
        jobs.cancel(s, hospital, job_id)
    job = _job(job_id)
    assert (job.status, job.message) == ("cancelled", "cancelled: 20 imported reports rolled back")
    assert _job_cases(job_id) == [] and len(_events("rollback", ids)) == 20
    with session_scope() as s:  # the hook is idempotent: a second run removes nothing, counts stay
        jobs.rerun_abandon(s, Actor.system(), job_id)
    assert _job(job_id).result == {"status": "rolled_back", "rolled_back": 20, "kept": 0}
    assert len(_events("rollback", ids)) == 20
