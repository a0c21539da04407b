"""Use cases after acceptance: expert review, conclusion, public notice and objections, the signed
decision, withdrawal and termination (No.83 Art.8-11, 22; CMDE Art.12-27). Re-exported by ``service``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy.orm import Session

from medreg.core import audit, clocks, signatures
from medreg.core.actor import Actor
from medreg.core.clock import today_shanghai, utcnow
from medreg.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from medreg.premarket.experts import queries as expert_queries
from medreg.premarket.experts import service as experts
from medreg.premarket.experts.models import ExpertAssignment
from medreg.premarket.innovation import rules
from medreg.premarket.innovation.models import (
    TERMINATION_ITEMS,
    InnovationApplication,
    Objection,
    PublicNotice,
    TerminationGround,
)
from medreg.premarket.innovation.schemas import ObjectionIn, parse
from medreg.premarket.innovation.service_support import (
    FORMAL_CLOCK,
    NOTICE_CLOCK,
    PROVINCE_CLOCK,
    REVIEW_CLOCK,
    SUBJECT,
    check_version,
    load,
    required_text,
    running_clock,
    start_clock,
    stop_clock,
    transition,
)
from medreg.premarket.innovation.states import TABLE, Status

SignatureMeaning = signatures.SignatureMeaning


def assign_experts(
    session: Session,
    actor: Actor,
    app_id: int,
    expert_ids: Iterable[int],
    *,
    leader_id: int | None = None,
    expected_version: int | None = None,
    today: date | None = None,
) -> list[ExpertAssignment]:
    """No.83 Art.8, CMDE Art.9-11: at least three eligible experts without conflicts of interest."""
    today = today or today_shanghai()
    app = load(session, actor, app_id)
    TABLE.next_status(app.status, "assign_experts", actor.workflow_roles)
    check_version(app, expected_version)
    assignments = experts.assign(session, actor, app, expert_ids, leader_id=leader_id, today=today)
    transition(
        session,
        actor,
        app,
        "assign_experts",
        expected_version,
        note="experts: " + ", ".join(str(a.expert_id) for a in assignments),
    )
    return assignments


def give_opinion(
    session: Session, actor: Actor, assignment_id: int, opinion: str, reasoning: str, password: str
) -> ExpertAssignment:
    """The assigned expert's signed opinion, while the application is under expert review (CMDE Art.17)."""
    a = expert_queries.get_assignment(session, actor, assignment_id)
    app = load(session, actor, a.application_id)
    TABLE.next_status(app.status, "give_opinion", actor.workflow_roles)
    return experts.give_opinion(session, actor, assignment_id, opinion, reasoning, password)


def conclude(
    session: Session,
    actor: Actor,
    app_id: int,
    outcome: str,
    reasons: str,
    *,
    determined_class: str | None = None,
    notice_working_days: int = rules.MIN_NOTICE_WORKING_DAYS,
    expected_version: int | None = None,
    today: date | None = None,
) -> InnovationApplication:
    """The office's conclusion (CMDE Art.19): ``propose`` publishes the notice (No.83 Art.10, CMDE
    Art.20) and pauses the review clock (No.83 Art.9); ``reject`` awaits the signed rejection.
    A rejection straight from ``accepted`` covers the no-expert-review grounds of No.83 Art.8."""
    today = today or today_shanghai()
    if outcome not in ("propose", "reject"):
        raise ValidationFailed("'outcome' must be 'propose' or 'reject'.", field="outcome")
    app = load(session, actor, app_id)
    action = f"conclude_{outcome}"
    TABLE.next_status(app.status, action, actor.workflow_roles)
    check_version(app, expected_version)
    reasons = required_text(reasons, "reasons")
    tally = expert_queries.tally(session, app.id)
    if app.status == Status.EXPERT_REVIEW and tally["pending"]:
        raise InvalidTransition(
            "{n} expert opinion(s) are still missing.",
            field="action",
            params={"n": tally["pending"]},
            details=tally,
        )
    note = f"opinions: {tally['agree']} agree, {tally['disagree']} disagree"
    if outcome == "reject":
        return transition(
            session, actor, app, action, expected_version, note=note, conclusion_reasons=reasons
        )
    if tally["agree"] <= tally["disagree"]:
        raise ValidationFailed(
            "The experts did not agree by majority (CMDE Art.17).", field="outcome", details=tally
        )
    cls = determined_class or app.proposed_class
    if cls not in (rules.DeviceClass.II, rules.DeviceClass.III):  # No.83 Art.12
        raise ValidationFailed("The determined class must be II or III.", field="determined_class")
    try:
        ends_on = rules.notice_end_date(today, notice_working_days)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="notice_working_days") from None
    transition(
        session,
        actor,
        app,
        action,
        expected_version,
        note=note,
        conclusion_reasons=reasons,
        determined_class=cls,
    )
    notice = PublicNotice(application_id=app.id, starts_on=today, ends_on=ends_on)
    session.add(notice)
    session.flush()
    audit.record(
        session,
        actor,
        "publish_notice",
        SUBJECT,
        app.id,
        after={"notice_id": notice.id, "starts_on": today, "ends_on": ends_on},
    )
    review = running_clock(session, app, REVIEW_CLOCK)
    if review is not None:
        clocks.pause_clock(session, review, today, "public notice and objections (No.83 Art.9)")
    start_clock(session, app, NOTICE_CLOCK, today, limit=notice_working_days)
    return app


