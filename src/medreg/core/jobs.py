"""Background jobs stored in the database, with progress, checkpoints, retries and crash recovery.

A handler is registered with ``@job_handler("kind")`` and receives a :class:`JobContext`. Progress
and checkpoints are written in their own short transactions (visible to every session at once). A
worker claims one job at a time (``run_once``): atomically (PostgreSQL ``FOR UPDATE SKIP LOCKED``;
SQLite a conditional ``UPDATE``), and also reclaims ``running`` jobs whose heartbeat is older than the
lease (the worker died) and resumes them from their last checkpoint. A kind may register an
``on_abandon`` hook, run once a job of it ends without success (failed for good, or cancelled) to undo
its partial work. Semantics: docs/files-and-jobs.md.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, case, false, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from medreg.core import audit
from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.db import Base, session_scope
from medreg.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from medreg.core.i18n import _
from medreg.core.settings import get_settings

log = logging.getLogger(__name__)
DEFAULT_LEASE_SECONDS = 60  # the default of Settings.job_lease_seconds (MEDREG_JOB_LEASE_SECONDS)
KIND_MAX, MESSAGE_MAX, ERROR_MAX, SUBJECT_MAX = 64, 500, 4000, 120


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


STATUS_LABELS = {  # msgids, for the pages that show a job's status
    JobStatus.QUEUED: _("Queued"),
    JobStatus.RUNNING: _("In progress"),
    JobStatus.SUCCEEDED: _("Succeeded"),
    JobStatus.FAILED: _("Failed"),
    JobStatus.CANCELLED: _("Cancelled by a user"),
}
FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_status_id", "status", "id"),
                      Index("ix_job_kind_subject_id", "kind", "subject", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(KIND_MAX))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    subject: Mapped[str | None] = mapped_column(String(SUBJECT_MAX))  # what it is about (enqueue; core_0002)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None]
    message: Mapped[str | None] = mapped_column(String(MESSAGE_MAX))
    checkpoint: Mapped[Any | None] = mapped_column(JSON)
    result: Mapped[Any | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    error: Mapped[str | None] = mapped_column(Text)
    worker_id: Mapped[str | None] = mapped_column(String(100))
    heartbeat_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.done / self.total) if self.total else None


# --- the registry -------------------------------------------------------------------------------------

Handler = Callable[["JobContext"], None]
AbandonHook = Callable[[Session, "Job", str], None]


@dataclass(frozen=True)
class HandlerSpec:
    kind: str
    func: Handler
    max_attempts: int
    roles: frozenset[str]
    validate: Callable[[dict], dict] | None
    on_abandon: AbandonHook | None = None
    oversee: frozenset[str] = frozenset()


_REGISTRY: dict[str, HandlerSpec] = {}


def job_handler(kind: str, *, max_attempts: int = 3, roles: tuple[str, ...] = (Role.ADMIN,),
                validate: Callable[[dict], dict] | None = None,
                on_abandon: AbandonHook | None = None,
                oversee: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
    """Register ``func(ctx)`` for jobs of ``kind``. ``roles`` may enqueue it; ``validate(params)``
    returns the cleaned params or raises ``ValidationFailed`` (checked at enqueue time).

    ``oversee``: roles that see (and may cancel) **every** job of the kind, whoever queued it: give it
    only for a kind whose jobs are the shared work of those roles (e.g. the monitoring centre's signal
    runs, queued by a schedule as ``system``), never for tenant-owned work (an import is its owner's).
    Everyone else sees the jobs they queued; administrators all jobs.

    ``on_abandon(session, job, reason)`` undoes the partial work of a job that ends without success:
    called once the job is ``failed`` for good or ``cancelled`` and no handler runs it any more (see
    :func:`abandon`). It works in the caller's unit of work (never commits), may set ``job.message``
    and ``job.result``, and must be idempotent (an administrator may run it again)."""
    if not kind or len(kind) > KIND_MAX or max_attempts < 1:
        raise ValueError(f"bad job kind or max_attempts: {kind!r}, {max_attempts}")

    def register(func: Handler) -> Handler:
        old = _REGISTRY.get(kind)
        if old and (old.func.__module__, old.func.__qualname__) != (func.__module__, func.__qualname__):
            raise ValueError(f"job kind {kind!r} is already handled by {old.func.__qualname__}")
        _REGISTRY[kind] = HandlerSpec(kind, func, max_attempts, frozenset(map(str, roles)), validate,
                                      on_abandon, frozenset(map(str, oversee)))
        return func

    return register


def registered_kinds() -> list[str]:
    return sorted(_REGISTRY)


def unregister(kind: str) -> None:
    _REGISTRY.pop(kind, None)


# --- the context a handler receives ------------------------------------------------------------------


class JobLost(Exception):
    """The job was cancelled, or taken over by another worker after the lease expired: stop now."""


class JobContext:
    def __init__(self, job_id: int, params: dict, checkpoint: Any, worker_id: str, attempt: int):
        self.job_id, self.params, self.checkpoint = job_id, params, checkpoint
        self.worker_id, self.attempt = worker_id, attempt
        self.result: Any = None
        self.lost = threading.Event()  # set by the heartbeat when the job is no longer ours

    def session(self, *, immediate: bool = False) -> AbstractContextManager[Session]:
        """A unit of work for the handler (commit on success, roll back on error). ``immediate``: a
        short unit that reads and then writes takes SQLite's write lock at its start (``session_scope``),
        so that a heartbeat committed in between cannot make its write fail; no effect on PostgreSQL."""
        self._check()
        return session_scope(immediate=immediate)

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Record progress in its own transaction (visible to others at once)."""
        self._write(_progress_values(done, total, message))

    def save_checkpoint(self, state: Any, done: int | None = None, total: int | None = None,
                        message: str | None = None, *, session: Session | None = None) -> None:
        """Persist ``state`` (JSON) so that a retry resumes from it (``ctx.checkpoint``).

        Without ``session``: its own transaction. With the handler's ``session``: committed
        together with the work of that unit (exactly-once per unit)."""
        values = {"checkpoint": audit.jsonable(state)}
        if done is not None:
            values.update(_progress_values(done, total, message))
        self._write(values, session)
        self.checkpoint = values["checkpoint"]

    def set_result(self, result: Any) -> None:
        """The outcome stored in ``job.result`` when the handler returns."""
        self.result = audit.jsonable(result)

    def _check(self) -> None:
        if self.lost.is_set():
            raise JobLost(f"job {self.job_id} was cancelled or taken over")

    def _write(self, values: dict, session: Session | None = None) -> None:
        self._check()
        if not _fenced_update(self.job_id, self.worker_id, values, session):
            self.lost.set()
            raise JobLost(f"job {self.job_id} was cancelled or taken over")


def _fenced_update(job_id: int, worker_id: str, values: dict, session: Session | None = None) -> bool:
    """Update a running job only while this worker still owns it (and renew its heartbeat)."""
    stmt = (update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.worker_id == worker_id)
            .values(**values, heartbeat_at=utcnow()))
    if session is not None:
        return session.execute(stmt).rowcount == 1
    with session_scope() as s:
        return s.execute(stmt).rowcount == 1


