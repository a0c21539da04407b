"""HTML pages of the innovative special review (Jinja2 + htmx): the registrant dashboard and draft
forms, the reviewer queue, the case page with the action forms the caller may use, and the public
notices with their objection form (no login). Thin routes over ``service`` and ``queries``; the
JSON twins are in ``api.py``. Forms post, then redirect (PRG); refused input re-renders the form
with the message next to its field (``pages_forms``).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from medreg.core.actor import Actor
from medreg.core.deps import RecordId, current_actor, get_session, pages_router, require_login, require_roles
from medreg.core.errors import DomainError, NotFound, ValidationFailed
from medreg.core.i18n import _
from medreg.core.templating import register_nav, render
from medreg.premarket.innovation import queries, service
from medreg.premarket.innovation.pages_forms import (
    draft_choices,
    draft_from_form,
    form_error,
    labels,
    refused,
    render_case,
    see_other,
    version_of,
)
from medreg.premarket.innovation.web_common import document_response

router = pages_router(tags=["innovation pages"])
Db = Depends(get_session)
Who = Depends(require_login)

register_nav(
    "/innovation/",
    _("Innovative devices"),
    roles=["registrant", "reviewer", "expert"],
    description=_("Special review of innovative medical devices (NMPA 2018 No.83)"),
    order=20,
)
register_nav(
    "/innovation/queue",
    _("Review queue"),
    roles=["reviewer"],
    description=_("Applications waiting on you, earliest due date first"),
    order=21,
)
register_nav(
    "/public/notices",
    _("Public notices"),
    roles=None,
    description=_("Innovative devices proposed for the special procedure; objections"),
    order=90,
)


async def posted(request: Request) -> FormData:
    return await request.form()


Form = Depends(posted)


def _text(form: FormData, name: str) -> str:
    return str(form.get(name, ""))


def _int(value, name: str, *, default: int | None = None) -> int | None:
    if value in (None, ""):
        return default
    try:
        return int(str(value))
    except ValueError:
        raise ValidationFailed(
            _("'{name}' must be a whole number."), field=name, params={"name": name}
        ) from None


# --- the registrant ------------------------------------------------------------------------------
@router.get("/innovation/")
def dashboard(request: Request, status: str | None = None, session: Session = Db, actor: Actor = Who):
    apps = [queries.get_for(session, actor, a.id) for a in queries.list_for(session, actor, status)]
    tasks = queries.what_is_asked_of(session, actor)
    return render(
        request, "innovation/dashboard.html", {**labels(), "apps": apps, "tasks": tasks, "status": status}
    )


@router.get("/innovation/new")
def new_form(request: Request, actor: Actor = Depends(require_roles("registrant"))):
    return render(request, "innovation/form.html", {**draft_choices(), "values": {}, "app": None})


@router.post("/innovation/new")
def create(
    request: Request,
    form: FormData = Form,
    session: Session = Db,
    actor: Actor = Depends(require_roles("registrant")),
):
    try:
        app = service.create_draft(session, actor, draft_from_form(form))
    except DomainError as err:
        refused(session, err)
        return render(
            request,
            "innovation/form.html",
            {
                **draft_choices(),
                "app": None,
                "values": dict(form),
                "error": form_error(request, "draft", err, form),
            },
            status_code=err.http_status,
        )
    return see_other(f"/innovation/{app.id}?done=create_draft")


@router.get("/innovation/{app_id:int}/edit")
def edit_form(request: Request, app_id: RecordId, session: Session = Db, actor: Actor = Who):
    app = queries.get_for(session, actor, app_id).application
    return render(
        request, "innovation/form.html", {**draft_choices(), "app": app, "values": app.model_dump()}
    )


@router.post("/innovation/{app_id:int}/edit")
def edit(request: Request, app_id: RecordId, form: FormData = Form, session: Session = Db,
         actor: Actor = Who):
    try:
        service.update_draft(session, actor, app_id, draft_from_form(form), expected_version=version_of(form))
    except DomainError as err:
        refused(session, err)
        app = queries.get_for(session, actor, app_id).application
        return render(
            request,
            "innovation/form.html",
            {
                **draft_choices(),
                "app": app,
                "values": dict(form),
                "error": form_error(request, "draft", err, form),
            },
            status_code=err.http_status,
        )
    return see_other(f"/innovation/{app_id}?done=update_draft")


@router.post("/innovation/{app_id:int}/documents")
def upload(request: Request, app_id: RecordId, form: FormData = Form, session: Session = Db,
           actor: Actor = Who):
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed(_("Choose a file to upload."), field="file")
        service.attach_document(
            session,
            actor,
            app_id,
            doc_type=_text(form, "doc_type"),
            title=_text(form, "title"),
            filename=upload.filename,
            data=upload.file,
            declared_mime=upload.content_type,
        )
    except DomainError as err:
        refused(session, err)
        return render_case(
            request,
            session,
            actor,
            app_id,
            form_error(request, "attach_document", err, form),
            err.http_status,
        )
    return see_other(f"/innovation/{app_id}?done=attach_document#documents")


@router.get("/innovation/{app_id:int}/documents/{document_id:int}")
def download(app_id: RecordId, document_id: RecordId, session: Session = Db, actor: Actor = Who):
    return document_response(session, actor, app_id, document_id)


# --- everyone who works on cases -----------------------------------------------------------------
@router.get("/innovation/queue")
def queue(
    request: Request, session: Session = Db, actor: Actor = Depends(require_roles("reviewer", "expert"))
):
    items = queries.reviewer_queue(session, actor)
    name = "innovation/_queue_rows.html" if request.headers.get("hx-request") else "innovation/queue.html"
    return render(request, name, {**labels(), "items": items})


@router.get("/innovation/{app_id:int}")
def case(request: Request, app_id: RecordId, session: Session = Db, actor: Actor = Who):
    return render_case(request, session, actor, app_id)


@router.get("/innovation/{app_id:int}/timeline")
def timeline(request: Request, app_id: RecordId, session: Session = Db, actor: Actor = Who):
    return render(
        request,
        "innovation/_timeline.html",
        {**labels(), "timeline": queries.timeline(session, actor, app_id)},
    )


def _assign(s: Session, a: Actor, i: int, f: FormData):
    ids = [_int(x, "expert_ids") for x in f.getlist("expert_ids")]
    return service.assign_experts(
        s, a, i, ids, leader_id=_int(f.get("leader_id"), "leader_id"), expected_version=version_of(f)
    )


def _conclude(s: Session, a: Actor, i: int, f: FormData):
    return service.conclude(
        s,
        a,
        i,
        _text(f, "outcome"),
        _text(f, "reasons"),
        determined_class=_text(f, "determined_class") or None,
        notice_working_days=_int(f.get("notice_working_days"), "notice_working_days", default=10),
        expected_version=version_of(f),
    )


def _decide(s: Session, a: Actor, i: int, f: FormData):
    if f.get("approve") not in ("true", "false"):
        raise ValidationFailed(_("Choose to approve or to reject."), field="approve")
    return service.decide(
        s,
        a,
        i,
        approve=f.get("approve") == "true",
        reasons=_text(f, "reasons") or None,
        password=_text(f, "password"),
        expected_version=version_of(f),
    )


# action (as in the URL and in data-action) -> the one service call it makes
ACTIONS: dict[str, Callable[[Session, Actor, int, FormData], object]] = {
    "submit": lambda s, a, i, f: service.submit(s, a, i, expected_version=version_of(f)),
    "province_pass": lambda s, a, i, f: service.province_pass(
        s, a, i, _text(f, "opinion"), expected_version=version_of(f)
    ),
    "province_refuse": lambda s, a, i, f: service.province_refuse(
        s, a, i, _text(f, "reasons"), expected_version=version_of(f)
    ),
    "accept": lambda s, a, i, f: service.accept(s, a, i, expected_version=version_of(f)),
    "request_supplement": lambda s, a, i, f: service.request_supplement(
        s, a, i, _text(f, "items"), expected_version=version_of(f)
    ),
    "provide_supplement": lambda s, a, i, f: service.provide_supplement(
        s, a, i, _text(f, "note"), expected_version=version_of(f)
    ),
    "refuse_acceptance": lambda s, a, i, f: service.refuse_acceptance(
        s, a, i, _text(f, "reasons"), expected_version=version_of(f)
    ),
    "assign_experts": _assign,
    "conclude": _conclude,
    "close_notice": lambda s, a, i, f: service.close_notice(s, a, i, expected_version=version_of(f)),
    "decide": _decide,
    "withdraw": lambda s, a, i, f: service.withdraw(
        s, a, i, _text(f, "reason"), expected_version=version_of(f)
    ),
    "terminate": lambda s, a, i, f: service.terminate(
        s, a, i, _text(f, "ground"), _text(f, "reasons"), expected_version=version_of(f)
    ),
}


@router.post("/innovation/{app_id:int}/{action}")
def act(
    request: Request,
    app_id: RecordId,
    action: str,
    form: FormData = Form,
    session: Session = Db,
    actor: Actor = Who,
) -> Response:
    run = ACTIONS.get(action.replace("-", "_"))
    if run is None:
        raise NotFound(_("This page does not exist."), field="action")
    try:
        run(session, actor, app_id, form)
    except DomainError as err:
        refused(session, err)
        return render_case(
            request, session, actor, app_id, form_error(request, action, err, form), err.http_status
        )
    return see_other(f"/innovation/{app_id}?done={action}")


@router.post("/innovation/objections/{objection_id:int}/answer")
def answer(
    request: Request, objection_id: RecordId, form: FormData = Form, session: Session = Db, actor: Actor = Who
) -> Response:
    app_id = _int(form.get("application_id"), "application_id")
    try:
        obj = service.answer_objection(session, actor, objection_id, _text(form, "answer"))
    except DomainError as err:
        refused(session, err)
        if app_id is None:
            raise
        return render_case(
            request,
            session,
            actor,
            app_id,
            form_error(request, f"answer_objection_{objection_id}", err, form),
            err.http_status,
        )
    return see_other(f"/innovation/{obj.notice.application_id}?done=answer_objection#objections")


# --- the public (No.83 Art.10) ---------------------------------------------------------------------
@router.get("/public/notices")
def notices(request: Request, session: Session = Db, actor: Actor = Depends(current_actor)):
    return render(
        request,
        "public/notices.html",
        {"notices": queries.public_notices(session), "filed": request.query_params.get("filed")},
    )


@router.post("/public/notices/{notice_id:int}/objections")
def object_to(
    request: Request,
    notice_id: RecordId,
    form: FormData = Form,
    session: Session = Db,
    actor: Actor = Depends(current_actor),
) -> Response:
    data = {k: _text(form, k).strip() or None for k in ("name", "organisation", "contact", "text")}
    try:
        service.file_objection(session, actor, notice_id, data)
    except DomainError as err:
        refused(session, err)
        return render(
            request,
            "public/notices.html",
            {
                "notices": queries.public_notices(session),
                "error": form_error(request, f"objection_{notice_id}", err, form),
            },
            status_code=err.http_status,
        )
    return see_other(f"/public/notices?filed={notice_id}#notice-{notice_id}")
