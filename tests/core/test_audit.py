"""The hash-chained audit trail: recording, tamper detection (raw SQL behind the ORM), the CLI."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from medreg.cli import app as medreg_app
from medreg.core import audit, audit_verify
from medreg.core.actor import Actor
from medreg.core.audit import AuditEvent, AuditHead
from medreg.core.audit_cli import EXIT_CHAIN_BROKEN
from medreg.core.db import session_scope
from medreg.core.errors import ValidationFailed
from tests.factories import make_actor

EVENTS = AuditEvent.__table__
HEAD = AuditHead.__table__


@pytest.fixture
def actor(db):
    return make_actor(db, "admin", "regulator_unit")


def _chain(db: Session, actor: Actor, n: int = 5, entity: str = "thing") -> list[AuditEvent]:
    return [audit.record(db, actor, "edit", entity, 1, before={"v": i}, after={"v": i + 1},
                         note=f"step {i}") for i in range(n)]


def _sql(db: Session, sql: str, **params) -> None:
    """Tamper behind the ORM's back: plain SQL on the audit tables."""
    db.execute(text(sql), params)


def _only(problems, kind):
    assert [p.kind for p in problems] == [kind], problems
    return problems[0]


def test_record_and_verify_intact(db, actor):
    events = _chain(db, actor)
    report = audit_verify.verify_report(db)
    assert report.intact and report.problems == [] and audit_verify.verify(db) == []
    assert report.events >= 5 and report.head_seq == events[-1].seq and report.head_hash == events[-1].hash
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 5))
    assert events[1].prev_hash == events[0].hash
    assert [e.id for e in audit.history(db, "thing", "1")][-5:] == [e.id for e in events]


def test_edited_after_value_is_named(db, actor):
    events = _chain(db, actor)
    target = events[2]
    json_cast = "CAST(:a AS JSON)" if db.get_bind().dialect.name == "postgresql" else ":a"
    _sql(db, f"UPDATE audit_event SET after = {json_cast} WHERE id = :id", a='{"v": 999}', id=target.id)
    p = _only(audit_verify.verify(db), "edited")
    assert (p.seq, p.event_id, p.action, p.entity_type, p.entity_id) == (target.seq, target.id, "edit",
                                                                         "thing", "1")
    assert f"#{target.seq}" in p.message


def test_edited_actor_is_named(db, actor):
    events = _chain(db, actor)
    _sql(db, "UPDATE audit_event SET actor_username = 'someone_else' WHERE id = :id", id=events[1].id)
    p = _only(audit_verify.verify(db), "edited")
    assert (p.seq, p.event_id) == (events[1].seq, events[1].id)


def test_edited_and_rehashed_event_is_named(db, actor):
    """Recomputing the edited event's own hash does not help: the next event no longer links to it."""
    events = _chain(db, actor)
    t = events[2]
    forged = audit.event_hash(seq=t.seq, at=t.at, actor_user_id=t.actor_user_id, actor_username="mallory",
                              action=t.action, entity_type=t.entity_type, entity_id=t.entity_id,
                              before=t.before, after=t.after, note=t.note, prev_hash=t.prev_hash)
    _sql(db, "UPDATE audit_event SET actor_username = 'mallory', hash = :h WHERE id = :id", h=forged, id=t.id)
    p = _only(audit_verify.verify(db), "broken_link")
    assert (p.seq, p.event_id) == (t.seq, t.id)


def test_deleted_middle_event_is_named(db, actor):
    events = _chain(db, actor)
    _sql(db, "DELETE FROM audit_event WHERE id = :id", id=events[2].id)
    p = _only(audit_verify.verify(db), "missing")
    assert p.seq == events[2].seq and p.event_id is None
    assert f"#{events[3].seq}" in p.message and f"id {events[3].id}" in p.message


def test_deleted_last_event_is_head_mismatch(db, actor):
    events = _chain(db, actor)
    _sql(db, "DELETE FROM audit_event WHERE id = :id", id=events[-1].id)
    p = _only(audit_verify.verify(db), "head_mismatch")
    assert p.seq == events[-1].seq
    assert "deleted from the end" in p.message


