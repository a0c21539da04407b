"""Schedules: start a job of some kind at recurring times (the worker does it; never an outside timer).

A schedule is a job kind, its params, a recurrence (``medreg.core.recurrence``: every N minutes, daily
or weekly at a Beijing time), an enabled flag, the next due time and the last job it started. Who may
start jobs of a kind may schedule them; every change is audited (``schedule.create`` / ``.update``).

:func:`tick` (called by every worker before it claims a job) starts the due schedules: **exactly once
per due time** with any number of workers, because a schedule is taken by one conditional ``UPDATE ...
WHERE next_run_at = <the due time seen> AND version = <seen>`` that is the first statement of its
transaction (PostgreSQL re-checks the condition after waiting on the row lock; SQLite holds the writer
lock), and the job is queued in that same transaction. If the schedule's previous job is still queued
or running the run is **skipped** and recorded (``last_outcome = skipped``, ``skipped_runs``, audit
``schedule.skip``). After downtime a schedule **catches up once** (recurrence.py states the rule).
Semantics: docs/files-and-jobs.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from medreg.core import audit, jobs
from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.db import Base, session_scope
from medreg.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from medreg.core.recurrence import Recurrence, missed, next_due

log = logging.getLogger(__name__)
NAME_MAX, NOTE_MAX = 120, 500
PENDING = (jobs.JobStatus.QUEUED, jobs.JobStatus.RUNNING)


class Schedule(Base):
    __tablename__ = "schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    kind: Mapped[str] = mapped_column(String(jobs.KIND_MAX))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    every: Mapped[str] = mapped_column(String(16))
    interval_minutes: Mapped[int | None]
    at_time: Mapped[str | None] = mapped_column(String(5))
    weekday: Mapped[int | None]
    day_of_month: Mapped[int | None]  # monthly (core_0002)
    enabled: Mapped[bool] = mapped_column(default=True)
    next_run_at: Mapped[datetime | None] = mapped_column(index=True)
    last_due_at: Mapped[datetime | None]
    subject: Mapped[str | None] = mapped_column(String(jobs.SUBJECT_MAX))  # of the jobs it queues (core_0002)
    last_job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    last_outcome: Mapped[str | None] = mapped_column(String(16))  # queued | skipped | failed
    last_note: Mapped[str | None] = mapped_column(String(NOTE_MAX))
    skipped_runs: Mapped[int] = mapped_column(default=0)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def recurrence(self) -> Recurrence:
        return Recurrence(self.every, self.interval_minutes, self.at_time, self.weekday, self.day_of_month)


FIELDS = ("name", "kind", "params", "every", "interval_minutes", "at_time", "weekday", "day_of_month",
          "enabled", "next_run_at")


# --- permissions and reading ---------------------------------------------------------------------------


def may_schedule(actor: Actor, kind: str) -> bool:
    """Whoever may start jobs of ``kind`` may schedule them (administrators always)."""
    spec = jobs._REGISTRY.get(kind)
    return actor.has(Role.ADMIN) or (spec is not None and bool(actor.roles & spec.roles))


def _check_kind(actor: Actor, kind: str) -> jobs.HandlerSpec:
    spec = jobs._REGISTRY.get(kind)
    if spec is None:
        raise ValidationFailed("Unknown job kind '{kind}'; known kinds: {known}.", field="kind",
                               params={"kind": kind, "known": ", ".join(jobs.registered_kinds()) or "none"})
    if not actor.roles & spec.roles:
        raise PermissionDenied("You may not start jobs of kind '{kind}'.", field="kind",
                               params={"kind": kind})
    return spec


def list_schedules(session: Session, actor: Actor) -> list[Schedule]:
    rows = session.scalars(select(Schedule).order_by(Schedule.id).execution_options(populate_existing=True))
    return [s for s in rows if may_schedule(actor, s.kind)]


def get(session: Session, actor: Actor, schedule_id: int) -> Schedule:
    sch = session.get(Schedule, schedule_id, populate_existing=True)
    if sch is None or not may_schedule(actor, sch.kind):
        raise NotFound("Schedule {id} not found.", field="schedule_id", params={"id": schedule_id})
    return sch


def by_name(session: Session, name: str) -> Schedule | None:
    stmt = select(Schedule).where(Schedule.name == name).execution_options(populate_existing=True)
    return session.scalar(stmt)


def last_job(session: Session, sch: Schedule | None) -> jobs.Job | None:
    if sch is None or sch.last_job_id is None:
        return None
    return session.get(jobs.Job, sch.last_job_id, populate_existing=True)


# --- changes (audited; never commit) ----------------------------------------------------------------------


def _params(spec: jobs.HandlerSpec, params: Mapping | None) -> dict:
    if params is not None and not isinstance(params, Mapping):
        raise ValidationFailed("The job parameters must be an object.", field="params")
    cleaned = dict(params or {})
    return audit.jsonable(spec.validate(cleaned) if spec.validate else cleaned)


def create(session: Session, actor: Actor, name: str, kind: str, recurrence: Recurrence, *,
           params: Mapping | None = None, enabled: bool = True, subject: str | None = None,
           now: datetime | None = None) -> Schedule:
    """A new schedule; its first due time is the recurrence's next one after ``now``. ``subject`` is
    given to the jobs it queues (``jobs.enqueue``: what they are about, for an indexed lookup)."""
    spec = _check_kind(actor, kind)
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise ValidationFailed("Give the schedule a name of 1 to {max} characters.", field="name",
                               params={"max": NAME_MAX})
    if by_name(session, name) is not None:
        raise Conflict("A schedule named '{name}' already exists.", field="name", params={"name": name})
    rec = recurrence.check()
    now = now or utcnow()
    sch = Schedule(name=name, kind=kind, params=_params(spec, params), every=rec.every,
                   interval_minutes=rec.interval_minutes, at_time=rec.at, weekday=rec.weekday,
                   day_of_month=rec.day_of_month, enabled=bool(enabled),
                   next_run_at=next_due(rec, now) if enabled else None,
                   subject=subject or None, created_by_user_id=actor.user_id, created_at=now, updated_at=now)
    session.add(sch)
    session.flush()
    audit.record(session, actor, "schedule.create", "schedule", sch.id, after=audit.snapshot(sch, FIELDS))
    return sch


def change(session: Session, actor: Actor, schedule_id: int, *, recurrence: Recurrence | None = None,
           params: Mapping | None = None, enabled: bool | None = None, expected_version: int | None = None,
           subject: str | None = None, now: datetime | None = None) -> Schedule:
    """Change the recurrence, the params and/or the enabled flag. Enabling a schedule or changing its
    recurrence counts its next due time from ``now`` (no run for the time it was off); disabling clears it."""
    sch = get(session, actor, schedule_id)
    spec = _check_kind(actor, sch.kind)
    if expected_version is not None and sch.version != expected_version:
        raise Conflict("The record was changed by someone else (version {current}, you saw {seen}); "
                       "reload and try again.", field="expected_version",
                       params={"current": sch.version, "seen": expected_version})
    rec = recurrence.check() if recurrence is not None else sch.recurrence
    cleaned = _params(spec, params) if params is not None else None
    now = now or utcnow()
    with audit.recorded_change(session, actor, "schedule.update", "schedule", sch, FIELDS):
        if cleaned is not None:
            sch.params = cleaned
        if subject is not None:
            sch.subject = subject or None
        was_on = sch.enabled
        if enabled is not None:
            sch.enabled = bool(enabled)
        sch.every, sch.interval_minutes, sch.at_time = rec.every, rec.interval_minutes, rec.at
        sch.weekday, sch.day_of_month = rec.weekday, rec.day_of_month
        if not sch.enabled:
            sch.next_run_at = None
        elif recurrence is not None or not was_on or sch.next_run_at is None:
            sch.next_run_at = next_due(rec, now)
        sch.updated_at = now
    return sch


def delete(session: Session, actor: Actor, schedule_id: int, *, expected_version: int | None = None) -> None:
    """Remove a schedule (audited ``schedule.delete`` with its values). A job it queued keeps running."""
    sch = get(session, actor, schedule_id)
    _check_kind(actor, sch.kind)
    if expected_version is not None and sch.version != expected_version:
        raise Conflict("The record was changed by someone else (version {current}, you saw {seen}); "
                       "reload and try again.", field="expected_version",
                       params={"current": sch.version, "seen": expected_version})
    before = audit.snapshot(sch, FIELDS)
    session.delete(sch)
    session.flush()
    audit.record(session, actor, "schedule.delete", "schedule", schedule_id, before=before)


# --- the tick: start what is due (the worker calls it) --------------------------------------------------


@dataclass(frozen=True)
class Fired:
    schedule_id: int
    due_at: datetime
    outcome: str  # queued | skipped | failed
    job_id: int | None
    note: str | None


def tick(now: datetime | None = None) -> list[Fired]:
    """Start every enabled schedule due at ``now`` whose kind this process knows, each in its own unit
    of work. Safe to call from any number of workers at once (see the module docstring)."""
    now = now or utcnow()
    with session_scope() as s:
        due = s.execute(select(Schedule.id, Schedule.next_run_at, Schedule.version, Schedule.kind)
                        .where(Schedule.enabled.is_(True), Schedule.next_run_at <= now)
                        .order_by(Schedule.next_run_at, Schedule.id).limit(100)).all()
    out = []
    for row in due:
        if row.kind not in jobs._REGISTRY:  # leave it to a process that has the kind registered
            continue
        fired = _fire(row.id, row.next_run_at, row.version, now)
        if fired is not None:
            out.append(fired)
    return out


def _fire(schedule_id: int, due_at: datetime, version: int, now: datetime) -> Fired | None:
    with session_scope() as s:
        # first statement of the transaction: take this due time, or learn that another worker did
        taken = [Schedule.id == schedule_id, Schedule.enabled.is_(True), Schedule.next_run_at == due_at,
                 Schedule.version == version]
        row = s.execute(update(Schedule).where(*taken).values(last_due_at=due_at)
                        .returning(Schedule.every, Schedule.interval_minutes, Schedule.at_time,
                                   Schedule.weekday, Schedule.day_of_month, Schedule.kind, Schedule.params,
                                   Schedule.subject, Schedule.last_job_id)
                        .execution_options(synchronize_session=False)).first()
        if row is None:
            return None
        rec = Recurrence(row.every, row.interval_minutes, row.at_time, row.weekday, row.day_of_month)
        following, skipped_times = next_due(rec, now), missed(rec, due_at, now)
        previous = s.get(jobs.Job, row.last_job_id, populate_existing=True) if row.last_job_id else None
        job_id, values = None, {"next_run_at": following}
        if previous is not None and previous.status in PENDING:
            outcome, note = "skipped", f"job {previous.id} was still {previous.status}"
            values["skipped_runs"] = Schedule.skipped_runs + 1
        else:
            try:
                with s.begin_nested():
                    job_id = jobs.enqueue(s, Actor.system(), row.kind, dict(row.params or {}),
                                          subject=row.subject).id
                outcome, note = "queued", None
                values["last_job_id"] = job_id
            except DomainError as err:  # params no longer valid: record it, try again at the next time
                outcome, note = "failed", err.message
        if skipped_times:
            note = "; ".join(filter(None, [note, f"caught up once for {skipped_times + 1} due times"]))
        values.update(last_outcome=outcome, last_note=note[:NOTE_MAX] if note else None)
        s.execute(update(Schedule).where(Schedule.id == schedule_id).values(**values)
                  .execution_options(synchronize_session=False))
        action = {"queued": "schedule.run", "skipped": "schedule.skip", "failed": "schedule.fail"}[outcome]
        audit.record(s, Actor.system(), action, "schedule", schedule_id,
                     after={"due_at": due_at, "job_id": job_id, "next_run_at": following,
                            "missed": skipped_times}, note=note)
        return Fired(schedule_id, due_at, outcome, job_id, note)

