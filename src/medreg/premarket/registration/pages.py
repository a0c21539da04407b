"""HTML pages of registration (Jinja2 + htmx): the registrant's applications and the new-application
form (initial, change, renewal), the case page with clocks, timeline and the action forms the caller
may use, certificates with their obligations, the regulator's queue and obligations overview,
consultations (沟通交流), and the public certificate look-up (no login).

Thin routes over ``service`` and ``queries``; the JSON twins are in ``api.py``. Forms post, then
redirect (PRG); refused input re-renders the page with the message next to its field
(``pages_forms``).
"""

from __future__ import annotations

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from medreg.core import files
from medreg.core.actor import Actor
from medreg.core.clock import today_shanghai
from medreg.core.deps import RecordId, current_actor, get_session, pages_router, require_login, require_roles
from medreg.core.errors import DomainError, NotFound, ValidationFailed
from medreg.core.i18n import _
from medreg.core.templating import register_nav, render
from medreg.premarket.registration import queries, service, service_certificates
from medreg.premarket.registration.pages_forms import (
    ACTIONS,
    CONSULTATION_ACTIONS,
    application_choices,
    application_from_form,
    consultation_from_form,
    form_error,
    refused,
    render_case,
    render_certificate,
    render_consultation,
    render_consultations,
    see_other,
    text,
    timeline_of,
    version_of,
)
from medreg.premarket.registration.web_common import labels

router = pages_router(tags=["registration pages"])
Db = Depends(get_session)
Who = Depends(require_login)
Registrant = Depends(require_roles("registrant"))
Regulator = Depends(require_roles("reviewer", "admin"))
Search = Query(default=None, max_length=200, pattern=r"^[^\x00]*$")

# The administrator sees every registration case once submitted, the obligations and the consultations
# (docs/security-model.md) and opens these pages (``Regulator`` admits it), so its menu links them.
register_nav("/registration/", _("Registration"), roles=["registrant", "reviewer", "admin"],
             description=_("Registration, change registration and renewal (SAMR Order 47)"), order=30)
register_nav("/registration/queue", _("Registration queue"), roles=["reviewer", "admin"],
             description=_("Registration cases waiting on the regulator, earliest due date first"), order=31)
register_nav("/registration/obligations", _("Post-approval obligations"),
             roles=["reviewer", "registrant", "admin"],
             description=_("Studies required by conditional approvals, with their deadlines"), order=32)
register_nav("/registration/consultations", _("Consultations"), roles=["registrant", "reviewer", "admin"],
             description=_("Consultations on innovative devices with the review centre"), order=33)
register_nav("/public/certificates", _("Registration certificates"), roles=None,
             description=_("Look up approved medical device registration certificates"), order=91)


async def posted(request: Request) -> FormData:
    return await request.form()


Form = Depends(posted)


# ---- applications ----------------------------------------------------------------------------------
@router.get("/registration/")
def applications(request: Request, status: str | None = Query(default=None, max_length=32),
                 q: str | None = Search, session: Session = Db, actor: Actor = Who):
    items = queries.list_applications(session, actor, status=status or None, q=q or None, limit=200)
    return render(request, "registration/list.html", {**labels(), "items": items, "status": status,
                                                      "q": q or ""})


def _new_form(request, session, actor, values, error=None, status_code=200):
    return render(request, "registration/new.html", {**labels(), **application_choices(session, actor),
                  "values": values, "error": error}, status_code=status_code)


@router.get("/registration/new")
def new_application(request: Request, session: Session = Db, actor: Actor = Registrant):
    values = {k: v for k, v in request.query_params.items() if k in ("kind", "registration_id")}
    return _new_form(request, session, actor, values)


@router.post("/registration/new")
def create_application(request: Request, form: FormData = Form, session: Session = Db,
                       actor: Actor = Registrant):
    try:
        app = service.create_application(session, actor, application_from_form(form))
    except DomainError as err:
        refused(session, err)
        return _new_form(request, session, actor, dict(form), form_error(request, "application", err, form),
                         err.http_status)
    return see_other(f"/registration/{app.id}?done=create")


@router.get("/registration/{app_id:int}")
def case(request: Request, app_id: RecordId, session: Session = Db, actor: Actor = Who):
    return render_case(request, session, actor, app_id)


@router.get("/registration/{app_id:int}/timeline")
def timeline(request: Request, app_id: RecordId, session: Session = Db, actor: Actor = Who):
    return render(request, "registration/_timeline.html",
                  {**labels(), "timeline": timeline_of(session, actor, app_id)})


