"""The adverse-event case: create, validate (4xx with field), submit with the statutory clock, review,
follow-up and final versions, tenancy and the audit trail."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from medreg.core import audit
from medreg.core.clock import SHANGHAI
from medreg.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from medreg.vigilance import service
from medreg.vigilance.models import VigilanceReportCode
from medreg.vigilance.states import Status
from tests.vigilance.world import AWARE, form, make_world


@pytest.fixture
def w(db):
    return make_world(db)


def _submitted(db, w, now=None, **changes):
    data = form(device__registrant_org_id=w.registrant.organisation_id, **changes)
    case = service.create_report(db, w.hospital, data)
    return service.submit(db, w.hospital, case.id, now=now or AWARE + timedelta(days=2))


def test_create_parses_the_udi_and_indexes_the_codes(db, w):
    case = service.create_report(db, w.hospital, form())
    assert case.status == Status.DRAFT and case.reporter_role == "using_entity"
    assert case.udi_di == "06901234567892"
    assert (case.lot_number, case.serial_number) == ("LOT42", "SN007")  # from the UDI's PI
    parsed = case.versions[0].content["udi_parsed"]
    assert parsed == {
        "di": "06901234567892",
        "production_date": "2025-01-01",
        "expiry_date": "2027-12-31",
        "lot": "LOT42",
        "serial": "SN007",
    }
    codes = db.scalars(select(VigilanceReportCode).where(VigilanceReportCode.case_id == case.id)).all()
    assert {(c.field, c.annex, c.code) for c in codes} == {
        ("device_problem", "A", "A040101"),
        ("health_impact", "F", "F1901"),
        ("component", "G", "G04129"),
    }
    assert audit.history(db, "vigilance_case", case.id)[0].action == "create"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (form(codes__device_problem=["E0101"]), "codes.device_problem"),  # wrong annex for the field
        (form(codes__health_impact=["F99"]), "codes.health_impact"),  # unknown code
        (form(event__outcome="fatal"), "event.outcome"),
        (form(patient__name="Zhang San"), "patient.name"),  # no direct identifiers
        (form(event__description="Patient ID 110101199003074514 had a fall"), "event.description"),
        (form(event__actions_taken="Call 13912345678"), "event.actions_taken"),
        (form(device__udi="(01)06901234567890(17)271231"), "device.udi"),  # bad GTIN check digit
        (form(event__aware_at="2025-03-03T10:00:00"), "event.aware_at"),  # no time zone
        (form(reporter__role="registrant"), "reporter.role"),  # a hospital is a using entity
        (form(device__registrant_org_id=999999), "device.registrant_org_id"),
    ],
)
def test_bad_input_names_the_field(db, w, data, field):
    with pytest.raises(ValidationFailed) as e:
        service.create_report(db, w.hospital, data)
    assert e.value.field == field
    assert e.value.http_status == 422


def test_a_monitoring_centre_cannot_file(db, w):
    with pytest.raises(PermissionDenied):
        service.create_report(db, w.province, form())


def test_submit_needs_the_required_fields(db, w):
    case = service.create_report(db, w.hospital, form(event__description=None, device__generic_name=None))
    with pytest.raises(ValidationFailed) as e:
        service.submit(db, w.hospital, case.id, now=AWARE + timedelta(days=1))
    assert e.value.field == "device.generic_name"
    assert e.value.details["missing"] == ["device.generic_name", "event.description"]


def test_awareness_in_the_future_is_refused(db, w):
    case = service.create_report(db, w.hospital, form())
    with pytest.raises(ValidationFailed) as e:
        service.submit(db, w.hospital, case.id, now=AWARE - timedelta(hours=1))
    assert e.value.field == "event.aware_at"


def test_submit_starts_the_art25_clock_on_time(db, w):
    case = _submitted(db, w)
    # Serious injury, aware Mon 3 Mar 2025: 20 calendar days -> due 23 Mar, i.e. before 24 Mar 00:00 Beijing.
    assert case.status == Status.SUBMITTED
    assert case.report_due_at == datetime(2025, 3, 24, tzinfo=SHANGHAI)
    assert case.late is False
    # Art.29: the registrant's evaluation, 45 days from the report (5 Mar + 45 = 19 Apr).
    assert case.evaluation_due_at == datetime(2025, 4, 20, tzinfo=SHANGHAI)


def test_late_report_is_flagged(db, w):
    case = _submitted(db, w, now=datetime(2025, 3, 11, 9, 0, tzinfo=SHANGHAI), event__outcome="death")
    assert case.report_due_at == datetime(2025, 3, 11, tzinfo=SHANGHAI)  # 3 Mar + 7 = 10 Mar
    assert case.late is True


def test_no_clock_for_an_event_without_serious_harm(db, w):
    case = _submitted(db, w, event__outcome="other")
    assert case.report_due_at is None and case.late is None and case.evaluation_due_at is None


def test_return_for_correction_and_resubmit_keeps_the_first_submission(db, w):
    case = _submitted(db, w)
    first = case.first_submitted_at
    with pytest.raises(PermissionDenied):  # not the event's province
        service.return_for_correction(db, w.other_province, case.id, "wrong lot")
    service.return_for_correction(
        db, w.province, case.id, "Lot number missing", expected_version=case.version
    )
    assert case.status == Status.RETURNED and case.return_reason == "Lot number missing"
    service.update_draft(
        db,
        w.hospital,
        case.id,
        form(device__lot_number="LOT42", device__registrant_org_id=w.registrant.organisation_id),
    )
    service.submit(db, w.hospital, case.id, now=AWARE + timedelta(days=30))
    assert case.status == Status.SUBMITTED and case.first_submitted_at == first and case.late is False
    actions = [e.action for e in audit.history(db, "vigilance_case", case.id)]
    assert actions == ["create", "submit", "return_for_correction", "update", "resubmit"]


def test_return_needs_a_reason(db, w):
    case = _submitted(db, w)
    with pytest.raises(ValidationFailed) as e:
        service.return_for_correction(db, w.province, case.id, "  ")
    assert e.value.field == "reason"


def test_versions_and_close(db, w):
    case = _submitted(db, w)
    service.accept(db, w.province, case.id)
    assert case.status == Status.AT_NATIONAL
    with pytest.raises(InvalidTransition):  # Art.29: the final report first
        service.close(db, w.national, case.id)
    follow = form(device__registrant_org_id=w.registrant.organisation_id, event__outcome="death")
    service.add_version(db, w.hospital, case.id, follow, "follow_up", now=AWARE + timedelta(days=5))
    assert case.outcome == "death" and case.latest_version_no == 2
    with pytest.raises(PermissionDenied):  # the final report is the registrant's
        service.add_version(db, w.hospital, case.id, follow, "final")
    with pytest.raises(ValidationFailed) as e:
        service.add_version(db, w.registrant, case.id, follow, "final")
    assert e.value.field == "evaluation.summary"
    final = dict(
        follow,
        evaluation={"summary": "Tip fracture from a moulding defect.", "causality": "related"},
        codes={**follow["codes"], "investigation_type": ["B01"], "investigation_conclusion": ["D0101"]},
    )
    service.add_version(db, w.registrant, case.id, final, "final", now=AWARE + timedelta(days=10))
    assert [v.kind for v in case.versions] == ["initial", "follow_up", "final"]
    assert case.evaluation_late is False
    with pytest.raises(PermissionDenied):  # a provincial centre does not close
        service.close(db, w.province, case.id)
    service.close(db, w.national, case.id)
    assert case.status == Status.CLOSED


def test_tenancy(db, w):
    case = _submitted(db, w)
    draft = service.create_report(
        db, w.hospital, form(device__registrant_org_id=w.registrant.organisation_id)
    )
    for who in (w.hospital, w.registrant, w.province, w.other_province, w.national, w.admin):
        assert service.load(db, who, case.id).id == case.id
    for who in (w.other_hospital, w.other_registrant, w.public):
        with pytest.raises(NotFound):
            service.load(db, who, case.id)
    for who in (w.registrant, w.province, w.national, w.other_hospital):  # drafts are the reporter's
        with pytest.raises(NotFound):
            service.load(db, who, draft.id)
    with pytest.raises(PermissionDenied):
        service.accept(db, w.registrant, case.id)


def test_optimistic_locking(db, w):
    case = _submitted(db, w)
    with pytest.raises(Conflict):
        service.accept(db, w.province, case.id, expected_version=case.version - 1)


def test_edit_only_while_editable(db, w):
    case = _submitted(db, w)
    with pytest.raises(InvalidTransition):
        service.update_draft(db, w.hospital, case.id, form())


def test_event_date_in_the_future(db, w):
    case = service.create_report(db, w.hospital, form(event__event_date=str(date(2025, 3, 9))))
    with pytest.raises(ValidationFailed) as e:
        service.submit(db, w.hospital, case.id, now=AWARE + timedelta(days=1))
    assert e.value.field == "event.event_date"
