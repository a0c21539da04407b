"""Configured analyses: what the monitoring centre runs after each snapshot. Never commits.

An analysis names the event level and annexes, the device level, the strata, the criteria (statistic,
threshold, minimum count) and the counting engine. The centre (and administrators) create, change and
deactivate them, delete one that never ran, and run one now (a ``signals.run`` job); each change is
audited with the values before and after. Pages: ``pages_analyses.py``. After each snapshot export
(``medreg signals snapshot`` or the ``signals.snapshot`` job) :func:`enqueue_runs` queues one
``signals.run`` job per active analysis on that snapshot version, except the analyses that have their
own schedule (``scheduling.set_analysis_schedule``). Every ``signals.run`` job of an analysis carries
the subject :func:`subject_of` (the kernel's indexed ``job.subject``), so its latest job is found exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medreg.core import audit, jobs, schedules
from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from medreg.signals import snapshot
from medreg.signals.models import SignalAnalysis, SignalRun
from medreg.signals.runs import RunSettings
from medreg.signals.states import CENTRE

FIELDS = ("name", "active", "event_level", "annexes", "device_level", "strata", "statistic", "threshold",
          "min_n", "engine")
DEFAULTS = {"active": True, "event_level": 1, "annexes": "A", "device_level": "certificate", "strata": "",
            "statistic": "ebgm", "threshold": None, "min_n": 3, "engine": "duckdb"}


def _centre(actor: Actor) -> None:
    if not CENTRE & actor.roles:
        raise PermissionDenied("Only the monitoring centre manages signal analyses.", field="actor")


def _state(a: SignalAnalysis) -> dict:
    return {f: getattr(a, f) for f in FIELDS} | {"version": a.version}


def subject_of(analysis_id: int) -> str:
    """The job subject of the ``signals.run`` jobs of an analysis (``jobs.latest_by_subject``)."""
    return f"signals_analysis:{analysis_id}"


def settings_for(a: SignalAnalysis, folder: str, snapshot_version: int | None = None, *,
                 latest: bool = False) -> RunSettings:
    """The run settings of analysis ``a`` on a snapshot folder (and version; ``latest``: the newest
    snapshot at run time, the runs of the analysis' own schedule)."""
    label = f"{a.name[:100]} v{snapshot_version}" if snapshot_version else a.name
    return RunSettings(folder=folder, label=label, level=a.event_level, annexes=a.annexes,
                       statistic=a.statistic, threshold=a.threshold, min_n=a.min_n,
                       device_level=a.device_level, strata=a.strata, engine=a.engine,
                       snapshot_version=snapshot_version, analysis_id=a.id, latest=latest)


def _check(a: SignalAnalysis) -> None:
    name = (a.name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed("Give the analysis a name of 1 to 120 characters.", field="name")
    a.name = name
    if a.threshold is not None and not math.isfinite(a.threshold):
        raise ValidationFailed("The threshold must be a finite number.", field="threshold")
    try:
        settings = settings_for(a, folder="-").check()  # levels, annexes, strata, engine, criteria
    except ValidationFailed as err:
        if err.field == "level":  # the run's name of the analysis' field
            err.field = "event_level"
        raise
    a.annexes = "".join(sorted(set(a.annexes.upper())))
    a.strata = ",".join(settings.strata_names)


def list_analyses(session: Session, actor: Actor, *, active_only: bool = False) -> list[SignalAnalysis]:
    if not CENTRE & actor.roles:
        return []
    stmt = select(SignalAnalysis).order_by(SignalAnalysis.id)
    if active_only:
        stmt = stmt.where(SignalAnalysis.active.is_(True))
    return list(session.scalars(stmt))


def get_analysis(session: Session, actor: Actor, analysis_id: int) -> SignalAnalysis:
    a = session.get(SignalAnalysis, analysis_id)
    if a is None or not CENTRE & actor.roles:
        raise NotFound("Signal analysis {id} not found.", field="analysis_id", params={"id": analysis_id})
    return a


def _unique(session: Session, name: str, own_id: int | None = None) -> None:
    with session.no_autoflush:  # one flush (one version) per change
        other = session.scalar(select(SignalAnalysis).where(SignalAnalysis.name == name.strip()))
    if other is not None and other.id != own_id:
        raise Conflict("An analysis named '{name}' already exists.", field="name", params={"name": name})


def create_analysis(session: Session, actor: Actor, values: Mapping) -> SignalAnalysis:
    """A new analysis from ``values`` (FIELDS; the others take their defaults)."""
    _centre(actor)
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValidationFailed("Unknown field(s): {names}.", field=sorted(unknown)[0],
                               params={"names": ", ".join(sorted(unknown))})
    a = SignalAnalysis(**(DEFAULTS | {k: v for k, v in values.items() if v is not None or k == "threshold"}))
    _check(a)
    _unique(session, a.name)
    session.add(a)
    session.flush()
    audit.record(session, actor, "signals.analysis.create", "signals_analysis", a.id, after=_state(a))
    return a


def _fresh(session: Session, actor: Actor, analysis_id: int, expected_version: int | None) -> SignalAnalysis:
    _centre(actor)
    a = get_analysis(session, actor, analysis_id)
    if expected_version is not None and a.version != expected_version:
        raise Conflict("The record was changed by someone else (version {current}, you saw {seen}); "
                       "reload and try again.", field="expected_version",
                       params={"current": a.version, "seen": expected_version})
    return a


def update_analysis(session: Session, actor: Actor, analysis_id: int, values: Mapping, *,
                    expected_version: int | None = None) -> SignalAnalysis:
    """Change the given fields (``threshold`` None restores the published one)."""
    a = _fresh(session, actor, analysis_id, expected_version)
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValidationFailed("Unknown field(s): {names}.", field=sorted(unknown)[0],
                               params={"names": ", ".join(sorted(unknown))})
    for k, v in values.items():
        if v is None and k != "threshold":
            raise ValidationFailed("'{name}' cannot be empty.", field=k, params={"name": k})
    before = _state(a)
    trial = SignalAnalysis(id=a.id, **{f: values.get(f, getattr(a, f)) for f in FIELDS})
    _check(trial)  # on a detached copy: a refused change leaves the stored analysis untouched
    _unique(session, trial.name, a.id)
    for f in FIELDS:
        setattr(a, f, getattr(trial, f))
    a.updated_at = utcnow()
    session.flush()
    audit.record(session, actor, "signals.analysis.update", "signals_analysis", a.id, before=before,
                 after=_state(a))
    if a.schedule_id is not None:  # its own schedule queues runs with the analysis' current settings
        sch = session.get(schedules.Schedule, a.schedule_id)
        params = asdict(settings_for(a, sch.params.get("folder") or "-", latest=True))
        if params != sch.params or sch.enabled != a.active:
            schedules.change(session, actor, sch.id, params=params, enabled=a.active)
    return a


PENDING = (jobs.JobStatus.QUEUED, jobs.JobStatus.RUNNING)


def _pending(session: Session) -> list[jobs.Job]:
    """The signal jobs queued or running (a run, or a snapshot export)."""
    stmt = (select(jobs.Job).where(jobs.Job.kind.in_(("signals.run", "signals.snapshot")),
                                   jobs.Job.status.in_(PENDING)).order_by(jobs.Job.id))
    return list(session.scalars(stmt.execution_options(populate_existing=True)))


def _not_pending(session: Session, a: SignalAnalysis) -> None:
    subject = subject_of(a.id)
    for job in jobs.latest_by_subject(session, "signals.run", [subject], statuses=PENDING).values():
        raise Conflict("A run of this analysis is already queued or running (job {job}).",
                           field="analysis_id", params={"job": job.id})


def delete_analysis(session: Session, actor: Actor, analysis_id: int, *,
                    expected_version: int | None = None) -> None:
    """Delete an analysis that never ran (audited with its values). One that ran is deactivated instead:
    its runs keep the link to the settings they were made with."""
    a = _fresh(session, actor, analysis_id, expected_version)
    runs = session.scalar(select(func.count()).select_from(SignalRun).where(SignalRun.analysis_id == a.id))
    if runs:
        raise Conflict("The analysis has {runs} run(s): disable it instead of deleting it.",
                       field="analysis_id", params={"runs": runs})
    _not_pending(session, a)
    before = _state(a)
    if a.schedule_id is not None:  # its own schedule goes with it (audited schedule.delete)
        schedule_id, a.schedule_id = a.schedule_id, None
        session.flush()
        schedules.delete(session, actor, schedule_id)
    session.delete(a)
    session.flush()
    audit.record(session, actor, "signals.analysis.delete", "signals_analysis", analysis_id, before=before)


def run_now(session: Session, actor: Actor, analysis_id: int, folder: Path | str,
            snapshot_version: int | None = None) -> jobs.Job:
    """Queue one ``signals.run`` job of the analysis (active or not) on ``folder``: on the existing
    ``snapshot_version``, or (None) on the next snapshot it exports first, as ``medreg signals run``
    does. Refused while a run of this analysis is queued or running, and, when it would export, while
    another export into ``folder`` is (two exports into one folder would clash)."""
    _centre(actor)
    a = get_analysis(session, actor, analysis_id)
    folder = str(Path(folder).absolute())  # the worker may run in another directory
    _not_pending(session, a)
    if snapshot_version is not None:
        if isinstance(snapshot_version, bool) or not isinstance(snapshot_version, int) or \
                snapshot_version < 1 or not snapshot.exists(Path(folder), snapshot_version):
            raise ValidationFailed("No snapshot version {version}.", field="snapshot_version",
                                   params={"version": snapshot_version})
    else:
        for job in _pending(session):
            exporting = job.kind == "signals.snapshot" or (
                job.params.get("snapshot_version") is None and not job.params.get("latest"))
            if exporting and job.params.get("folder") == folder:
                raise Conflict("A snapshot export is queued or running (job {job}); run the analysis when "
                               "it has finished.", field="analysis_id", params={"job": job.id})
    return jobs.enqueue(session, actor, "signals.run", asdict(settings_for(a, folder, snapshot_version)),
                        subject=subject_of(a.id))


def snapshots(folder: Path | str, limit: int = 50) -> list[snapshot.Snapshot]:
    """The finished snapshots of ``folder``, newest first (what Run now may score)."""
    return snapshot.versions(Path(folder))[:limit]


@dataclass(frozen=True)
class AnalysisStatus:
    """An analysis with its latest recorded run and its latest ``signals.run`` job (either may be None)."""

    analysis: SignalAnalysis
    last_run: SignalRun | None
    last_job: jobs.Job | None
    schedule: schedules.Schedule | None = None  # its own schedule; None: after each snapshot

    @property
    def pending(self) -> bool:
        return self.last_job is not None and self.last_job.status in PENDING

    @property
    def criteria(self) -> str:
        """The rule as text, e.g. ``EB05 > 2 and n11 >= 3``."""
        return settings_for(self.analysis, "-").criteria().describe()


def overview(session: Session, actor: Actor) -> list[AnalysisStatus]:
    """Every analysis (the centre's; others get none) with its last run and last job."""
    rows = list_analyses(session, actor)
    if not rows:
        return []
    ids = [a.id for a in rows]
    latest = (select(func.max(SignalRun.id)).where(SignalRun.analysis_id.in_(ids))
              .group_by(SignalRun.analysis_id))
    runs = {r.analysis_id: r for r in session.scalars(select(SignalRun).where(SignalRun.id.in_(latest)))}
    found = jobs.latest_by_subject(session, "signals.run", [subject_of(i) for i in ids])
    own = {s.id: s for s in session.scalars(select(schedules.Schedule).where(
        schedules.Schedule.id.in_([a.schedule_id for a in rows if a.schedule_id is not None])))}
    return [AnalysisStatus(a, runs.get(a.id), found.get(subject_of(a.id)), own.get(a.schedule_id))
            for a in rows]


def enqueue_runs(session: Session, actor: Actor, folder: Path | str, snapshot_version: int,
                 only: list[int] | None = None) -> list[int]:
    """Queue a ``signals.run`` job per active analysis on snapshot ``snapshot_version`` (the job ids);
    an analysis with its own schedule is left to it.

    ``actor`` must be allowed to start ``signals.run`` jobs (the centre, an administrator or the system);
    the kind is registered by ``medreg.signals.jobs``, which the CLI, the web app and the worker import.
    """
    _centre(actor)
    ids = []
    for a in list_analyses(session, actor, active_only=True):
        if (only is not None and a.id not in only) or a.schedule_id is not None:
            continue
        params = asdict(settings_for(a, str(folder), snapshot_version))
        ids.append(jobs.enqueue(session, actor, "signals.run", params, subject=subject_of(a.id)).id)
    return ids


def export_and_enqueue(session: Session, actor: Actor, folder: Path | str, *,
                       incremental: bool = True) -> tuple[snapshot.Snapshot, list[int]]:
    """Export the next snapshot and queue the configured analyses on it (``medreg signals snapshot``)."""
    _centre(actor)
    snap = snapshot.export(session, actor, Path(folder), incremental=incremental)
    audit_snapshot(session, actor, folder, snap)
    return snap, enqueue_runs(session, actor, folder, snap.version)


def audit_snapshot(session: Session, actor: Actor, folder: Path | str, snap: snapshot.Snapshot) -> None:
    audit.record(session, actor, "signals.snapshot", "signals_snapshot", snap.version,
                 after={"folder": str(folder), "version": snap.version, "reports": snap.reports,
                        "rows": snap.rows, "base_version": snap.base_version, "schema": snap.schema})