def _progress_values(done: int, total: int | None, message: str | None) -> dict:
    values: dict = {"done": max(0, int(done))}
    if total is not None:
        values["total"] = max(0, int(total))
    if message is not None:
        values["message"] = message[:MESSAGE_MAX]
    return values


# --- service: enqueue, cancel, read ------------------------------------------------------------------


def enqueue(session: Session, actor: Actor, kind: str, params: dict | None = None, *,
            subject: str | None = None) -> Job:
    """Queue a job (never commits; the worker sees it once the caller commits).

    ``subject`` (optional, up to SUBJECT_MAX characters) names what the job is about, e.g.
    ``signals_analysis:7``: stored in an indexed column so that :func:`latest_by_subject` finds the
    latest job of each subject exactly, however many jobs there are (the params are JSON)."""
    spec = _REGISTRY.get(kind)
    if spec is None:
        raise ValidationFailed("Unknown job kind '{kind}'; known kinds: {known}.", field="kind",
                               params={"kind": kind, "known": ", ".join(registered_kinds()) or "none"})
    if not actor.roles & spec.roles:
        raise PermissionDenied("You may not start jobs of kind '{kind}'.", field="kind",
                               params={"kind": kind})
    params = dict(params or {})
    if spec.validate is not None:
        params = spec.validate(params)
    if subject is not None and (not isinstance(subject, str) or not 1 <= len(subject) <= SUBJECT_MAX):
        raise ValidationFailed("The job subject must be 1 to {max} characters.", field="subject",
                               params={"max": SUBJECT_MAX})
    job = Job(kind=kind, params=audit.jsonable(params), subject=subject, status=JobStatus.QUEUED,
              max_attempts=spec.max_attempts, created_by_user_id=actor.user_id, created_at=utcnow())
    session.add(job)
    session.flush()
    after = {"kind": kind, "params": job.params} | ({"subject": subject} if subject else {})
    audit.record(session, actor, "job.enqueue", "job", job.id, after=after)
    return job


