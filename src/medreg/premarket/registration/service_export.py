"""Export sales certificates (医疗器械出口销售证明 (I), NMPA Announcement 2025 No.126): issue (Art.4,
6, 7) and revoke (公示作废, Art.10-11). Never commits; every change is audited.

Who: the provincial bureau of the applicant's province issues and revokes (No.126 Art.3-4); an
administrator may too (system jobs and data loaders, as for registration certificates). The applicant
is the domestic registrant of every registration certificate named (Art.2, Art.4).
"""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medreg.core import audit
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from medreg.premarket.registration import export_rules, numbers
from medreg.premarket.registration import service_support as s
from medreg.premarket.registration.export_rules import ExportKind, ExportNumber
from medreg.premarket.registration.models import (
    ExportCertificate,
    ExportCertificateDevice,
    RegistrationCertificate,
)
from medreg.premarket.registration.schemas import ExportCertificateCreate

ENTITY = "export_certificate"
FIELDS = ("kind", "number_zh", "number_en", "applicant_org_id", "issuer_org_id", "issued_on", "valid_until",
          "status", "revoked_on")  # not the verification code: the audit trail is read more widely


def letter_code_of(actor: Actor) -> str | None:
    """The two-letter code (No.126 annex 4) of the actor's province, if it has one."""
    try:
        return export_rules.PROVINCE_LETTER_CODES.get(numbers.province_abbreviation(actor.province))
    except ValidationFailed:
        return None


def may_see(actor: Actor, export: ExportCertificate) -> bool:
    return export_rules.may_see(actor.workflow_roles, actor_org_id=actor.organisation_id,
                                actor_letter_code=letter_code_of(actor),
                                applicant_org_id=export.applicant_org_id, letter_code=export.letter_code)


def _may_act(actor: Actor, letter_code: str) -> bool:
    roles = actor.workflow_roles
    if "admin" in roles:
        return True
    return "province" in roles and letter_code_of(actor) == letter_code


def _current(session: Session, number: str) -> RegistrationCertificate:
    cert = session.scalars(
        select(RegistrationCertificate)
        .where(RegistrationCertificate.number == number)
        .order_by(RegistrationCertificate.valid_from.desc())
        .limit(1)
    ).first()
    if cert is None:
        raise ValidationFailed("Registration certificate {number} was not found.",
                               field="registration_numbers", params={"number": number})
    if cert.status != "valid":
        raise ValidationFailed("Registration certificate {number} is not valid ({status}).",
                               field="registration_numbers", params={"number": number, "status": cert.status})
    return cert


def _next_serial(session: Session, letter_code: str, year: int) -> int:
    last = session.scalar(select(func.max(ExportCertificate.serial)).where(
        ExportCertificate.letter_code == letter_code, ExportCertificate.year == year))
    return (last or 0) + 1


def issue_export_certificate(
    session: Session, actor: Actor, data: ExportCertificateCreate | dict, *, on: date | None = None,
    random_bytes: bytes | None = None,
) -> ExportCertificate:
    """No.126 Art.4: a certificate (I) for devices registered in China, numbered after Art.6, valid at
    most until the earliest expiry of the registration certificates it rests on (Art.7)."""
    if not (actor.workflow_roles & {"province", "admin"}):
        raise PermissionDenied("Only the provincial bureau of the applicant issues an export certificate.",
                               field="actor")
    body = data if isinstance(data, ExportCertificateCreate) else ExportCertificateCreate.model_validate(data)
    today = s.day(on)
    certs = [_current(session, n) for n in dict.fromkeys(body.registration_numbers)]
    holders = {c.registrant_org_id for c in certs}
    if len(holders) != 1:
        raise ValidationFailed("All registration certificates must have the same registrant.",
                               field="registration_numbers")
    registrant = certs[0].registrant
    if not registrant.is_domestic or not registrant.province:
        raise ValidationFailed("Only a registrant in mainland China applies for an export certificate.",
                               field="registration_numbers")
    abbreviation = numbers.province_abbreviation(registrant.province)
    letter_code = export_rules.PROVINCE_LETTER_CODES[abbreviation]
    if not _may_act(actor, letter_code):
        raise PermissionDenied("Only the provincial bureau of the applicant issues an export certificate.",
                               field="actor")
    latest = export_rules.latest_valid_until([c.valid_until for c in certs], today)
    valid_until = body.valid_until or latest
    if not today <= valid_until <= latest:
        raise ValidationFailed("The validity must end between {today} and {latest} (No.126 Art.7).",
                               field="valid_until", params={"today": today.isoformat(),
                                                            "latest": latest.isoformat()})
    number: ExportNumber = export_rules.export_number(abbreviation, today.year,
                                                      _next_serial(session, letter_code, today.year))
    code = export_rules.verification_code(random_bytes or secrets.token_bytes(export_rules.CODE_RANDOM_BYTES))
    export = ExportCertificate(
        kind=ExportKind.REGISTERED.value, number_zh=number.zh, number_en=number.en, letter_code=letter_code,
        year=number.year, serial=number.serial, applicant_org_id=registrant.id,
        issuer_org_id=actor.organisation_id, issued_on=today, valid_until=valid_until,
        verification_code=code, status="issued",
    )
    session.add(export)
    session.flush()
    for c in certs:
        session.add(ExportCertificateDevice(
            export_certificate_id=export.id, registration_certificate_id=c.id, registration_number=c.number,
            product_name=c.product_name, model_spec=c.model_spec))
    session.flush()
    session.refresh(export)
    audit.record(session, actor, "issue", ENTITY, export.id, before=None,
                 after={**audit.snapshot(export, FIELDS), "registration_numbers": [c.number for c in certs]})
    return export


def revoke_export_certificate(
    session: Session, actor: Actor, export_id: int, reason: str, *, expected_version: int | None = None,
    on: date | None = None,
) -> ExportCertificate:
    """No.126 Art.10-11: the issuing department declares the certificate void (公示作废)."""
    export = session.get(ExportCertificate, export_id) if isinstance(export_id, int) else None
    if export is None or not may_see(actor, export):
        raise NotFound("Export certificate {id} was not found.", field="export_id", params={"id": export_id})
    if not _may_act(actor, export.letter_code):
        raise PermissionDenied("Only the issuing provincial bureau revokes an export certificate.",
                               field="actor")
    s.check_version(export, expected_version)
    if export.status == "revoked":
        raise Conflict("Export certificate {number} is already revoked.", field="export_id",
                       params={"number": export.number_zh})
    why = s.text(reason, "reason", maximum=2000)
    with audit.recorded_change(session, actor, "revoke", ENTITY, export, FIELDS, note=why):
        export.status = "revoked"
        export.revoked_on = s.day(on)
        export.revocation_reason = why
    return export
