"""沟通交流: consultations of accepted innovative devices with CMDE (No.83 Art.17-19; Order 47 Art.70;
CMDE 2025 No.7 Art.29-34).

No statutory time limit exists for the answer (No.83 Art.19 says 及时, "promptly"): the clock uses the
medreg service target ``rules.CONSULTATION_SERVICE_TARGET`` and says so in its legal basis.
Re-exported by ``medreg.premarket.registration.service``; never commits.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from medreg.core import audit
from medreg.core.actor import Actor
from medreg.core.errors import NotFound, PermissionDenied, ValidationFailed
from medreg.premarket.registration import rules
from medreg.premarket.registration import service_support as s
from medreg.premarket.registration.models import Consultation, RegistrationApplication
from medreg.premarket.registration.schemas import ConsultationCreate
from medreg.premarket.registration.states import (
    CONSULTABLE,
    CONSULTATION_TABLE,
    OFFICE,
    REGISTRANT,
    ConsultationStatus,
)

ENTITY = "consultation"
CLOCK = ("registration.consultation_answer", rules.CONSULTATION_SERVICE_TARGET)
FIELDS = (
    "innovation_application_id",
    "registration_application_id",
    "registrant_org_id",
    "topic",
    "status",
    "meeting_on",
    "submitted_on",
    "responded_on",
    "closed_on",
)


def visible(actor: Actor, c: Consultation) -> bool:
    """The applicant's own; CMDE (regulator units) all. Provinces and the public: none."""
    if REGISTRANT in actor.roles and actor.organisation_id == c.registrant_org_id:
        return True
    return bool(actor.workflow_roles & {OFFICE, "admin"})


def load(
    session: Session, actor: Actor, consultation_id: Any, expected_version: int | None = None
) -> Consultation:
    c = session.get(Consultation, consultation_id) if isinstance(consultation_id, int) else None
    if c is None or not visible(actor, c):
        raise NotFound(
            "Consultation {id} was not found.", field="consultation_id", params={"id": consultation_id}
        )
    s.check_version(c, expected_version)
    return c


def _act(session: Session, actor: Actor, c: Consultation, action: str, mutate, note: str | None = None):
    target = CONSULTATION_TABLE.next_status(c.status, action, actor.workflow_roles)
    if CONSULTATION_TABLE.get(c.status, action).roles == {REGISTRANT}:
        if actor.organisation_id != c.registrant_org_id:
            raise PermissionDenied("Only the applicant may do this.", field="actor")
    elif OFFICE not in actor.workflow_roles:  # CMDE answers (No.83 Art.17-19), not the provinces
        raise PermissionDenied("Consultations are answered by CMDE (No.83 Art.17).", field="actor")
    with audit.recorded_change(session, actor, action, ENTITY, c, FIELDS, note=note):
        mutate(c)
        c.status = ConsultationStatus(target).value
    return c


def request_consultation(
    session: Session, actor: Actor, data: ConsultationCreate | dict, *, on: date | None = None
) -> Consultation:
    """No.83 Art.18: the applicant of an accepted innovative device asks CMDE about a listed topic,
    before acceptance of its registration or during the technical review."""
    today, d = s.day(on), s.parse(ConsultationCreate, data)
    if REGISTRANT not in actor.roles or actor.organisation_id is None:
        raise PermissionDenied("Only the applicant may ask for a consultation.", field="actor")
    inn = s.innovation_for(session, actor, d.innovation_application_id, "innovation_application_id")
    if d.registration_application_id is not None:
        reg = session.get(RegistrationApplication, d.registration_application_id)
        if (
            reg is None
            or reg.registrant_org_id != actor.organisation_id
            or reg.innovation_application_id != inn.id
        ):
            raise ValidationFailed(
                "The registration application is not yours or not of this innovative device.",
                field="registration_application_id",
            )
        if reg.status not in CONSULTABLE:
            raise ValidationFailed(
                "Consultations are held before acceptance and during the technical "
                "review (No.83 Art.17-18); this application is '{status}'.",
                field="registration_application_id",
                params={"status": reg.status},
            )
    c = Consultation(
        innovation_application_id=inn.id,
        registration_application_id=d.registration_application_id,
        registrant_org_id=actor.organisation_id,
        topic=d.topic.value,
        question=d.question,
        submitted_on=today,
    )
    session.add(c)
    session.flush()
    audit.record(session, actor, "request", ENTITY, c.id, after=audit.snapshot(c, FIELDS))
    s.start(session, c, CLOCK, today, subject_type=ENTITY)
    return c


