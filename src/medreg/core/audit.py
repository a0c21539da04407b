"""The append-only, hash-chained audit trail.

Every state change and every edit of a regulatory record calls :func:`record` in the same
transaction as the change. Each event carries the hash of the previous one, so editing,
deleting or reordering any event breaks the chain, and ``audit_verify.verify`` names the events at
fault.
See ``docs/audit.md`` for the canonical JSON that is hashed and for what the chain can and
cannot prove.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from medreg.core.actor import Actor
from medreg.core.bulkinsert import insert_rows
from medreg.core.clock import utcnow
from medreg.core.db import Base
from medreg.core.errors import ValidationFailed

GENESIS_HASH = "0" * 64
NAME_MAX, NOTE_MAX = 64, 2000  # column widths below; checked before the database sees them


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime]
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_username: Mapped[str] = mapped_column(String(NAME_MAX))
    action: Mapped[str] = mapped_column(String(NAME_MAX))
    entity_type: Mapped[str] = mapped_column(String(NAME_MAX))
    entity_id: Mapped[str] = mapped_column(String(NAME_MAX))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(NOTE_MAX))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), index=True)  # verify() follows prev_hash links


class AuditHead(Base):
    """One row: the last sequence number and hash. Locked while appending (serialises writers
    on PostgreSQL) and compared by ``verify`` so a deleted tail is detected too."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


_PLAIN = frozenset({str, int, bool})


