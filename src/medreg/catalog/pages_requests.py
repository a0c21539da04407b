"""HTML pages of 分类界定 requests (zh_CN/en): the registrant files a request from its classification
result and follows it; the reviewer's queue (longest waiting first, in working days) and the case page
with the engine's opinion and trace, the signed decision form and publication; the public list of
published determinations (no login). Thin: the same service calls as the API.

Post/Redirect/Get: an action that succeeds redirects (303); one the domain refuses rolls the request's
transaction back and re-renders the case page with the translated message and the error's status.
"""

from __future__ import annotations

import json

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from medreg.catalog import service_requests as svc
from medreg.catalog.pages import LABELS
from medreg.catalog.schemas import DeviceDescription
from medreg.catalog.states import TABLE, RequestStatus
from medreg.core.actor import Actor
from medreg.core.clock import today_shanghai
from medreg.core.deps import RecordId, current_actor, get_session, pages_router, require_login
from medreg.core.errors import DomainError, NotFound, ValidationFailed
from medreg.core.i18n import _, translate_error
from medreg.core.templating import register_nav, render, request_locale

router = pages_router(prefix="/catalog", tags=["catalog pages"])
Db = Depends(get_session)

register_nav("/catalog/requests", _("Classification determinations"),
             roles=("registrant", "reviewer", "admin"), order=43, description=_(
                 "分类界定 requests: file one from a classification result, review, decide, publish"))
register_nav("/catalog/determinations", _("Published determinations"), description=_(
    "The classification determinations published so far"), order=44)

STATUS_LABELS = {
    RequestStatus.SUBMITTED: _("Submitted, awaiting review"), RequestStatus.DECIDED: _("Decided (signed)"),
    RequestStatus.PUBLISHED: _("Published"), RequestStatus.WITHDRAWN: _("Withdrawn"),
}
CLASS_LABELS = {"I": _("Class I"), "II": _("Class II"), "III": _("Class III"),
                "not_medical_device": _("not a medical device")}


def _ctx(**extra) -> dict:
    return {"labels": LABELS, "status_labels": STATUS_LABELS, "class_labels": CLASS_LABELS, **extra}


def _refused(request: Request, session: Session, err: DomainError) -> dict:
    session.rollback()
    if isinstance(err, NotFound):
        raise err
    return {"field": err.field, "message": translate_error(err, request_locale(request))}


@router.post("/requests")
async def file_request(request: Request, session: Session = Db,
                       actor: Actor = Depends(require_login)) -> Response:
    """The registrant files a 分类界定 request with the facts it just classified."""
    form = await request.form()
    try:
        facts = json.loads(str(form.get("facts") or "{}"))
        if not isinstance(facts, dict):
            raise ValueError
        facts = DeviceDescription.model_validate(facts).model_dump()
        req = svc.submit(session, actor, facts, today_shanghai())
    except (ValueError, ValidationError) as exc:
        field = "facts"
        if isinstance(exc, ValidationError) and exc.errors():
            field = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "facts"
        err = {"field": field, "message": _("The device description is not valid; classify it again.")}
        return render(request, "catalog/requests.html", _ctx(rows=[], error=err, queue=False), 422)
    except DomainError as exc:
        err = _refused(request, session, exc)
        return render(request, "catalog/requests.html", _ctx(rows=[], error=err, queue=False),
                      exc.http_status)
    return RedirectResponse(f"/catalog/requests/{req.id}", status_code=303)


@router.get("/requests")
def request_list(request: Request, session: Session = Db, actor: Actor = Depends(require_login)):
    """Own requests (registrant); the reviewer's queue, longest waiting first (working days)."""
    today = today_shanghai()
    rows = [svc.view(session, r, today) for r in svc.list_for(session, actor)]
    queue = actor.has("reviewer") or actor.has("admin")
    if queue:
        order = {RequestStatus.SUBMITTED: 0, RequestStatus.DECIDED: 1}
        rows.sort(key=lambda r: (order.get(r["status"], 2), -r["working_days_elapsed"], r["id"]))
    return render(request, "catalog/requests.html", _ctx(rows=rows, error=None, queue=queue))


@router.get("/determinations")
def published(request: Request, session: Session = Db, actor: Actor = Depends(current_actor)):
    """The published determinations, for everyone (no login)."""
    today = today_shanghai()
    rows = [svc.view(session, r, today) for r in svc.list_for(session, Actor.public())]
    return render(request, "catalog/determinations.html", _ctx(rows=rows))


def _case(request: Request, session: Session, actor: Actor, request_id: int, error: dict | None = None,
          status_code: int = 200) -> Response:
    req = svc.get_for(session, actor, request_id)
    allowed = set(TABLE.allowed_actions(req.status, actor.roles))
    if req.organisation_id != actor.organisation_id:
        allowed.discard("withdraw")
    return render(request, "catalog/request.html", _ctx(
        r=svc.view(session, req, today_shanghai()), result=req.engine_opinion, allowed=allowed, error=error),
        status_code=status_code)


@router.get("/requests/{request_id}")
def request_case(request: Request, request_id: RecordId, session: Session = Db,
                 actor: Actor = Depends(current_actor)):
    """The case: the request, the engine's opinion with its trace, the decision, and what one may do."""
    return _case(request, session, actor, request_id)


def _version(form) -> int:
    try:
        return int(str(form.get("expected_version", "")))
    except ValueError:
        raise ValidationFailed(_("Reload the page: the version of the record is missing."),
                               field="expected_version") from None


@router.post("/requests/{request_id}/{action}")
async def request_action(request: Request, request_id: RecordId, action: str, session: Session = Db,
                         actor: Actor = Depends(require_login)) -> Response:
    """decide (signed, reviewer), publish (reviewer, admin), withdraw (the registrant who asked)."""
    form = await request.form()
    today = today_shanghai()
    try:
        version = _version(form)
        if action == "decide":
            svc.decide(session, actor, request_id, decided_class=str(form.get("decided_class") or ""),
                       reason=str(form.get("reason") or ""), password=str(form.get("password") or ""),
                       expected_version=version, today=today)
        else:
            svc.act(session, actor, request_id, action, version, today)
    except DomainError as exc:
        err = _refused(request, session, exc)
        return _case(request, session, actor, request_id, error=err, status_code=exc.http_status)
    return RedirectResponse(f"/catalog/requests/{request_id}", status_code=303)