def open_notice(app: InnovationApplication) -> PublicNotice | None:
    return next((n for n in app.notices if n.closed_on is None), None)


def file_objection(
    session: Session, actor: Actor, notice_id: int, data: ObjectionIn | dict, *, today: date | None = None
) -> Objection:
    """Anyone, without login, within the notice period (No.83 Art.10, CMDE Art.24(1), Art.25).
    The same objection is not accepted twice (CMDE Art.27)."""
    today = today or today_shanghai()
    notice = session.get(PublicNotice, notice_id)
    if notice is None:
        raise NotFound("Notice {id} not found.", field="notice_id", params={"id": notice_id})
    app = notice.application
    TABLE.next_status(app.status, "file_objection", actor.workflow_roles | {"public"})
    if notice.closed_on is not None or not rules.notice_is_open(notice.starts_on, notice.ends_on, today):
        raise InvalidTransition(
            "Objections are accepted from {start} to {end} (CMDE Art.25).",
            field="notice_id",
            params={"start": notice.starts_on.isoformat(), "end": notice.ends_on.isoformat()},
        )
    data = parse(ObjectionIn, data)
    same = " ".join(data.text.split()).casefold()
    if any(" ".join(o.text.split()).casefold() == same for o in notice.objections):
        raise Conflict("The same objection was already filed (CMDE Art.27).", field="text")
    obj = Objection(notice_id=notice.id, submitted_by_user_id=actor.user_id, **data.model_dump())
    session.add(obj)
    session.flush()
    session.refresh(notice, ["objections"])
    audit.record(
        session,
        actor,
        "file_objection",
        SUBJECT,
        app.id,
        after={
            "objection_id": obj.id,
            "notice_id": notice.id,
            "name": obj.name,
            "organisation": obj.organisation,
            "text": obj.text,
        },
    )
    return obj


def answer_objection(session: Session, actor: Actor, objection_id: int, answer: str) -> Objection:
    """The office's answer after study (No.83 Art.10, CMDE Art.26)."""
    obj = session.get(Objection, objection_id)
    if obj is None:
        raise NotFound("Objection {id} not found.", field="objection_id", params={"id": objection_id})
    app = load(session, actor, obj.notice.application_id)
    TABLE.next_status(app.status, "answer_objection", actor.workflow_roles)
    if obj.answered_at is not None:
        raise Conflict("The objection was already answered.", field="objection_id")
    obj.answer = required_text(answer, "answer")
    obj.answered_at, obj.answered_by_user_id = utcnow(), actor.user_id
    session.flush()
    audit.record(
        session,
        actor,
        "answer_objection",
        SUBJECT,
        app.id,
        after={"objection_id": obj.id, "answer": obj.answer},
    )
    return obj


