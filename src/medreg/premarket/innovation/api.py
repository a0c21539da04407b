"""JSON API of the innovative special review (``/api/innovation``): the twin of every page.

Thin routes: parse (Pydantic bodies; bad input is a 422 naming the ``field``), one service or query
call, a schema back. Actions that move a case take the ``expected_version`` the caller saw (409 if
someone changed the case meanwhile); signatures re-enter the ``password``. Errors are mapped once by
``medreg.web.errors``. The public notices and objections need no login: a browser or script without
a bearer token first GETs ``/api/innovation/notices`` (which returns the session's CSRF token in the
``X-CSRF-Token`` header) and sends it back on the POST.
"""

from __future__ import annotations

from fastapi import Depends, File, Form, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.deps import (
    CSRF_HEADER,
    RecordId,
    api_router,
    csrf_token,
    current_actor,
    get_session,
    require_login,
)
from medreg.premarket.innovation import queries, service
from medreg.premarket.innovation.models import TerminationGround
from medreg.premarket.innovation.rules import DeviceClass, DocType
from medreg.premarket.innovation.schemas import (
    ApplicationDetail,
    ApplicationRead,
    DraftIn,
    DraftUpdate,
    NoticeRead,
    ObjectionIn,
    ObjectionRead,
    QueueItem,
    Task,
    Timeline,
)
from medreg.premarket.innovation.web_common import document_response

router = api_router(prefix="/api/innovation", tags=["innovation"])
Text = Field(min_length=3, max_length=10000)


