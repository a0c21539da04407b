"""A signal run end to end: snapshot, device and event level, strata, scores, cases (``medreg signals
run`` and the ``signals.run`` job). Never commits; the job commits each step on its own.

Steps (the job checkpoints after each): ``export`` writes the next snapshot version (or, with
``snapshot_version``, takes that existing one: the runs that ``signals.snapshot`` enqueues); ``score``
builds the analysis table and scores it with the chosen engine; ``record`` stores the run, opens or
updates the cases and links each appended statistic to its reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core import audit
from medreg.core.actor import Actor
from medreg.core.errors import NotFound, PermissionDenied, ValidationFailed
from medreg.signals import pipeline, snapshot
from medreg.signals.criteria import RULES, SignalCriteria
from medreg.signals.models import SignalCase, SignalRun, SignalStat
from medreg.signals.service import record_run
from medreg.signals.states import CENTRE


@dataclass(frozen=True)
class RunSettings:
    folder: str
    label: str
    level: int = 1
    annexes: str = "A"
    statistic: str = "ebgm"
    threshold: float | None = None
    min_n: int = 3
    incremental: bool = True
    device_level: str = "certificate"
    strata: str = ""  # comma-separated names of pipeline.STRATA
    engine: str = "duckdb"
    spark_master: str = "local[*]"
    snapshot_version: int | None = None  # score this existing snapshot instead of exporting a new one
    analysis_id: int | None = None  # the configured analysis that asked for the run
    latest: bool = False  # score the newest snapshot at run time (exported first if there is none)

    @property
    def strata_names(self) -> tuple[str, ...]:
        return pipeline.check_strata(self.strata)

    def criteria(self) -> SignalCriteria:
        if self.statistic not in RULES:
            raise ValidationFailed("'{name}' must be one of: {allowed}.", field="statistic",
                                   params={"name": "statistic", "allowed": ", ".join(RULES)})
        if self.min_n < 1:
            raise ValidationFailed("The minimum count must be at least 1.", field="min_n")
        return SignalCriteria(self.statistic, self.threshold, self.min_n)

    def check(self) -> RunSettings:
        if not self.label or len(self.label) > 120:
            raise ValidationFailed("Give a run label of 1 to 120 characters.", field="run_label")
        if not self.folder:
            raise ValidationFailed("Give the snapshot folder.", field="folder")
        pipeline.check_settings(self.level, self.annexes)
        pipeline.check_device_level(self.device_level)
        pipeline.check_engine(self.engine)
        self.strata_names  # noqa: B018 - validates
        if self.latest and self.snapshot_version is not None:
            raise ValidationFailed("Give a snapshot version or the latest snapshot, not both.",
                                   field="snapshot_version")
        if self.snapshot_version is not None and not 1 <= self.snapshot_version <= 999_999:
            raise ValidationFailed("No snapshot version {version}.", field="snapshot_version",
                                   params={"version": self.snapshot_version})
        self.criteria()
        return self


def _centre(actor: Actor) -> None:
    if not CENTRE & actor.roles:
        raise PermissionDenied("Only the monitoring centre records signal runs.", field="actor")


def export_step(session: Session, actor: Actor, settings: RunSettings,
                started: Callable[[int], None] | None = None) -> snapshot.Snapshot:
    """The next snapshot version, or the given existing one (``latest``: the newest one, if any);
    ``started`` as in ``snapshot.export`` (called only when a version is exported)."""
    _centre(actor)
    if settings.latest and (newest := snapshot.latest(Path(settings.folder))) is not None:
        return newest
    if settings.snapshot_version is not None:
        folder = Path(settings.folder)
        if not snapshot.exists(folder, settings.snapshot_version):
            raise ValidationFailed("No snapshot version {version}.", field="snapshot_version",
                                   params={"version": settings.snapshot_version})
        return snapshot.load(folder, settings.snapshot_version)
    return snapshot.export(session, actor, Path(settings.folder), incremental=settings.incremental,
                           started=started)


def score_step(settings: RunSettings, snap: snapshot.Snapshot) -> tuple[Path, pipeline.Scored]:
    """The analysis table of the run's levels and strata, counted and scored."""
    strata = settings.strata_names
    events = pipeline.prepare_events(snap, settings.level, settings.annexes, settings.device_level, strata)
    return events, pipeline.score_events(events, strata, settings.engine, settings.device_level,
                                         settings.spark_master)


def record_step(session: Session, actor: Actor, settings: RunSettings, snap: snapshot.Snapshot,
                events: Path, scored: pipeline.Scored) -> SignalRun:
    """Store the run and turn its flagged pairs into cases."""
    _centre(actor)
    criteria = settings.criteria()
    reports = pipeline.flagged_reports(events, scored, criteria)
    annexes = pipeline.check_settings(settings.level, settings.annexes)
    run = SignalRun(label=settings.label, snapshot_version=snap.version, snapshot_path=snap.path,
                    reports=snap.reports, exported_at=datetime.fromisoformat(snap.exported_at),
                    event_level=settings.level, annexes=annexes, device_level=settings.device_level,
                    strata=",".join(settings.strata_names), engine=settings.engine,
                    analysis_id=settings.analysis_id,
                    criteria=criteria.describe(), pairs=scored.pairs, flagged=len(reports), opened=0,
                    updated=0, prior=scored.prior, created_by_user_id=actor.user_id)
    session.add(run)
    session.flush()
    out = record_run(session, actor, scored.columns, criteria=criteria, run_label=settings.label,
                     owners=scored.owners, run_id=run.id, reports=reports,
                     registration_numbers=settings.device_level == "certificate",
                     device_level=settings.device_level)
    run.opened, run.updated = out.opened, out.updated
    session.flush()
    audit.record(session, actor, "signals.run", "signals_run", run.id,
                 after={"label": run.label, "snapshot_version": run.snapshot_version, "reports": run.reports,
                        "pairs": run.pairs, "flagged": run.flagged, "opened": run.opened,
                        "updated": run.updated, "criteria": run.criteria, "level": run.event_level,
                        "annexes": run.annexes, "device_level": run.device_level, "strata": run.strata,
                        "engine": run.engine, "analysis_id": run.analysis_id,
                        # the reports that carry the device level's key (the others are left out)
                        "counted_reports": scored.reports})
    return run


def run_all(session: Session, actor: Actor, settings: RunSettings) -> SignalRun:
    """All three steps in the caller's transaction (the CLI)."""
    settings.check()
    snap = export_step(session, actor, settings)
    events, scored = score_step(settings, snap)
    return record_step(session, actor, settings, snap, events, scored)


def list_runs(session: Session, actor: Actor, limit: int = 50) -> list[SignalRun]:
    if not CENTRE & actor.roles:
        return []
    return list(session.scalars(select(SignalRun).order_by(SignalRun.id.desc()).limit(limit)))


def get_run(session: Session, actor: Actor, run_id: int) -> SignalRun:
    """One run (the centre's; NotFound for anyone else)."""
    run = session.get(SignalRun, run_id) if CENTRE & actor.roles else None
    if run is None:
        raise NotFound("Signal run {id} not found.", field="run_id", params={"id": run_id})
    return run


def run_cases(session: Session, actor: Actor, run_id: int) -> list[tuple[SignalCase, SignalStat]]:
    """The cases the run opened or updated, each with the statistics the run appended to it."""
    get_run(session, actor, run_id)
    stmt = (select(SignalCase, SignalStat).join(SignalStat, SignalStat.case_id == SignalCase.id)
            .where(SignalStat.run_id == run_id).order_by(SignalCase.id))
    return [(case, stat) for case, stat in session.execute(stmt)]
