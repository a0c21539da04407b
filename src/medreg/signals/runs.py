"""A signal run end to end: snapshot, event level, scores, cases (``medreg signals run`` and the
``signals.run`` job). Never commits; the job commits each step on its own.

Steps (the job checkpoints after each): ``export`` writes the next snapshot version; ``score`` builds
the analysis table and scores it; ``record`` stores the run, opens or updates the cases and links
each appended statistic to its reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core import audit
from medreg.core.actor import Actor
from medreg.core.errors import PermissionDenied, ValidationFailed
from medreg.signals import pipeline, snapshot
from medreg.signals.criteria import RULES, SignalCriteria
from medreg.signals.models import SignalRun
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
        self.criteria()
        return self


def _centre(actor: Actor) -> None:
    if not CENTRE & actor.roles:
        raise PermissionDenied("Only the monitoring centre records signal runs.", field="actor")


def export_step(session: Session, actor: Actor, settings: RunSettings) -> snapshot.Snapshot:
    _centre(actor)
    return snapshot.export(session, actor, Path(settings.folder), incremental=settings.incremental)


def record_step(session: Session, actor: Actor, settings: RunSettings, snap: snapshot.Snapshot,
                events: Path, scored: pipeline.Scored) -> SignalRun:
    """Store the run and turn its flagged pairs into cases."""
    _centre(actor)
    criteria = settings.criteria()
    reports = pipeline.flagged_reports(events, scored, criteria)
    annexes = pipeline.check_settings(settings.level, settings.annexes)
    run = SignalRun(label=settings.label, snapshot_version=snap.version, snapshot_path=snap.path,
                    reports=snap.reports, exported_at=datetime.fromisoformat(snap.exported_at),
                    event_level=settings.level, annexes=annexes,
                    criteria=criteria.describe(), pairs=scored.pairs, flagged=len(reports), opened=0,
                    updated=0, prior=scored.prior, created_by_user_id=actor.user_id)
    session.add(run)
    session.flush()
    out = record_run(session, actor, scored.columns, criteria=criteria, run_label=settings.label,
                     owners=scored.owners, run_id=run.id, reports=reports, registration_numbers=True)
    run.opened, run.updated = out.opened, out.updated
    session.flush()
    audit.record(session, actor, "signals.run", "signals_run", run.id,
                 after={"label": run.label, "snapshot_version": run.snapshot_version, "reports": run.reports,
                        "pairs": run.pairs, "flagged": run.flagged, "opened": run.opened,
                        "updated": run.updated, "criteria": run.criteria, "level": run.event_level,
                        "annexes": run.annexes})
    return run


def run_all(session: Session, actor: Actor, settings: RunSettings) -> SignalRun:
    """All three steps in the caller's transaction (the CLI)."""
    settings.check()
    snap = export_step(session, actor, settings)
    events = pipeline.prepare_events(snap, settings.level, settings.annexes)
    return record_step(session, actor, settings, snap, events, pipeline.score_events(events))


def list_runs(session: Session, actor: Actor, limit: int = 50) -> list[SignalRun]:
    if not CENTRE & actor.roles:
        return []
    return list(session.scalars(select(SignalRun).order_by(SignalRun.id.desc()).limit(limit)))
