"""JSON API of registration (SAMR Order 47, 2021): applications, clocks, timeline, the regulator's
queue, certificates (public, Order 47 Art.12), post-approval obligations, consultations (沟通交流).

Thin routes: parse, one service or query call, return a schema. Every action is a POST whose body
carries ``expected_version`` (the version the caller saw: a stale one is a 409); decisions need the
signer's ``password`` (electronic signature). Errors are ``{"error", "message", "field", "details"}``
with a 4xx status (``medreg.web.errors``).
"""

# No ``from __future__ import annotations``: the action routes are built in a loop and FastAPI must
# see each body model as a real class, not as a string.

from collections.abc import Callable
from datetime import date

from fastapi import Depends, Path, Query
from sqlalchemy.orm import Session

from medreg.core import clock
from medreg.core.actor import Actor
from medreg.core.clock import to_shanghai
from medreg.core.deps import api_router, current_actor, get_session, require_login
from medreg.core.errors import NotFound
from medreg.premarket.registration import queries, rules, service, service_certificates, service_udi
from medreg.premarket.registration import service_support as support
from medreg.premarket.registration.api_bodies import (
    MAX_ID,
    AnswerBody,
    ApplicationDetail,
    ApproveBody,
    ConditionalBody,
    ConsultationBody,
    ConsultationDetail,
    CreateBody,
    DiBody,
    DiWithdrawBody,
    FulfilBody,
    MeetingBody,
    MinutesBody,
    NotesBody,
    ObjectionBody,
    ObligationOut,
    ReasonBody,
    ReasonsBody,
    RefuseBody,
    RequestBody,
    SummaryBody,
    TimelineEvent,
    UpdateBody,
    Versioned,
)
from medreg.premarket.registration.schemas import (
    CertificateRead,
    ConsultationCreate,
    ConsultationRead,
    ObligationRead,
    QueueItem,
    RegistrationCreate,
    RegistrationRead,
)

router = api_router(prefix="/api/registration", tags=["registration"])

AppId = Path(ge=1, le=MAX_ID, description="registration application id")
CertId = Path(ge=1, le=MAX_ID, description="certificate id")
ObligationId = Path(ge=1, le=MAX_ID, description="obligation id")
ConsultationId = Path(ge=1, le=MAX_ID, description="consultation id")
Word = Query(default=None, max_length=32, pattern=r"^[a-z_]+$")
Search = Query(default=None, max_length=200, pattern=r"^[^\x00]*$")
Limit = Query(default=50, ge=1, le=500)
Offset = Query(default=0, ge=0, le=1_000_000)


def _today() -> date:
    return clock.today_shanghai()


def _late(obs: list[ObligationRead]) -> list[ObligationOut]:
    today = _today()
    return [ObligationOut(**o.model_dump(), late=o.status == "late"
                          or rules.obligation_is_late(o.due_on, o.fulfilled_on, today)) for o in obs]


