"""Report-level rows for signal detection (issue 4): one row per (report, IMDRF code) of the submitted,
non-duplicate reports, with the device's registration certificate and its registrant.

Only the monitoring centre (and administrators) read the whole report base this way. Incremental
exports ask for the reports changed since the previous export: ``changed_ids`` lists every case touched
since then (including those that became drafts' follow-ups, duplicates or lost their codes), so that
the caller can drop their old rows before adding the new ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.errors import PermissionDenied
from medreg.vigilance.models import VigilanceCase, VigilanceReportCode
from medreg.vigilance.states import Status


@dataclass(frozen=True)
class ReportRows:
    """Columns of (report id, registration number, registrant org id, annex, code, event year)."""

    report_id: list[int]
    registration_number: list[str]
    registrant_org_id: list[int | None]
    annex: list[str]
    code: list[str]
    year: list[int | None]
    changed_ids: list[int] | None  # None: a full export


def report_rows(session: Session, actor: Actor, *, annexes: str = "ACDEFG",
                changed_since: datetime | None = None) -> ReportRows:
    """The coded rows of every submitted, non-duplicate report with a registration number."""
    if not (actor.has(Role.MONITORING_CENTRE) or actor.has(Role.ADMIN)):
        raise PermissionDenied("Only the monitoring centre exports reports for signal detection.",
                               field="actor")
    c, k = VigilanceCase, VigilanceReportCode
    stmt = (select(c.id, c.registration_number, c.registrant_org_id, k.annex, k.code, c.event_date)
            .join(k, k.case_id == c.id)
            .where(c.status != Status.DRAFT, c.duplicate_of_id.is_(None),
                   c.registration_number.is_not(None), c.registration_number != "",
                   k.annex.in_(sorted(set(annexes.upper()))))
            .order_by(c.id, k.annex, k.code))
    changed = None
    if changed_since is not None:
        stmt = stmt.where(c.updated_at >= changed_since)
        changed = list(session.scalars(select(c.id).where(c.updated_at >= changed_since).order_by(c.id)))
    out: tuple[list, ...] = ([], [], [], [], [], [])
    for rid, reg, org, annex, code, when in session.execute(stmt):
        for col, v in zip(out, (rid, reg, org, annex, code, when.year if when else None), strict=True):
            col.append(v)
    return ReportRows(*out, changed_ids=changed)