def latest_by_subject(session: Session, kind: str, subjects: list[str], *,
                      statuses: tuple[str, ...] | None = None) -> dict[str, Job]:
    """The latest job (highest id) of ``kind`` for each of ``subjects`` that has one (optionally only
    jobs in ``statuses``): one grouped query on the index (kind, subject, id)."""
    if not subjects:
        return {}
    latest = select(func.max(Job.id)).where(Job.kind == kind, Job.subject.in_(subjects))
    if statuses is not None:
        latest = latest.where(Job.status.in_(statuses))
    stmt = select(Job).where(Job.id.in_(latest.group_by(Job.subject))).execution_options(
        populate_existing=True)
    return {job.subject: job for job in session.scalars(stmt)}


def overseen_kinds(actor: Actor) -> list[str]:
    """The kinds whose every job ``actor`` sees (``oversee`` of ``job_handler``)."""
    return sorted(k for k, spec in _REGISTRY.items() if actor.roles & spec.oversee)


def may_see(actor: Actor, job: Job) -> bool:
    """Administrators see every job; a user the jobs it queued and every job of a kind its roles
    oversee."""
    if actor.has(Role.ADMIN) or (actor.user_id is not None and job.created_by_user_id == actor.user_id):
        return True
    spec = _REGISTRY.get(job.kind)
    return spec is not None and bool(actor.roles & spec.oversee)


def get(session: Session, actor: Actor, job_id: int) -> Job:
    """One job the actor may see (:func:`may_see`); ``NotFound`` otherwise."""
    job = session.get(Job, job_id, populate_existing=True)
    if job is None or not may_see(actor, job):
        raise NotFound("Job {id} not found.", field="job_id", params={"id": job_id})
    return job


def list_jobs(session: Session, actor: Actor, *, status: str | None = None, kind: str | None = None,
              limit: int = 50) -> list[Job]:
    stmt = select(Job).order_by(Job.id.desc()).limit(max(1, min(limit, 1000)))
    if not actor.has(Role.ADMIN):
        own = Job.created_by_user_id == actor.user_id if actor.user_id else false()
        stmt = stmt.where(or_(own, Job.kind.in_(overseen_kinds(actor))))
    if status is not None:
        if status not in set(JobStatus):
            raise ValidationFailed("Unknown job status '{status}'.", field="status",
                                   params={"status": status})
        stmt = stmt.where(Job.status == status)
    if kind is not None:
        stmt = stmt.where(Job.kind == kind)
    return list(session.scalars(stmt.execution_options(populate_existing=True)))


def lease_seconds() -> float:
    """Seconds without a heartbeat after which a running job's worker counts as dead."""
    return float(get_settings().job_lease_seconds)