def test_rehashed_last_event_is_head_mismatch(db, actor):
    events = _chain(db, actor)
    t = events[-1]
    forged = audit.event_hash(seq=t.seq, at=t.at, actor_user_id=t.actor_user_id,
                              actor_username=t.actor_username, action="approve", entity_type=t.entity_type,
                              entity_id=t.entity_id, before=t.before, after=t.after, note=t.note,
                              prev_hash=t.prev_hash)
    _sql(db, "UPDATE audit_event SET action = 'approve', hash = :h WHERE id = :id", h=forged, id=t.id)
    p = _only(audit_verify.verify(db), "head_mismatch")
    assert (p.seq, p.event_id) == (t.seq, t.id)


def test_deleted_head_row_is_reported(db, actor):
    _chain(db, actor, 2)
    _sql(db, "DELETE FROM audit_head")
    _only(audit_verify.verify(db), "head_missing")


@pytest.mark.parametrize("i, j", [(1, 2), (1, 3), (0, 4)])
def test_swapped_seq_is_reported_as_reordered(db, actor, i, j):
    events = _chain(db, actor)
    a, b = events[i], events[j]
    _sql(db, "UPDATE audit_event SET seq = :tmp WHERE id = :id", tmp=-a.seq, id=a.id)
    _sql(db, "UPDATE audit_event SET seq = :s WHERE id = :id", s=a.seq, id=b.id)
    _sql(db, "UPDATE audit_event SET seq = :s WHERE id = :id", s=b.seq, id=a.id)
    problems = audit_verify.verify(db)
    assert [p.kind for p in problems] == ["reordered", "reordered"], problems
    assert [(p.seq, p.event_id) for p in problems] == [(a.seq, b.id), (b.seq, a.id)]
    assert f"recorded as event #{b.seq}" in problems[0].message
    assert f"recorded as event #{a.seq}" in problems[1].message


def test_verify_reads_past_the_identity_map_in_small_batches(db, actor):
    events = _chain(db, actor, 7)
    assert audit_verify.verify(db, batch=2) == []
    _sql(db, "UPDATE audit_event SET note = 'x' WHERE id = :id", id=events[5].id)
    assert [(p.kind, p.event_id) for p in audit_verify.verify(db, batch=2)] == [("edited", events[5].id)]


def test_record_rejects_oversized_input(db, actor):
    with pytest.raises(ValidationFailed) as e:
        audit.record(db, actor, "edit", "thing", "x" * 65)
    assert e.value.field == "entity_id"
    with pytest.raises(ValidationFailed) as e:
        audit.record(db, actor, "edit", "thing", 1, note="n" * 2001)
    assert e.value.field == "note"
    with pytest.raises(ValidationFailed) as e:
        audit.record(db, actor, "", "thing", 1)
    assert e.value.field == "action"


class Colour(Enum):
    RED = "red"


def test_jsonable_and_canonical_json():
    beijing = timezone(timedelta(hours=8))
    value = {"b": {3, 1, 2}, "a": Colour.RED, 1: Decimal("1.50"),
             "t": datetime(2025, 1, 1, 8, tzinfo=beijing), "nan": float("nan"), "name": "心脏"}
    assert audit.jsonable(value) == {"b": [1, 2, 3], "a": "red", "1": "1.50",
                                     "t": "2025-01-01T00:00:00+00:00", "nan": "nan", "name": "心脏"}
    assert audit.canonical_json({"b": 1, "a": [1, "心"]}) == '{"a":[1,"心"],"b":1}'
    same_instant = {"t": datetime(2025, 1, 1, tzinfo=UTC)}
    assert audit.sha256_of(same_instant) == audit.sha256_of({"t": datetime(2025, 1, 1, 8, tzinfo=beijing)})


def test_record_stores_exactly_what_it_hashes(db, actor):
    ev = audit.record(db, actor, "create", "thing", 2, after={"when": datetime(2025, 3, 1, tzinfo=UTC),
                                                              "score": float("inf")})
    db.expire_all()
    assert audit_verify.verify(db) == []
    assert db.get(AuditEvent, ev.id).after == {"when": "2025-03-01T00:00:00+00:00", "score": "inf"}


def test_recent_filters_and_orders_newest_first(db, actor):
    _chain(db, actor, 3, entity="alpha")
    other = audit.record(db, actor, "create", "beta", 9)
    assert audit.recent(db, limit=1)[0].id == other.id
    alpha = audit.recent(db, entity_type="alpha", entity_id=1, limit=10)
    assert len(alpha) == 3 and alpha[0].seq > alpha[-1].seq


