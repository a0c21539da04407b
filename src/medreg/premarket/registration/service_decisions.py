"""Technical review, objections and the administrative decision (Order 47 Art.54, 57, 58, 61, 92, 94).

Re-exported by ``medreg.premarket.registration.service``; same conventions (never commits).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from medreg.core import clocks
from medreg.core.actor import Actor
from medreg.core.errors import InvalidTransition
from medreg.premarket.registration import rules
from medreg.premarket.registration import service_support as s
from medreg.premarket.registration.models import RegistrationApplication
from medreg.premarket.registration.states import Status


def start_review(
    session: Session,
    actor: Actor,
    app_id: int,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationApplication:
    """Art.91-92: the review body starts; Class III 90 WD, Class II 60 WD (innovative: priority)."""
    today = s.day(on)
    app = s.load(session, actor, app_id, expected_version)

    def mutate(a):
        a.review_started_on = today

    s.act(session, actor, app, "start_review", mutate)
    s.stop(session, app, s.FORWARDING, today)
    s.start(session, app, s.REVIEW, today, rules.review_limit(app.device_class))
    return app


def request_supplement(
    session: Session,
    actor: Actor,
    app_id: int,
    request: str,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationApplication:
    """Art.54: everything to supplement, told once; the review clock pauses (Art.98(1)); 1 year to reply."""
    today, request = s.day(on), s.text(request, "request")
    app = s.load(session, actor, app_id, expected_version)
    if app.supplement_requested_on is not None:
        raise InvalidTransition(
            "Supplements are requested once, all at once (Order 47 Art.54).", field="action"
        )

    def mutate(a):
        a.supplement_request, a.supplement_requested_on = request, today
        a.supplement_due_on = rules.supplement_due(today)

    s.act(session, actor, app, "request_supplement", mutate)
    clocks.pause_clock(
        session,
        s.review_clock(session, app),
        today,
        "Order 47 Art.54, Art.98(1): waiting for the applicant's supplements",
    )
    s.start(session, app, s.SUPPLEMENT, today)
    return app


def provide_supplement(
    session: Session,
    actor: Actor,
    app_id: int,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationApplication:
    """Art.54 / Art.92: supplements received in time; the review then has 60 WD (Art.92(2)-(3))."""
    today = s.day(on)
    app = s.load(session, actor, app_id, expected_version)
    if app.supplement_due_on is not None and today > app.supplement_due_on:
        raise InvalidTransition(
            "The year to supplement ended on {due} (Order 47 Art.54): the review is terminated.",
            field="action",
            params={"due": app.supplement_due_on.isoformat()},
        )

    def mutate(a):
        a.supplement_received_on = today

    s.act(session, actor, app, "provide_supplement", mutate)
    s.stop(session, app, s.SUPPLEMENT, today)
    s.stop(session, app, s.REVIEW, today)  # stays paused: the first review period ends here
    s.start(
        session,
        app,
        s.REVIEW_AFTER_SUPPLEMENT,
        today,
        rules.review_limit(app.device_class, after_supplement=True),
    )
    return app


def terminate_review(
    session: Session, actor: Actor, app_id: int, *, on: date | None = None
) -> RegistrationApplication:
    """Art.54 third para: no supplements within 1 year -> review terminated, registration refused."""
    today = s.day(on)
    app = s.load(session, actor, app_id)
    if app.status == Status.SUPPLEMENT_REQUESTED and today <= app.supplement_due_on:
        raise InvalidTransition(
            "The applicant has until {due} to supplement (Order 47 Art.54).",
            field="action",
            params={"due": app.supplement_due_on.isoformat()},
        )

    def mutate(a):
        a.decision, a.decided_on = "refused", today
        a.decision_reasons = "Order 47 Art.54: supplements not provided within one year; review terminated"

    s.act(session, actor, app, "terminate_review", mutate)
    s.stop_all(session, app, today)
    return app


def propose_negative(
    session: Session,
    actor: Actor,
    app_id: int,
    reasons: str,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationApplication:
    """Art.57: the reasons of an intended negative conclusion are told; 15 WD to object, not counted."""
    today, reasons = s.day(on), s.text(reasons, "reasons")
    app = s.load(session, actor, app_id, expected_version)

    def mutate(a):
        a.negative_reasons, a.negative_notice_on = reasons, today
        a.objection_due_on = rules.objection_due(today)
        a.objection_text = a.objection_filed_on = a.objection_answer = None

    s.act(session, actor, app, "propose_negative", mutate)
    clocks.pause_clock(
        session,
        s.review_clock(session, app),
        today,
        "Order 47 Art.57: objection time not counted in the review limit",
    )
    s.start(session, app, s.OBJECTION, today)
    return app


def file_objection(
    session: Session,
    actor: Actor,
    app_id: int,
    objection: str,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationApplication:
    """Art.57: the applicant objects within 15 days, on the original application only."""
    today, objection = s.day(on), s.text(objection, "objection")
    app = s.load(session, actor, app_id, expected_version)
    if today > app.objection_due_on:
        raise InvalidTransition(
            "The 15 days to object ended on {due} (Order 47 Art.57).",
            field="action",
            params={"due": app.objection_due_on.isoformat()},
        )

    def mutate(a):
        a.objection_text, a.objection_filed_on = objection, today

    s.act(session, actor, app, "file_objection", mutate)
    s.stop(session, app, s.OBJECTION, today)
    return app


def _complete(session: Session, app: RegistrationApplication, today: date, opinion: str) -> None:
    app.review_opinion, app.review_completed_on = opinion, today
    for spec in (s.REVIEW, s.REVIEW_AFTER_SUPPLEMENT, s.OBJECTION):
        s.stop(session, app, spec, today)
    s.start(session, app, s.DECISION, today)  # Art.94: 20 WD from receipt of the opinion


def close_objection_window(
    session: Session,
    actor: Actor,
    app_id: int,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationApplication:
    """Art.57: no objection within 15 days: the negative opinion goes to the deciding authority."""
    today = s.day(on)
    app = s.load(session, actor, app_id, expected_version)
    if app.status == Status.NEGATIVE_NOTICE and today <= app.objection_due_on:
        raise InvalidTransition(
            "The applicant may object until {due} (Order 47 Art.57).",
            field="action",
            params={"due": app.objection_due_on.isoformat()},
        )
    s.act(
        session, actor, app, "close_objection_window", lambda a: _complete(session, a, today, "unfavourable")
    )
    return app


def uphold_objection(
    session: Session,
    actor: Actor,
    app_id: int,
    answer: str,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationApplication:
    """Art.57: the objection is accepted; the review resumes (its clock counts again)."""
    today, answer = s.day(on), s.text(answer, "answer")
    app = s.load(session, actor, app_id, expected_version)

    def mutate(a):
        a.objection_answer = answer

    s.act(session, actor, app, "uphold_objection", mutate)
    clocks.resume_clock(session, s.review_clock(session, app), today)
    return app


def dismiss_objection(
    session: Session,
    actor: Actor,
    app_id: int,
    answer: str,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationApplication:
    """Art.57: the objection is assessed and answered; the negative opinion stands."""
    today, answer = s.day(on), s.text(answer, "answer")
    app = s.load(session, actor, app_id, expected_version)

    def mutate(a):
        a.objection_answer = answer
        _complete(session, a, today, "unfavourable")

    s.act(session, actor, app, "dismiss_objection", mutate)
    return app


def complete_review(
    session: Session,
    actor: Actor,
    app_id: int,
    summary: str,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationApplication:
    """Art.58 / 739 Art.17: a favourable review opinion goes to the deciding authority (20 WD, Art.94)."""
    today, summary = s.day(on), s.text(summary, "summary")
    app = s.load(session, actor, app_id, expected_version)

    def mutate(a):
        a.review_summary = summary
        _complete(session, a, today, "favourable")

    s.act(session, actor, app, "complete_review", mutate)
    return app
