"""Removing old snapshot versions and everything written next to them (``medreg signals prune``, the
``keep`` of a ``signals.snapshot`` job; I/O and audit).

A snapshot folder grows by one version per export, and each version by one analysis table (and its side
file) per run settings. A run's results are in the database (run, statistics, cases, linked reports),
and a run's score file is removed once the run is recorded (``jobs.run_job``), so what an old version
keeps on disk is only what a new run on it would need. :func:`plan` chooses, :func:`record` audits the
removal of each version (one ``signals.snapshot_removed`` event per version, on the entity
``signals_snapshot`` that ``signals.snapshot`` created), and :func:`remove` deletes the files, after the
caller has committed the audit: a removal that stops half way (a crash) leaves files of a version
without its manifest, which nothing reads and the next prune removes.

Kept: the newest ``keep`` finished versions (at least one: the base of the next incremental export), any
version a queued or running ``signals.run`` job of this folder names or has started on, and every file
of a version newer than the newest finished one (an export in progress). Removed: every file of the
other versions (``v000001.parquet``, its manifest, its analysis tables and side files, score and
temporary files), and, in the kept versions, temporary files not written to for an hour (left by a
worker that died while writing an analysis table or a score file).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core import audit
from medreg.core.actor import Actor
from medreg.core.errors import PermissionDenied, ValidationFailed
from medreg.core.jobs import Job, JobStatus
from medreg.signals import snapshot
from medreg.signals.states import CENTRE

_VERSION = re.compile(r"^v(\d{6})\.")
STALE_TEMPORARY_S = 3600.0  # a temporary file not written to for this long belongs to a dead worker


def _centre(actor: Actor) -> None:
    if not CENTRE & actor.roles:
        raise PermissionDenied("Only the monitoring centre removes snapshots.", field="actor")


@dataclass(frozen=True)
class Plan:
    folder: str
    keep: int
    kept: list[int]  # finished versions kept, newest first
    busy: list[int]  # of those, the older ones kept because a queued or running run needs them
    removed: list[dict]  # the manifests of the finished versions to remove, newest first
    files: list[str]  # every file to remove (names in the folder): manifests first
    bytes: int


def busy_versions(session: Session, folder: Path) -> set[int]:
    """The snapshot versions of ``folder`` that a queued or running ``signals.run`` job names
    (``snapshot_version``) or has started on (its checkpoint's ``snapshot``)."""
    jobs = session.scalars(select(Job).where(Job.kind == "signals.run",
                                             Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING))))
    busy = set()
    for job in jobs:
        params = job.params or {}
        if Path(str(params.get("folder", ""))).resolve() != folder.resolve():
            continue
        for value in (params.get("snapshot_version"), (job.checkpoint or {}).get("snapshot")):
            if isinstance(value, int):
                busy.add(value)
    return busy


def plan(session: Session, actor: Actor, folder: Path | str, keep: int, *,
         now: float | None = None) -> Plan:
    """What a prune of ``folder`` keeping the newest ``keep`` versions removes (nothing is changed)."""
    _centre(actor)
    if isinstance(keep, bool) or not isinstance(keep, int) or not 1 <= keep <= 100_000:
        raise ValidationFailed("Keep at least the newest snapshot: give a whole number from 1.", field="keep")
    folder = Path(folder)
    if not folder.is_dir():
        raise ValidationFailed("No snapshot folder {folder}.", field="snapshot_dir",
                               params={"folder": str(folder)})
    finished = snapshot.versions(folder)  # newest first
    busy = busy_versions(session, folder)
    kept = [s.version for s in finished[:keep]] + [s.version for s in finished[keep:] if s.version in busy]
    newest = finished[0].version if finished else 0
    now = time.time() if now is None else now
    manifests, others, size = [], [], 0
    for path in sorted(folder.iterdir()):
        m = _VERSION.match(path.name)
        if m is None or not path.is_file():
            continue
        version = int(m.group(1))
        if version > newest:
            continue  # an export in progress, or one that never finished (its job's clean-up is its own)
        stale = path.name.endswith(".tmp") and now - path.stat().st_mtime > STALE_TEMPORARY_S
        if version in kept and not stale:
            continue
        (manifests if path.name == f"v{version:06d}.json" else others).append(path.name)
        size += path.stat().st_size
    removed = [_described(s) for s in finished if s.version not in kept]
    return Plan(folder=str(folder), keep=keep, kept=sorted(kept, reverse=True),
                busy=sorted(set(kept[keep:]), reverse=True), removed=removed,
                files=manifests + others, bytes=size)


def _described(snap: snapshot.Snapshot) -> dict:
    return {"version": snap.version, "reports": snap.reports, "rows": snap.rows,
            "exported_at": snap.exported_at, "schema": snap.schema}


def record(session: Session, actor: Actor, prune: Plan) -> None:
    """Audit the removal of each finished version of ``prune`` (in the caller's transaction)."""
    _centre(actor)
    if prune.removed:
        audit.record_many(session, actor, "signals.snapshot_removed", "signals_snapshot",
                          [(v["version"], {"folder": prune.folder, **v}, None) for v in prune.removed],
                          note=f"keep {prune.keep}")


def remove(folder: Path | str, files: list[str]) -> list[str]:
    """Delete ``files`` of ``folder`` (a plan's, manifests first: a version without one is invisible);
    the names removed. Idempotent: a file already gone is skipped."""
    folder, gone = Path(folder), []
    for name in files:
        path = folder / name
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        gone.append(name)
    return gone
