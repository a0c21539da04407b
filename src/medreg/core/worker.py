"""The job worker: claims one job at a time, runs its handler, keeps its lease alive, finishes it.

Claims are atomic (PostgreSQL ``FOR UPDATE SKIP LOCKED``; SQLite a conditional ``UPDATE``); a ``running``
job whose heartbeat is older than the lease (its worker died) is reclaimed and resumes from its last
checkpoint. A job that ends without success gets its kind's ``on_abandon`` hook (``jobs.abandon``) from
whoever ends it: the worker whose handler failed on the last attempt or stopped because the job was
cancelled, or the sweep before each claim (:func:`_sweep`) for jobs whose worker died. Before each claim
the worker also queues the jobs of the due schedules (``schedules.tick``). ``medreg worker``
runs :class:`Worker` forever; the demo web server runs one in-process (:func:`start_in_process_worker`).
Semantics: docs/files-and-jobs.md.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from medreg.core import audit, schedules
from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.db import session_scope
from medreg.core.jobs import (
    _REGISTRY,
    ERROR_MAX,
    Job,
    JobContext,
    JobLost,
    JobStatus,
    _fenced_update,
    abandon,
)
from medreg.core.jobs import lease_seconds as default_lease

log = logging.getLogger(__name__)

# --- claiming and running ---------------------------------------------------------------------------


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


@dataclass(frozen=True)
class _Claim:
    id: int
    kind: str
    params: dict
    checkpoint: Any
    attempts: int
    max_attempts: int


def _sweep(stale_before: datetime) -> None:
    """Jobs whose worker died without finishing them, each in its own unit of work with its
    ``on_abandon`` hook: a job on its last allowed attempt fails instead of running again; a job
    cancelled while its (now dead) worker held it gets the hook that worker never ran."""
    exhausted = [Job.status == JobStatus.RUNNING, Job.heartbeat_at < stale_before,
                 Job.attempts >= Job.max_attempts]
    orphaned = [Job.status == JobStatus.CANCELLED, Job.worker_id.is_not(None),
                Job.heartbeat_at < stale_before]
    for where, reason in ((exhausted, "failed: worker lost (lease expired) on the last allowed attempt"),
                          (orphaned, "cancelled; its worker died before stopping")):
        with session_scope() as s:
            ids = list(s.scalars(select(Job.id).where(*where).order_by(Job.id).limit(100)))
        for job_id in ids:  # each change is conditional: two sweeping workers cannot both take a job
            with session_scope() as s:
                values: dict = {"worker_id": None}
                if where is exhausted:
                    values.update(status=JobStatus.FAILED, finished_at=utcnow(), error=func.coalesce(
                        Job.error, "") + "worker lost (lease expired) on the last allowed attempt")
                if s.execute(update(Job).where(Job.id == job_id, *where).values(**values)).rowcount != 1:
                    continue  # another worker swept it first
                job = s.get(Job, job_id, populate_existing=True)
                if where is exhausted:
                    audit.record(s, Actor.system(), "job.failed", "job", job_id, after={"status": job.status},
                                 note="worker lost (lease expired) on the last allowed attempt")
                abandon(s, job, reason)


def _claim(worker_id: str, lease_seconds: float) -> _Claim | None:
    now = utcnow()
    stale_before = now - timedelta(seconds=lease_seconds)
    claimable = or_(Job.status == JobStatus.QUEUED,
                    and_(Job.status == JobStatus.RUNNING, Job.heartbeat_at < stale_before))
    _sweep(stale_before)
    with session_scope() as s:
        pick = select(Job.id).where(claimable).order_by(Job.id).limit(1)
        if s.get_bind().dialect.name == "postgresql":
            job_id = s.scalar(pick.with_for_update(skip_locked=True))  # locked: ours alone
            if job_id is None:
                return None
            where = [Job.id == job_id]
        else:  # SQLite: one conditional UPDATE (a writer lock), re-checking the condition
            where = [Job.id == pick.scalar_subquery(), claimable]
        stmt = (update(Job).where(*where)
                .values(status=JobStatus.RUNNING, worker_id=worker_id, heartbeat_at=now,
                        attempts=Job.attempts + 1, started_at=func.coalesce(Job.started_at, now))
                .returning(Job.id, Job.kind, Job.params, Job.checkpoint, Job.attempts, Job.max_attempts))
        row = s.execute(stmt).first()
        return _Claim(*row) if row is not None else None


class _Heartbeat(threading.Thread):
    """Keeps the lease of a running job alive while its handler works; notices cancellation."""

    def __init__(self, ctx: JobContext, interval: float):
        super().__init__(name=f"job-{ctx.job_id}-heartbeat", daemon=True)
        self.ctx, self.interval, self.stopped = ctx, interval, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                if not _fenced_update(self.ctx.job_id, self.ctx.worker_id, {}):
                    self.ctx.lost.set()
                    return
            except Exception:  # a database hiccup: try again at the next beat
                log.exception("heartbeat of job %s failed", self.ctx.job_id)


def _finish(claim: _Claim, worker_id: str, values: dict, action: str | None, note: str | None = None) -> None:
    """Write the job's outcome while this worker still owns it; a final failure runs ``on_abandon`` in
    the same unit of work."""
    with session_scope() as s:
        rows = s.execute(update(Job).where(Job.id == claim.id, Job.status == JobStatus.RUNNING,
                                           Job.worker_id == worker_id).values(**values)).rowcount
        if rows == 1 and action:
            audit.record(s, Actor.system(), action, "job", claim.id, after={"status": values["status"]},
                         note=note)
        if rows == 1 and values["status"] == JobStatus.FAILED:
            abandon(s, s.get(Job, claim.id, populate_existing=True), f"failed: {note}")


def _after_lost(claim: _Claim, worker_id: str) -> None:
    """The handler stopped with ``JobLost``: if the job was cancelled while this worker held it, run
    ``on_abandon`` now (releasing the job); if another worker took it over, leave it to that one."""
    with session_scope() as s:
        mine = [Job.id == claim.id, Job.status == JobStatus.CANCELLED, Job.worker_id == worker_id]
        if s.execute(update(Job).where(*mine).values(worker_id=None)).rowcount == 1:
            abandon(s, s.get(Job, claim.id, populate_existing=True), "cancelled while running")


def _execute(claim: _Claim, worker_id: str, lease_seconds: float) -> None:
    spec = _REGISTRY.get(claim.kind)
    if spec is None:
        _finish(claim, worker_id, dict(status=JobStatus.FAILED, finished_at=utcnow(),
                                       error=f"no handler for job kind {claim.kind!r} in this worker"),
                "job.failed")
        return
    ctx = JobContext(claim.id, dict(claim.params or {}), claim.checkpoint, worker_id, claim.attempts)
    beat = _Heartbeat(ctx, max(0.05, lease_seconds / 3))
    beat.start()
    try:
        spec.func(ctx)
    except JobLost:
        log.info("job %s stopped: cancelled or taken over", claim.id)
        _after_lost(claim, worker_id)
    except (KeyboardInterrupt, SystemExit):  # shutting down: hand the job back, attempt not spent
        _finish(claim, worker_id, dict(status=JobStatus.QUEUED, worker_id=None, heartbeat_at=None,
                                       attempts=Job.attempts - 1), None)
        raise
    except Exception as exc:
        error = "".join(traceback.format_exception(exc, limit=-5))[-ERROR_MAX:]
        if claim.attempts < claim.max_attempts:  # retry from the last checkpoint
            _finish(claim, worker_id, dict(status=JobStatus.QUEUED, worker_id=None, heartbeat_at=None,
                                           error=error), None)
        else:
            _finish(claim, worker_id, dict(status=JobStatus.FAILED, finished_at=utcnow(), error=error),
                    "job.failed", note=f"{type(exc).__name__}: {exc}"[:500])
    else:
        _finish(claim, worker_id, dict(status=JobStatus.SUCCEEDED, finished_at=utcnow(), result=ctx.result,
                                       error=None), "job.succeeded")
    finally:
        beat.stopped.set()
        beat.join(timeout=5)


def _start_due_schedules() -> None:
    """Queue the jobs of the schedules that are due (``schedules.tick``); a failure here (the database
    away, a bad schedule) is logged and never stops the worker from running the queue."""
    try:
        for fired in schedules.tick():
            log.info("schedule %s due %s: %s %s", fired.schedule_id, fired.due_at, fired.outcome,
                     fired.job_id or fired.note or "")
    except Exception:
        log.exception("starting the due schedules failed")


def run_once(worker_id: str | None = None, *, lease_seconds: float | None = None) -> int | None:
    """Start the due schedules, then claim and run one job; return its id, or None when there was
    nothing to do. The lease defaults to ``Settings.job_lease_seconds``."""
    worker_id = worker_id or default_worker_id()
    lease = lease_seconds or default_lease()
    _start_due_schedules()
    claim = _claim(worker_id, lease)
    if claim is None:
        return None
    log.info("worker %s runs job %s (%s), attempt %s", worker_id, claim.id, claim.kind, claim.attempts)
    _execute(claim, worker_id, lease)
    return claim.id



class Worker:
    def __init__(self, worker_id: str | None = None, *, lease_seconds: float | None = None):
        self.worker_id = worker_id or default_worker_id()
        self.lease_seconds = lease_seconds or default_lease()

    def run_once(self) -> int | None:
        return run_once(self.worker_id, lease_seconds=self.lease_seconds)

    def run_forever(self, poll_interval: float = 2.0, stop_event: threading.Event | None = None) -> None:
        """Run jobs until ``stop_event`` is set; sleep ``poll_interval`` when the queue is empty."""
        stop_event = stop_event or threading.Event()
        while not stop_event.is_set():
            try:
                ran = self.run_once()
            except Exception:  # the database is away: log, wait, try again
                log.exception("worker %s: claiming a job failed", self.worker_id)
                ran = None
            if ran is None:
                stop_event.wait(poll_interval)


def start_in_process_worker(poll_interval: float = 2.0) -> tuple[threading.Thread, threading.Event]:
    """Start a daemon worker thread (demo web server); set the returned event to stop it."""
    stop = threading.Event()
    worker = Worker(f"{socket.gethostname()}:{os.getpid()}:in-process")
    thread = threading.Thread(target=worker.run_forever, args=(poll_interval, stop),
                              name="medreg-job-worker", daemon=True)
    thread.start()
    return thread, stop