@router.post("/registration/{app_id:int}/act/{action}")
def act(request: Request, app_id: RecordId, action: str, form: FormData = Form, session: Session = Db,
        actor: Actor = Who):
    call = ACTIONS.get(action)
    if call is None:
        raise NotFound(_("This page does not exist."), field="action")
    try:
        result = call(session, actor, app_id, form, version_of(form))
    except DomainError as err:
        refused(session, err)
        return render_case(request, session, actor, app_id, form_error(request, action, err, form),
                           err.http_status)
    if action == "issue_certificate":
        return see_other(f"/registration/certificates/{result.id}?done=issue_certificate")
    return see_other(f"/registration/{app_id}?done={action}")


@router.get("/registration/queue")
def queue(request: Request, session: Session = Db, actor: Actor = Regulator):
    return render(request, "registration/queue.html",
                  {**labels(), "items": queries.reviewer_queue(session, actor, today_shanghai())})


@router.get("/registration/obligations")
def obligations(request: Request, status: str | None = Query(default=None, max_length=16),
                session: Session = Db,
                actor: Actor = Depends(require_roles("reviewer", "registrant", "admin"))):
    items = queries.list_obligations(session, actor, status=status or None, limit=500)
    return render(request, "registration/obligations.html",
                  {**labels(), "items": items, "status": status, "today": today_shanghai()})


# ---- certificates ----------------------------------------------------------------------------------
@router.get("/registration/certificates/{certificate_id:int}")
def certificate(request: Request, certificate_id: RecordId, session: Session = Db,
                actor: Actor = Depends(current_actor)):
    return render_certificate(request, session, actor, certificate_id)


@router.post("/registration/obligations/{obligation_id:int}/fulfil")
def fulfil(request: Request, obligation_id: RecordId, form: FormData = Form, session: Session = Db,
           actor: Actor = Registrant):
    certificate_id = int(text(form, "certificate_id")) if text(form, "certificate_id").isdigit() else 0
    upload = form.get("evidence")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed(_("Choose the evidence file to upload."), field="evidence")
        stored = files.store(session, actor, filename=upload.filename, data=upload.file,
                             declared_mime=upload.content_type)
        service.fulfil_obligation(session, actor, obligation_id, evidence_file_id=stored.id,
                                  note=text(form, "note") or None, expected_version=version_of(form))
    except DomainError as err:
        refused(session, err)
        return render_certificate(request, session, actor, certificate_id,
                                  form_error(request, f"fulfil-{obligation_id}", err, form), err.http_status)
    return see_other(f"/registration/certificates/{certificate_id}?done=fulfil#obligations")


@router.post("/registration/certificates/{certificate_id:int}/cancel")
def cancel(request: Request, certificate_id: RecordId, form: FormData = Form, session: Session = Db,
           actor: Actor = Regulator):
    try:
        service_certificates.cancel_certificate(session, actor, certificate_id, text(form, "reason"),
                                                expected_version=version_of(form))
    except DomainError as err:
        refused(session, err)
        return render_certificate(request, session, actor, certificate_id,
                                  form_error(request, "cancel", err, form), err.http_status)
    return see_other(f"/registration/certificates/{certificate_id}?done=cancel")


@router.get("/public/certificates")
def public_certificates(request: Request, q: str | None = Search, session: Session = Db,
                        actor: Actor = Depends(current_actor)):
    items = queries.list_certificates(session, actor, q=q, limit=100) if q and q.strip() else []
    return render(request, "registration/public_certificates.html",
                  {**labels(), "items": items, "q": q or "", "searched": bool(q and q.strip())})


# ---- consultations ---------------------------------------------------------------------------------
@router.get("/registration/consultations")
def consultations(request: Request, session: Session = Db,
                  actor: Actor = Depends(require_roles("registrant", "reviewer", "admin"))):
    return render_consultations(request, session, actor)


@router.post("/registration/consultations")
def request_consultation(request: Request, form: FormData = Form, session: Session = Db,
                         actor: Actor = Registrant):
    try:
        c = service.request_consultation(session, actor, consultation_from_form(form))
    except DomainError as err:
        refused(session, err)
        return render_consultations(request, session, actor, form_error(request, "consultation", err, form),
                                    err.http_status)
    return see_other(f"/registration/consultations/{c.id}?done=request")


@router.get("/registration/consultations/{consultation_id:int}")
def consultation(request: Request, consultation_id: RecordId, session: Session = Db, actor: Actor = Who):
    return render_consultation(request, session, actor, consultation_id)


@router.post("/registration/consultations/{consultation_id:int}/act/{action}")
def consultation_act(request: Request, consultation_id: RecordId, action: str, form: FormData = Form,
                     session: Session = Db, actor: Actor = Who) -> Response:
    call = CONSULTATION_ACTIONS.get(action)
    if call is None:
        raise NotFound(_("This page does not exist."), field="action")
    try:
        call(session, actor, consultation_id, form, version_of(form))
    except DomainError as err:
        refused(session, err)
        return render_consultation(request, session, actor, consultation_id,
                                   form_error(request, action, err, form), err.http_status)
    return see_other(f"/registration/consultations/{consultation_id}?done={action}")