def cancel(session: Session, actor: Actor, job_id: int) -> Job:
    """Cancel a queued or running job (a running handler stops at its next progress call).

    When no handler runs the job (queued, or running with a heartbeat older than the lease: its
    worker died), the kind's ``on_abandon`` hook runs here, in the caller's unit of work. Otherwise
    the job keeps its ``worker_id`` and the worker runs the hook once its handler has stopped (or, if
    that worker dies first, the next worker after the lease: ``worker._sweep``)."""
    job = get(session, actor, job_id)
    before = job.status
    stale = utcnow() - timedelta(seconds=lease_seconds())
    no_handler = or_(Job.status == JobStatus.QUEUED, Job.heartbeat_at.is_(None), Job.heartbeat_at < stale)
    stmt = (update(Job).where(Job.id == job_id, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
            .values(status=JobStatus.CANCELLED, finished_at=utcnow(),
                    worker_id=case((no_handler, None), else_=Job.worker_id))
            .returning(Job.worker_id))
    row = None if job.status in FINISHED else session.execute(stmt).first()
    if row is None:  # conditional: races a finishing worker
        session.refresh(job)
        raise InvalidTransition("Job {id} is already {status}.", field="job_id",
                                params={"id": job_id, "status": job.status})
    session.refresh(job)
    audit.record(session, actor, "job.cancel", "job", job.id, before={"status": before},
                 after={"status": job.status})
    if row.worker_id is None:
        abandon(session, job, f"cancelled while {before}" + ("" if before == JobStatus.QUEUED
                                                              else " with a dead worker"))
    return job


def abandon(session: Session, job: Job, reason: str) -> bool:
    """Run the ``on_abandon`` hook of ``job``'s kind (the job is already failed or cancelled in
    ``session``) inside a savepoint, in the caller's unit of work. A hook that raises is rolled back
    alone: the job's state change stands, the failure is appended to ``job.error`` and audited as
    ``job.abandon_failed``, and :func:`rerun_abandon` may run the hook again. Returns False then."""
    spec = _REGISTRY.get(job.kind)
    if spec is not None and spec.on_abandon is None:
        return True
    try:
        if spec is None:  # a process that does not know the kind cannot tell whether it has a hook
            raise LookupError(f"job kind {job.kind!r} is not registered in this process")
        with session.begin_nested():
            spec.on_abandon(session, job, reason)
            session.flush()
    except Exception as exc:
        log.exception("on_abandon of job %s (%s) failed", job.id, job.kind)
        note = f"on_abandon failed: {type(exc).__name__}: {exc}"[:ERROR_MAX // 2]
        session.execute(update(Job).where(Job.id == job.id)
                        .values(error=func.substr(func.coalesce(Job.error, "") + "\n" + note, 1, ERROR_MAX)))
        session.refresh(job)
        audit.record(session, Actor.system(), "job.abandon_failed", "job", job.id, note=note[:audit.NOTE_MAX])
        return False
    return True


def rerun_abandon(session: Session, actor: Actor, job_id: int) -> tuple[Job, bool]:
    """Run the ``on_abandon`` hook of a failed or cancelled job again (administrators; idempotent):
    after the hook failed, or to finish what it left. Audited ``job.abandon``; returns the job and
    whether the hook succeeded (a failure is recorded on the job, as :func:`abandon` records it)."""
    if not actor.has(Role.ADMIN):
        raise PermissionDenied("Only administrators may clean up after a job.", field="job_id")
    job = get(session, actor, job_id)
    held = job.status == JobStatus.CANCELLED and job.worker_id is not None  # its handler may still run
    if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED) or held:
        raise InvalidTransition("Job {id} is {status}: only a failed or cancelled job that no worker "
                                "holds is cleaned up.", field="job_id",
                                params={"id": job_id, "status": job.status})
    audit.record(session, actor, "job.abandon", "job", job.id, after={"status": job.status})
    return job, abandon(session, job, f"clean-up of the {job.status} job run by {actor.username}")


# The worker (claim, run, heartbeat, finish) lives in medreg.core.worker; its entry points are
# re-exported here for callers that know jobs as one module.
from medreg.core import jobs_builtin  # noqa: E402,F401  (registers the built-in job kinds)
from medreg.core.worker import (  # noqa: E402,F401
    Worker,
    default_worker_id,
    run_once,
    start_in_process_worker,
)
