"""The append-only, hash-chained audit trail.

Every state change and every edit of a regulatory record calls :func:`record` in the same
transaction as the change. Each event carries the hash of the previous one, so editing,
deleting or reordering any event breaks the chain, and :func:`verify` names the events at fault.
See ``docs/audit.md`` for the canonical JSON that is hashed and for what the chain can and
cannot prove.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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


def canonical_json(value: Any) -> str:
    """The one canonical JSON text of a value (sorted keys, no spaces, UTF-8 characters kept).

    Used for audit event hashes and for the content hash of electronic signatures."""
    return json.dumps(jsonable(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)


def sha256_of(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


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


def record(
    session: Session, actor: Actor, action: str, entity_type: str, entity_id: Any,
    *, before: dict | None = None, after: dict | None = None, note: str | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (never commits)."""
    for value, name in ((action, "action"), (entity_type, "entity_type"), (str(entity_id), "entity_id"),
                        (actor.username, "actor")):
        _check_name(value, name)
    if note is not None and len(note) > NOTE_MAX:
        _check_name(note, "note", NOTE_MAX)
    head = _head(session)
    seq = head.last_seq + 1
    fields = dict(
        seq=seq, at=utcnow(), actor_user_id=actor.user_id, actor_username=actor.username,
        action=action, entity_type=entity_type, entity_id=str(entity_id), before=jsonable(before),
        after=jsonable(after), note=note, prev_hash=head.last_hash,
    )
    digest = event_hash(**fields)
    event = AuditEvent(**fields, hash=digest)
    session.add(event)
    head.last_seq, head.last_hash = seq, digest
    session.flush()
    return event


@contextmanager
def recorded_change(
    session: Session, actor: Actor, action: str, entity_type: str, obj: Any,
    fields: list[str] | tuple[str, ...], *, note: str | None = None,
) -> Iterator[None]:
    """Audit the change the ``with`` block makes to ``obj``: the named ``fields`` before it, the block
    mutates, then flush and :func:`record` before/after (the services' one pattern for an edit or a
    transition). Nothing is recorded if the block raises."""
    before = snapshot(obj, fields)
    yield
    session.flush()
    record(session, actor, action, entity_type, obj.id, before=before, after=snapshot(obj, fields), note=note)


def record_many(
    session: Session, actor: Actor, action: str, entity_type: str,
    events: list[tuple[Any, dict | None, dict | None]], *, note: str | None = None,
) -> int:
    """Append one event per ``(entity_id, before, after)`` in the caller's transaction (never commits).

    The same chain as :func:`record` (one head lock, consecutive ``seq``, each event hashing its
    predecessor), written with one multi-row INSERT: for bulk imports that must audit every record.
    Returns the number of events appended."""
    for value, name in ((action, "action"), (entity_type, "entity_type"), (actor.username, "actor")):
        _check_name(value, name)
    if note is not None and len(note) > NOTE_MAX:
        _check_name(note, "note", NOTE_MAX)
    if not events:
        return 0
    head = _head(session)
    seq, prev, at = head.last_seq, head.last_hash, utcnow()
    at_json = jsonable(at)
    rows = []
    for entity_id, before, after in events:
        _check_name(str(entity_id), "entity_id")
        seq += 1
        fields = dict(
            seq=seq, at=at_json, actor_user_id=actor.user_id, actor_username=actor.username, action=action,
            entity_type=entity_type, entity_id=str(entity_id), before=jsonable(before),
            after=jsonable(after), note=note, prev_hash=prev,
        )
        # the values are plain JSON already: the canonical text of event_hash without a second walk
        prev = hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                                         allow_nan=False).encode("utf-8")).hexdigest()
        rows.append(dict(fields, at=at, hash=prev))
    insert_rows(session, AuditEvent.__table__, rows)
    head.last_seq, head.last_hash = seq, prev
    session.flush()
    return len(rows)


@dataclass(frozen=True)
class ChainProblem:
    seq: int | None
    event_id: int | None
    kind: str  # edited | reordered | missing | broken_link | head_mismatch | head_missing
    message: str
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None


@dataclass
class ChainReport:
    events: int = 0
    head_seq: int | None = None
    head_hash: str | None = None
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(session: Session, *, batch: int = 5000) -> list[ChainProblem]:
    """Walk the chain in ``seq`` order; return every problem found (empty list: intact)."""
    return verify_report(session, batch=batch).problems


def verify_report(session: Session, *, batch: int = 5000) -> ChainReport:
    """Like :func:`verify`, with the number of events and the head (for the CLI).

    Reads plain rows, never ORM objects, so events already loaded in the session cannot hide
    changes made to the table behind its back."""
    return _Walker(session, batch).run()


def _problem(row: Any, kind: str, message: str, seq: int | None = None) -> ChainProblem:
    return ChainProblem(row.seq if seq is None else seq, row.id, kind, message,
                        row.action, row.entity_type, row.entity_id)


