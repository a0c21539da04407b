"""Shared steps of the innovation use cases: tenancy-checked loading, the transition step, clocks.

Statutory clocks (subject ``innovation_application``):

- ``innovation.province_pre_review`` 20 working days, No.83 Art.5;
- ``innovation.formal_check`` 5 working days: neither No.83 nor the CMDE rules set a limit for the
  formal check (No.83 Art.6, CMDE Art.6-7), so SAMR Order 47 Art.53 (5 days to notify corrections,
  working days by its Art.99) applies by analogy; paused while the applicant supplements;
- ``innovation.review_opinion`` 60 working days, No.83 Art.9, paused during the public notice and
  objection handling ("公示及异议处理时间不计算在内");
- ``innovation.public_notice`` at least 10 working days, No.83 Art.10, CMDE Art.20.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from medreg.core import audit, clocks
from medreg.core.actor import Actor
from medreg.core.clock import today_shanghai
from medreg.core.errors import Conflict, NotFound, ValidationFailed
from medreg.premarket.experts import queries as expert_queries
from medreg.premarket.innovation import rules
from medreg.premarket.innovation.models import InnovationApplication
from medreg.premarket.innovation.states import TABLE

SUBJECT = "innovation_application"
PROVINCE_CLOCK = ("innovation.province_pre_review", 20, "NMPA 2018 No.83 Art.5")
FORMAL_CLOCK = (
    "innovation.formal_check",
    5,
    "SAMR Order 47 Art.53 by analogy (No.83 Art.6 and CMDE Art.6-7 set no limit)",
)
REVIEW_CLOCK = ("innovation.review_opinion", 60, "NMPA 2018 No.83 Art.9 (notice and objections not counted)")
NOTICE_CLOCK = (
    "innovation.public_notice",
    rules.MIN_NOTICE_WORKING_DAYS,
    "NMPA 2018 No.83 Art.10; CMDE 2025 No.7 Art.20",
)
FIELDS = (
    "acceptance_no",
    "product_name",
    "product_name_en",
    "intended_use",
    "working_principle",
    "technical_field",
    "proposed_class",
    "determined_class",
    "domestically_first",
    "internationally_leading",
    "significant_clinical_value",
    "innovation_statement",
    "patent_kind",
    "patent_number",
    "patent_grant_date",
    "search_report_no",
    "search_report_confirms",
    "avoidance_request",
    "status",
    "province",
    "supplement_request",
    "province_opinion",
    "conclusion_reasons",
    "submitted_on",
    "accepted_on",
    "decided_on",
    "decision_reasons",
    "decision_signature_id",
    "withdrawal_reason",
    "termination_ground",
    "termination_reasons",
)


# --- helpers ----------------------------------------------------------------------------------
def can_see(session: Session, actor: Actor, app: InnovationApplication) -> bool:
    roles = actor.workflow_roles
    assigned = "expert" in roles and app.id in expert_queries.assigned_application_ids(session, actor)
    return rules.may_see(
        roles=roles,
        actor_org_id=actor.organisation_id,
        actor_province=actor.province,
        registrant_org_id=app.registrant_org_id,
        province=app.province,
        status=app.status,
        assigned=assigned,
    )


def load(session: Session, actor: Actor, app_id: int) -> InnovationApplication:
    app = session.get(InnovationApplication, app_id)
    if app is None or not can_see(session, actor, app):
        raise NotFound("Application {id} not found.", field="application_id", params={"id": app_id})
    return app


def check_version(app: InnovationApplication, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != app.version:
        raise Conflict(
            "The application was changed by someone else (version {actual}, you saw {seen}).",
            field="expected_version",
            params={"actual": app.version, "seen": expected_version},
        )


def required_text(value: Any, field: str, *, minimum: int = 3, maximum: int = 10000) -> str:
    if not isinstance(value, str) or not minimum <= len(value.strip()) <= maximum:
        raise ValidationFailed(
            "'{name}' must be {min} to {max} characters.",
            field=field,
            params={"name": field, "min": minimum, "max": maximum},
        )
    return value.strip()


def transition(
    session: Session,
    actor: Actor,
    app: InnovationApplication,
    action: str,
    expected_version: int | None,
    *,
    note: str | None = None,
    **changes: Any,
) -> InnovationApplication:
    """Check version and transition, apply ``changes``, move the status, audit."""
    check_version(app, expected_version)
    target = TABLE.next_status(app.status, action, actor.workflow_roles)
    with audit.recorded_change(session, actor, action, SUBJECT, app, FIELDS, note=note):
        for key, value in changes.items():
            setattr(app, key, value)
        app.status = target
    return app


def start_clock(
    session: Session, app: InnovationApplication, spec: tuple, on: date, limit: int | None = None
):
    name, value, basis = spec
    return clocks.start_clock(
        session,
        subject_type=SUBJECT,
        subject_id=app.id,
        name=name,
        limit_value=limit or value,
        limit_unit="working_days",
        legal_basis=basis,
        started_on=on,
    )


def running_clock(session: Session, app: InnovationApplication, spec: tuple):
    return clocks.running_clock(session, SUBJECT, app.id, spec[0])


def stop_clock(session: Session, app: InnovationApplication, spec: tuple, on: date) -> None:
    clock = running_clock(session, app, spec)
    if clock is not None:
        clocks.stop_clock(session, clock, on)


def eligibility_input(app: InnovationApplication) -> rules.EligibilityInput:
    return rules.input_from(
        app, is_domestic=app.registrant.is_domestic, document_types=(d.doc_type for d in app.documents)
    )


def eligibility(session: Session, actor: Actor, app_id: int, today: date | None = None) -> rules.Eligibility:
    """Each criterion of No.83 Art.2 and Art.4, met or not, on the application date (or today)."""
    app = load(session, actor, app_id)
    return rules.check_eligibility(eligibility_input(app), app.submitted_on or today or today_shanghai())


def require_eligible(app: InnovationApplication, on: date) -> None:
    result = rules.check_eligibility(eligibility_input(app), on)
    if not result.eligible:
        raise ValidationFailed(
            "The application does not meet: {criteria}.",
            field="eligibility",
            params={"criteria": ", ".join(c.key for c in result.unmet)},
            details=result.as_dict(),
        )
