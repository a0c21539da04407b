"""Read side of the expert pool. The pool itself is visible to the office only (CMDE Art.18 keeps
the names of the reviewing experts confidential); an expert sees its own assignments."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.errors import NotFound, PermissionDenied
from medreg.premarket.experts.models import Expert, ExpertAssignment
from medreg.premarket.experts.schemas import AssignmentRead, ExpertRead


def _is_office(actor: Actor) -> bool:
    return "office" in actor.workflow_roles or actor.has(Role.ADMIN)


def list_experts(
    session: Session,
    actor: Actor,
    *,
    active: bool | None = None,
    field_of_expertise: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[ExpertRead]:
    if not _is_office(actor):
        raise PermissionDenied("Only the innovation review office sees the expert pool.", field="actor")
    stmt = select(Expert).order_by(Expert.name, Expert.id)
    if active is not None:
        stmt = stmt.where(Expert.active.is_(active))
    rows = [ExpertRead.model_validate(e) for e in session.scalars(stmt)]
    if field_of_expertise:
        wanted = field_of_expertise.strip().casefold()
        rows = [r for r in rows if wanted in {f.casefold() for f in r.fields}]
    return rows[offset : offset + limit]


def expert_of(session: Session, actor: Actor) -> Expert | None:
    """The pool entry of the signed-in user, if any."""
    if actor.user_id is None:
        return None
    return session.scalar(select(Expert).where(Expert.user_id == actor.user_id))


def assigned_application_ids(session: Session, actor: Actor) -> set[int]:
    """Applications assigned to the signed-in expert (tenancy: an expert sees only these)."""
    if actor.user_id is None:
        return set()
    stmt = (
        select(ExpertAssignment.application_id)
        .join(Expert, Expert.id == ExpertAssignment.expert_id)
        .where(Expert.user_id == actor.user_id)
    )
    return set(session.scalars(stmt))


def my_assignments(session: Session, actor: Actor, *, pending_only: bool = False) -> list[AssignmentRead]:
    stmt = (
        select(ExpertAssignment)
        .join(Expert, Expert.id == ExpertAssignment.expert_id)
        .where(Expert.user_id == actor.user_id)
        .order_by(ExpertAssignment.assigned_at)
    )
    if actor.user_id is None:
        return []
    if pending_only:
        stmt = stmt.where(ExpertAssignment.submitted_at.is_(None))
    return [AssignmentRead.model_validate(a) for a in session.scalars(stmt)]


def assignments_for(session: Session, application_id: int) -> list[ExpertAssignment]:
    """Every assignment on one application (the caller has checked the actor may see them)."""
    stmt = (
        select(ExpertAssignment)
        .where(ExpertAssignment.application_id == application_id)
        .order_by(ExpertAssignment.id)
    )
    return list(session.scalars(stmt))


def get_assignment(session: Session, actor: Actor, assignment_id: int) -> ExpertAssignment:
    """One assignment: to the office, or to the expert it is assigned to (else NotFound)."""
    a = session.get(ExpertAssignment, assignment_id)
    if a is None or not (
        _is_office(actor) or (actor.user_id is not None and a.expert.user_id == actor.user_id)
    ):
        raise NotFound("Assignment {id} not found.", field="assignment_id", params={"id": assignment_id})
    return a


def tally(session: Session, application_id: int) -> dict[str, int]:
    """Opinions given so far: agree, disagree, pending (CMDE Art.17)."""
    out = {"agree": 0, "disagree": 0, "pending": 0}
    for a in assignments_for(session, application_id):
        out[a.opinion or "pending"] += 1
    return out
