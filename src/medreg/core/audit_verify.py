"""Verifying the audit hash chain (``core/audit.py``): walk the events in ``seq`` order, recompute each
hash and link, compare the head, and name every event at fault with what happened to it (edited,
reordered, missing, broken link, head mismatch). ``medreg audit verify`` and the ``audit.verify`` job
call :func:`verify_report`. ``audit.verify`` / ``audit.verify_report`` still resolve here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core.audit import GENESIS_HASH, AuditEvent, AuditHead, event_hash


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
