"""The append-only, hash-chained audit trail.

Every state change and every edit of a regulatory record calls :func:`record` in the same
transaction as the change. Each event carries the hash of the previous one, so editing,
deleting or reordering any event breaks the chain, and :func:`verify` names the first bad one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.db import Base

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime]
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(2000))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the last sequence number and hash. Locked while appending (serialises writers
    on PostgreSQL) and compared by ``verify`` so a deleted tail is detected too."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


def jsonable(value: Any) -> Any:
    """Plain JSON values: what is stored is exactly what is hashed."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    return str(value)


def snapshot(obj: Any, fields: list[str] | tuple[str, ...]) -> dict:
    """The named attributes of a record, as JSON, for ``before`` / ``after``."""
    return {f: jsonable(getattr(obj, f)) for f in fields}


def event_hash(
    *, seq: int, at: datetime, actor_user_id: int | None, actor_username: str, action: str,
    entity_type: str, entity_id: str, before: Any, after: Any, note: str | None, prev_hash: str,
) -> str:
    payload = {
        "seq": seq, "at": at.isoformat(), "actor_user_id": actor_user_id,
        "actor_username": actor_username, "action": action, "entity_type": entity_type,
        "entity_id": entity_id, "before": before, "after": after, "note": note,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _head(session: Session) -> AuditHead:
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_seq=0, last_hash=GENESIS_HASH)
        session.add(head)
        session.flush()
    return head


def record(
    session: Session, actor: Actor, action: str, entity_type: str, entity_id: Any,
    *, before: dict | None = None, after: dict | None = None, note: str | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (never commits)."""
    head = _head(session)
    at = utcnow()
    seq = head.last_seq + 1
    before_j, after_j = jsonable(before), jsonable(after)
    fields = dict(
        seq=seq, at=at, actor_user_id=actor.user_id, actor_username=actor.username, action=action,
        entity_type=entity_type, entity_id=str(entity_id), before=before_j, after=after_j,
        note=note, prev_hash=head.last_hash,
    )
    digest = event_hash(**fields)
    event = AuditEvent(**fields, hash=digest)
    session.add(event)
    head.last_seq, head.last_hash = seq, digest
    session.flush()
    return event


@dataclass(frozen=True)
class ChainProblem:
    seq: int | None
    event_id: int | None
    kind: str  # edited | broken_link | missing | reordered | head_mismatch
    message: str


def verify(session: Session, *, batch: int = 5000) -> list[ChainProblem]:
    """Walk the chain in ``seq`` order; return every problem found (empty list: intact)."""
    problems: list[ChainProblem] = []
    prev_hash, expected_seq, last = GENESIS_HASH, 1, None
    stmt = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    for ev in session.scalars(stmt):
        if ev.seq != expected_seq:
            kind = "missing" if ev.seq > expected_seq else "reordered"
            problems.append(ChainProblem(ev.seq, ev.id, kind,
                                         f"expected event #{expected_seq}, found #{ev.seq}"))
        recomputed = event_hash(
            seq=ev.seq, at=ev.at, actor_user_id=ev.actor_user_id, actor_username=ev.actor_username,
            action=ev.action, entity_type=ev.entity_type, entity_id=ev.entity_id, before=ev.before,
            after=ev.after, note=ev.note, prev_hash=ev.prev_hash,
        )
        if recomputed != ev.hash:
            problems.append(ChainProblem(ev.seq, ev.id, "edited",
                                         f"event #{ev.seq} ({ev.action} {ev.entity_type} "
                                         f"{ev.entity_id}) does not match its hash: it was edited"))
        if ev.prev_hash != prev_hash:
            problems.append(ChainProblem(ev.seq, ev.id, "broken_link",
                                         f"event #{ev.seq} does not follow the event before it "
                                         "(an event was deleted, inserted or moved)"))
        prev_hash, expected_seq, last = ev.hash, ev.seq + 1, ev
    head = session.get(AuditHead, 1)
    if head is not None and last is not None and (head.last_seq, head.last_hash) != (last.seq, last.hash):
        problems.append(ChainProblem(head.last_seq, None, "head_mismatch",
                                     f"the chain ends at #{last.seq} but the head records "
                                     f"#{head.last_seq}: events were deleted from the end"))
    if head is not None and last is None and head.last_seq:
        problems.append(ChainProblem(head.last_seq, None, "head_mismatch", "every event was deleted"))
    return problems


def history(session: Session, entity_type: str, entity_id: Any) -> list[AuditEvent]:
    """The timeline of one record, oldest first."""
    stmt = (select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id))
            .order_by(AuditEvent.seq))
    return list(session.scalars(stmt))
