from medreg.core import audit, audit_verify
from tests.factories import make_actor


def test_audit_record_and_verify(db):
    actor = make_actor(db, "admin", "regulator_unit")
    audit.record(db, actor, "create", "thing", 1, after={"a": 1})
    audit.record(db, actor, "edit", "thing", 1, before={"a": 1}, after={"a": 2})
    assert audit_verify.verify(db) == []
