"""Read side of signal cases, with tenancy: the monitoring centre and administrators see every case,
a registrant only the cases of its own devices, anyone else none."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.errors import NotFound
from medreg.signals.models import SignalCase, SignalCaseReport
from medreg.signals.states import CENTRE, TABLE, Decision, Status


def visible_cases(actor: Actor):
    """A select of the cases the actor may see, or None when it may see none."""
    stmt = select(SignalCase)
    if CENTRE & actor.roles:
        return stmt
    if Role.REGISTRANT in actor.roles and actor.organisation_id is not None:
        return stmt.where(SignalCase.owner_org_id == actor.organisation_id)
    return None


SOURCES = ("disproportionality", "surveillance_monitor")  # what raised a case (SignalCase.source)


def list_cases(session: Session, actor: Actor, *, status: str | None = None, source: str | None = None,
               limit: int = 100) -> list:
    """The visible cases, newest first; ``source``: disproportionality (a run over the reports) or
    surveillance_monitor (a monitor's look)."""
    stmt = visible_cases(actor)
    if stmt is None:
        return []
    if status:
        stmt = stmt.where(SignalCase.status == status)
    if source:
        stmt = stmt.where(SignalCase.source == source)
    return list(session.scalars(stmt.order_by(SignalCase.id.desc()).limit(limit)))


def get_case(session: Session, actor: Actor, case_id: int) -> SignalCase:
    """The case, or NotFound when it does not exist or the actor may not know of it."""
    stmt = visible_cases(actor)
    case = session.scalar(stmt.where(SignalCase.id == case_id)) if stmt is not None else None
    if case is None:
        raise NotFound("Signal case {id} not found.", field="case_id", params={"id": case_id})
    return case


def case_reports(session: Session, actor: Actor, case_id: int) -> dict[int, list[int]]:
    """For each statistic of the case, the ids of the reports behind it."""
    get_case(session, actor, case_id)
    out: dict[int, list[int]] = {}
    rows = session.execute(select(SignalCaseReport.stat_id, SignalCaseReport.report_id)
                           .where(SignalCaseReport.case_id == case_id)
                           .order_by(SignalCaseReport.stat_id, SignalCaseReport.report_id))
    for stat_id, report_id in rows:
        out.setdefault(stat_id, []).append(report_id)
    return out


def allowed_actions(actor: Actor, case: SignalCase) -> list[str]:
    return TABLE.allowed_actions(case.status, actor.roles)


def may_respond(actor: Actor, case: SignalCase) -> bool:
    """The device's registrant, asked for its evaluation, has not answered yet."""
    return (Role.REGISTRANT in actor.roles and actor.organisation_id is not None
            and case.owner_org_id == actor.organisation_id and case.status == Status.ACTION_DECIDED
            and case.decision == Decision.REQUEST_EVALUATION and case.responded_at is None)
