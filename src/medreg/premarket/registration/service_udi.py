"""The UDI-DIs of a certificate's product (Order 47 Art.101: applicants submit the UDI information).

A registrant declares the DI (GTIN-14, check digit verified with ``biip``) of its own certificate's
product; the registration office may do it for any certificate. A DI belongs to one certificate
number. Same conventions as the other services: audited, never commits.

A wrongly declared DI is **withdrawn** (``withdraw_di``) by the same people with a reason: the
declaration is deleted and the audit trail keeps who declared it, who withdrew it, when and why. It is
not refused when the surveillance registry has procedures or monitors of that DI: those are keyed on
the DI the hospitals recorded, never on the declaration, so they stay as they are and only lose the
link to this certificate (their pages then say that no registrant has declared the DI) until the right
certificate declares it. Registration does not read the surveillance tables (layers).
"""

from __future__ import annotations

from biip import ParseError
from biip.gtin import Gtin
from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core import audit
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from medreg.premarket.registration.models import CertificateDi, RegistrationCertificate
from medreg.premarket.registration.states import ADMIN, OFFICE, REGISTRANT

__all__ = ["declare_di", "normalise_di", "withdraw_di"]


def normalise_di(value: str, *, field: str = "di") -> str:
    """The GTIN-14 of a DI given as GTIN-8/12/13/14 digits; ``ValidationFailed`` if it is not one."""
    digits = (value or "").strip()
    if not digits.isdigit() or len(digits) not in (8, 12, 13, 14):
        raise ValidationFailed("A UDI-DI is a GTIN of 8, 12, 13 or 14 digits.", field=field)
    try:
        return Gtin.parse(digits).as_gtin_14()
    except ParseError as exc:
        raise ValidationFailed("The device identifier has a wrong check digit.", field=field) from exc


def declare_di(session: Session, actor: Actor, certificate_id: int, di: str) -> CertificateDi:
    """Record that ``di`` identifies the product of certificate ``certificate_id``."""
    cert = session.get(RegistrationCertificate, certificate_id)
    if cert is None:
        raise NotFound(
            "Certificate {id} was not found.", field="certificate_id", params={"id": certificate_id}
        )
    own = REGISTRANT in actor.roles and actor.organisation_id == cert.registrant_org_id
    if not (own or actor.workflow_roles & {OFFICE, ADMIN}):
        raise PermissionDenied("Only the certificate's registrant or the registration office may do this.")
    if cert.status == "cancelled":
        raise Conflict("The certificate is cancelled.", field="certificate_id")
    gtin = normalise_di(di)
    existing = session.scalar(select(CertificateDi).where(CertificateDi.di == gtin))
    if existing is not None:
        other = session.get(RegistrationCertificate, existing.certificate_id)
        raise Conflict("This UDI-DI is already declared for certificate {number}.", field="di",
                       params={"number": other.number if other else "-"})
    row = CertificateDi(certificate_id=cert.id, di=gtin, declared_by=actor.username)
    session.add(row)
    session.flush()
    audit.record(session, actor, "registration.certificate.di", "registration_certificate", cert.id,
                 after={"di": gtin, "number": cert.number})
    return row


def withdraw_di(session: Session, actor: Actor, di: str, reason: str) -> CertificateDi:
    """Withdraw the declaration of ``di`` (a mistake): the certificate's registrant or the office."""
    gtin = normalise_di(di)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Give the reasons for withdrawing the UDI-DI.", field="reason")
    if len(reason) > 2000:
        raise ValidationFailed("At most {limit} characters.", field="reason", params={"limit": 2000})
    row = session.scalar(select(CertificateDi).where(CertificateDi.di == gtin).with_for_update())
    if row is None:
        raise NotFound("This UDI-DI is not declared for any certificate.", field="di")
    cert = session.get(RegistrationCertificate, row.certificate_id)
    own = REGISTRANT in actor.roles and cert is not None and actor.organisation_id == cert.registrant_org_id
    if not (own or actor.workflow_roles & {OFFICE, ADMIN}):
        raise PermissionDenied("Only the certificate's registrant or the registration office may do this.")
    before = {"di": gtin, "number": cert.number if cert else None, "declared_by": row.declared_by}
    session.delete(row)
    session.flush()
    audit.record(session, actor, "registration.certificate.di_withdraw", "registration_certificate",
                 row.certificate_id, before=before, after={"di": None}, note=reason)
    return row