# --- committed rows: the CLI, a long-lived session, concurrent writers ------------------------------


@pytest.fixture
def committed(engine):
    """Lets a test commit audit rows, then removes them and restores the head exactly."""
    with engine.connect() as conn:
        head = conn.execute(select(HEAD)).first()
        max_id = conn.execute(select(func.max(EVENTS.c.id))).scalar() or 0
    yield
    with engine.begin() as conn:
        conn.execute(delete(EVENTS).where(EVENTS.c.id > max_id))
        if head is None:
            conn.execute(delete(HEAD))
        else:
            conn.execute(update(HEAD).values(last_seq=head.last_seq, last_hash=head.last_hash))


def _commit_events(n: int, entity: str = "cli_thing") -> list[AuditEvent]:
    with session_scope() as s:
        return [audit.record(s, Actor.system(), "edit", entity, 42, after={"i": i}) for i in range(n)]


def test_cli_verify_intact_then_broken_and_log(engine, committed):
    runner = CliRunner()
    events = _commit_events(3)
    with session_scope() as s:
        total = s.execute(select(func.count()).select_from(EVENTS)).scalar()
    result = runner.invoke(medreg_app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"audit chain intact: {total} events" in result.output

    result = runner.invoke(medreg_app, ["audit", "log", "--entity-type", "cli_thing", "--entity-id", "42",
                                        "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert str(events[-1].seq) in result.output and "cli_thing:42" in result.output
    assert result.output.count("cli_thing:42") == 2

    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor_username = 'mallory' WHERE id = :id"),
                     {"id": events[1].id})
    result = runner.invoke(medreg_app, ["audit", "verify"])
    assert result.exit_code == EXIT_CHAIN_BROKEN == 7
    assert "audit chain BROKEN: 1 problem(s)" in result.output
    assert f"#{events[1].seq} id={events[1].id} action=edit entity=cli_thing:42" in result.output


def test_cli_help_and_bad_options():
    runner = CliRunner()
    for args in (["audit", "--help"], ["audit", "verify", "--help"], ["audit", "log", "--help"]):
        result = runner.invoke(medreg_app, args)
        assert result.exit_code == 0 and "Usage" in result.output
    assert runner.invoke(medreg_app, ["audit", "log", "--limit", "0"]).exit_code == 2
    assert runner.invoke(medreg_app, ["audit", "log", "--entity-id", "3"]).exit_code == 2


def test_long_lived_session_sees_the_current_head(engine, committed):
    """A session kept across commits (expire_on_commit=False) must not reuse a stale head."""
    with Session(engine, expire_on_commit=False) as long_lived:
        audit.record(long_lived, Actor.system(), "edit", "job", 1)
        long_lived.commit()
        held = long_lived.get(AuditHead, 1)  # the session keeps the head object alive...
        long_lived.commit()
        _commit_events(2, entity="job")  # ...while another writer moves the head on
        ev = audit.record(long_lived, Actor.system(), "edit", "job", 1)
        long_lived.commit()
        assert held.last_seq == ev.seq
    with session_scope() as s:
        assert audit_verify.verify(s) == []


@pytest.mark.postgres_only
def test_concurrent_writers_keep_the_chain_intact(engine, committed, dialect):
    if dialect == "sqlite":
        pytest.skip("row locks (SELECT ... FOR UPDATE) need PostgreSQL")
    with engine.begin() as conn:
        base = conn.execute(select(func.max(EVENTS.c.seq))).scalar() or 0
        if base == 0:  # an empty trail: drop the head row so both writers race to create it
            conn.execute(delete(HEAD))
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def writer(name: str) -> None:
        try:
            barrier.wait()
            for i in range(25):
                with session_scope() as s:
                    audit.record(s, Actor.system(), "edit", name, i)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("w1", "w2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with session_scope() as s:
        seqs = s.scalars(select(AuditEvent.seq).where(AuditEvent.seq > base).order_by(AuditEvent.seq)).all()
        assert seqs == list(range(base + 1, base + 51))
        assert audit_verify.verify(s) == []


def test_cli_on_an_unmigrated_database_exits_1_without_traceback(engine, monkeypatch, tmp_path):
    from medreg.core import db as core_db

    monkeypatch.setenv("MEDREG_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    core_db.reset_engine()
    try:
        result = CliRunner().invoke(medreg_app, ["audit", "verify"])
    finally:
        monkeypatch.undo()
        core_db.reset_engine()
    assert result.exit_code == 1 and result.exception.__class__ is SystemExit
    assert "is the database migrated" in result.output


class _Record:
    """A stand-in for a mapped record: ``recorded_change`` only reads ``id`` and the named fields."""

    def __init__(self, **values):
        self.id = 41
        self.__dict__.update(values)


def test_recorded_change_records_before_and_after(db, actor):
    thing = _Record(status="draft", title="A")
    with audit.recorded_change(db, actor, "rename", "thing_rc", thing, ("status", "title"), note="why"):
        thing.title = "B"
        thing.status = "submitted"
    (event,) = audit.history(db, "thing_rc", 41)
    assert event.action == "rename" and event.note == "why"
    assert event.before == {"status": "draft", "title": "A"}
    assert event.after == {"status": "submitted", "title": "B"}
    assert audit_verify.verify(db) == []


def test_recorded_change_records_nothing_when_the_block_raises(db, actor):
    thing = _Record(status="draft")
    with (
        pytest.raises(ValidationFailed),
        audit.recorded_change(db, actor, "submit", "thing_rc2", thing, ("status",)),
    ):
        thing.status = "submitted"
        raise ValidationFailed("no", field="status")
    assert audit.history(db, "thing_rc2", 41) == []


def test_record_many_appends_the_same_chain_as_record(db, actor):
    """Bulk append (one head lock, one multi-row INSERT): consecutive seq, each event hashing its
    predecessor exactly as record() hashes, so verify() and tamper detection work on them too."""
    _chain(db, actor, 2)
    after = {"when": datetime(2025, 3, 3, 2, 0, tzinfo=UTC), "n": Decimal("1.5"), "none": None}
    assert audit.record_many(db, actor, "create", "bulk_thing", [(i, None, dict(after, i=i))
                                                                 for i in range(1, 4)]) == 3
    audit.record(db, actor, "edit", "thing", 1, after={"v": 9})
    rows = db.execute(select(EVENTS).order_by(EVENTS.c.seq)).all()[-4:]
    assert [r.seq for r in rows] == list(range(rows[0].seq, rows[0].seq + 4))
    assert [r.entity_id for r in rows[:3]] == ["1", "2", "3"]
    assert rows[0].after["when"] == "2025-03-03T02:00:00+00:00" and rows[0].after["n"] == "1.5"
    for r in rows[:3]:
        assert r.hash == audit.event_hash(seq=r.seq, at=r.at, actor_user_id=r.actor_user_id,
                                          actor_username=r.actor_username, action=r.action,
                                          entity_type=r.entity_type, entity_id=r.entity_id, before=r.before,
                                          after=r.after, note=r.note, prev_hash=r.prev_hash)
    assert rows[3].prev_hash == rows[2].hash and audit_verify.verify(db) == []
    assert audit.record_many(db, actor, "create", "bulk_thing", []) == 0
    _sql(db, "UPDATE audit_event SET entity_id = '99' WHERE seq = :s", s=rows[1].seq)
    assert [p.kind for p in audit_verify.verify(db)] == ["edited"]


def test_recorded_change_adds_the_facts_the_block_gives_to_after(db, actor):
    thing = _Record(status="draft")
    with audit.recorded_change(db, actor, "merge", "thing_rc3", thing, ("status",)) as extra:
        thing.status = "merged"
        extra["pair"] = [1, 2]
    (event,) = audit.history(db, "thing_rc3", 41)
    assert event.before == {"status": "draft"} and event.after == {"status": "merged", "pair": [1, 2]}


def test_the_verifier_moved_to_audit_verify_and_still_answers_as_audit(db, actor):
    from medreg.core.audit import ChainReport, verify

    _chain(db, actor, 2)
    assert verify is audit_verify.verify and audit.verify_report is audit_verify.verify_report
    assert isinstance(audit.verify_report(db), ChainReport) and verify(db) == []
    with pytest.raises(AttributeError):
        audit.no_such_name  # noqa: B018