def close_notice(
    session: Session,
    actor: Actor,
    app_id: int,
    *,
    expected_version: int | None = None,
    today: date | None = None,
) -> InnovationApplication:
    """After the last day of the notice, once every objection is answered; resumes the review clock."""
    today = today or today_shanghai()
    app = load(session, actor, app_id)
    TABLE.next_status(app.status, "close_notice", actor.workflow_roles)
    notice = open_notice(app)
    if notice is None:  # pragma: no cover - conclude() always opens one
        raise InvalidTransition("There is no open notice.", field="action")
    if today <= notice.ends_on:
        raise InvalidTransition(
            "The notice runs until {end} (No.83 Art.10).",
            field="today",
            params={"end": notice.ends_on.isoformat()},
        )
    unanswered = [o.id for o in notice.objections if o.answered_at is None]
    if unanswered:
        raise InvalidTransition(
            "{n} objection(s) are not answered yet.",
            field="objections",
            params={"n": len(unanswered)},
            details={"unanswered": unanswered},
        )
    transition(
        session,
        actor,
        app,
        "close_notice",
        expected_version,
        note=f"notice {notice.id}: {len(notice.objections)} objection(s)",
    )
    notice.closed_on = today
    stop_clock(session, app, NOTICE_CLOCK, today)
    review = running_clock(session, app, REVIEW_CLOCK)
    if review is not None and review.open_pause is not None:
        clocks.resume_clock(session, review, today)
    session.flush()
    return app


def decision_content(app: InnovationApplication, approve: bool, reasons: str | None) -> dict:
    """What the office signs (No.83 Art.11): the record, the decision and its reasons."""
    return {
        "application_id": app.id,
        "acceptance_no": app.acceptance_no,
        "product_name": app.product_name,
        "registrant_org_id": app.registrant_org_id,
        "determined_class": app.determined_class,
        "decision": "approve" if approve else "reject",
        "reasons": reasons or "",
    }


def decide(
    session: Session,
    actor: Actor,
    app_id: int,
    *,
    approve: bool,
    reasons: str | None,
    password: str,
    expected_version: int | None = None,
    today: date | None = None,
) -> InnovationApplication:
    """The final decision, electronically signed (No.83 Art.10-11); a rejection needs reasons."""
    today = today or today_shanghai()
    app = load(session, actor, app_id)
    action = "approve" if approve else "reject"
    TABLE.next_status(app.status, action, actor.workflow_roles)
    check_version(app, expected_version)
    reasons = required_text(reasons, "reasons") if not approve or (reasons or "").strip() else None
    meaning = SignatureMeaning.ACCEPTED_INTO_SPECIAL_TRACK if approve else SignatureMeaning.REJECTED
    sig = signatures.sign(
        session,
        actor,
        password=password,
        meaning=meaning,
        entity_type=SUBJECT,
        entity_id=app.id,
        content=decision_content(app, approve, reasons),
    )
    transition(
        session,
        actor,
        app,
        action,
        expected_version,
        decided_on=today,
        decision_reasons=reasons,
        decision_signature_id=sig.id,
    )
    stop_clock(session, app, REVIEW_CLOCK, today)
    return app


def withdraw(
    session: Session,
    actor: Actor,
    app_id: int,
    reason: str,
    *,
    expected_version: int | None = None,
    today: date | None = None,
) -> InnovationApplication:
    """The applicant withdraws before the decision, giving its reason (No.83 Art.6, CMDE Art.23)."""
    today = today or today_shanghai()
    app = load(session, actor, app_id)
    transition(
        session,
        actor,
        app,
        "withdraw",
        expected_version,
        withdrawal_reason=required_text(reason, "reason"),
        decided_on=today,
    )
    notice = open_notice(app)
    if notice is not None:
        notice.closed_on = today
    for spec in (PROVINCE_CLOCK, FORMAL_CLOCK, REVIEW_CLOCK, NOTICE_CLOCK):
        stop_clock(session, app, spec, today)
    session.flush()
    return app


def terminate(
    session: Session,
    actor: Actor,
    app_id: int,
    ground: str,
    reasons: str,
    *,
    expected_version: int | None = None,
) -> InnovationApplication:
    """NMPA ends the procedure on one of the grounds of No.83 Art.22 and tells the applicant."""
    app = load(session, actor, app_id)
    if ground not in set(TerminationGround):
        raise ValidationFailed(
            "Unknown termination ground '{ground}'.",
            field="ground",
            params={"ground": str(ground)},
            details={"allowed": {g.value: TERMINATION_ITEMS[g] for g in TerminationGround}},
        )
    g = TerminationGround(ground)
    return transition(
        session,
        actor,
        app,
        "terminate",
        expected_version,
        note=TERMINATION_ITEMS[g],
        termination_ground=g.value,
        termination_reasons=required_text(reasons, "reasons"),
    )
