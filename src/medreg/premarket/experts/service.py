"""Use cases of the expert pool: add experts, declare interests, choose and assign, give opinions.

CMDE Notice 2025 No.7: Art.9 (conditions), Art.10-11 (exclusion and avoidance), Art.17 (opinions).
Services never commit; every change is audited in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core import audit, signatures
from medreg.core.accounts import Organisation, Role, User
from medreg.core.actor import Actor
from medreg.core.clock import today_shanghai, utcnow
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from medreg.premarket.experts import rules
from medreg.premarket.experts.models import DeclaredInterest, Expert, ExpertAssignment
from medreg.premarket.experts.schemas import (
    CandidateRead,
    ExpertIn,
    ExpertRead,
    ExpertUpdate,
    InterestIn,
    OpinionIn,
    Problem,
    parse,
)

EXPERT_FIELDS = (
    "name",
    "title",
    "senior_title",
    "organisation_id",
    "fields",
    "birth_year",
    "age_exempt",
    "active",
)
ASSIGNMENT_FIELDS = ("application_id", "expert_id", "is_leader", "opinion", "reasoning", "signature_id")


class Reviewable(Protocol):
    """What the expert pool needs to know of an application (an innovation application)."""

    id: int
    registrant_org_id: int
    technical_field: str | None
    avoidance_request: str | None


def _require_office(actor: Actor) -> None:
    if "office" not in actor.workflow_roles and not actor.has(Role.ADMIN):
        raise PermissionDenied("Only the innovation review office manages the expert pool.", field="actor")


def _org_exists(session: Session, org_id: int | None, field: str) -> None:
    if org_id is not None and session.get(Organisation, org_id) is None:
        raise ValidationFailed("Unknown organisation {id}.", field=field, params={"id": org_id})


def add_expert(session: Session, actor: Actor, data: ExpertIn | dict[str, Any]) -> Expert:
    _require_office(actor)
    data = parse(ExpertIn, data)
    user = session.get(User, data.user_id)
    if user is None:
        raise ValidationFailed("Unknown user {id}.", field="user_id", params={"id": data.user_id})
    if Role.EXPERT not in user.roles:
        raise ValidationFailed("The user does not hold the expert role.", field="user_id")
    if session.scalar(select(Expert.id).where(Expert.user_id == data.user_id)) is not None:
        raise Conflict("This user is already in the expert pool.", field="user_id")
    _org_exists(session, data.organisation_id, "organisation_id")
    expert = Expert(**data.model_dump())
    session.add(expert)
    session.flush()
    audit.record(
        session, actor, "add_expert", "expert", expert.id, after=audit.snapshot(expert, EXPERT_FIELDS)
    )
    return expert


def update_expert(session: Session, actor: Actor, expert_id: int, data: ExpertUpdate | dict) -> Expert:
    _require_office(actor)
    data = parse(ExpertUpdate, data)
    expert = get_expert(session, expert_id)
    changes = data.model_dump(exclude_unset=True)
    if "organisation_id" in changes:
        _org_exists(session, changes["organisation_id"], "organisation_id")
    if "fields" in changes:
        changes["fields"] = sorted({f.strip() for f in changes["fields"] if f and f.strip()})
        if not changes["fields"]:
            raise ValidationFailed("Give at least one field of expertise.", field="fields")
    with audit.recorded_change(session, actor, "update_expert", "expert", expert, EXPERT_FIELDS):
        for key, value in changes.items():
            setattr(expert, key, value)
    return expert


def get_expert(session: Session, expert_id: int) -> Expert:
    expert = session.get(Expert, expert_id)
    if expert is None:
        raise NotFound("Expert {id} not found.", field="expert_id", params={"id": expert_id})
    return expert


def declare_interest(
    session: Session, actor: Actor, expert_id: int, data: InterestIn | dict[str, Any]
) -> DeclaredInterest:
    """CMDE Art.10: the expert (for itself) or the office records an interest."""
    expert = get_expert(session, expert_id)
    if expert.user_id != actor.user_id:
        _require_office(actor)
    data = parse(InterestIn, data)
    _org_exists(session, data.organisation_id, "organisation_id")
    interest = DeclaredInterest(expert_id=expert.id, **data.model_dump())
    session.add(interest)
    session.flush()
    audit.record(
        session,
        actor,
        "declare_interest",
        "expert",
        expert.id,
        after={
            "interest_id": interest.id,
            **audit.snapshot(interest, ("organisation_id", "kind", "description", "since", "until")),
        },
    )
    return interest


def profile(expert: Expert) -> rules.ExpertProfile:
    return rules.ExpertProfile(
        id=expert.id,
        name=expert.name,
        organisation_id=expert.organisation_id,
        organisation_name=expert.organisation.name if expert.organisation else None,
        senior_title=expert.senior_title,
        birth_year=expert.birth_year,
        age_exempt=expert.age_exempt,
        active=expert.active,
        fields=tuple(expert.fields or ()),
    )


def _interests(expert: Expert) -> list[rules.Interest]:
    return [
        rules.Interest(i.organisation_id, i.kind, i.description or "", i.since, i.until)
        for i in expert.interests
    ]


def assess(expert: Expert, application: Reviewable, today: date) -> CandidateRead:
    """An expert seen against one application: fitness (Art.9) and conflicts (Art.10-11)."""
    fit = rules.fitness(profile(expert), application.technical_field, today)
    found = rules.conflicts(
        profile(expert),
        application.registrant_org_id,
        _interests(expert),
        rules.split_avoidance(application.avoidance_request),
        today,
    )
    return CandidateRead(
        expert=ExpertRead.model_validate(expert),
        eligible=fit.eligible,
        conflicted=bool(found),
        problems=[Problem(reason=p.reason, article=p.article) for p in fit.problems],
        conflicts=[Problem(reason=c.reason, article=c.article) for c in found],
    )


def candidate_experts(
    session: Session,
    actor: Actor,
    application: Reviewable,
    *,
    today: date | None = None,
    include_inactive: bool = False,
) -> list[CandidateRead]:
    """Every expert of the pool with why it may or may not review ``application`` (office only).

    Selectable candidates come first, then by name."""
    _require_office(actor)
    today = today or today_shanghai()
    stmt = select(Expert).order_by(Expert.name, Expert.id)
    if not include_inactive:
        stmt = stmt.where(Expert.active.is_(True))
    out = [assess(e, application, today) for e in session.scalars(stmt)]
    return sorted(out, key=lambda c: (not c.selectable, c.expert.name, c.expert.id))


def assign(
    session: Session,
    actor: Actor,
    application: Reviewable,
    expert_ids: Iterable[int],
    *,
    leader_id: int | None = None,
    today: date | None = None,
) -> list[ExpertAssignment]:
    """Assign at least :data:`rules.MIN_EXPERTS` experts; refuse ineligible or conflicted ones with
    the reason per expert (ValidationFailed, field ``expert_ids``). The caller checks the case status."""
    _require_office(actor)
    today = today or today_shanghai()
    ids = list(dict.fromkeys(int(i) for i in expert_ids))
    if len(ids) < rules.MIN_EXPERTS:
        raise ValidationFailed(
            "At least {n} experts are needed.", field="expert_ids", params={"n": rules.MIN_EXPERTS}
        )
    experts = {e.id: e for e in session.scalars(select(Expert).where(Expert.id.in_(ids)))}
    refused: dict[str, list[dict]] = {}
    for eid in ids:
        if eid not in experts:
            refused[str(eid)] = [{"reason": "unknown expert", "article": ""}]
            continue
        c = assess(experts[eid], application, today)
        if c.problems or c.conflicts:
            refused[str(eid)] = [p.model_dump() for p in c.problems + c.conflicts]
    if refused:
        raise ValidationFailed(
            "Some experts cannot review this application.", field="expert_ids", details={"experts": refused}
        )
    if leader_id is not None and leader_id not in ids:
        raise ValidationFailed("The group leader must be one of the assigned experts.", field="leader_id")
    taken = set(
        session.scalars(
            select(ExpertAssignment.expert_id).where(ExpertAssignment.application_id == application.id)
        )
    )
    if taken & set(ids):
        raise Conflict(
            "Expert(s) already assigned to this application.",
            field="expert_ids",
            details={"already": sorted(taken & set(ids))},
        )
    leader = leader_id if leader_id is not None else ids[0]
    out = []
    for eid in ids:
        a = ExpertAssignment(
            application_id=application.id, expert_id=eid, assigned_by=actor.user_id, is_leader=eid == leader
        )
        session.add(a)
        out.append(a)
    session.flush()
    for a in out:
        audit.record(
            session,
            actor,
            "assign_expert",
            "expert_assignment",
            a.id,
            after=audit.snapshot(a, ASSIGNMENT_FIELDS),
        )
    return out


def give_opinion(
    session: Session, actor: Actor, assignment_id: int, opinion: str, reasoning: str, password: str
) -> ExpertAssignment:
    """The assigned expert's signed opinion (CMDE Art.17), once. Others get NotFound (tenancy)."""
    data = parse(OpinionIn, {"opinion": opinion, "reasoning": reasoning})
    a = session.get(ExpertAssignment, assignment_id)
    if a is None or actor.user_id is None or a.expert.user_id != actor.user_id:
        raise NotFound("Assignment {id} not found.", field="assignment_id", params={"id": assignment_id})
    if a.submitted_at is not None:
        raise Conflict("The opinion was already given.", field="assignment_id")
    content = opinion_content(a, data.opinion.value, data.reasoning)
    sig = signatures.sign(
        session,
        actor,
        password=password,
        meaning=signatures.SignatureMeaning.OPINION_GIVEN,
        entity_type="expert_assignment",
        entity_id=a.id,
        content=content,
    )
    with audit.recorded_change(session, actor, "give_opinion", "expert_assignment", a, ASSIGNMENT_FIELDS):
        a.opinion, a.reasoning, a.submitted_at, a.signature_id = (
            data.opinion.value,
            data.reasoning,
            utcnow(),
            sig.id,
        )
    return a


def opinion_content(a: ExpertAssignment, opinion: str | None = None, reasoning: str | None = None) -> dict:
    """What the expert signs (and what ``signatures.verify_signature`` checks later)."""
    return {
        "application_id": a.application_id,
        "assignment_id": a.id,
        "expert_id": a.expert_id,
        "opinion": opinion or a.opinion,
        "reasoning": reasoning or a.reasoning,
    }
