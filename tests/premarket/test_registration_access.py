"""Tenancy, bad input (field + reason), optimistic locking, the reviewer queue, consultations."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm.exc import StaleDataError

from medreg.core import clocks
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from medreg.premarket.innovation.models import InnovationApplication
from medreg.premarket.registration import queries, service
from tests.premarket.test_registration_world import DAY0, build, initial, to_certificate, wd


@pytest.fixture
def w(db):
    return build(db)


def test_tenancy_of_applications(db, w):
    draft = service.create_application(db, w.registrant, initial(), on=DAY0)
    sub = service.create_application(db, w.registrant, initial(product_name="Submitted"), on=DAY0)
    service.submit(db, w.registrant, sub.id, on=DAY0)
    pub = Actor.public()
    assert {a.id for a in queries.list_applications(db, w.registrant)} == {draft.id, sub.id}
    assert queries.list_applications(db, w.other) == []
    assert queries.list_applications(db, pub) == []
    assert [a.id for a in queries.list_applications(db, w.cmde)] == [sub.id]  # drafts stay private
    for who in (w.other, pub, w.cmde):
        with pytest.raises(NotFound):
            queries.get_application(db, who, draft.id)
    with pytest.raises(NotFound):
        service.submit(db, w.other, draft.id, on=DAY0)
    with pytest.raises(NotFound):
        service.update_application(db, w.other, draft.id, {"product_name": "Hijack"})
    with pytest.raises(PermissionDenied):  # a regulator sees it but cannot act as the applicant
        service.withdraw(db, w.cmde, sub.id, "not mine")
    assert queries.get_application(db, w.cmde, sub.id).status == "submitted"
    assert queries.application_history(db, w.registrant, sub.id)[0].action == "create"


def test_public_and_registrants_cannot_create_or_decide(db, w):
    with pytest.raises(PermissionDenied):
        service.create_application(db, w.cmde, initial())
    with pytest.raises(PermissionDenied):
        service.create_application(db, Actor.public(), initial())
    app = service.create_application(db, w.registrant, initial(), on=DAY0)
    service.submit(db, w.registrant, app.id, on=DAY0)
    with pytest.raises(PermissionDenied):
        service.accept(db, w.registrant, app.id)
    with pytest.raises(InvalidTransition):
        service.start_review(db, w.cmde, app.id)


@pytest.mark.parametrize(
    "data,field",
    [
        (initial(device_class="I"), "device_class"),
        (initial(subcatalogue_code="23"), "subcatalogue_code"),
        (initial(product_name=""), "product_name"),
        (initial(product_name=None), "product_name"),
        (initial(kind="transfer"), "kind"),
        (initial(colour="red"), "colour"),
        (initial(registration_id=1), "registration_id"),
        ({"kind": "change", "registration_id": 99999, "changes": {"model_spec": "X"}}, "registration_id"),
        ({"kind": "change", "registration_id": 1, "changes": {"manufacturer": "X"}}, "changes"),
        ({"kind": "renewal"}, "registration_id"),
        (initial(innovation_application_id=424242), "innovation_application_id"),
    ],
)
def test_bad_input_names_the_field(db, w, data, field):
    with pytest.raises(ValidationFailed) as e:
        service.create_application(db, w.registrant, data, on=DAY0)
    assert e.value.field == field and e.value.message


def test_innovation_must_be_approved_and_own(db, w):
    db.get(InnovationApplication, w.innovation_id).status = "terminated"
    db.flush()
    with pytest.raises(ValidationFailed) as e:
        service.create_application(db, w.registrant, initial(innovation_application_id=w.innovation_id))
    assert e.value.field == "innovation_application_id" and "terminated" in e.value.message
    with pytest.raises(ValidationFailed):
        service.create_application(db, w.other, initial(innovation_application_id=w.innovation_id))


def test_submission_needs_a_complete_dossier(db, w):
    app = service.create_application(db, w.registrant, initial(intended_use=None), on=DAY0)
    with pytest.raises(ValidationFailed) as e:
        service.submit(db, w.registrant, app.id, on=DAY0)
    assert e.value.field == "intended_use"
    service.update_application(db, w.registrant, app.id, {"intended_use": "Circulatory support"})
    service.submit(db, w.registrant, app.id, on=DAY0)
    with pytest.raises(InvalidTransition):
        service.update_application(db, w.registrant, app.id, {"intended_use": "other"})
    with pytest.raises(ValidationFailed) as e:
        service.request_corrections(db, w.cmde, app.id, "   ")
    assert e.value.field == "notes"


def test_optimistic_locking(db, w):
    app = service.create_application(db, w.registrant, initial(), on=DAY0)
    seen = app.version
    service.update_application(db, w.registrant, app.id, {"model_spec": "HM-4"}, expected_version=seen)
    with pytest.raises(Conflict) as e:
        service.submit(db, w.registrant, app.id, expected_version=seen, on=DAY0)
    assert e.value.field == "expected_version" and e.value.http_status == 409
    assert app.status == "draft"
    service.submit(db, w.registrant, app.id, expected_version=app.version, on=DAY0)


def test_concurrent_writers_hit_the_version_column(db, w, engine):
    """Two sessions load the same version; the second flush fails (StaleDataError -> HTTP 409)."""
    app = service.create_application(db, w.registrant, initial(), on=DAY0)
    db.flush()
    from medreg.premarket.registration.models import RegistrationApplication

    row = db.get(RegistrationApplication, app.id)
    # simulate another writer: bump the version behind the ORM's back
    db.execute(
        RegistrationApplication.__table__.update()
        .where(RegistrationApplication.__table__.c.id == app.id)
        .values(version=row.version + 1)
    )
    row.model_spec = "stale edit"
    with pytest.raises(StaleDataError):
        db.flush()
    db.rollback()


def test_reviewer_queue_sorted_and_overdue_flagged(db, w):
    slow = service.create_application(db, w.registrant, initial(product_name="Slow"), on=DAY0)
    service.submit(db, w.registrant, slow.id, on=DAY0)  # acceptance due wd(5)
    fast = service.create_application(db, w.registrant, initial(product_name="Later"), on=DAY0)
    service.submit(db, w.registrant, fast.id, on=wd(3))  # due wd(8)
    prio = service.create_application(
        db, w.registrant, initial(product_name="Innovative", innovation_application_id=w.innovation_id)
    )
    service.submit(db, w.registrant, prio.id, on=wd(3))  # due wd(8), priority first at equal dates
    other_ii = service.create_application(db, w.registrant, initial(device_class="II", product_name="II"))
    service.submit(db, w.registrant, other_ii.id, on=wd(1))
    q = queries.reviewer_queue(db, w.cmde, wd(6))
    assert [i.application.product_name for i in q] == ["Slow", "II", "Innovative", "Later"]
    assert [i.overdue for i in q] == [True, False, False, False]
    assert q[0].clock.due_on == wd(5) and "Art.53" in q[0].clock.legal_basis
    assert queries.reviewer_queue(db, w.registrant, wd(6)) == []
    assert queries.reviewer_queue(db, Actor.public(), wd(6)) == []


# ---- consultations (No.83 Art.17-19) -------------------------------------------------------------
def test_consultation_written_answer_with_service_target_clock(db, w):
    c = service.request_consultation(
        db,
        w.registrant,
        {
            "innovation_application_id": w.innovation_id,
            "topic": "clinical_trial_protocol",
            "question": "Is a single-arm trial with a performance goal acceptable?",
        },
        on=DAY0,
    )
    assert c.status == "submitted"
    clock = queries.consultation_clock(db, w.registrant, c.id, DAY0)
    assert clock.due_on == wd(20) and "not statutory" in clock.legal_basis
    with pytest.raises(NotFound):  # provinces neither see nor answer CMDE consultations
        service.answer_consultation(db, w.beijing, c.id, "yes")
    with pytest.raises(PermissionDenied):
        service.answer_consultation(db, w.registrant, c.id, "yes")
    with pytest.raises(NotFound):
        queries.get_consultation(db, w.other, c.id)
    service.answer_consultation(
        db, w.cmde, c.id, "Acceptable with a 6-month endpoint.", expected_version=c.version, on=wd(4)
    )
    assert (c.status, c.responded_on) == ("answered", wd(4))
    assert not clocks.clocks_for(db, "consultation", c.id)[0].is_running
    assert [x.id for x in queries.list_consultations(db, w.registrant)] == [c.id]
    assert queries.list_consultations(db, w.other) == []


def test_consultation_meeting_and_minutes(db, w):
    c = service.request_consultation(
        db,
        w.registrant,
        {"innovation_application_id": w.innovation_id, "topic": "major_safety", "question": "Haemolysis?"},
        on=DAY0,
    )
    with pytest.raises(ValidationFailed) as e:
        service.schedule_meeting(db, w.cmde, c.id, meeting_on=date(2025, 1, 1), details="room 3", on=DAY0)
    assert e.value.field == "meeting_on"
    service.schedule_meeting(db, w.cmde, c.id, meeting_on=wd(10), details="CMDE room 3, 10:00", on=wd(2))
    with pytest.raises(ValidationFailed):
        service.issue_minutes(db, w.cmde, c.id, "minutes", on=wd(9))
    service.issue_minutes(db, w.cmde, c.id, "Agreed: in-vitro haemolysis per ISO 10993-4.", on=wd(11))
    with pytest.raises(InvalidTransition):
        service.answer_consultation(db, w.cmde, c.id, "x")
    service.confirm_minutes(db, w.registrant, c.id, on=wd(12))
    assert (c.status, c.closed_on) == ("closed", wd(12))


def test_consultation_requires_an_accepted_innovative_device_and_open_case(db, w):
    with pytest.raises(ValidationFailed) as e:
        service.request_consultation(
            db,
            w.registrant,
            {"innovation_application_id": w.innovation_id, "topic": "pricing", "question": "?"},
        )
    assert e.value.field == "topic"
    with pytest.raises(ValidationFailed) as e:
        service.request_consultation(
            db, w.other, {"innovation_application_id": w.innovation_id, "topic": "other", "question": "?"}
        )
    assert e.value.field == "innovation_application_id"
    app, _ = to_certificate(db, w, w.registrant, initial(innovation_application_id=w.innovation_id))
    with pytest.raises(ValidationFailed) as e:  # after the decision: no more consultation on it
        service.request_consultation(
            db,
            w.registrant,
            {
                "innovation_application_id": w.innovation_id,
                "registration_application_id": app.id,
                "topic": "other",
                "question": "?",
            },
        )
    assert e.value.field == "registration_application_id"
    db.get(InnovationApplication, w.innovation_id).status = "terminated"
    db.flush()
    with pytest.raises(ValidationFailed):
        service.request_consultation(
            db,
            w.registrant,
            {"innovation_application_id": w.innovation_id, "topic": "other", "question": "?"},
        )
