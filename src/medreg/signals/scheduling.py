"""When the configured analyses run, through the kernel's scheduler (``medreg.core.schedules``). Never
commits.

* The **snapshot schedule** (one, named :data:`NAME`): when the worker runs ``signals.snapshot`` (export
  the next snapshot, then queue on it every active analysis that has no schedule of its own). Set from
  the analyses page, ``/api/signals/schedule`` and ``medreg signals schedule``.
* An analysis' **own schedule** (:func:`set_analysis_schedule`, named ``signals.analysis.<id>``): at its
  times the worker queues a ``signals.run`` of that analysis on the newest snapshot of the folder (the
  first one is exported if there is none), with the subject ``signals_analysis:<id>``; the analysis is
  then no longer queued after each snapshot. ``every="snapshot"`` removes it: the analysis runs after
  each snapshot again (the default). Its params follow the analysis (``analyses.update_analysis``) and
  it is on while the analysis is active. Set from the analysis' page, ``PUT
  /api/signals/analyses/{id}/schedule`` and ``medreg signals analyses schedule``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from medreg.core import audit, jobs, schedules
from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.errors import Conflict, PermissionDenied, ValidationFailed
from medreg.core.recurrence import Recurrence
from medreg.core.settings import get_settings
from medreg.signals import analyses
from medreg.signals.states import CENTRE

NAME = "signals.snapshot"  # the schedule's name (one per installation)
KIND = "signals.snapshot"
KEYS = ("every", "interval_minutes", "at", "weekday", "day_of_month", "enabled", "keep")
AFTER_SNAPSHOT = "snapshot"  # an analysis' ``every`` when it has no schedule of its own


@dataclass(frozen=True)
class SnapshotSchedule:
    """The schedule (None until the centre first sets one) and the last job it started."""

    schedule: schedules.Schedule | None
    last_job: jobs.Job | None

    @property
    def next_run_at(self) -> datetime | None:
        return self.schedule.next_run_at if self.schedule is not None else None

    @property
    def kept_versions(self) -> int | None:
        return kept_versions(self.schedule)


def _centre(actor: Actor) -> None:
    if not CENTRE & actor.roles:
        raise PermissionDenied("Only the monitoring centre manages signal analyses.", field="actor")


def current(session: Session, actor: Actor) -> SnapshotSchedule:
    _centre(actor)
    sch = schedules.by_name(session, NAME)
    return SnapshotSchedule(sch, schedules.last_job(session, sch))


def current_folder(actor: Actor) -> str:
    """The snapshot folder, for the centre only (PermissionDenied otherwise)."""
    _centre(actor)
    return folder()


def folder() -> str:
    """The snapshot folder of the schedule: the one "Run now" exports into (both build on one series)."""
    return str(Path(get_settings().signals_snapshot_dir).absolute())


def recurrence_of(values: Mapping) -> Recurrence:
    return Recurrence(str(values.get("every") or ""), values.get("interval_minutes"), values.get("at"),
                      values.get("weekday"), values.get("day_of_month"))


def _unknown(values: Mapping, keys: tuple[str, ...]) -> None:
    unknown = set(values) - set(keys)
    if unknown:
        raise ValidationFailed("Unknown field(s): {names}.", field=sorted(unknown)[0],
                               params={"names": ", ".join(sorted(unknown))})


def set_schedule(session: Session, actor: Actor, values: Mapping, *, expected_version: int | None = None,
                 now: datetime | None = None) -> SnapshotSchedule:
    """Create or change the snapshot schedule from ``values`` (KEYS; ``enabled`` False turns it off and
    keeps the recurrence; ``keep``: the snapshot versions each scheduled export keeps, older ones and
    their analysis tables removed, None for the ``signals_keep_snapshots`` setting). Audited by the
    kernel (``schedule.create`` / ``schedule.update``, the parameters before and after)."""
    _centre(actor)
    _unknown(values, KEYS)
    enabled = bool(values.get("enabled", True))
    rec = recurrence_of(values)
    keep = values.get("keep")  # checked by the job's own validation (``jobs.MAX_KEEP``), field "keep"
    params = {"folder": folder(), "incremental": True} | ({"keep": keep} if keep not in (None, "") else {})
    sch = schedules.by_name(session, NAME)
    if sch is None:
        sch = schedules.create(session, actor, NAME, KIND, rec, params=params, enabled=enabled, now=now)
    else:
        sch = schedules.change(session, actor, sch.id, recurrence=rec, params=params, enabled=enabled,
                               expected_version=expected_version, now=now)
    return SnapshotSchedule(sch, schedules.last_job(session, sch))


def kept_versions(sch: schedules.Schedule | None) -> int | None:
    """The snapshot versions the scheduled exports keep: the schedule's own ``keep``, else the setting
    (None: every version)."""
    own = sch.params.get("keep") if sch is not None else None
    return own if own is not None else get_settings().signals_keep_snapshots


def analysis_schedule_name(analysis_id: int) -> str:
    return f"signals.analysis.{analysis_id}"


def analysis_schedule(session: Session, actor: Actor, analysis_id: int) -> schedules.Schedule | None:
    """The analysis' own schedule (None: it runs after each snapshot)."""
    a = analyses.get_analysis(session, actor, analysis_id)
    return session.get(schedules.Schedule, a.schedule_id) if a.schedule_id is not None else None


def _describe(sch: schedules.Schedule | None) -> str:
    return sch.recurrence.describe() if sch is not None else "after each snapshot"


def set_analysis_schedule(session: Session, actor: Actor, analysis_id: int, values: Mapping, *,
                          expected_version: int | None = None,
                          now: datetime | None = None) -> schedules.Schedule | None:
    """Give the analysis its own schedule (``every``: interval, daily, weekly or monthly, with the
    recurrence's fields), change it, or (``every`` = ``snapshot``) remove it so that the analysis runs
    after each snapshot again. ``expected_version`` is the analysis' version. The kernel audits the
    schedule (``schedule.create`` / ``.update`` / ``.delete``), and ``signals.analysis.schedule``
    records the change on the analysis (before and after, in words)."""
    _centre(actor)
    _unknown(values, ("every", "interval_minutes", "at", "weekday", "day_of_month"))
    a = analyses.get_analysis(session, actor, analysis_id)
    if expected_version is not None and a.version != expected_version:
        raise Conflict("The record was changed by someone else (version {current}, you saw {seen}); "
                       "reload and try again.", field="expected_version",
                       params={"current": a.version, "seen": expected_version})
    sch = session.get(schedules.Schedule, a.schedule_id) if a.schedule_id is not None else None
    before = _describe(sch)
    if str(values.get("every") or "") == AFTER_SNAPSHOT:
        if sch is None:
            return None
        a.schedule_id = None
        a.updated_at = utcnow()
        session.flush()
        schedules.delete(session, actor, sch.id)
        sch = None
    else:
        rec = recurrence_of(values).check()
        params = asdict(analyses.settings_for(a, folder(), latest=True))
        if sch is None:
            sch = schedules.create(session, actor, analysis_schedule_name(a.id), "signals.run", rec,
                                   params=params, enabled=a.active, subject=analyses.subject_of(a.id),
                                   now=now)
            a.schedule_id = sch.id
            a.updated_at = utcnow()
            session.flush()
        else:
            sch = schedules.change(session, actor, sch.id, recurrence=rec, params=params, enabled=a.active,
                                   now=now)
    audit.record(session, actor, "signals.analysis.schedule", "signals_analysis", a.id,
                 before={"schedule": before}, after={"schedule": _describe(sch)})
    return sch
