"""Read side of export sales certificates (No.126): the public check by number and verification code,
and the full records for the applicant and the regulator (``service_export.may_see``)."""

from __future__ import annotations

import hmac
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.errors import NotFound
from medreg.premarket.registration import export_rules
from medreg.premarket.registration.models import ExportCertificate
from medreg.premarket.registration.schemas import (
    ExportCertificateRead,
    ExportDeviceRead,
    ExportVerification,
)
from medreg.premarket.registration.service_export import letter_code_of, may_see


def _status(export: ExportCertificate, today: date) -> str:
    return export_rules.status_on(
        today, valid_until=export.valid_until, revoked=export.status == "revoked",
        underlying_cancelled=any(d.registration_certificate.status == "cancelled" for d in export.devices),
    ).value


def _verification(export: ExportCertificate, today: date) -> dict:
    return dict(
        number_zh=export.number_zh, number_en=export.number_en, kind=export.kind,
        holder=export.applicant.name, holder_en=export.applicant.name_en,
        devices=[ExportDeviceRead.model_validate(d) for d in export.devices],
        issued_on=export.issued_on, valid_until=export.valid_until, status=_status(export, today),
        revoked_on=export.revoked_on, checked_on=today,
    )


def verify_export_certificate(session: Session, number: object, code: object, today: date
                              ) -> ExportVerification | None:
    """The certificate with this number (Chinese or English form) if ``code`` is its verification code;
    None otherwise. An unknown number and a wrong code give the same None (the code is compared in
    constant time even when the number is unknown), so the check does not tell whether a number exists."""
    parsed = export_rules.parse_export_number(number)
    typed = export_rules.normalise_code(code)
    export = None
    if parsed is not None:
        export = session.scalars(select(ExportCertificate).where(
            ExportCertificate.letter_code == parsed.letter_code, ExportCertificate.year == parsed.year,
            ExportCertificate.serial == parsed.serial)).first()
    stored = export.verification_code if export is not None else "0000-0000-0000"
    matches = hmac.compare_digest((typed or "").encode(), stored.encode())
    if export is None or typed is None or not matches:
        return None
    return ExportVerification(**_verification(export, today))


def _read(export: ExportCertificate, today: date) -> ExportCertificateRead:
    return ExportCertificateRead(**_verification(export, today), id=export.id,
                                 applicant_org_id=export.applicant_org_id,
                                 verification_code=export.verification_code,
                                 revocation_reason=export.revocation_reason, version=export.version)


def get_export_certificate(session: Session, actor: Actor, export_id: int, today: date
                           ) -> ExportCertificateRead:
    export = session.get(ExportCertificate, export_id) if isinstance(export_id, int) else None
    if export is None or not may_see(actor, export):
        raise NotFound("Export certificate {id} was not found.", field="export_id", params={"id": export_id})
    return _read(export, today)


def list_export_certificates(session: Session, actor: Actor, today: date, *, limit: int = 200
                             ) -> list[ExportCertificateRead]:
    """Newest first: the registrant's own, the province's, or all (NMPA, administrator)."""
    roles = actor.workflow_roles
    stmt = select(ExportCertificate).order_by(ExportCertificate.id.desc()).limit(limit)
    if not roles & {"office", "admin"}:
        conditions = []
        if "province" in roles and letter_code_of(actor):
            conditions.append(ExportCertificate.letter_code == letter_code_of(actor))
        if "registrant" in roles and actor.organisation_id is not None:
            conditions.append(ExportCertificate.applicant_org_id == actor.organisation_id)
        if not conditions:
            return []
        stmt = stmt.where(or_(*conditions))
    return [_read(e, today) for e in session.scalars(stmt)]
