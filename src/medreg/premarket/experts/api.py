"""JSON API of the expert pool (``/api/experts``): the pool (office), the candidates for one
application with their conflicts, an expert's own assignments and its signed opinion.

The opinion goes through ``innovation.service.give_opinion``, which also checks that the application
is still under expert review (CMDE Art.17).
"""

from __future__ import annotations

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.deps import RecordId, api_router, get_session, require_login
from medreg.premarket.experts import queries, service
from medreg.premarket.experts.models import Opinion
from medreg.premarket.experts.schemas import (
    AssignmentRead,
    CandidateRead,
    ExpertIn,
    ExpertRead,
    ExpertUpdate,
    InterestIn,
)
from medreg.premarket.innovation import service as innovation

router = api_router(prefix="/api/experts", tags=["experts"])
Db = Depends(get_session)
Who = Depends(require_login)


class OpinionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    opinion: Opinion
    reasoning: str = Field(min_length=10, max_length=20000)
    password: str = Field(min_length=1, max_length=1024)


@router.get("", response_model=list[ExpertRead])
def list_experts(
    active: bool | None = None,
    field: str | None = Query(None, max_length=100),
    limit: int = Query(200, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    session: Session = Db,
    actor: Actor = Who,
):
    return queries.list_experts(
        session, actor, active=active, field_of_expertise=field, limit=limit, offset=offset
    )


@router.post("", response_model=ExpertRead, status_code=201)
def add_expert(body: ExpertIn, session: Session = Db, actor: Actor = Who):
    return ExpertRead.model_validate(service.add_expert(session, actor, body))


@router.patch("/{expert_id}", response_model=ExpertRead)
def update_expert(expert_id: RecordId, body: ExpertUpdate, session: Session = Db, actor: Actor = Who):
    data = body.model_dump(exclude_unset=True)
    return ExpertRead.model_validate(service.update_expert(session, actor, expert_id, data))


@router.post("/{expert_id}/interests", status_code=201)
def declare_interest(expert_id: RecordId, body: InterestIn, session: Session = Db,
                     actor: Actor = Who) -> dict:
    interest = service.declare_interest(session, actor, expert_id, body)
    return {"id": interest.id, "expert_id": interest.expert_id, "kind": interest.kind}


@router.get("/candidates", response_model=list[CandidateRead])
def candidates(application_id: int, session: Session = Db, actor: Actor = Who):
    return service.candidate_experts(session, actor, innovation.load(session, actor, application_id))


@router.get("/assignments", response_model=list[AssignmentRead])
def my_assignments(pending: bool = False, session: Session = Db, actor: Actor = Who):
    return queries.my_assignments(session, actor, pending_only=pending)


@router.get("/assignments/{assignment_id}", response_model=AssignmentRead)
def get_assignment(assignment_id: RecordId, session: Session = Db, actor: Actor = Who):
    return AssignmentRead.model_validate(queries.get_assignment(session, actor, assignment_id))


@router.post("/assignments/{assignment_id}/opinion", response_model=AssignmentRead)
def give_opinion(assignment_id: RecordId, body: OpinionBody, session: Session = Db, actor: Actor = Who):
    a = innovation.give_opinion(
        session, actor, assignment_id, body.opinion.value, body.reasoning, body.password
    )
    return AssignmentRead.model_validate(a)
