from sqlalchemy import func, select

from medreg.core import audit, reference


def test_time_limits_are_read_from_deadlines_csv():
    row = reference.time_limit("NMPA 2018 No.83", "10")
    assert (row.limit_value, row.limit_unit) == (10, "working_days")
    row = reference.time_limit("SAMR Order 47", "92(3)", "start of technical review")
    assert (row.limit_value, row.limit_unit) == (90, "working_days")


def test_subcatalogues_are_the_22_of_the_catalogue():
    codes = [c for c, _ in reference.subcatalogues()]
    assert codes == [f"{i:02d}" for i in range(1, 23)]
    assert dict(reference.subcatalogues())["21"] == "医用软件"


def test_load_is_idempotent_and_audited(db):
    first = reference.load_all(db)
    assert first["nmpa-law/deadlines"] == len(reference.time_limits())
    assert db.scalar(select(func.count()).select_from(reference.Subcatalogue)) == 22
    assert reference.load_all(db) == {}  # unchanged files: nothing reloaded
    events = audit.history(db, "reference_dataset", "nmpa-law/deadlines")
    assert [e.action for e in events] == ["reference_loaded"]
