"""Configured analyses: what the monitoring centre runs after each snapshot. Never commits.

An analysis names the event level and annexes, the device level, the strata, the criteria (statistic,
threshold, minimum count) and the counting engine. The centre (and administrators) create, change and
deactivate them; each change is audited with the values before and after. After each snapshot export
(``medreg signals snapshot`` or the ``signals.snapshot`` job) :func:`enqueue_runs` queues one
``signals.run`` job per active analysis on that snapshot version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core import audit, jobs
from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from medreg.signals import snapshot
from medreg.signals.models import SignalAnalysis
from medreg.signals.runs import RunSettings
from medreg.signals.states import CENTRE

FIELDS = ("name", "active", "event_level", "annexes", "device_level", "strata", "statistic", "threshold",
          "min_n", "engine")


def _centre(actor: Actor) -> None:
    if not CENTRE & actor.roles:
        raise PermissionDenied("Only the monitoring centre manages signal analyses.", field="actor")


def _state(a: SignalAnalysis) -> dict:
    return {f: getattr(a, f) for f in FIELDS} | {"version": a.version}


def settings_for(a: SignalAnalysis, folder: str, snapshot_version: int | None = None) -> RunSettings:
    """The run settings of analysis ``a`` on a snapshot folder (and version)."""
    label = f"{a.name[:100]} v{snapshot_version}" if snapshot_version else a.name
    return RunSettings(folder=folder, label=label, level=a.event_level, annexes=a.annexes,
                       statistic=a.statistic, threshold=a.threshold, min_n=a.min_n,
                       device_level=a.device_level, strata=a.strata, engine=a.engine,
                       snapshot_version=snapshot_version, analysis_id=a.id)


def _check(a: SignalAnalysis) -> None:
    name = (a.name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed("Give the analysis a name of 1 to 120 characters.", field="name")
    a.name = name
    settings = settings_for(a, folder="-").check()  # levels, annexes, strata, engine, criteria
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
    defaults = {"active": True, "event_level": 1, "annexes": "A", "device_level": "certificate",
                "strata": "", "statistic": "ebgm", "threshold": None, "min_n": 3, "engine": "duckdb"}
    a = SignalAnalysis(**(defaults | {k: v for k, v in values.items() if v is not None or k == "threshold"}))
    _check(a)
    _unique(session, a.name)
    session.add(a)
    session.flush()
    audit.record(session, actor, "signals.analysis.create", "signals_analysis", a.id, after=_state(a))
    return a


def update_analysis(session: Session, actor: Actor, analysis_id: int, values: Mapping, *,
                    expected_version: int | None = None) -> SignalAnalysis:
    """Change the given fields (``threshold`` None restores the published one)."""
    _centre(actor)
    a = get_analysis(session, actor, analysis_id)
    if expected_version is not None and a.version != expected_version:
        raise Conflict("The record was changed by someone else (version {current}, you saw {seen}); "
                       "reload and try again.", field="expected_version",
                       params={"current": a.version, "seen": expected_version})
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
    return a


def enqueue_runs(session: Session, actor: Actor, folder: Path | str, snapshot_version: int,
                 only: list[int] | None = None) -> list[int]:
    """Queue a ``signals.run`` job per active analysis on snapshot ``snapshot_version`` (the job ids).

    ``actor`` must be allowed to start ``signals.run`` jobs (the centre, an administrator or the system);
    the kind is registered by ``medreg.signals.jobs``, which the CLI, the web app and the worker import.
    """
    _centre(actor)
    ids = []
    for a in list_analyses(session, actor, active_only=True):
        if only is not None and a.id not in only:
            continue
        params = asdict(settings_for(a, str(folder), snapshot_version))
        ids.append(jobs.enqueue(session, actor, "signals.run", params).id)
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
