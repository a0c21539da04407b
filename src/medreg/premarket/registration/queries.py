"""Read side of registration, with tenancy: a registrant sees its own organisation's applications; the
regulator (office, province, reviewer) every application once submitted; the public no application,
only issued certificates (Order 47 Art.12: the public may consult approval results)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from medreg.core import audit, clocks
from medreg.core.accounts import Organisation
from medreg.core.actor import Actor
from medreg.core.errors import NotFound
from medreg.premarket.registration import numbers, rules
from medreg.premarket.registration.models import (
    CertificateDi,
    Consultation,
    PostApprovalObligation,
    RegistrationApplication,
    RegistrationCertificate,
)
from medreg.premarket.registration.schemas import (
    CertificateRead,
    ClockRead,
    ConsultationRead,
    ObligationRead,
    QueueItem,
    RegistrationRead,
)
from medreg.premarket.registration.states import OFFICE, REGISTRANT, REGULATOR_TURN, Status

ENTITY = "registration_application"
_APPLICANT_CLOCKS = frozenset({"registration.supplement", "registration.objection"})  # the applicant's time
_REGULATOR = frozenset({"office", "province", "reviewer", "admin"})


def _scope(stmt, actor: Actor):
    """Filter a select of applications to what ``actor`` may see (None: nothing)."""
    own = (
        RegistrationApplication.registrant_org_id == actor.organisation_id
        if REGISTRANT in actor.roles and actor.organisation_id is not None
        else None
    )
    if actor.workflow_roles & _REGULATOR:
        seen = RegistrationApplication.status != Status.DRAFT.value
        return stmt.where(or_(seen, own) if own is not None else seen)
    return stmt.where(own) if own is not None else None


def _app(session: Session, actor: Actor, app_id: int) -> RegistrationApplication:
    stmt = _scope(select(RegistrationApplication).where(RegistrationApplication.id == app_id), actor)
    app = session.scalars(stmt).first() if stmt is not None else None
    if app is None:
        raise NotFound("Registration application {id} was not found.", field="app_id", params={"id": app_id})
    return app


def list_applications(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    priority: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[RegistrationRead]:
    stmt = _scope(select(RegistrationApplication), actor)
    if stmt is None:
        return []
    if status:
        stmt = stmt.where(RegistrationApplication.status == status)
    if kind:
        stmt = stmt.where(RegistrationApplication.kind == kind)
    if priority is not None:
        stmt = stmt.where(RegistrationApplication.priority.is_(priority))
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(
            or_(
                RegistrationApplication.product_name.ilike(like),
                RegistrationApplication.acceptance_number.ilike(like),
            )
        )
    stmt = (
        stmt.order_by(RegistrationApplication.id.desc()).limit(max(1, min(limit, 500))).offset(max(0, offset))
    )
    return [RegistrationRead.model_validate(a) for a in session.scalars(stmt).unique()]


def get_application(session: Session, actor: Actor, app_id: int) -> RegistrationRead:
    return RegistrationRead.model_validate(_app(session, actor, app_id))


def _clock_read(clock, today: date) -> ClockRead:
    st = clocks.status(clock, today)
    return ClockRead(
        name=clock.name,
        legal_basis=clock.legal_basis,
        started_on=st.started_on,
        due_on=st.due_on,
        used=st.used,
        left=st.left,
        paused=st.paused,
        overdue=st.overdue,
        stopped_on=st.stopped_on,
    )


def application_clocks(session: Session, actor: Actor, app_id: int, today: date) -> list[ClockRead]:
    """Every statutory clock of one application (running and stopped), with its article."""
    app = _app(session, actor, app_id)
    return [_clock_read(c, today) for c in clocks.clocks_for(session, ENTITY, app.id)]


def application_history(session: Session, actor: Actor, app_id: int) -> list[audit.AuditEvent]:
    app = _app(session, actor, app_id)
    return audit.history(session, ENTITY, app.id)


def reviewer_queue(session: Session, actor: Actor, today: date) -> list[QueueItem]:
    """Cases where the regulator has the ball, earliest due first (overdue flagged; at equal due dates
    priority (innovative) cases first, No.83 Art.21). Registrants and the public get nothing."""
    if not actor.workflow_roles & _REGULATOR:
        return []
    stmt = select(RegistrationApplication).where(
        RegistrationApplication.status.in_([x.value for x in REGULATOR_TURN])
    )
    items = []
    for app in session.scalars(stmt).unique():
        running = [
            c
            for c in clocks.clocks_for(session, ENTITY, app.id)
            if c.is_running and c.name not in _APPLICANT_CLOCKS
        ]
        reads = sorted((_clock_read(c, today) for c in running), key=lambda r: r.due_on)
        if app.status == Status.NEGATIVE_NOTICE:  # waiting for the applicant until the window ends
            obj = [
                c
                for c in clocks.clocks_for(session, ENTITY, app.id)
                if c.is_running and c.name == "registration.objection"
            ]
            reads = [_clock_read(c, today) for c in obj]
        clock = reads[0] if reads else None
        items.append(
            QueueItem(
                application=RegistrationRead.model_validate(app),
                clock=clock,
                overdue=bool(clock and clock.overdue and not clock.paused),
            )
        )
    far = date.max
    return sorted(
        items,
        key=lambda i: (i.clock.due_on if i.clock else far, not i.application.priority, i.application.id),
    )


# ---- certificates (public) -----------------------------------------------------------------------
def _cert_read(cert: RegistrationCertificate) -> CertificateRead:
    out = CertificateRead.model_validate(cert)
    out.registrant_name = cert.registrant.name if cert.registrant else None
    if cert.status == "valid":
        out.renewal_deadline = rules.renewal_deadline(cert.valid_until)
    return out


def list_certificates(
    session: Session,
    actor: Actor,
    *,
    q: str | None = None,
    registrant_org_id: int | None = None,
    status: str | None = None,
    application_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[CertificateRead]:
    """Issued certificates are public (Order 47 Art.12); anyone may list them."""
    stmt = select(RegistrationCertificate)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.join(Organisation, Organisation.id == RegistrationCertificate.registrant_org_id).where(
            or_(
                RegistrationCertificate.number.ilike(like),
                RegistrationCertificate.product_name.ilike(like),
                Organisation.name.ilike(like),
            )
        )
    if registrant_org_id is not None:
        stmt = stmt.where(RegistrationCertificate.registrant_org_id == registrant_org_id)
    if status:
        stmt = stmt.where(RegistrationCertificate.status == status)
    if application_id is not None:  # the certificate an initial or renewal application produced
        stmt = stmt.where(RegistrationCertificate.application_id == application_id)
    stmt = (
        stmt.order_by(RegistrationCertificate.id.desc()).limit(max(1, min(limit, 500))).offset(max(0, offset))
    )
    return [_cert_read(c) for c in session.scalars(stmt).unique()]


def get_certificate(session: Session, actor: Actor, certificate_id: int) -> CertificateRead:
    cert = session.get(RegistrationCertificate, certificate_id) if isinstance(certificate_id, int) else None
    if cert is None:
        raise NotFound(
            "Certificate {id} was not found.", field="certificate_id", params={"id": certificate_id}
        )
    return _cert_read(cert)


def certificate_by_number(session: Session, actor: Actor, number: str) -> CertificateRead:
    """The current certificate bearing ``number`` (a renewal keeps the number: the latest period)."""
    parsed = numbers.parse_certificate_number(number)
    stmt = (
        select(RegistrationCertificate)
        .where(RegistrationCertificate.number == str(parsed))
        .order_by(RegistrationCertificate.valid_from.desc())
        .limit(1)
    )
    cert = session.scalars(stmt).first()
    if cert is None:
        raise NotFound("No certificate numbered {number}.", field="number", params={"number": str(parsed)})
    return _cert_read(cert)


def certificate_categories(session: Session) -> dict[str, tuple[str, str | None]]:
    """{certificate number: (一级, 二级 or None)} of every certificate that records its catalogue product
    category, taken from the current period of each number (the latest ``valid_from``: a renewal keeps
    the number and the category; a change registration may have changed it). Certificates are public
    (Order 47 Art.12); signal detection rolls reports up along these categories."""
    c = RegistrationCertificate
    rows = session.execute(select(c.number, c.category1_code, c.category2_code)
                           .order_by(c.number, c.valid_from, c.id))
    latest = {number: (c1, c2) for number, c1, c2 in rows}  # the last row of a number wins
    return {number: (c1, c2) for number, (c1, c2) in latest.items() if c1}


def obligations_for(session: Session, actor: Actor, certificate_id: int) -> list[ObligationRead]:
    stmt = (
        select(PostApprovalObligation)
        .where(PostApprovalObligation.certificate_id == certificate_id)
        .order_by(PostApprovalObligation.due_on, PostApprovalObligation.id)
    )
    return [ObligationRead.model_validate(o) for o in session.scalars(stmt).unique()]


def late_obligations(session: Session, actor: Actor, today: date) -> list[ObligationRead]:
    """Obligations of conditional approvals not fulfilled by their deadline (Order 47 Art.63), oldest
    first. A registrant sees its own; the regulator all."""
    stmt = (
        select(PostApprovalObligation)
        .join(PostApprovalObligation.certificate)
        .where(PostApprovalObligation.status.in_(("open", "late")), PostApprovalObligation.due_on < today)
        .order_by(PostApprovalObligation.due_on, PostApprovalObligation.id)
    )
    if not actor.workflow_roles & _REGULATOR:
        if REGISTRANT not in actor.roles or actor.organisation_id is None:
            return []
        stmt = stmt.where(RegistrationCertificate.registrant_org_id == actor.organisation_id)
    return [ObligationRead.model_validate(o) for o in session.scalars(stmt).unique()]


def list_obligations(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[ObligationRead]:
    """Post-approval obligations (Order 47 Art.61-63), earliest deadline first, with the certificate
    number. A registrant sees its own; the regulator all; the public nothing."""
    stmt = select(PostApprovalObligation).join(PostApprovalObligation.certificate)
    if not actor.workflow_roles & _REGULATOR:
        if REGISTRANT not in actor.roles or actor.organisation_id is None:
            return []
        stmt = stmt.where(RegistrationCertificate.registrant_org_id == actor.organisation_id)
    if status:
        stmt = stmt.where(PostApprovalObligation.status == status)
    stmt = (
        stmt.order_by(PostApprovalObligation.due_on, PostApprovalObligation.id)
        .limit(max(1, min(limit, 500)))
        .offset(max(0, offset))
    )
    out = []
    for ob in session.scalars(stmt).unique():
        read = ObligationRead.model_validate(ob)
        read.certificate_number = ob.certificate.number
        out.append(read)
    return out


# ---- consultations -------------------------------------------------------------------------------
def list_consultations(
    session: Session,
    actor: Actor,
    *,
    innovation_application_id: int | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[ConsultationRead]:
    stmt = select(Consultation)
    if not actor.workflow_roles & {OFFICE, "admin"}:
        if REGISTRANT not in actor.roles or actor.organisation_id is None:
            return []
        stmt = stmt.where(Consultation.registrant_org_id == actor.organisation_id)
    if innovation_application_id is not None:
        stmt = stmt.where(Consultation.innovation_application_id == innovation_application_id)
    if status:
        stmt = stmt.where(Consultation.status == status)
    stmt = stmt.order_by(Consultation.id.desc()).limit(max(1, min(limit, 500))).offset(max(0, offset))
    return [ConsultationRead.model_validate(c) for c in session.scalars(stmt)]


def get_consultation(session: Session, actor: Actor, consultation_id: int) -> ConsultationRead:
    c = session.get(Consultation, consultation_id) if isinstance(consultation_id, int) else None
    allowed = c is not None and (
        (actor.workflow_roles & {OFFICE, "admin"})
        or (REGISTRANT in actor.roles and actor.organisation_id == c.registrant_org_id)
    )
    if not allowed:
        raise NotFound(
            "Consultation {id} was not found.", field="consultation_id", params={"id": consultation_id}
        )
    return ConsultationRead.model_validate(c)


def consultation_clock(session: Session, actor: Actor, consultation_id: int, today: date) -> ClockRead | None:
    """The answer clock (medreg service target, not statutory: No.83 Art.19 says 及时)."""
    c = get_consultation(session, actor, consultation_id)
    found = clocks.clocks_for(session, "consultation", c.id)
    return _clock_read(found[-1], today) if found else None


def certificate_for_di(session: Session, actor: Actor, di: str) -> CertificateRead | None:
    """The current certificate of the product identified by UDI-DI ``di`` (GTIN-14), or None when no
    registrant has declared that DI. Certificates are public (Order 47 Art.12); a renewal keeps the
    number, so the latest period of the declared certificate's number is returned."""
    number = session.scalar(
        select(RegistrationCertificate.number)
        .join(CertificateDi, CertificateDi.certificate_id == RegistrationCertificate.id)
        .where(CertificateDi.di == di)
    )
    return None if number is None else certificate_by_number(session, actor, number)


def declared_dis(session: Session, actor: Actor, registrant_org_id: int) -> dict[str, list[CertificateDi]]:
    """The UDI-DIs declared for the certificates of registrant ``registrant_org_id``, by certificate
    number (a renewal keeps the number, so a DI declared on an earlier period still belongs to it).
    Public like the certificates and ``certificate_for_di`` (Order 47 Art.12)."""
    rows = session.execute(
        select(RegistrationCertificate.number, CertificateDi)
        .join(CertificateDi, CertificateDi.certificate_id == RegistrationCertificate.id)
        .where(RegistrationCertificate.registrant_org_id == registrant_org_id)
        .order_by(RegistrationCertificate.number, CertificateDi.di)
    ).all()
    out: dict[str, list[CertificateDi]] = {}
    for number, di in rows:
        out.setdefault(number, []).append(di)
    return out
