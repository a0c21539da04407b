"""Read side of the innovative special review, with tenancy (``rules.may_see`` in SQL).

A registrant sees its organisation's applications; a provincial reviewer the submitted ones of its
province; the office every submitted one; an expert those assigned to it; the public only the
notices (No.83 Art.10: applicant and product name on the CMDE website).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from medreg.core import audit, clocks
from medreg.core.actor import Actor
from medreg.core.clock import today_shanghai
from medreg.core.errors import NotFound
from medreg.premarket.experts import queries as expert_queries
from medreg.premarket.innovation import rules
from medreg.premarket.innovation.models import InnovationApplication, Objection, PublicNotice
from medreg.premarket.innovation.schemas import (
    ApplicationDetail,
    ApplicationRead,
    ClockRead,
    DocumentRead,
    NoticeRead,
    ObjectionRead,
    QueueItem,
    Task,
    Timeline,
    TimelineEntry,
)
from medreg.premarket.innovation.states import TABLE, Status

SUBJECT = "innovation_application"
OFFICE_QUEUE = (
    Status.SUBMITTED,
    Status.ACCEPTED,
    Status.EXPERT_REVIEW,
    Status.PUBLIC_NOTICE,
    Status.DECISION_PENDING,
    Status.REJECTION_PENDING,
)


def _visibility(session: Session, actor: Actor):
    roles, A = actor.workflow_roles, InnovationApplication
    conds = []
    if "registrant" in roles and actor.organisation_id is not None:
        conds.append(A.registrant_org_id == actor.organisation_id)
    if "office" in roles:
        conds.append(A.status != Status.DRAFT)
    if "province" in roles and actor.province:
        conds.append(and_(A.province == actor.province, A.status != Status.DRAFT))
    if "expert" in roles:
        ids = expert_queries.assigned_application_ids(session, actor)
        if ids:
            conds.append(A.id.in_(ids))
    return or_(*conds) if conds else false()


def list_for(
    session: Session,
    actor: Actor,
    status: str | None = None,
    *,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[ApplicationRead]:
    A = InnovationApplication
    stmt = select(A).where(_visibility(session, actor)).order_by(A.id.desc())
    if status:
        stmt = stmt.where(A.status == status)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(
            or_(A.product_name.ilike(like), A.product_name_en.ilike(like), A.acceptance_no.ilike(like))
        )
    stmt = stmt.limit(max(1, min(limit, 500))).offset(max(0, offset))
    return [ApplicationRead.model_validate(a) for a in session.scalars(stmt)]


def _get(session: Session, actor: Actor, app_id: int) -> InnovationApplication:
    app = session.scalar(
        select(InnovationApplication).where(InnovationApplication.id == app_id, _visibility(session, actor))
    )
    if app is None:
        raise NotFound("Application {id} not found.", field="application_id", params={"id": app_id})
    return app


def _clock_reads(session: Session, app_id: int, today: date) -> list[ClockRead]:
    out = []
    for c in clocks.clocks_for(session, SUBJECT, app_id):
        st = clocks.status(c, today)
        out.append(
            ClockRead(
                name=c.name,
                legal_basis=c.legal_basis,
                limit=c.limit_value,
                unit=c.limit_unit,
                started_on=c.started_on,
                due_on=st.due_on,
                used=st.used,
                left=st.left,
                paused=st.paused,
                overdue=st.overdue,
                stopped_on=c.stopped_on,
            )
        )
    return out


def _notice_read(n: PublicNotice, today: date) -> NoticeRead:
    app = n.application
    return NoticeRead(
        id=n.id,
        application_id=app.id,
        starts_on=n.starts_on,
        ends_on=n.ends_on,
        closed_on=n.closed_on,
        product_name=app.product_name,
        applicant=app.registrant.name,
        acceptance_no=app.acceptance_no,
        objections=len(n.objections),
        open=n.closed_on is None and rules.notice_is_open(n.starts_on, n.ends_on, today),
    )


def get_for(session: Session, actor: Actor, app_id: int, *, today: date | None = None) -> ApplicationDetail:
    """One application as the actor may see it (NotFound if not visible)."""
    today = today or today_shanghai()
    app = _get(session, actor, app_id)
    roles = actor.workflow_roles
    office = "office" in roles
    assignments = []
    for a in expert_queries.assignments_for(session, app.id):
        if office or (actor.user_id is not None and a.expert.user_id == actor.user_id):
            assignments.append(
                {
                    "id": a.id,
                    "expert_id": a.expert_id,
                    "expert": a.expert.name,
                    "is_leader": a.is_leader,
                    "opinion": a.opinion,
                    "reasoning": a.reasoning,
                    "submitted_at": a.submitted_at,
                    "signature_id": a.signature_id,
                }
            )
    return ApplicationDetail(
        application=ApplicationRead.model_validate(app),
        applicant=app.registrant.name,
        documents=[DocumentRead.model_validate(d) for d in app.documents],
        notices=[_notice_read(n, today) for n in app.notices],
        objections=objections_for(session, actor, app.id) if office or "registrant" in roles else [],
        clocks=_clock_reads(session, app.id, today),
        allowed_actions=TABLE.allowed_actions(app.status, roles),
        assignments=assignments,
    )


def objections_for(session: Session, actor: Actor, app_id: int) -> list[ObjectionRead]:
    """Objections on the application's notices; the objector's contact is shown to the office only."""
    app = _get(session, actor, app_id)
    rows = session.scalars(
        select(Objection)
        .join(PublicNotice)
        .where(PublicNotice.application_id == app.id)
        .order_by(Objection.id)
    )
    office = "office" in actor.workflow_roles
    return [
        ObjectionRead.model_validate(o).model_copy(update={"contact": o.contact if office else None})
        for o in rows
    ]


def reviewer_queue(session: Session, actor: Actor, today: date | None = None) -> list[QueueItem]:
    """What waits on this reviewer or expert, earliest due date first, overdue flagged."""
    today = today or today_shanghai()
    roles, A = actor.workflow_roles, InnovationApplication
    wanted: list = []
    if "office" in roles:
        wanted.append(A.status.in_(OFFICE_QUEUE))
    if "province" in roles and actor.province:
        wanted.append(and_(A.status == Status.PROVINCE_REVIEW, A.province == actor.province))
    pending = (
        {a.application_id: a.id for a in expert_queries.my_assignments(session, actor, pending_only=True)}
        if "expert" in roles
        else {}
    )
    if pending:
        wanted.append(and_(A.status == Status.EXPERT_REVIEW, A.id.in_(pending)))
    if not wanted:
        return []
    items = []
    for app in session.scalars(select(A).where(or_(*wanted))):
        running = [c for c in _clock_reads(session, app.id, today) if c.stopped_on is None]
        c = min(running, key=lambda r: r.due_on) if running else None
        items.append(
            QueueItem(
                application_id=app.id,
                acceptance_no=app.acceptance_no,
                product_name=app.product_name,
                applicant=app.registrant.name,
                status=app.status,
                clock=c.name if c else None,
                legal_basis=c.legal_basis if c else None,
                due_on=c.due_on if c else None,
                left=c.left if c else None,
                paused=c.paused if c else False,
                overdue=c.overdue if c else False,
                assignment_id=pending.get(app.id),
            )
        )
    return sorted(items, key=lambda i: (i.due_on is None, i.due_on or date.max, i.application_id))


def public_notices(
    session: Session, today: date | None = None, *, current_only: bool = False, limit: int = 100
) -> list[NoticeRead]:
    """Current and past notices (no login): applicant and product name (No.83 Art.10)."""
    today = today or today_shanghai()
    stmt = select(PublicNotice).order_by(PublicNotice.starts_on.desc(), PublicNotice.id.desc()).limit(limit)
    if current_only:
        stmt = stmt.where(
            PublicNotice.closed_on.is_(None), PublicNotice.starts_on <= today, PublicNotice.ends_on >= today
        )
    return [_notice_read(n, today) for n in session.scalars(stmt)]


def timeline(session: Session, actor: Actor, app_id: int, *, today: date | None = None) -> Timeline:
    """The audit history of the application and its statutory clocks."""
    app = _get(session, actor, app_id)
    events = [
        TimelineEntry(
            at=e.at,
            actor=e.actor_username,
            action=e.action,
            entity_type=e.entity_type,
            entity_id=e.entity_id,
            note=e.note,
            before=e.before,
            after=e.after,
        )
        for e in audit.history(session, SUBJECT, app.id)
    ]
    return Timeline(events=events, clocks=_clock_reads(session, app.id, today or today_shanghai()))


def what_is_asked_of(session: Session, actor: Actor, today: date | None = None) -> list[Task]:
    """The registrant dashboard: drafts to complete or submit, supplements to provide."""
    today = today or today_shanghai()
    if "registrant" not in actor.workflow_roles or actor.organisation_id is None:
        return []
    A = InnovationApplication
    stmt = (
        select(A)
        .where(
            A.registrant_org_id == actor.organisation_id,
            A.status.in_((Status.DRAFT, Status.SUPPLEMENT_REQUESTED)),
        )
        .order_by(A.id)
    )
    tasks = []
    for app in session.scalars(stmt):
        if app.status == Status.DRAFT:
            result = rules.check_eligibility(
                rules.input_from(
                    app,
                    is_domestic=app.registrant.is_domestic,
                    document_types=(d.doc_type for d in app.documents),
                ),
                today,
            )
            tasks.append(
                Task(
                    application_id=app.id,
                    product_name=app.product_name,
                    status=app.status,
                    action="submit",
                    message="Ready to submit."
                    if result.eligible
                    else "Complete the application before submitting.",
                    article="No.83 Art.2, Art.4, Art.5",
                    details=result.as_dict(),
                )
            )
        else:
            tasks.append(
                Task(
                    application_id=app.id,
                    product_name=app.product_name,
                    status=app.status,
                    action="provide_supplement",
                    message=app.supplement_request or "",
                    article="No.83 Art.6; SAMR Order 47 Art.53 by analogy",
                )
            )
    return tasks