# ---- applications ------------------------------------------------------------------------------
@router.get("/applications", response_model=list[RegistrationRead])
def list_applications(status: str | None = Word, kind: str | None = Word, q: str | None = Search,
                      priority: bool | None = None, limit: int = Limit, offset: int = Offset,
                      session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    return queries.list_applications(session, actor, status=status, kind=kind, q=q, priority=priority,
                                     limit=limit, offset=offset)


@router.post("/applications", response_model=RegistrationRead, status_code=201)
def create_application(body: CreateBody, session: Session = Depends(get_session),
                       actor: Actor = Depends(require_login)):
    data = RegistrationCreate.model_validate(body.model_dump(exclude_unset=True))
    return RegistrationRead.model_validate(service.create_application(session, actor, data))


@router.get("/applications/{app_id}", response_model=ApplicationDetail)
def application_detail(app_id: int = AppId, session: Session = Depends(get_session),
                       actor: Actor = Depends(require_login)):
    return ApplicationDetail(application=queries.get_application(session, actor, app_id),
                             clocks=queries.application_clocks(session, actor, app_id, _today()),
                             allowed_actions=support.allowed_actions(session, actor, app_id))


@router.get("/applications/{app_id}/timeline", response_model=list[TimelineEvent])
def application_timeline(app_id: int = AppId, session: Session = Depends(get_session),
                         actor: Actor = Depends(require_login)):
    return [TimelineEvent(at=to_shanghai(e.at), actor=e.actor_username, action=e.action, note=e.note)
            for e in queries.application_history(session, actor, app_id)]


@router.post("/applications/{app_id}/update", response_model=RegistrationRead)
def update_application(body: UpdateBody, app_id: int = AppId, session: Session = Depends(get_session),
                       actor: Actor = Depends(require_login)):
    fields = body.model_dump(exclude_unset=True, exclude={"expected_version"})
    return RegistrationRead.model_validate(service.update_application(
        session, actor, app_id, fields, expected_version=body.expected_version))


def _guarded(fn: Callable) -> Callable:
    """System acts (deemed acceptance, termination) take no version: check the one the caller saw."""
    def call(session, actor, app_id, *, expected_version):
        support.load(session, actor, app_id, expected_version)
        return fn(session, actor, app_id)
    return call


def _conditionally(session, actor, app_id, *, expected_version, password, **data):
    return service.approve_conditionally(session, actor, app_id, data, password=password,
                                         expected_version=expected_version)


# action -> (body, service call taking (session, actor, app_id, expected_version=, **fields))
ACTIONS: dict[str, tuple[type[Versioned], Callable]] = {
    "submit": (Versioned, service.submit),
    "accept": (Versioned, service.accept),
    "deem_accepted": (Versioned, _guarded(service.deem_accepted)),
    "request_corrections": (NotesBody, service.request_corrections),
    "provide_corrections": (Versioned, service.provide_corrections),
    "refuse_acceptance": (ReasonsBody, service.refuse_acceptance),
    "start_review": (Versioned, service.start_review),
    "request_supplement": (RequestBody, service.request_supplement),
    "provide_supplement": (Versioned, service.provide_supplement),
    "terminate_review": (Versioned, _guarded(service.terminate_review)),
    "propose_negative": (ReasonsBody, service.propose_negative),
    "file_objection": (ObjectionBody, service.file_objection),
    "close_objection_window": (Versioned, service.close_objection_window),
    "uphold_objection": (AnswerBody, service.uphold_objection),
    "dismiss_objection": (AnswerBody, service.dismiss_objection),
    "complete_review": (SummaryBody, service.complete_review),
    "approve": (ApproveBody, service.approve),
    "approve_conditionally": (ConditionalBody, _conditionally),
    "refuse": (RefuseBody, service.refuse),
    "withdraw": (ReasonBody, service.withdraw),
}


def _action_route(action: str, body_model: type[Versioned], call: Callable) -> None:
    def route(body: body_model, app_id: int = AppId, session: Session = Depends(get_session),
              actor: Actor = Depends(require_login)) -> RegistrationRead:
        fields = body.model_dump(exclude={"expected_version"})
        app = call(session, actor, app_id, expected_version=body.expected_version, **fields)
        return RegistrationRead.model_validate(app)

    route.__name__ = f"registration_{action}"
    router.post(f"/applications/{{app_id}}/{action}", response_model=RegistrationRead,
                name=f"registration_{action}")(route)


for _action, (_body, _call) in ACTIONS.items():
    _action_route(_action, _body, _call)


@router.post("/applications/{app_id}/issue_certificate", response_model=CertificateRead)
def issue_certificate(body: Versioned, app_id: int = AppId, session: Session = Depends(get_session),
                      actor: Actor = Depends(require_login)):
    cert = service.issue_certificate(session, actor, app_id, expected_version=body.expected_version)
    return queries.get_certificate(session, actor, cert.id)


@router.get("/queue", response_model=list[QueueItem])
def queue(session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    """Cases where the regulator has the ball, earliest due date first; overdue flagged."""
    return queries.reviewer_queue(session, actor, _today())


# ---- certificates (public) and obligations --------------------------------------------------------
@router.get("/certificates", response_model=list[CertificateRead])
def certificates(q: str | None = Search, status: str | None = Word,
                 registrant_org_id: int | None = Query(default=None, ge=1, le=MAX_ID),
                 limit: int = Limit, offset: int = Offset, session: Session = Depends(get_session),
                 actor: Actor = Depends(current_actor)):
    """Issued certificates, searchable by number, product or registrant (public, Order 47 Art.12)."""
    return queries.list_certificates(session, actor, q=q, status=status,
                                     registrant_org_id=registrant_org_id, limit=limit, offset=offset)


@router.get("/certificates/by-number/{number}", response_model=CertificateRead)
def certificate_by_number(number: str = Path(max_length=40), session: Session = Depends(get_session),
                          actor: Actor = Depends(current_actor)):
    return queries.certificate_by_number(session, actor, number)


@router.get("/certificates/{certificate_id}", response_model=CertificateRead)
def certificate(certificate_id: int = CertId, session: Session = Depends(get_session),
                actor: Actor = Depends(current_actor)):
    return queries.get_certificate(session, actor, certificate_id)


@router.get("/certificates/{certificate_id}/obligations", response_model=list[ObligationOut])
def certificate_obligations(certificate_id: int = CertId, session: Session = Depends(get_session),
                            actor: Actor = Depends(current_actor)):
    queries.get_certificate(session, actor, certificate_id)  # 404 for an unknown certificate
    return _late(queries.obligations_for(session, actor, certificate_id))


@router.post("/certificates/{certificate_id}/cancel", response_model=CertificateRead)
def cancel_certificate(body: ReasonBody, certificate_id: int = CertId,
                       session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    cert = service_certificates.cancel_certificate(session, actor, certificate_id, body.reason,
                                      expected_version=body.expected_version)
    return queries.get_certificate(session, actor, cert.id)


@router.get("/obligations", response_model=list[ObligationOut])
def obligations(status: str | None = Word, late: bool = False, session: Session = Depends(get_session),
                actor: Actor = Depends(require_login)):
    """Post-approval obligations (Order 47 Art.61-63), each flagged ``late``; ``?late=true``: only those."""
    if late:
        return _late(queries.late_obligations(session, actor, _today()))
    return _late(queries.list_obligations(session, actor, status=status))


@router.post("/obligations/{obligation_id}/fulfil", response_model=ObligationOut)
def fulfil_obligation(body: FulfilBody, obligation_id: int = ObligationId,
                      session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    ob = service.fulfil_obligation(session, actor, obligation_id, evidence_file_id=body.evidence_file_id,
                                   note=body.note, expected_version=body.expected_version)
    return _late([ObligationRead.model_validate(ob)])[0]


# ---- consultations -------------------------------------------------------------------------------
@router.get("/consultations", response_model=list[ConsultationRead])
def consultations(innovation_application_id: int | None = Query(default=None, ge=1, le=MAX_ID),
                  status: str | None = Word, limit: int = Limit, offset: int = Offset,
                  session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    return queries.list_consultations(session, actor, innovation_application_id=innovation_application_id,
                                      status=status, limit=limit, offset=offset)


@router.post("/consultations", response_model=ConsultationRead, status_code=201)
def request_consultation(body: ConsultationBody, session: Session = Depends(get_session),
                         actor: Actor = Depends(require_login)):
    data = ConsultationCreate.model_validate(body.model_dump())
    return ConsultationRead.model_validate(service.request_consultation(session, actor, data))


@router.get("/consultations/{consultation_id}", response_model=ConsultationDetail)
def consultation(consultation_id: int = ConsultationId, session: Session = Depends(get_session),
                 actor: Actor = Depends(require_login)):
    return ConsultationDetail(consultation=queries.get_consultation(session, actor, consultation_id),
                              clock=queries.consultation_clock(session, actor, consultation_id, _today()))


CONSULTATION_ACTIONS: dict[str, tuple[type[Versioned], Callable]] = {
    "answer": (AnswerBody, service.answer_consultation),
    "decline": (ReasonsBody, service.decline_consultation),
    "schedule_meeting": (MeetingBody, service.schedule_meeting),
    "issue_minutes": (MinutesBody, service.issue_minutes),
    "confirm_minutes": (Versioned, service.confirm_minutes),
    "withdraw": (Versioned, service.withdraw_consultation),
}


def _consultation_route(action: str, body_model: type[Versioned], call: Callable) -> None:
    def route(body: body_model, consultation_id: int = ConsultationId,
              session: Session = Depends(get_session),
              actor: Actor = Depends(require_login)) -> ConsultationRead:
        fields = body.model_dump(exclude={"expected_version"})
        c = call(session, actor, consultation_id, expected_version=body.expected_version, **fields)
        return ConsultationRead.model_validate(c)

    route.__name__ = f"consultation_{action}"
    router.post(f"/consultations/{{consultation_id}}/{action}", response_model=ConsultationRead,
                name=f"consultation_{action}")(route)


for _action, (_body, _call) in CONSULTATION_ACTIONS.items():
    _consultation_route(_action, _body, _call)


# ---- UDI-DIs of a certificate's product (Order 47 Art.101) ------------------------------------------
@router.post("/certificates/{certificate_id}/udi-di", response_model=CertificateRead, status_code=201)
def declare_udi_di(body: DiBody, certificate_id: int = CertId, session: Session = Depends(get_session),
                   actor: Actor = Depends(require_login)):
    """The registrant (or the office) declares a DI of the certificate's product."""
    service_udi.declare_di(session, actor, certificate_id, body.di)
    return queries.get_certificate(session, actor, certificate_id)


@router.post("/certificates/by-udi-di/{di}/withdraw", response_model=CertificateRead)
def withdraw_udi_di(body: DiWithdrawBody, di: str = Path(min_length=8, max_length=14, pattern=r"^\d+$"),
                    session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    """The registrant (or the office) withdraws a wrongly declared DI with the reasons; audited."""
    row = service_udi.withdraw_di(session, actor, di, body.reason)
    return queries.get_certificate(session, actor, row.certificate_id)


@router.get("/certificates/by-udi-di/{di}", response_model=CertificateRead)
def certificate_by_udi_di(di: str = Path(min_length=8, max_length=14, pattern=r"^\d+$"),
                          session: Session = Depends(get_session), actor: Actor = Depends(current_actor)):
    """The current certificate of the product with this DI (public); 404 when no one declared it."""
    cert = queries.certificate_for_di(session, actor, service_udi.normalise_di(di))
    if cert is None:
        raise NotFound("No registration certificate declares the UDI-DI {di}.", field="di", params={"di": di})
    return cert
