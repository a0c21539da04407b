"""Read side of adverse-event reporting: cases, versions, quality, late reports counted per reporter and
quality per reporter and registrant (tenancy through ``access.scope``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from medreg.core import audit
from medreg.core.accounts import Organisation
from medreg.core.actor import Actor
from medreg.core.errors import ValidationFailed
from medreg.vigilance import quality
from medreg.vigilance.access import load, roles_on, scope
from medreg.vigilance.assessment import assess
from medreg.vigilance.models import VigilanceCase
from medreg.vigilance.schemas import CaseRead, VersionRead
from medreg.vigilance.states import TABLE, Status


def get_case(session: Session, actor: Actor, case_id: int) -> CaseRead:
    return CaseRead.model_validate(load(session, actor, case_id))


def list_cases(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    outcome: str | None = None,
    late: bool | None = None,
    registrant_org_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[CaseRead]:
    stmt = scope(select(VigilanceCase), actor)
    if status:
        stmt = stmt.where(VigilanceCase.status == status)
    if outcome:
        stmt = stmt.where(VigilanceCase.outcome == outcome)
    if late is not None:
        stmt = stmt.where(VigilanceCase.late.is_(late))
    if registrant_org_id:
        stmt = stmt.where(VigilanceCase.registrant_org_id == registrant_org_id)
    stmt = stmt.order_by(VigilanceCase.id.desc()).limit(limit).offset(offset)
    return [CaseRead.model_validate(c) for c in session.scalars(stmt)]


def versions(session: Session, actor: Actor, case_id: int) -> list[VersionRead]:
    case = load(session, actor, case_id)
    return [
        VersionRead(
            version_no=v.version_no,
            kind=v.kind,
            created_at=v.created_at,
            submitted_at=v.submitted_at,
            content=v.content,
        )
        for v in case.versions
    ]


def case_quality(session: Session, actor: Actor, case_id: int, now: datetime) -> quality.Quality:
    return assess(session, load(session, actor, case_id), now)


def allowed_actions(session: Session, actor: Actor, case_id: int) -> list[str]:
    case = load(session, actor, case_id)
    return TABLE.allowed_actions(case.status, roles_on(actor, case))


def history(session: Session, actor: Actor, case_id: int) -> list[audit.AuditEvent]:
    load(session, actor, case_id)
    return audit.history(session, "vigilance_case", case_id)


def per_organisation(session: Session, actor: Actor, by: str = "reporter") -> list[dict]:
    """Submitted reports, late reports and mean quality per reporter (``by="reporter"``) or per
    registrant (``by="registrant"``), within what ``actor`` may see."""
    if by not in ("reporter", "registrant"):
        raise ValidationFailed(
            "'{name}' must be one of: {allowed}.",
            field="by",
            params={"name": "by", "allowed": "reporter, registrant"},
        )
    col = VigilanceCase.reporter_org_id if by == "reporter" else VigilanceCase.registrant_org_id
    stmt = scope(
        select(
            col.label("org_id"),
            func.count().label("reports"),
            func.coalesce(func.sum(cast(VigilanceCase.late.is_(True), Integer)), 0).label("late"),
            func.avg(VigilanceCase.quality_score).label("mean_quality"),
        )
        .where(VigilanceCase.status != Status.DRAFT, col.is_not(None))
        .group_by(col)
        .order_by(col),
        actor,
    )
    rows = session.execute(stmt).all()
    ids = [r.org_id for r in rows]
    names = {
        i: n
        for i, n in session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))
        )
    }
    return [
        {
            "org_id": r.org_id,
            "organisation": names.get(r.org_id),
            "reports": r.reports,
            "late": int(r.late),
            "mean_quality": round(float(r.mean_quality), 1) if r.mean_quality is not None else None,
        }
        for r in rows
    ]
