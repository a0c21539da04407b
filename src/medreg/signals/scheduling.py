"""The snapshot schedule of the configured analyses: when the worker runs ``signals.snapshot`` (export
the next snapshot, then queue the active analyses on it). One schedule, named :data:`NAME`, kept by the
kernel's scheduler (``medreg.core.schedules``); the centre sets it from the analyses page, the API
(``/api/signals/schedule``) and the CLI (``medreg signals schedule``). Never commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from medreg.core import jobs, schedules
from medreg.core.actor import Actor
from medreg.core.errors import PermissionDenied, ValidationFailed
from medreg.core.recurrence import Recurrence
from medreg.core.settings import get_settings
from medreg.signals.states import CENTRE

NAME = "signals.snapshot"  # the schedule's name (one per installation)
KIND = "signals.snapshot"
KEYS = ("every", "interval_minutes", "at", "weekday", "enabled")


@dataclass(frozen=True)
class SnapshotSchedule:
    """The schedule (None until the centre first sets one) and the last job it started."""

    schedule: schedules.Schedule | None
    last_job: jobs.Job | None

    @property
    def next_run_at(self) -> datetime | None:
        return self.schedule.next_run_at if self.schedule is not None else None


def _centre(actor: Actor) -> None:
    if not CENTRE & actor.roles:
        raise PermissionDenied("Only the monitoring centre manages signal analyses.", field="actor")


def current(session: Session, actor: Actor) -> SnapshotSchedule:
    _centre(actor)
    sch = schedules.by_name(session, NAME)
    return SnapshotSchedule(sch, schedules.last_job(session, sch))


def folder() -> str:
    """The snapshot folder of the schedule: the one "Run now" exports into (both build on one series)."""
    return str(Path(get_settings().signals_snapshot_dir).absolute())


def set_schedule(session: Session, actor: Actor, values: Mapping, *, expected_version: int | None = None,
                 now: datetime | None = None) -> SnapshotSchedule:
    """Create or change the snapshot schedule from ``values`` (KEYS; ``enabled`` False turns it off and
    keeps the recurrence). Audited by the kernel (``schedule.create`` / ``schedule.update``)."""
    _centre(actor)
    unknown = set(values) - set(KEYS)
    if unknown:
        raise ValidationFailed("Unknown field(s): {names}.", field=sorted(unknown)[0],
                               params={"names": ", ".join(sorted(unknown))})
    enabled = bool(values.get("enabled", True))
    rec = Recurrence(str(values.get("every") or ""), values.get("interval_minutes"), values.get("at"),
                     values.get("weekday"))
    params = {"folder": folder(), "incremental": True}
    sch = schedules.by_name(session, NAME)
    if sch is None:
        sch = schedules.create(session, actor, NAME, KIND, rec, params=params, enabled=enabled, now=now)
    else:
        sch = schedules.change(session, actor, sch.id, recurrence=rec, params=params, enabled=enabled,
                               expected_version=expected_version, now=now)
    return SnapshotSchedule(sch, schedules.last_job(session, sch))
