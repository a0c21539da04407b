"""Whole-file atomicity of the background import (``vigilance.import``): a job that ends without success
removes the draft reports it inserted.

:func:`on_abandon` is the kind's ``on_abandon`` hook (``core.jobs.job_handler``): the job kernel calls it
in its own unit of work whenever an import job ends without success, with or without its handler: failed
on the last attempt (the handler raised, or its worker died and the lease ran out), or cancelled (while
running, while queued for a retry, or with a dead worker). It calls :func:`rollback_import` and says on
the job how many reports went. Idempotent: a second call finds nothing left to remove and adds nothing to
the counts.
"""

from __future__ import annotations

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session, aliased

from medreg.core import audit, jobs
from medreg.core.actor import Actor
from medreg.vigilance import service
from medreg.vigilance.models import (
    CASE_FIELDS,
    VigilanceCase,
    VigilanceDuplicateDecision,
    VigilanceReportCode,
    VigilanceReportVersion,
)
from medreg.vigilance.states import Status

ROLLBACK_CHUNK = 5000  # reports read, audited and deleted per statement (all in one transaction)


def rollback_import(session: Session, job_id: int, reason: str) -> tuple[int, int]:
    """Remove the draft reports job ``job_id`` inserted, with their versions, IMDRF code rows and
    duplicate decisions, and append one ``rollback`` audit event per report (its last snapshot as
    ``before``). In the caller's transaction (never commits). Reports no longer drafts (submitted
    meanwhile) or named as the original of another report are kept. Returns (removed, kept)."""
    other = aliased(VigilanceCase)
    mine = VigilanceCase.import_job_id == job_id
    removable = mine & (VigilanceCase.status == Status.DRAFT.value) & ~exists().where(
        other.duplicate_of_id == VigilanceCase.id)
    columns = [VigilanceCase.id] + [getattr(VigilanceCase, f) for f in CASE_FIELDS]
    removed, last = 0, 0
    while True:
        rows = session.execute(select(*columns).where(removable, VigilanceCase.id > last)
                               .order_by(VigilanceCase.id).limit(ROLLBACK_CHUNK)).all()
        if not rows:
            break
        ids = [r[0] for r in rows]
        audit.record_many(session, Actor.system(), "rollback", service.ENTITY, [
            (r[0], {f: v for f, v in zip(CASE_FIELDS, r[1:], strict=True)}, None) for r in rows],
            note=reason[: audit.NOTE_MAX])
        session.execute(delete(VigilanceDuplicateDecision).where(
            VigilanceDuplicateDecision.case_a_id.in_(ids) | VigilanceDuplicateDecision.case_b_id.in_(ids)))
        session.execute(delete(VigilanceReportCode).where(VigilanceReportCode.case_id.in_(ids)))
        session.execute(delete(VigilanceReportVersion).where(VigilanceReportVersion.case_id.in_(ids)))
        session.execute(delete(VigilanceCase).where(VigilanceCase.id.in_(ids)))
        removed, last = removed + len(ids), ids[-1]
    kept = session.scalar(select(func.count()).select_from(VigilanceCase).where(mine)) or 0
    return removed, kept


def _message(status: str, removed: int, kept: int) -> str:
    kept_note = f"; {kept} kept (submitted or the original of a duplicate meanwhile)" if kept else ""
    return f"{status}: {removed} imported reports rolled back{kept_note}"


def on_abandon(session: Session, job: jobs.Job, reason: str) -> None:
    """The import job ``job`` ended without success (``job.status`` failed or cancelled): remove its
    draft reports and record the counts as the job's message and result (added to those of an earlier
    run of this hook, so running it again changes nothing)."""
    removed, kept = rollback_import(session, job.id, f"import job {job.id} {reason}")
    earlier = job.result if isinstance(job.result, dict) and job.result.get("status") == "rolled_back" else {}
    removed += int(earlier.get("rolled_back", 0))
    job.message = _message(job.status, removed, kept)
    job.result = {"status": "rolled_back", "rolled_back": removed, "kept": kept}