class Versioned(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    expected_version: int = Field(ge=1, description="The version of the application the caller saw.")


class DraftPatch(DraftUpdate):
    expected_version: int = Field(ge=1)


class OpinionBody(Versioned):
    opinion: str = Text


class ReasonsBody(Versioned):
    reasons: str = Text


class ItemsBody(Versioned):
    items: str = Text


class NoteBody(Versioned):
    note: str = Field(min_length=3, max_length=2000)


class ReasonBody(Versioned):
    reason: str = Text


class AssignBody(Versioned):
    expert_ids: list[int] = Field(min_length=1, max_length=50)
    leader_id: int | None = None


class ConcludeBody(Versioned):
    outcome: str = Field(pattern="^(propose|reject)$")
    reasons: str = Text
    determined_class: DeviceClass | None = None
    notice_working_days: int = Field(default=10, ge=10, le=250)  # No.83 Art.10: at least 10


class DecideBody(Versioned):
    approve: bool
    reasons: str | None = Field(default=None, max_length=10000)
    password: str = Field(min_length=1, max_length=1024)


class TerminateBody(Versioned):
    ground: TerminationGround
    reasons: str = Text


class AnswerBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    answer: str = Text


def _read(app) -> ApplicationRead:
    return ApplicationRead.model_validate(app)


Db = Depends(get_session)
Who = Depends(require_login)


# --- read side ---------------------------------------------------------------------------------
@router.get("/applications", response_model=list[ApplicationRead])
def list_applications(
    status: str | None = None,
    q: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    session: Session = Db,
    actor: Actor = Who,
):
    return queries.list_for(session, actor, status, q=q, limit=limit, offset=offset)


@router.get("/applications/{app_id}", response_model=ApplicationDetail)
def get_application(app_id: RecordId, session: Session = Db, actor: Actor = Who):
    return queries.get_for(session, actor, app_id)


@router.get("/applications/{app_id}/eligibility")
def get_eligibility(app_id: RecordId, session: Session = Db, actor: Actor = Who) -> dict:
    return service.eligibility(session, actor, app_id).as_dict()


@router.get("/applications/{app_id}/timeline", response_model=Timeline)
def get_timeline(app_id: RecordId, session: Session = Db, actor: Actor = Who):
    return queries.timeline(session, actor, app_id)


@router.get("/applications/{app_id}/objections", response_model=list[ObjectionRead])
def get_objections(app_id: RecordId, session: Session = Db, actor: Actor = Who):
    return queries.objections_for(session, actor, app_id)


@router.get("/applications/{app_id}/documents/{document_id}")
def download_document(app_id: RecordId, document_id: RecordId, session: Session = Db, actor: Actor = Who):
    return document_response(session, actor, app_id, document_id)


@router.get("/queue", response_model=list[QueueItem])
def get_queue(session: Session = Db, actor: Actor = Who):
    return queries.reviewer_queue(session, actor)


@router.get("/tasks", response_model=list[Task])
def get_tasks(session: Session = Db, actor: Actor = Who):
    return queries.what_is_asked_of(session, actor)


@router.get("/notices", response_model=list[NoticeRead])
def get_notices(
    request: Request,
    response: Response,
    current: bool = False,
    session: Session = Db,
    actor: Actor = Depends(current_actor),
):
    response.headers[CSRF_HEADER] = csrf_token(request)
    return queries.public_notices(session, current_only=current)


# --- the registrant ----------------------------------------------------------------------------
@router.post("/applications", response_model=ApplicationRead, status_code=201)
def create_application(body: DraftIn, session: Session = Db, actor: Actor = Who):
    return _read(service.create_draft(session, actor, body))


@router.patch("/applications/{app_id}", response_model=ApplicationRead)
def update_application(app_id: RecordId, body: DraftPatch, session: Session = Db, actor: Actor = Who):
    data = body.model_dump(exclude_unset=True, exclude={"expected_version"})
    return _read(service.update_draft(session, actor, app_id, data, expected_version=body.expected_version))


@router.post("/applications/{app_id}/documents", status_code=201)
def attach_document(
    app_id: RecordId,
    doc_type: DocType = Form(...),
    title: str = Form(..., max_length=200),
    file: UploadFile = File(...),
    session: Session = Db,
    actor: Actor = Who,
) -> dict:
    doc = service.attach_document(
        session,
        actor,
        app_id,
        doc_type=doc_type.value,
        title=title,
        filename=file.filename or "",
        data=file.file,
        declared_mime=file.content_type,
    )
    return {"id": doc.id, "doc_type": doc.doc_type, "title": doc.title, "stored_file_id": doc.stored_file_id}


@router.post("/applications/{app_id}/submit", response_model=ApplicationRead)
def submit(app_id: RecordId, body: Versioned, session: Session = Db, actor: Actor = Who):
    return _read(service.submit(session, actor, app_id, expected_version=body.expected_version))


@router.post("/applications/{app_id}/provide-supplement", response_model=ApplicationRead)
def provide_supplement(app_id: RecordId, body: NoteBody, session: Session = Db, actor: Actor = Who):
    return _read(
        service.provide_supplement(session, actor, app_id, body.note, expected_version=body.expected_version)
    )


@router.post("/applications/{app_id}/withdraw", response_model=ApplicationRead)
def withdraw(app_id: RecordId, body: ReasonBody, session: Session = Db, actor: Actor = Who):
    return _read(
        service.withdraw(session, actor, app_id, body.reason, expected_version=body.expected_version)
    )


# --- province and office -------------------------------------------------------------------------
@router.post("/applications/{app_id}/province-pass", response_model=ApplicationRead)
def province_pass(app_id: RecordId, body: OpinionBody, session: Session = Db, actor: Actor = Who):
    return _read(
        service.province_pass(session, actor, app_id, body.opinion, expected_version=body.expected_version)
    )


@router.post("/applications/{app_id}/province-refuse", response_model=ApplicationRead)
def province_refuse(app_id: RecordId, body: ReasonsBody, session: Session = Db, actor: Actor = Who):
    return _read(
        service.province_refuse(session, actor, app_id, body.reasons, expected_version=body.expected_version)
    )


@router.post("/applications/{app_id}/accept", response_model=ApplicationRead)
def accept(app_id: RecordId, body: Versioned, session: Session = Db, actor: Actor = Who):
    return _read(service.accept(session, actor, app_id, expected_version=body.expected_version))


@router.post("/applications/{app_id}/request-supplement", response_model=ApplicationRead)
def request_supplement(app_id: RecordId, body: ItemsBody, session: Session = Db, actor: Actor = Who):
    return _read(
        service.request_supplement(session, actor, app_id, body.items, expected_version=body.expected_version)
    )


@router.post("/applications/{app_id}/refuse-acceptance", response_model=ApplicationRead)
def refuse_acceptance(app_id: RecordId, body: ReasonsBody, session: Session = Db, actor: Actor = Who):
    return _read(
        service.refuse_acceptance(
            session, actor, app_id, body.reasons, expected_version=body.expected_version
        )
    )


@router.post("/applications/{app_id}/assign-experts", status_code=201)
def assign_experts(app_id: RecordId, body: AssignBody, session: Session = Db, actor: Actor = Who) -> dict:
    rows = service.assign_experts(
        session,
        actor,
        app_id,
        body.expert_ids,
        leader_id=body.leader_id,
        expected_version=body.expected_version,
    )
    return {"assignments": [{"id": a.id, "expert_id": a.expert_id, "is_leader": a.is_leader} for a in rows]}


@router.post("/applications/{app_id}/conclude", response_model=ApplicationRead)
def conclude(app_id: RecordId, body: ConcludeBody, session: Session = Db, actor: Actor = Who):
    return _read(
        service.conclude(
            session,
            actor,
            app_id,
            body.outcome,
            body.reasons,
            determined_class=body.determined_class,
            notice_working_days=body.notice_working_days,
            expected_version=body.expected_version,
        )
    )


@router.post("/applications/{app_id}/close-notice", response_model=ApplicationRead)
def close_notice(app_id: RecordId, body: Versioned, session: Session = Db, actor: Actor = Who):
    return _read(service.close_notice(session, actor, app_id, expected_version=body.expected_version))


@router.post("/applications/{app_id}/decide", response_model=ApplicationRead)
def decide(app_id: RecordId, body: DecideBody, session: Session = Db, actor: Actor = Who):
    return _read(
        service.decide(
            session,
            actor,
            app_id,
            approve=body.approve,
            reasons=body.reasons,
            password=body.password,
            expected_version=body.expected_version,
        )
    )


@router.post("/applications/{app_id}/terminate", response_model=ApplicationRead)
def terminate(app_id: RecordId, body: TerminateBody, session: Session = Db, actor: Actor = Who):
    return _read(
        service.terminate(
            session, actor, app_id, body.ground.value, body.reasons, expected_version=body.expected_version
        )
    )


@router.post("/objections/{objection_id}/answer", response_model=ObjectionRead)
def answer_objection(objection_id: RecordId, body: AnswerBody, session: Session = Db, actor: Actor = Who):
    return ObjectionRead.model_validate(service.answer_objection(session, actor, objection_id, body.answer))


# --- anyone: objections during a notice (No.83 Art.10, CMDE Art.24-25) ---------------------------
@router.post("/notices/{notice_id}/objections", status_code=201)
def file_objection(
    notice_id: RecordId, body: ObjectionIn, session: Session = Db, actor: Actor = Depends(current_actor)
) -> dict:
    obj = service.file_objection(session, actor, notice_id, body)
    return {"id": obj.id, "notice_id": obj.notice_id, "submitted_at": obj.submitted_at}
