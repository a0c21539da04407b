"""The administrative licensing decision: signed approval, refusal and conditional approval with its
post-approval obligations (Order 47 Art.58, 61, 94; Regulation 739 Art.18).

Re-exported by ``medreg.premarket.registration.service``; same conventions (never commits).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from medreg.core import signatures
from medreg.core.actor import Actor
from medreg.core.errors import InvalidTransition, ValidationFailed
from medreg.core.signatures import SignatureMeaning
from medreg.premarket.registration import rules
from medreg.premarket.registration import service_support as s
from medreg.premarket.registration.models import PostApprovalObligation, RegistrationApplication
from medreg.premarket.registration.rules import Kind
from medreg.premarket.registration.schemas import ConditionalApproval
from medreg.premarket.registration.states import TABLE


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