def _label(row: Any) -> str:
    return f"event #{row.seq} (id {row.id}, {row.action} {row.entity_type} {row.entity_id})"


class _Walker:
    def __init__(self, session: Session, batch: int):
        self.session, self.batch = session, batch
        self.table = AuditEvent.__table__

    def _recompute(self, row: Any, seq: int | None = None) -> str:
        return event_hash(
            seq=row.seq if seq is None else seq, at=row.at, actor_user_id=row.actor_user_id,
            actor_username=row.actor_username, action=row.action, entity_type=row.entity_type,
            entity_id=row.entity_id, before=row.before, after=row.after, note=row.note,
            prev_hash=row.prev_hash)

    def _by_hash(self, digest: str) -> Any:
        return self.session.execute(select(self.table).where(self.table.c.hash == digest).limit(1)).first()

    def _position(self, row: Any, depth: int = 64) -> int | None:
        """Where ``row`` was written: follow prev_hash links back to an event that still verifies
        (or to the genesis), then replay the positions forward. None if the row was edited."""
        pending, cur = [], row
        for _ in range(depth):
            if self._recompute(cur) == cur.hash:
                base = cur.seq
                break
            pending.append(cur)
            if cur.prev_hash == GENESIS_HASH:
                base = 0
                break
            cur = self._by_hash(cur.prev_hash)
            if cur is None:
                return None
        else:
            return None
        for pos, r in enumerate(reversed(pending), start=base + 1):
            if self._recompute(r, pos) != r.hash:
                return None
        return base + len(pending)

    def _rows(self):
        c, last_seq = self.table.c, None
        while True:
            stmt = select(self.table).order_by(c.seq).limit(self.batch)
            if last_seq is not None:
                stmt = stmt.where(c.seq > last_seq)
            rows = self.session.execute(stmt).all()
            yield from rows
            if len(rows) < self.batch:
                return
            last_seq = rows[-1].seq

    def run(self) -> ChainReport:
        report = ChainReport()
        out = report.problems
        prev_hash, expected, last = GENESIS_HASH, 1, None
        for row in self._rows():
            report.events += 1
            explained = False
            if row.seq != expected:
                explained = True
                out.append(ChainProblem(expected, None, "missing", f"event(s) #{expected}..#{row.seq - 1} "
                                        f"are missing: deleted before {_label(row)}")
                           if row.seq > expected else
                           _problem(row, "reordered", f"{_label(row)} repeats a sequence number"))
            if self._recompute(row) != row.hash:
                explained = True
                pos = self._position(row)
                if pos is not None and pos != row.seq:
                    out.append(_problem(row, "reordered", f"{_label(row)} was recorded as event #{pos}: "
                                        "events were reordered"))
                else:
                    out.append(_problem(row, "edited", f"{_label(row)} does not match its hash: "
                                        "it was edited"))
            if row.prev_hash != prev_hash and not explained:
                pred = self._by_hash(row.prev_hash) if row.prev_hash != GENESIS_HASH else None
                pred_pos = self._position(pred) if pred is not None else (
                    0 if row.prev_hash == GENESIS_HASH else None)
                if pred_pos != row.seq - 1:  # a moved predecessor is reported on its own row
                    suspect = last or row
                    out.append(_problem(suspect, "broken_link", f"{_label(suspect)} was replaced or "
                                        f"edited and re-hashed: event #{row.seq} does not link to it"))
            prev_hash, expected, last = row.hash, row.seq + 1, row
        self._check_head(report, last)
        return report

    def _check_head(self, report: ChainReport, last: Any) -> None:
        head = self.session.execute(select(AuditHead.__table__).where(AuditHead.__table__.c.id == 1)).first()
        out = report.problems
        if head is None:
            if last is not None:
                out.append(ChainProblem(None, None, "head_missing", "the audit head row was deleted: "
                                        "the end of the chain is unprotected"))
            return
        report.head_seq, report.head_hash = head.last_seq, head.last_hash
        last_seq = last.seq if last is not None else 0
        if head.last_seq > last_seq:
            out.append(ChainProblem(last_seq + 1, None, "head_mismatch",
                                    f"event(s) #{last_seq + 1}..#{head.last_seq} were deleted from the "
                                    f"end (the head records #{head.last_seq})"))
        elif head.last_seq < last_seq:
            out.append(_problem(last, "head_mismatch", f"{_label(last)} lies beyond the head "
                                f"(#{head.last_seq}): events were appended outside record()"))
        elif last is not None and head.last_hash != last.hash and not self._moved_to_end(head):
            out.append(_problem(last, "head_mismatch", f"{_label(last)} was replaced or edited and "
                                "re-hashed: the head records another hash"))


    def _moved_to_end(self, head: Any) -> bool:
        """The event the head names still exists at its recorded position (it was moved: reported)."""
        named = self._by_hash(head.last_hash)
        return named is not None and self._position(named) == head.last_seq


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
