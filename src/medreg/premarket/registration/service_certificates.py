"""Certificates (Order 47 Art.58, 81, 82-84, 95, 115) and post-approval obligations (Art.61-63).

Re-exported by ``medreg.premarket.registration.service``; same conventions (never commits).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medreg.core import audit, files
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from medreg.premarket.registration import numbers, rules
from medreg.premarket.registration import service_support as s
from medreg.premarket.registration.models import (
    ChangeDocument,
    PostApprovalObligation,
    RegistrationApplication,
    RegistrationCertificate,
)
from medreg.premarket.registration.rules import Kind
from medreg.premarket.registration.service_licensing import obligations_from
from medreg.premarket.registration.states import FINAL, REGISTRANT, Status

CERT_ENTITY, OBLIGATION_ENTITY = "registration_certificate", "post_approval_obligation"
CERT_FIELDS = (
    "number",
    "product_name",
    "model_spec",
    "structure_composition",
    "intended_use",
    "device_class",
    "subcatalogue_code",
    "category1_code",
    "category2_code",
    "origin",
    "innovative",
    "conditional",
    "approved_on",
    "issued_on",
    "valid_from",
    "valid_until",
    "status",
    "deemed_renewal",
    "previous_certificate_id",
)
OBLIGATION_FIELDS = (
    "certificate_id",
    "description",
    "due_on",
    "status",
    "evidence_file_id",
    "evidence_sha256",
    "fulfilled_on",
)


def _next_serial(session: Session, prefix: str) -> int:
    """××××6: the next serial of first registration within the same prefix (Order 47 Art.115)."""
    last = session.scalar(
        select(func.max(RegistrationCertificate.serial)).where(
            RegistrationCertificate.number_prefix == prefix
        )
    )
    return (last or 0) + 1


def _new_certificate(session: Session, app: RegistrationApplication, today: date) -> RegistrationCertificate:
    probe = numbers.certificate_number(
        device_class=app.device_class,
        origin=app.origin,
        province=app.province,
        year=app.decided_on.year,
        subcatalogue=app.subcatalogue_code,
        serial=1,
    )
    number = numbers.certificate_number(
        device_class=app.device_class,
        origin=app.origin,
        province=app.province,
        year=app.decided_on.year,
        subcatalogue=app.subcatalogue_code,
        serial=_next_serial(session, probe.prefix),
    )
    valid_from, valid_until = rules.validity(app.decided_on)  # Art.58: 5 years from approval
    if app.decision == "conditionally_approved":
        valid_until = app.conditional_valid_until  # Art.61: the validity stated on the certificate
    cert = RegistrationCertificate(
        number=str(number),
        number_prefix=number.prefix,
        serial=number.serial,
        application_id=app.id,
        registrant_org_id=app.registrant_org_id,
        product_name=app.product_name,
        model_spec=app.model_spec,
        structure_composition=app.structure_composition,
        intended_use=app.intended_use,
        device_class=app.device_class,
        subcatalogue_code=app.subcatalogue_code,
        category1_code=app.category1_code,
        category2_code=app.category2_code,
        origin=app.origin,
        innovative=app.innovative,
        innovation_application_id=app.innovation_application_id,
        conditional=app.decision == "conditionally_approved",
        conditional_ground=app.conditional_ground,
        approved_on=app.decided_on,
        issued_on=today,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    session.add(cert)
    session.flush()
    session.add_all(obligations_from(app, cert.id))
    return cert


def _renewed(
    session: Session, app: RegistrationApplication, today: date, *, deemed: bool
) -> RegistrationCertificate:
    """Art.115: a renewal keeps the number (××××3 and ××××6 unchanged); Art.84 sets the new period."""
    old = app.certificate
    approved_on = old.valid_until if deemed else app.decided_on
    valid_from, valid_until = rules.renewed_validity(old.valid_until, approved_on)
    cert = RegistrationCertificate(
        number=old.number,
        number_prefix=old.number_prefix,
        serial=old.serial,
        application_id=app.id,
        registrant_org_id=old.registrant_org_id,
        product_name=old.product_name,
        model_spec=old.model_spec,
        structure_composition=old.structure_composition,
        intended_use=old.intended_use,
        device_class=old.device_class,
        subcatalogue_code=old.subcatalogue_code,
        category1_code=old.category1_code,
        category2_code=old.category2_code,
        origin=old.origin,
        innovative=old.innovative,
        innovation_application_id=old.innovation_application_id,
        approved_on=approved_on,
        issued_on=today,
        valid_from=valid_from,
        valid_until=valid_until,
        deemed_renewal=deemed,
        previous_certificate_id=old.id,
    )
    old.status = "renewed"
    session.add(cert)
    session.flush()
    return cert


def _change(session: Session, app: RegistrationApplication, today: date) -> RegistrationCertificate:
    """Art.81: the change document goes with the original certificate and keeps its expiry."""
    cert = app.certificate
    diff = {k: {"before": getattr(cert, k), "after": v} for k, v in (app.changes or {}).items()}
    for k, v in (app.changes or {}).items():
        setattr(cert, k, v)
    session.add(ChangeDocument(certificate_id=cert.id, application_id=app.id, issued_on=today, changes=diff))
    session.flush()
    return cert


def issue_certificate(
    session: Session,
    actor: Actor,
    app_id: int,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationCertificate:
    """Art.95: within 10 WD of the decision, issue the certificate (initial), the change document
    (change, Art.81) or the renewed certificate (renewal, Art.84)."""
    today = s.day(on)
    app = s.load(session, actor, app_id, expected_version)
    result: dict = {}

    def mutate(a):
        before = audit.snapshot(a.certificate, CERT_FIELDS) if a.certificate else None
        if a.kind == Kind.INITIAL:
            result["cert"] = _new_certificate(session, a, today)
        elif a.kind == Kind.CHANGE:
            result["cert"] = _change(session, a, today)
        else:
            result["cert"] = _renewed(session, a, today, deemed=False)
        result["before"] = before if a.kind == Kind.CHANGE else None

    s.act(session, actor, app, "issue_certificate", mutate)
    s.stop(session, app, s.CERTIFICATE, today)
    cert = result["cert"]
    audit.record(
        session,
        actor,
        f"issue_{app.kind}",
        CERT_ENTITY,
        cert.id,
        before=result["before"],
        after=audit.snapshot(cert, CERT_FIELDS),
    )
    return cert


def deem_renewed(
    session: Session, actor: Actor, app_id: int, *, on: date | None = None
) -> RegistrationCertificate:
    """Art.82 second para / 739 Art.22: a renewal applied for in time and not decided before expiry is
    deemed granted; the renewed certificate runs from the day after the old expiry (Art.84)."""
    today = s.day(on)
    app = s.load(session, actor, app_id)
    if app.kind != Kind.RENEWAL or not rules.renewal_deemed_granted(
        valid_until=app.certificate.valid_until,
        applied_on=app.submitted_on,
        decided=app.decided_on is not None,
        today=today,
    ):
        raise InvalidTransition(
            "Not a renewal deemed granted: it must be applied for 6 months before "
            "expiry and still undecided after expiry (Order 47 Art.82).",
            field="action",
        )
    result: dict = {}

    def mutate(a):
        a.decision, a.decided_on = "deemed_renewed", today
        a.decision_reasons = "Order 47 Art.82: no decision before expiry, renewal deemed granted"
        result["cert"] = _renewed(session, a, today, deemed=True)

    s.act(session, actor, app, "deem_renewed", mutate)
    s.stop_all(session, app, today)
    cert = result["cert"]
    audit.record(
        session, actor, "issue_deemed_renewal", CERT_ENTITY, cert.id, after=audit.snapshot(cert, CERT_FIELDS)
    )
    return cert


def apply_deemed_renewals(session: Session, actor: Actor, today: date) -> list[RegistrationCertificate]:
    """The daily job: every renewal deemed granted on ``today`` gets its renewed certificate."""
    undecided = [x.value for x in Status if x not in FINAL and x not in (Status.DRAFT, Status.APPROVED)]
    stmt = (
        select(RegistrationApplication)
        .join(RegistrationApplication.certificate)
        .where(
            RegistrationApplication.kind == Kind.RENEWAL.value,
            RegistrationApplication.status.in_(undecided),
            RegistrationCertificate.valid_until < today,
        )
        .order_by(RegistrationApplication.id)
    )
    out = []
    for app in session.scalars(stmt).unique():
        if rules.renewal_deemed_granted(
            valid_until=app.certificate.valid_until, applied_on=app.submitted_on, decided=False, today=today
        ):
            out.append(deem_renewed(session, actor, app.id, on=today))
    return out


# ---- post-approval obligations (conditional approval) -------------------------------------------
def _obligation(session: Session, actor: Actor, obligation_id: int) -> PostApprovalObligation:
    ob = session.get(PostApprovalObligation, obligation_id) if isinstance(obligation_id, int) else None
    if ob is None:
        raise NotFound("Obligation {id} was not found.", field="obligation_id", params={"id": obligation_id})
    return ob


def fulfil_obligation(
    session: Session,
    actor: Actor,
    obligation_id: int,
    *,
    evidence_file_id: int,
    note: str | None = None,
    expected_version: int | None = None,
    on: date | None = None,
) -> PostApprovalObligation:
    """Art.62: the registrant completes a study and files the evidence: a file stored first with
    ``medreg.core.files.store`` (its id). Done after the deadline, it is recorded as done late."""
    today = s.day(on)
    ob = _obligation(session, actor, obligation_id)
    if REGISTRANT not in actor.roles or actor.organisation_id != ob.certificate.registrant_org_id:
        raise PermissionDenied("Only the registrant fulfils its obligations.", field="actor")
    s.check_version(ob, expected_version)
    if ob.status == "fulfilled":
        raise InvalidTransition(
            "Obligation {id} is already fulfilled.", field="obligation_id", params={"id": ob.id}
        )
    if not isinstance(evidence_file_id, int) or isinstance(evidence_file_id, bool):
        raise ValidationFailed("'evidence_file_id' must name a stored file.", field="evidence_file_id")
    try:
        evidence = files.get(session, evidence_file_id)
    except NotFound:
        raise ValidationFailed(
            "File {id} was not found in the file store.",
            field="evidence_file_id",
            params={"id": evidence_file_id},
        ) from None
    evidence_note = s.text(note, "note") if note else None
    late = "done late (Order 47 Art.63)" if rules.obligation_is_late(ob.due_on, today, today) else None
    with audit.recorded_change(session, actor, "fulfil", OBLIGATION_ENTITY, ob, OBLIGATION_FIELDS, note=late):
        ob.status, ob.fulfilled_on = "fulfilled", today
        ob.evidence_file_id, ob.evidence_sha256 = evidence.id, evidence.sha256
        ob.evidence_note = evidence_note
    return ob


def mark_late_obligations(session: Session, actor: Actor, today: date) -> list[PostApprovalObligation]:
    """Art.63: open obligations past their deadline become ``late`` (audited); the daily job."""
    if not s.is_regulator(actor):
        raise PermissionDenied("Only the regulator flags late obligations.", field="actor")
    stmt = (
        select(PostApprovalObligation)
        .where(PostApprovalObligation.status == "open", PostApprovalObligation.due_on < today)
        .order_by(PostApprovalObligation.due_on, PostApprovalObligation.id)
    )
    out = []
    for ob in session.scalars(stmt):
        with audit.recorded_change(
            session, actor, "flag_late", OBLIGATION_ENTITY, ob, OBLIGATION_FIELDS, note="Order 47 Art.63"
        ):
            ob.status = "late"
        out.append(ob)
    return out


def cancel_certificate(
    session: Session, actor: Actor, certificate_id: int, reason: str, *, expected_version: int | None = None
) -> RegistrationCertificate:
    """Art.63: the regulator may cancel (注销) a conditional certificate whose studies are late."""
    if not (actor.workflow_roles & {"office", "province", "admin"}):
        raise PermissionDenied("Only the deciding authority cancels a certificate.", field="actor")
    cert = session.get(RegistrationCertificate, certificate_id) if isinstance(certificate_id, int) else None
    if cert is None:
        raise NotFound(
            "Certificate {id} was not found.", field="certificate_id", params={"id": certificate_id}
        )
    # Order 47 Art.8: only the authority that issues this certificate cancels it (the registrant's
    # province for domestic Class II, NMPA otherwise); a bureau may not cancel a national certificate.
    roles = actor.workflow_roles
    if "admin" not in roles and not (
        ("province" in roles and s._same_province(actor.province, cert.registrant.province))
        if numbers.decided_by_province(cert.device_class, cert.origin)
        else "office" in roles
    ):
        raise PermissionDenied("Only the deciding authority cancels a certificate.", field="actor")
    s.check_version(cert, expected_version)
    if cert.status != "valid":
        raise Conflict(
            "Certificate {number} is '{status}'.",
            field="certificate_id",
            params={"number": cert.number, "status": cert.status},
        )
    why = s.text(reason, "reason", maximum=2000)
    with audit.recorded_change(session, actor, "cancel", CERT_ENTITY, cert, CERT_FIELDS, note=why):
        cert.status = "cancelled"
    return cert