def jsonable(value: Any) -> Any:
    """Plain JSON values: what is stored is exactly what is hashed.

    Tz-aware datetimes are normalised to UTC (a value read back from the database hashes the
    same as the one written); non-finite floats become strings (PostgreSQL's JSON rejects NaN).
    """
    if value is None or type(value) in _PLAIN:  # the common case first (enums are subclasses: not here)
        return value
    if isinstance(value, Enum):
        return jsonable(value.value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if hasattr(value, "model_dump"):  # Pydantic models
        return jsonable(value.model_dump(mode="json"))
    return str(value)


def _dumps(plain: Any) -> str:
    return json.dumps(plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _sha256_plain(plain: Any) -> str:
    """SHA-256 of the canonical JSON text of a value that is plain JSON already (no second walk)."""
    return hashlib.sha256(_dumps(plain).encode("utf-8")).hexdigest()


def canonical_json(value: Any) -> str:
    """The one canonical JSON text of a value (sorted keys, no spaces, UTF-8 characters kept).

    Used for audit event hashes and for the content hash of electronic signatures."""
    return _dumps(jsonable(value))


def sha256_of(value: Any) -> str:
    return _sha256_plain(jsonable(value))


def snapshot(obj: Any, fields: list[str] | tuple[str, ...]) -> dict:
    """The named attributes of a record, as JSON, for ``before`` / ``after``."""
    return {f: jsonable(getattr(obj, f)) for f in fields}


def event_hash(
    *, seq: int, at: datetime, actor_user_id: int | None, actor_username: str, action: str,
    entity_type: str, entity_id: str, before: Any, after: Any, note: str | None, prev_hash: str,
) -> str:
    return sha256_of({
        "seq": seq, "at": at, "actor_user_id": actor_user_id,
        "actor_username": actor_username, "action": action, "entity_type": entity_type,
        "entity_id": entity_id, "before": before, "after": after, "note": note,
        "prev_hash": prev_hash,
    })


def _head(session: Session) -> AuditHead:
    """The head row, locked FOR UPDATE and re-read from the database.

    ``populate_existing`` matters: a session that keeps objects across commits
    (``expire_on_commit=False``) would otherwise reuse a stale ``last_seq``. A missing head is
    created with INSERT ... ON CONFLICT DO NOTHING so two first writers cannot both create it.
    """
    stmt = (select(AuditHead).where(AuditHead.id == 1).with_for_update()
            .execution_options(populate_existing=True))
    head = session.execute(stmt).scalar_one_or_none()
    if head is None:
        dialect = session.get_bind().dialect.name
        values = {"id": 1, "last_seq": 0, "last_hash": GENESIS_HASH}
        if dialect in ("postgresql", "sqlite"):
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            session.execute(insert(AuditHead).values(**values).on_conflict_do_nothing(index_elements=["id"]))
        else:  # pragma: no cover - other databases are not supported targets
            session.add(AuditHead(**values))
            session.flush()
        head = session.execute(stmt).scalar_one()
    return head


def _check_name(value: str, name: str, limit: int = NAME_MAX) -> None:
    if not value or len(value) > limit:
        raise ValidationFailed("'{name}' must be 1 to {limit} characters.", field=name,
                               params={"name": name, "limit": limit})


def _check_event(actor: Actor, action: str, entity_type: str, note: str | None) -> None:
    for value, name in ((action, "action"), (entity_type, "entity_type"), (actor.username, "actor")):
        _check_name(value, name)
    if note is not None and len(note) > NOTE_MAX:
        _check_name(note, "note", NOTE_MAX)


def _append(session: Session, actor: Actor, action: str, entity_type: str,
            events: list[tuple[Any, dict | None, dict | None]], note: str | None) -> list[dict]:
    """The rows of ``events`` as the next links of the chain (one head lock, consecutive ``seq``, each
    event hashing its predecessor with :func:`event_hash`'s canonical text); moves the head. The one
    hashing path of :func:`record` and :func:`record_many`."""
    for entity_id, _, _ in events:
        _check_name(str(entity_id), "entity_id")
    head = _head(session)
    seq, prev, at = head.last_seq, head.last_hash, utcnow()
    at_json = jsonable(at)
    rows = []
    for entity_id, before, after in events:
        seq += 1
        fields = dict(
            seq=seq, at=at_json, actor_user_id=actor.user_id, actor_username=actor.username, action=action,
            entity_type=entity_type, entity_id=str(entity_id), before=jsonable(before),
            after=jsonable(after), note=note, prev_hash=prev,
        )
        prev = _sha256_plain(fields)  # == event_hash(**fields): the values are plain JSON already
        rows.append(dict(fields, at=at, hash=prev))
    head.last_seq, head.last_hash = seq, prev
    return rows


def record(
    session: Session, actor: Actor, action: str, entity_type: str, entity_id: Any,
    *, before: dict | None = None, after: dict | None = None, note: str | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (never commits)."""
    _check_event(actor, action, entity_type, note)
    event = AuditEvent(**_append(session, actor, action, entity_type, [(entity_id, before, after)], note)[0])
    session.add(event)
    session.flush()
    return event


@contextmanager
def recorded_change(
    session: Session, actor: Actor, action: str, entity_type: str, obj: Any,
    fields: list[str] | tuple[str, ...], *, note: str | None = None,
) -> Iterator[dict]:
    """Audit the change the ``with`` block makes to ``obj``: the named ``fields`` before it, the block
    mutates, then flush and :func:`record` before/after (the services' one pattern for an edit or a
    transition). The block may put more facts of the change into the yielded dict: they are added to
    ``after``. Nothing is recorded if the block raises."""
    before = snapshot(obj, fields)
    extra: dict = {}
    yield extra
    session.flush()
    record(session, actor, action, entity_type, obj.id, before=before,
           after={**snapshot(obj, fields), **extra}, note=note)


def record_many(
    session: Session, actor: Actor, action: str, entity_type: str,
    events: list[tuple[Any, dict | None, dict | None]], *, note: str | None = None,
) -> int:
    """Append one event per ``(entity_id, before, after)`` in the caller's transaction (never commits).

    The same chain as :func:`record` (one head lock, consecutive ``seq``, each event hashing its
    predecessor), written with one multi-row INSERT: for bulk imports that must audit every record.
    Returns the number of events appended."""
    _check_event(actor, action, entity_type, note)
    if not events:
        return 0
    rows = _append(session, actor, action, entity_type, events, note)
    insert_rows(session, AuditEvent.__table__, rows)
    session.flush()
    return len(rows)


def history(session: Session, entity_type: str, entity_id: Any) -> list[AuditEvent]:
    """The timeline of one record, oldest first."""
    stmt = (select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id))
            .order_by(AuditEvent.seq))
    return list(session.scalars(stmt))


def recent(session: Session, *, entity_type: str | None = None, entity_id: Any = None,
           limit: int = 50) -> list[AuditEvent]:
    """The newest events first, optionally of one entity type and id (for ``medreg audit log``)."""
    stmt = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if entity_type is not None:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        stmt = stmt.where(AuditEvent.entity_id == str(entity_id))
    return list(session.scalars(stmt))


_VERIFIER = frozenset({"verify", "verify_report", "ChainProblem", "ChainReport"})


def __getattr__(name: str) -> Any:
    """The chain verifier lives in ``audit_verify.py``; ``audit.verify`` and the other names still work."""
    if name in _VERIFIER:
        from medreg.core import audit_verify

        return getattr(audit_verify, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
