"""Registry services: enrolment, all-or-nothing import with its error report, tenancy, audit."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from medreg.core import audit
from medreg.core.accounts import OrgKind, Role
from medreg.core.errors import NotFound, PermissionDenied, ValidationFailed
from medreg.surveillance import queries, service
from medreg.surveillance.demo import DEVICES, to_csv
from medreg.surveillance.importer import COLUMNS
from medreg.surveillance.models import Outcome, Procedure
from tests.factories import actor_for, make_org, make_user

TODAY = date(2026, 6, 30)
DI = DEVICES[0][1]


def _row(i, **over):
    row = {c: "" for c in COLUMNS}
    row.update(
        patient_pseudonym=f"PX-{i:04d}",
        procedure_date="2025-03-01",
        device_group="coronary_stent",
        udi=f"(01){DI}(17)271231(10)LOT{i}",
        age="66",
        sex="M",
        diabetes="0",
        renal_failure="0",
        prior_mi="1",
        ejection_fraction="55",
        follow_up_end="2026-01-01",
    )
    row.update(over)
    return row


def test_import_writes_procedures_outcomes_and_one_audit_event(db, world):
    centre, sites = world
    text = to_csv([_row(1), _row(2, target_lesion_failure_date="2025-05-01")])
    batch = service.import_extract(db, sites["H1"], text, filename="h1.csv", today=TODAY)
    assert batch.rows == 2
    procs = db.scalars(select(Procedure).where(Procedure.batch_id == batch.id)).all()
    assert {p.udi_di for p in procs} == {DI} and {p.udi_lot for p in procs} == {"LOT1", "LOT2"}
    assert db.scalar(select(func.count()).select_from(Outcome)) == 1
    events = audit.history(db, "surveillance_import_batch", batch.id)
    assert [e.action for e in events] == ["surveillance.import"]


def test_a_bad_file_writes_nothing_and_reports_every_problem(db, world):
    _, sites = world
    rows = [
        _row(1),
        _row(2, age="17", udi="(01)06901234567890(17)271231"),
        _row(3, sex="X"),
        _row(4, patient_pseudonym="11010519491231002X"),
        _row(5, procedure_date="2025-13-01"),
        _row(6, death_date="2024-01-01"),
        _row(1),
    ]
    with pytest.raises(ValidationFailed) as err:
        service.import_extract(db, sites["H1"], to_csv(rows), filename="bad.csv", today=TODAY)
    report = {(e["row"], e["field"]) for e in err.value.details["errors"]}
    assert {
        (3, "age"),
        (3, "udi"),
        (4, "sex"),
        (5, "patient_pseudonym"),
        (6, "procedure_date"),
        (7, "death_date"),
        (8, "patient_pseudonym"),
    } <= report
    assert db.scalar(select(func.count()).select_from(Procedure)) == 0


def test_reimporting_the_same_procedure_is_refused(db, world):
    _, sites = world
    service.import_extract(db, sites["H1"], to_csv([_row(1)]), filename="a.csv", today=TODAY)
    with pytest.raises(ValidationFailed) as err:
        service.import_extract(db, sites["H1"], to_csv([_row(9), _row(1)]), filename="b.csv", today=TODAY)
    assert err.value.details["errors"] == [
        {
            "row": 3,
            "field": "patient_pseudonym",
            "reason": "already in the registry",
            "msgid": "already in the registry",
            "params": {},
        }
    ]


def test_group_not_enrolled_and_missing_columns(db, world):
    _, sites = world
    with pytest.raises(ValidationFailed) as err:
        service.import_extract(
            db, sites["H1"], to_csv([_row(1, device_group="tavr_valve")]), filename="x", today=TODAY
        )
    assert err.value.details["errors"][0]["field"] == "device_group"
    with pytest.raises(ValidationFailed) as err:
        service.import_extract(db, sites["H1"], "patient_pseudonym,age\nP-1,60\n", filename="x", today=TODAY)
    assert {e["field"] for e in err.value.details["errors"]} >= {"udi", "procedure_date"}


def test_tenancy_hospital_sees_its_own_centre_sees_all(db, world):
    centre, sites = world
    service.import_extract(db, sites["H1"], to_csv([_row(1), _row(2)]), filename="a", today=TODAY)
    service.import_extract(db, centre, to_csv([_row(3)]), filename="b", today=TODAY, hospital_code="H2")
    assert queries.list_procedures(db, sites["H1"])[0] == 2
    assert queries.list_procedures(db, sites["H2"])[0] == 1
    assert queries.list_procedures(db, centre)[0] == 3
    with pytest.raises(NotFound):  # another hospital's site does not exist for H1
        service.import_extract(
            db, sites["H1"], to_csv([_row(4)]), filename="c", today=TODAY, hospital_code="H2"
        )
    registrant = actor_for(make_user(db, Role.REGISTRANT, org=make_org(db, OrgKind.REGISTRANT)))
    with pytest.raises(PermissionDenied):
        queries.list_procedures(db, registrant)
    with pytest.raises(PermissionDenied):
        service.enrol_hospital(
            db, sites["H1"], organisation_id=1, code="H9", device_groups=["occluder"], enrolled_on=TODAY
        )
