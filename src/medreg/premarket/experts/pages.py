"""HTML pages of the expert pool: an expert's assignments and its signed opinion form, and the pool
itself for the innovation review office (CMDE Notice 2025 No.7, Art.9-18)."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from medreg.core.actor import Actor
from medreg.core.deps import RecordId, get_session, pages_router, require_login, require_roles
from medreg.core.errors import DomainError
from medreg.core.i18n import _
from medreg.core.templating import register_nav, render
from medreg.premarket.experts import queries
from medreg.premarket.innovation import queries as innovation_queries
from medreg.premarket.innovation import service as innovation
from medreg.premarket.innovation.pages_forms import form_error, labels, refused, see_other

router = pages_router(prefix="/experts", tags=["expert pages"])
Db = Depends(get_session)
Expert = Depends(require_roles("expert"))

register_nav(
    "/experts/assignments",
    _("My assignments"),
    roles=["expert"],
    description=_("Applications you review, and your signed opinions"),
    order=22,
)
register_nav(
    "/experts/",
    _("Expert pool"),
    roles=["office", "admin"],  # the pool is the office's only (queries.list_experts)
    description=_("Experts, their fields and declared interests"),
    order=23,
)


async def posted(request: Request) -> FormData:
    return await request.form()


@router.get("/")
def pool(request: Request, session: Session = Db, actor: Actor = Depends(require_login)):
    return render(request, "experts/pool.html", {"experts": queries.list_experts(session, actor)})


@router.get("/assignments")
def my_assignments(request: Request, session: Session = Db, actor: Actor = Expert):
    rows = [
        (a, innovation_queries.get_for(session, actor, a.application_id).application)
        for a in queries.my_assignments(session, actor)
    ]
    return render(request, "experts/assignments.html", {**labels(), "rows": rows})


def _page(
    request: Request, session: Session, actor: Actor, assignment_id: int, error=None, status_code: int = 200
) -> Response:
    a = queries.get_assignment(session, actor, assignment_id)
    detail = innovation_queries.get_for(session, actor, a.application_id)
    return render(
        request,
        "experts/assignment.html",
        {
            **labels(),
            "a": a,
            "detail": detail,
            "app": detail.application,
            "error": error,
            "can_opine": a.submitted_at is None and "give_opinion" in detail.allowed_actions,
        },
        status_code=status_code,
    )


@router.get("/assignments/{assignment_id:int}")
def assignment(request: Request, assignment_id: RecordId, session: Session = Db, actor: Actor = Expert):
    return _page(request, session, actor, assignment_id)


@router.post("/assignments/{assignment_id:int}/opinion")
def give_opinion(
    request: Request,
    assignment_id: RecordId,
    form: FormData = Depends(posted),
    session: Session = Db,
    actor: Actor = Expert,
) -> Response:
    try:
        innovation.give_opinion(
            session,
            actor,
            assignment_id,
            str(form.get("opinion", "")),
            str(form.get("reasoning", "")),
            str(form.get("password", "")),
        )
    except DomainError as err:
        refused(session, err)
        return _page(
            request,
            session,
            actor,
            assignment_id,
            form_error(request, "give_opinion", err, form),
            err.http_status,
        )
    return see_other(f"/experts/assignments/{assignment_id}?done=give_opinion")
