"""Technical review, objections and the administrative decision (Order 47 Art.54, 57, 58, 61, 92, 94).

Re-exported by ``medreg.premarket.registration.service``; same conventions (never commits).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from medreg.core import clocks, signatures
from medreg.core.actor import Actor
from medreg.core.errors import InvalidTransition, ValidationFailed
from medreg.core.signatures import SignatureMeaning
from medreg.premarket.registration import rules
from medreg.premarket.registration import service_support as s
from medreg.premarket.registration.models import PostApprovalObligation, RegistrationApplication
from medreg.premarket.registration.rules import Kind
from medreg.premarket.registration.schemas import ConditionalApproval
from medreg.premarket.registration.states import TABLE, Status


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


def _sign(
    session: Session,
    actor: Actor,
    app: RegistrationApplication,
    password: str,
    meaning: str,
    decision: str,
    today: date,
    reasons: str | None,
    extra: dict | None = None,
) -> None:
    sig = signatures.sign(
        session,
        actor,
        password=password,
        meaning=meaning,
        entity_type=s.ENTITY,
        entity_id=app.id,
        content={
            "application_id": app.id,
            "acceptance_number": app.acceptance_number,
            "kind": app.kind,
            "product_name": app.product_name,
            "decision": decision,
            "decided_on": today.isoformat(),
            "reasons": reasons,
            **(extra or {}),
        },
    )
    app.decision_signature_id = sig.id


def _decide(
    session: Session,
    actor: Actor,
    app: RegistrationApplication,
    action: str,
    decision: str,
    today: date,
    password: str,
    reasons: str | None,
    extra: dict | None = None,
    more=None,
):
    TABLE.next_status(app.status, action, actor.workflow_roles)
    if action != "refuse":
        if app.review_opinion != "favourable":
            raise InvalidTransition(
                "The review opinion is unfavourable: approval is not possible; refuse "
                "(739 Art.17-18; Order 47 Art.58).",
                field="action",
            )
        if app.kind == Kind.RENEWAL:
            cert = app.certificate
            grounds = rules.renewal_refusal_grounds(
                valid_until=cert.valid_until,
                applied_on=app.submitted_on,
                open_conditions=sum(1 for o in cert.obligations if o.status != "fulfilled"),
            )
            if grounds:
                raise ValidationFailed(
                    "Renewal must be refused: {grounds}.",
                    field="action",
                    params={"grounds": "; ".join(grounds)},
                )
    s.check_jurisdiction(actor, app, action)
    meaning = SignatureMeaning.REJECTED if action == "refuse" else SignatureMeaning.APPROVED

    def mutate(a):
        _sign(session, actor, a, password, meaning, decision, today, reasons, extra)
        a.decision, a.decided_on, a.decision_reasons = decision, today, reasons
        if more:
            more(a)

    s.act(session, actor, app, action, mutate)
    s.stop(session, app, s.DECISION, today)
    if action != "refuse":
        s.start(session, app, s.CERTIFICATE, today)  # Art.95: 10 WD to issue
    return app


def approve(
    session: Session,
    actor: Actor,
    app_id: int,
    *,
    password: str,
    reasons: str | None = None,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationApplication:
    """Art.58: 准予注册, signed (21 CFR Part 11 style) by the deciding officer."""
    app = s.load(session, actor, app_id, expected_version)
    return _decide(session, actor, app, "approve", "approved", s.day(on), password, reasons)


def refuse(
    session: Session,
    actor: Actor,
    app_id: int,
    *,
    password: str,
    reasons: str,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationApplication:
    """Art.58-59: 不予注册 in writing with reasons (and the right to appeal), signed."""
    reasons = s.text(reasons, "reasons", minimum=10)
    app = s.load(session, actor, app_id, expected_version)
    return _decide(session, actor, app, "refuse", "refused", s.day(on), password, reasons)


def approve_conditionally(
    session: Session,
    actor: Actor,
    app_id: int,
    data: ConditionalApproval | dict,
    *,
    password: str,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationApplication:
    """Art.61 / 739 Art.19: 附条件批准; the certificate states the studies and their deadlines, which
    become post-approval obligations when it is issued (Art.62-63)."""
    today, d = s.day(on), s.parse(ConditionalApproval, data)
    app = s.load(session, actor, app_id, expected_version)
    if app.kind != Kind.INITIAL:
        raise ValidationFailed(
            "Only an initial registration can be approved conditionally (Order 47 Art.61).", field="action"
        )
    _, standard_until = rules.validity(today)
    until = d.valid_until or standard_until
    if not today < until <= standard_until:
        raise ValidationFailed(
            "The validity of a conditional certificate ends after the decision and "
            "within 5 years (Order 47 Art.58, Art.61).",
            field="valid_until",
        )
    conds = [rules.Condition(c.description, c.due_on) for c in d.conditions]
    ground = rules.check_conditions(d.ground, conds, decided_on=today, valid_until=until)
    stored = [{"description": c.description, "due_on": c.due_on.isoformat()} for c in conds]

    def more(a):
        a.conditional_ground, a.conditions, a.conditional_valid_until = ground.value, stored, until

    return _decide(
        session,
        actor,
        app,
        "approve_conditionally",
        "conditionally_approved",
        today,
        password,
        d.reasons,
        {"ground": ground.value, "conditions": stored, "valid_until": until.isoformat()},
        more,
    )


def obligations_from(app: RegistrationApplication, certificate_id: int) -> list[PostApprovalObligation]:
    return [
        PostApprovalObligation(
            certificate_id=certificate_id,
            description=c["description"],
            due_on=date.fromisoformat(c["due_on"]),
        )
        for c in app.conditions or []
    ]
