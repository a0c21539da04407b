"""Statutory clocks that pause and resume (tables + service). Never commits, never audits.

A clock measures one legal time limit of one subject (a case): e.g. the 60 working days the innovation
review office has to give its opinion (NMPA 2018 No.83 Art.9). Domain services start, pause (while the
applicant supplements, SAMR Order 47 Art.98), resume and stop clocks in their own transaction and record
the audit events themselves. The due date is never stored: :func:`status` computes it with
``core/calendar.py`` so that it follows holiday-data upgrades. Counting rules: docs/clocks.md.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from medreg.core.calendar import (
    DEFAULT_CALENDAR,
    FIRST_YEAR,
    LAST_YEAR,
    ClockStatus,
    ClockUnit,
    WorkingDayCalendar,
    clock_status,
    hour_clock_status,
    parse_unit,
)
from medreg.core.clock import to_shanghai, utcnow
from medreg.core.db import Base
from medreg.core.errors import InvalidTransition, ValidationFailed

NAME_MAX, BASIS_MAX, REASON_MAX = 64, 200, 500
LIMIT_MAX = 10_000


class StatutoryClock(Base):
    __tablename__ = "statutory_clock"
    __table_args__ = (
        Index("ix_statutory_clock_subject", "subject_type", "subject_id"),
        # At most one running clock of a name per subject (guards against racing starts).
        Index("uq_statutory_clock_running", "subject_type", "subject_id", "name", unique=True,
              postgresql_where=text("stopped_on IS NULL"), sqlite_where=text("stopped_on IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(NAME_MAX))
    subject_id: Mapped[str] = mapped_column(String(NAME_MAX))
    name: Mapped[str] = mapped_column(String(NAME_MAX))  # e.g. "innovation.formal_check"
    limit_value: Mapped[int]
    limit_unit: Mapped[str] = mapped_column(String(16))  # a ClockUnit value
    legal_basis: Mapped[str] = mapped_column(String(BASIS_MAX))  # e.g. "NMPA 2018 No.83 Art.9"
    started_on: Mapped[date] = mapped_column(Date)
    stopped_on: Mapped[date | None] = mapped_column(Date, index=True)
    started_at: Mapped[datetime | None]  # hours clocks: the instant the period starts
    stopped_at: Mapped[datetime | None]
    roll_forward: Mapped[bool] = mapped_column(default=True)  # 民法典 第二百零三条 for day/month/year units
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    pauses: Mapped[list[ClockPause]] = relationship(
        back_populates="clock", order_by="(ClockPause.paused_on, ClockPause.id)", lazy="selectin",
        cascade="all, delete-orphan")

    @property
    def unit(self) -> ClockUnit:
        return ClockUnit(self.limit_unit)

    @property
    def is_running(self) -> bool:
        return self.stopped_on is None

    @property
    def open_pause(self) -> ClockPause | None:
        return next((p for p in self.pauses if p.resumed_on is None), None)


class ClockPause(Base):
    __tablename__ = "clock_pause"
    __table_args__ = (
        Index("uq_clock_pause_open", "clock_id", unique=True,
              postgresql_where=text("resumed_on IS NULL"), sqlite_where=text("resumed_on IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("statutory_clock.id", ondelete="CASCADE"), index=True)
    paused_on: Mapped[date] = mapped_column(Date)
    resumed_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(REASON_MAX))

    clock: Mapped[StatutoryClock] = relationship(back_populates="pauses")


def _text(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValidationFailed("'{name}' must be 1 to {limit} characters.", field=field,
                               params={"name": field, "limit": limit})
    return value.strip()


def _day(value: object, field: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationFailed("'{name}' must be a date.", field=field, params={"name": field})
    return value


def _instant(value: object, field: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationFailed("'{name}' must be a date and time with a time zone.", field=field,
                               params={"name": field})
    return value


def _not_before(value: date, floor: date, field: str, what: str) -> None:
    if value < floor:
        raise ValidationFailed("'{name}' ({value}) cannot be before {what} ({floor}).", field=field,
                               params={"name": field, "value": value.isoformat(), "what": what,
                                       "floor": floor.isoformat()})


def start_clock(session: Session, *, subject_type: str, subject_id: object, name: str, limit_value: int,
                limit_unit: ClockUnit | str, legal_basis: str, started_on: date | None = None,
                started_at: datetime | None = None, roll_forward: bool = True) -> StatutoryClock:
    """Start a clock. ``started_on`` is the trigger day (not counted, 民法典 第二百零一条); ``hours``
    clocks need ``started_at`` instead (its Beijing date becomes ``started_on``)."""
    unit = parse_unit(limit_unit, "limit_unit")
    subject_type = _text(subject_type, "subject_type", NAME_MAX)
    subject_id = _text(str(subject_id) if subject_id is not None else "", "subject_id", NAME_MAX)
    name = _text(name, "name", NAME_MAX)
    legal_basis = _text(legal_basis, "legal_basis", BASIS_MAX)
    if not isinstance(limit_value, int) or isinstance(limit_value, bool) or not 1 <= limit_value <= LIMIT_MAX:
        raise ValidationFailed("'{name}' must be a whole number from 1 to {limit}.", field="limit_value",
                               params={"name": "limit_value", "limit": LIMIT_MAX})
    if started_at is not None:
        local_day = to_shanghai(_instant(started_at, "started_at")).date()
        if started_on is not None and _day(started_on, "started_on") != local_day:
            raise ValidationFailed("'started_on' must be the Beijing date of 'started_at'.",
                                   field="started_on")
        started_on = local_day
    elif unit is ClockUnit.HOURS:
        raise ValidationFailed("A clock in hours needs 'started_at'.", field="started_at")
    if started_on is None:
        raise ValidationFailed("'{name}' is required.", field="started_on", params={"name": "started_on"})
    if not FIRST_YEAR <= _day(started_on, "started_on").year <= LAST_YEAR:
        raise ValidationFailed("'{name}' must fall between {first} and {last}.", field="started_on",
                               params={"name": "started_on", "first": FIRST_YEAR, "last": LAST_YEAR})
    if running_clock(session, subject_type, subject_id, name) is not None:
        raise InvalidTransition("Clock '{name}' is already running for {subject}.", field="name",
                                params={"name": name, "subject": f"{subject_type} {subject_id}"})
    clock = StatutoryClock(subject_type=subject_type, subject_id=subject_id, name=name,
                           limit_value=limit_value, limit_unit=unit.value, legal_basis=legal_basis,
                           started_on=started_on, started_at=started_at, roll_forward=bool(roll_forward))
    try:
        status(clock, started_on, now=started_at)
    except ValidationFailed:
        raise ValidationFailed("The due date falls outside the years the working-day calendar knows.",
                               field="limit_value") from None
    session.add(clock)
    session.flush()
    return clock


def _require_running(clock: StatutoryClock, action: str) -> None:
    if not clock.is_running:
        raise InvalidTransition("Clock '{name}' was stopped on {day}: cannot {action} it.", field="clock",
                                params={"name": clock.name, "day": clock.stopped_on.isoformat(),
                                        "action": action})


def _last_event(clock: StatutoryClock) -> date:
    days = [clock.started_on] + [p.resumed_on or p.paused_on for p in clock.pauses]
    return max(days)


def pause_clock(session: Session, clock: StatutoryClock, on: date, reason: str) -> ClockPause:
    """Pause from ``on`` (``on`` itself still counts) while the case waits on the applicant."""
    _require_running(clock, "pause")
    if clock.unit is ClockUnit.HOURS:
        raise ValidationFailed("A clock in hours cannot be paused.", field="clock")
    if clock.open_pause is not None:
        raise InvalidTransition("Clock '{name}' is already paused since {day}.", field="clock",
                                params={"name": clock.name, "day": clock.open_pause.paused_on.isoformat()})
    _not_before(_day(on, "on"), _last_event(clock), "on", "the clock's last event")
    pause = ClockPause(paused_on=on, reason=_text(reason, "reason", REASON_MAX))
    clock.pauses.append(pause)
    session.flush()
    return pause


def resume_clock(session: Session, clock: StatutoryClock, on: date) -> ClockPause:
    """Resume on ``on``: ``on`` is not counted, counting restarts the next day (SAMR Order 47 Art.98)."""
    _require_running(clock, "resume")
    pause = clock.open_pause
    if pause is None:
        raise InvalidTransition("Clock '{name}' is not paused.", field="clock", params={"name": clock.name})
    _not_before(_day(on, "on"), pause.paused_on, "on", "the day it was paused")
    pause.resumed_on = on
    session.flush()
    return pause


def stop_clock(session: Session, clock: StatutoryClock, on: date | None = None, *,
               at: datetime | None = None) -> StatutoryClock:
    """Stop the clock (the act was done, or the procedure ended). A pause still open stays open: the
    days after it up to ``on`` do not count. Hours clocks need ``at``."""
    _require_running(clock, "stop")
    if at is not None:
        on = to_shanghai(_instant(at, "at")).date()
        if clock.started_at is not None and at < clock.started_at:
            raise ValidationFailed("A clock cannot stop before it started.", field="at")
    elif clock.unit is ClockUnit.HOURS:
        raise ValidationFailed("A clock in hours needs 'at' to stop.", field="at")
    if on is None:
        raise ValidationFailed("'{name}' is required.", field="on", params={"name": "on"})
    _not_before(_day(on, "on"), _last_event(clock), "on", "the clock's last event")
    clock.stopped_on, clock.stopped_at = on, at
    session.flush()
    return clock


def status(clock: StatutoryClock, today: date, *, now: datetime | None = None,
           calendar: WorkingDayCalendar = DEFAULT_CALENDAR) -> ClockStatus:
    """The clock on ``today`` (hours clocks use ``now``, by default the current instant)."""
    if clock.unit is ClockUnit.HOURS:
        return hour_clock_status(clock.started_at, clock.limit_value, now or utcnow(), clock.stopped_at)
    return clock_status(clock.started_on, clock.limit_value, clock.unit,
                        [(p.paused_on, p.resumed_on) for p in clock.pauses], today, clock.stopped_on,
                        calendar, roll_forward=clock.roll_forward)


def clocks_for(session: Session, subject_type: str, subject_id: object) -> list[StatutoryClock]:
    """Every clock of one subject, oldest first."""
    stmt = (select(StatutoryClock)
            .where(StatutoryClock.subject_type == subject_type, StatutoryClock.subject_id == str(subject_id))
            .order_by(StatutoryClock.started_on, StatutoryClock.id))
    return list(session.scalars(stmt))


def running_clock(session: Session, subject_type: str, subject_id: object,
                  name: str) -> StatutoryClock | None:
    stmt = select(StatutoryClock).where(
        StatutoryClock.subject_type == subject_type, StatutoryClock.subject_id == str(subject_id),
        StatutoryClock.name == name, StatutoryClock.stopped_on.is_(None))
    return session.scalars(stmt).one_or_none()


def overdue(session: Session, today: date, *, now: datetime | None = None, subject_type: str | None = None,
            calendar: WorkingDayCalendar = DEFAULT_CALENDAR) -> list[tuple[StatutoryClock, ClockStatus]]:
    """Running clocks past their due date on ``today`` (paused clocks are never overdue), most late first."""
    stmt = select(StatutoryClock).where(StatutoryClock.stopped_on.is_(None)).order_by(StatutoryClock.id)
    if subject_type is not None:
        stmt = stmt.where(StatutoryClock.subject_type == subject_type)
    late = [(clock, st) for clock in session.scalars(stmt)
            if (st := status(clock, today, now=now, calendar=calendar)).overdue]
    return sorted(late, key=lambda cs: (cs[1].due_on, cs[0].id))