def _respond(
    session: Session,
    actor: Actor,
    consultation_id: int,
    action: str,
    answer: str,
    expected_version: int | None,
    on: date | None,
    field: str = "answer",
    **extra,
) -> Consultation:
    today, answer = s.day(on), s.text(answer, field)
    c = load(session, actor, consultation_id, expected_version)

    def mutate(x):
        x.answer, x.responded_on = answer, today
        for k, v in extra.items():
            setattr(x, k, v)
        if action != "schedule_meeting":
            x.closed_on = today

    _act(session, actor, c, action, mutate)
    s.stop(session, c, CLOCK, today, subject_type=ENTITY)
    return c


def answer_consultation(
    session: Session,
    actor: Actor,
    consultation_id: int,
    answer: str,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> Consultation:
    """No.83 Art.19: CMDE answers in writing (回复单)."""
    return _respond(session, actor, consultation_id, "answer", answer, expected_version, on)


def decline_consultation(
    session: Session,
    actor: Actor,
    consultation_id: int,
    reasons: str,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> Consultation:
    """CMDE 2025 No.7 Art.31: not agreed, with the reasons."""
    return _respond(session, actor, consultation_id, "decline", reasons, expected_version, on, "reasons")


def schedule_meeting(
    session: Session,
    actor: Actor,
    consultation_id: int,
    *,
    meeting_on: date,
    details: str,
    expected_version: int | None = None,
    on: date | None = None,
) -> Consultation:
    """No.83 Art.19 / CMDE Art.31: agreed; form, time, place and participants are set."""
    today = s.day(on)
    if not isinstance(meeting_on, date) or meeting_on < today:
        raise ValidationFailed("The meeting cannot be before today.", field="meeting_on")
    return _respond(
        session,
        actor,
        consultation_id,
        "schedule_meeting",
        details,
        expected_version,
        on,
        "details",
        meeting_on=meeting_on,
        meeting_details=details.strip(),
    )


def issue_minutes(
    session: Session,
    actor: Actor,
    consultation_id: int,
    minutes: str,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> Consultation:
    """No.83 Art.19 / CMDE Art.34: the minutes go to the applicant for signature."""
    today, minutes = s.day(on), s.text(minutes, "minutes")
    c = load(session, actor, consultation_id, expected_version)
    if c.meeting_on is not None and today < c.meeting_on:
        raise ValidationFailed(
            "The meeting of {day} has not taken place yet.",
            field="on",
            params={"day": c.meeting_on.isoformat()},
        )

    def mutate(x):
        x.answer = minutes

    return _act(session, actor, c, "issue_minutes", mutate)


def confirm_minutes(
    session: Session,
    actor: Actor,
    consultation_id: int,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> Consultation:
    """No.83 Art.19: the record is confirmed by both sides."""
    today = s.day(on)
    c = load(session, actor, consultation_id, expected_version)

    def mutate(x):
        x.closed_on = today

    return _act(session, actor, c, "confirm_minutes", mutate)


def withdraw_consultation(
    session: Session,
    actor: Actor,
    consultation_id: int,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> Consultation:
    today = s.day(on)
    c = load(session, actor, consultation_id, expected_version)

    def mutate(x):
        x.closed_on = today

    _act(session, actor, c, "withdraw", mutate)
    s.stop(session, c, CLOCK, today, subject_type=ENTITY)
    return c
