"""Electronic signatures (21 CFR Part 11 style): who may sign, the password, the record link."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from medreg.core import audit, audit_verify
from medreg.core.accounts import OrgKind
from medreg.core.actor import Actor
from medreg.core.errors import PermissionDenied, ValidationFailed
from medreg.core.signatures import (
    ElectronicSignature,
    SignatureMeaning,
    content_sha256,
    sign,
    signatures_for,
    verify_signature,
)
from tests.factories import PASSWORD, actor_for, make_org, make_user

CONTENT = {"application": "CX2025001", "decision": "accepted", "reasons": ["新颖", "显著临床价值"],
           "decided_on": "2025-06-30"}


@pytest.fixture
def reviewer(db):
    return make_user(db, "reviewer", org=make_org(db, OrgKind.REGULATOR_UNIT))


def _sign(db, actor, password=PASSWORD, meaning="accepted_into_special_track", entity_id=7, content=None):
    return sign(db, actor, password=password, meaning=meaning, entity_type="innovation_application",
                entity_id=entity_id, content=CONTENT if content is None else content)


def _count(db, model) -> int:
    return db.execute(select(func.count()).select_from(model)).scalar()


def test_sign_with_the_right_password(db, reviewer):
    sig = _sign(db, actor_for(reviewer))
    assert sig.id is not None and sig.signer_user_id == reviewer.id
    assert (sig.signer_username, sig.signer_display_name) == (reviewer.username, reviewer.display_name)
    assert sig.meaning == SignatureMeaning.ACCEPTED_INTO_SPECIAL_TRACK == "accepted_into_special_track"
    assert (sig.entity_type, sig.entity_id) == ("innovation_application", "7")
    assert sig.signed_at.tzinfo is not None
    expected = hashlib.sha256(json.dumps(CONTENT, sort_keys=True, ensure_ascii=False,
                                         separators=(",", ":")).encode()).hexdigest()
    assert sig.content_sha256 == expected == content_sha256(CONTENT)
    assert verify_signature(sig, CONTENT)


def test_signing_writes_a_sign_audit_event_in_the_chain(db, reviewer):
    sig = _sign(db, actor_for(reviewer))
    events = audit.history(db, "innovation_application", 7)
    ev = events[-1]
    assert ev.action == "sign" and sig.audit_event_id == ev.id and ev.at == sig.signed_at
    assert ev.actor_user_id == reviewer.id
    assert ev.after["meaning"] == "accepted_into_special_track"
    assert ev.after["content_sha256"] == sig.content_sha256
    assert audit_verify.verify(db) == []


def test_wrong_password_is_refused_and_nothing_is_written(db, reviewer):
    before_sigs, before_events = _count(db, ElectronicSignature), _count(db, audit.AuditEvent)
    for bad in ("not the password", ""):
        with pytest.raises(ValidationFailed) as e:
            _sign(db, actor_for(reviewer), password=bad)
        assert e.value.field == "password"
    assert (_count(db, ElectronicSignature), _count(db, audit.AuditEvent)) == (before_sigs, before_events)


def test_public_system_and_inactive_users_cannot_sign(db, reviewer):
    for actor in (Actor.public(), Actor.system()):
        with pytest.raises(PermissionDenied):
            _sign(db, actor)
    actor = actor_for(reviewer)
    reviewer.is_active = False
    db.flush()
    with pytest.raises(PermissionDenied):
        _sign(db, actor)


def test_an_actor_that_does_not_match_its_user_cannot_sign(db, reviewer):
    forged = Actor(user_id=reviewer.id, username="someone_else", roles=frozenset({"reviewer"}))
    with pytest.raises(PermissionDenied):
        _sign(db, forged)


def test_bad_meaning_and_empty_content_are_refused(db, reviewer):
    with pytest.raises(ValidationFailed) as e:
        _sign(db, actor_for(reviewer), meaning="looks fine")
    assert e.value.field == "meaning" and "approved" in e.value.details["allowed"]
    with pytest.raises(ValidationFailed) as e:
        _sign(db, actor_for(reviewer), content={})
    assert e.value.field == "content"


def test_tampered_content_is_detected(db, reviewer):
    sig = _sign(db, actor_for(reviewer))
    assert not verify_signature(sig, {**CONTENT, "decision": "rejected"})
    assert not verify_signature(sig, {k: v for k, v in CONTENT.items() if k != "reasons"})
    assert verify_signature(sig, dict(reversed(list(CONTENT.items()))))  # key order does not matter


def test_datetimes_in_content_verify_after_a_round_trip(db, reviewer):
    beijing = timezone(timedelta(hours=8))
    signed = {"decided_at": datetime(2025, 6, 30, 16, 0, tzinfo=beijing)}
    sig = _sign(db, actor_for(reviewer), content=signed)
    assert verify_signature(sig, {"decided_at": datetime(2025, 6, 30, 8, 0, tzinfo=UTC)})


def _reload(db, sig):
    db.expire_all()
    return db.get(ElectronicSignature, sig.id)


def test_a_signature_row_edited_or_moved_behind_the_orm_fails(db, reviewer):
    sig = _sign(db, actor_for(reviewer))
    db.execute(text("UPDATE electronic_signature SET meaning = 'approved' WHERE id = :id"), {"id": sig.id})
    assert not verify_signature(_reload(db, sig), CONTENT)
    db.execute(text("UPDATE electronic_signature SET meaning = :m, entity_id = '8' WHERE id = :id"),
               {"m": "accepted_into_special_track", "id": sig.id})
    assert not verify_signature(_reload(db, sig), CONTENT)  # transferred to another record (11.70)
    db.execute(text("UPDATE electronic_signature SET entity_id = '7' WHERE id = :id"), {"id": sig.id})
    assert verify_signature(_reload(db, sig), CONTENT)


def test_an_edited_sign_event_fails(db, reviewer):
    sig = _sign(db, actor_for(reviewer))
    db.execute(text("UPDATE audit_event SET note = 'x' WHERE id = :id"), {"id": sig.audit_event_id})
    assert not verify_signature(_reload(db, sig), CONTENT)


def test_signatures_for_one_record_oldest_first(db, reviewer):
    other = make_user(db, "expert")
    first = _sign(db, actor_for(reviewer))
    second = _sign(db, actor_for(other), meaning="opinion_given")
    _sign(db, actor_for(other), meaning="opinion_given", entity_id=8)
    assert [s.id for s in signatures_for(db, "innovation_application", 7)] == [first.id, second.id]
    assert signatures_for(db, "innovation_application", 99) == []


def test_describe_is_the_part_11_manifestation():
    sig = ElectronicSignature(signer_username="wang.li", signer_display_name="王立", meaning="approved",
                              signed_at=datetime(2025, 1, 1, 0, 30, tzinfo=UTC))
    assert sig.describe() == "signed by 王立 (wang.li) at 2025-01-01 08:30:00 Asia/Shanghai meaning approved"
