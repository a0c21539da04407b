"""Electronic signatures on decisions, in the manner of 21 CFR Part 11 (subpart C).

- 21 CFR 11.200(a)(1): a non-biometric signature uses two distinct components, an
  identification code and a password. The signer is the logged-in user (the identification
  code) and must re-enter the password at every signing, even within one session.
- 21 CFR 11.50(a): the signed record shows the printed name of the signer, the date and time of
  signing and its meaning: :meth:`ElectronicSignature.describe`.
- 21 CFR 11.70: signatures are linked to their records so that they cannot be excised, copied or
  transferred: the signature stores the SHA-256 of the canonical JSON of what was signed
  (the same canonical JSON as the audit trail) and points to the hash-chained ``sign`` audit
  event written in the same transaction; :func:`verify_signature` checks all three.
- 21 CFR 11.10(e): the ``sign`` event in the audit trail is the time-stamped record of signing.

A wrong password raises ``ValidationFailed(field="password")``. The caller's transaction is
rolled back on that error, so the failed attempt cannot be stored in it: an entry point that
wants to keep failed attempts (e.g. to lock an account, 11.300(d)) must write them in a
transaction of its own after catching the error.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from medreg.core import audit
from medreg.core.accounts import User
from medreg.core.actor import Actor
from medreg.core.clock import to_shanghai
from medreg.core.db import Base
from medreg.core.errors import PermissionDenied, ValidationFailed
from medreg.core.security import constant_time_equals, verify_password


class SignatureMeaning(enum.StrEnum):
    """What a signature means (21 CFR 11.50(a)(3)). Add a member here for a new kind of decision."""

    APPROVED = "approved"  # a decision to approve (e.g. a registration, 准予注册)
    REJECTED = "rejected"  # a decision to refuse (不予注册, 不予审查)
    ACCEPTED_INTO_SPECIAL_TRACK = "accepted_into_special_track"  # 创新医疗器械特别审查 accepted
    OPINION_GIVEN = "opinion_given"  # an expert's or reviewer's opinion (专家意见, 审查意见)
    REVIEWED = "reviewed"  # a review was completed, no decision taken
    SUBMITTED = "submitted"  # an applicant's declaration on what it submits (申请人声明)
    ISSUED = "issued"  # a certificate or document was issued


SIGN_ACTION = "sign"


class ElectronicSignature(Base):
    __tablename__ = "electronic_signature"
    __table_args__ = (Index("ix_electronic_signature_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    signer_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    signer_username: Mapped[str] = mapped_column(String(64))
    signer_display_name: Mapped[str] = mapped_column(String(120))
    meaning: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime]
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    content_sha256: Mapped[str] = mapped_column(String(64))
    audit_event_id: Mapped[int] = mapped_column(ForeignKey("audit_event.id"), unique=True)

    audit_event: Mapped[audit.AuditEvent] = relationship(lazy="joined")

    def describe(self) -> str:
        """The manifestation of 21 CFR 11.50(a): printed name, date and time (Beijing time), meaning."""
        at = to_shanghai(self.signed_at).strftime("%Y-%m-%d %H:%M:%S")
        return (f"signed by {self.signer_display_name} ({self.signer_username}) at {at} "
                f"Asia/Shanghai meaning {self.meaning}")


def content_sha256(content: Any) -> str:
    """SHA-256 of the canonical JSON of ``content`` (the audit trail's canonical JSON)."""
    return audit.sha256_of(content)


def sign(session: Session, actor: Actor, *, password: str, meaning: str, entity_type: str,
         entity_id: Any, content: dict) -> ElectronicSignature:
    """Sign ``content`` (what the signer saw and decided) for one record; never commits.

    Raises ``PermissionDenied`` for the public, the system or an inactive/unknown user,
    ``ValidationFailed`` for a wrong password (field ``password``), an unknown meaning
    (field ``meaning``) or content that is not a mapping (field ``content``).
    """
    if actor.is_public or actor.user_id is None:
        raise PermissionDenied("Only a signed-in person can sign.", field="actor")
    user = session.get(User, actor.user_id)
    if user is None or not user.is_active or user.username != actor.username:
        raise PermissionDenied("This account cannot sign.", field="actor")
    if meaning not in set(SignatureMeaning):
        raise ValidationFailed("Unknown signature meaning '{meaning}'.", field="meaning",
                               params={"meaning": str(meaning)},
                               details={"allowed": [m.value for m in SignatureMeaning]})
    if not isinstance(content, dict) or not content:
        raise ValidationFailed("Nothing to sign.", field="content")
    if not password or not verify_password(user.password_hash, password):
        raise ValidationFailed("The password is not correct.", field="password")
    digest = content_sha256(content)
    meaning = SignatureMeaning(meaning).value
    event = audit.record(session, actor, SIGN_ACTION, entity_type, entity_id, after={
        "meaning": meaning, "content_sha256": digest, "signer_user_id": user.id,
        "signer_username": user.username, "signer_display_name": user.display_name,
    })
    sig = ElectronicSignature(
        signer_user_id=user.id, signer_username=user.username, signer_display_name=user.display_name,
        meaning=meaning, signed_at=event.at, entity_type=entity_type, entity_id=str(entity_id),
        content_sha256=digest, audit_event_id=event.id, audit_event=event,
    )
    session.add(sig)
    session.flush()
    return sig


def verify_signature(sig: ElectronicSignature, content: dict) -> bool:
    """True if ``content`` is what was signed and the signature still matches its audit event.

    Checks (21 CFR 11.70): the content hash; that the ``sign`` event the signature points to is
    unaltered (its own hash) and names the same signer, meaning, hash, record and time.
    A copied or edited signature row, or an edited sign event, fails."""
    if not constant_time_equals(content_sha256(content), sig.content_sha256):
        return False
    ev = sig.audit_event
    if ev is None or ev.action != SIGN_ACTION:
        return False
    recomputed = audit.event_hash(
        seq=ev.seq, at=ev.at, actor_user_id=ev.actor_user_id, actor_username=ev.actor_username,
        action=ev.action, entity_type=ev.entity_type, entity_id=ev.entity_id, before=ev.before,
        after=ev.after, note=ev.note, prev_hash=ev.prev_hash)
    after = ev.after or {}
    return (recomputed == ev.hash
            and (ev.entity_type, ev.entity_id) == (sig.entity_type, sig.entity_id)
            and ev.actor_user_id == sig.signer_user_id and ev.at == sig.signed_at
            and after.get("meaning") == sig.meaning
            and after.get("content_sha256") == sig.content_sha256
            and after.get("signer_username") == sig.signer_username
            and after.get("signer_display_name") == sig.signer_display_name)


def signatures_for(session: Session, entity_type: str, entity_id: Any) -> list[ElectronicSignature]:
    """Every signature on one record, oldest first."""
    stmt = (select(ElectronicSignature)
            .where(ElectronicSignature.entity_type == entity_type,
                   ElectronicSignature.entity_id == str(entity_id))
            .order_by(ElectronicSignature.signed_at, ElectronicSignature.id))
    return list(session.scalars(stmt))
