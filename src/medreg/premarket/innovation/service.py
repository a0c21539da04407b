"""Use cases of the innovative special review (NMPA 2018 No.83 = "No.83"; CMDE 2025 No.7 = "CMDE"):
the draft, submission, provincial pre-review and formal check here; the expert review, notice,
decision, withdrawal and termination in ``service_review`` (re-exported below).

Each use case: load with tenancy, ``TABLE.next_status``, mutate, clocks, ``audit.record``; never
commits. ``expected_version`` is the version the user saw (None skips the check, e.g. the CLI).
Clocks and their articles: see ``service_support``.
"""

from __future__ import annotations

from datetime import date
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from medreg.core import audit, clocks, files
from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.clock import today_shanghai, utcnow
from medreg.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from medreg.premarket.innovation import rules
from medreg.premarket.innovation.models import AcceptanceCounter, ApplicationDocument, InnovationApplication
from medreg.premarket.innovation.schemas import DocumentIn, DraftIn, DraftUpdate, parse
from medreg.premarket.innovation.service_support import (
    FIELDS,
    FORMAL_CLOCK,
    PROVINCE_CLOCK,
    REVIEW_CLOCK,
    SUBJECT,
    check_version,
    eligibility,
    eligibility_input,
    load,
    require_eligible,
    required_text,
    running_clock,
    start_clock,
    stop_clock,
    transition,
)
from medreg.premarket.innovation.states import DOCUMENTS_OPEN, EDITABLE, TABLE, Status, submit_action


# --- the registrant's draft -------------------------------------------------------------------
def create_draft(session: Session, actor: Actor, data: DraftIn | dict[str, Any]) -> InnovationApplication:
    if not actor.has(Role.REGISTRANT) or actor.organisation_id is None:
        raise PermissionDenied("Only a registrant can apply for the special review.", field="actor")
    data = parse(DraftIn, data)
    app = InnovationApplication(
        registrant_org_id=actor.organisation_id, status=Status.DRAFT, **data.model_dump()
    )
    session.add(app)
    session.flush()
    audit.record(session, actor, "create_draft", SUBJECT, app.id, after=audit.snapshot(app, FIELDS))
    return app


def update_draft(
    session: Session,
    actor: Actor,
    app_id: int,
    data: DraftUpdate | dict[str, Any],
    *,
    expected_version: int | None = None,
) -> InnovationApplication:
    app = load(session, actor, app_id)
    if actor.organisation_id != app.registrant_org_id or not actor.has(Role.REGISTRANT):
        raise PermissionDenied("Only the applicant can edit its draft.", field="actor")
    if app.status not in EDITABLE:
        raise InvalidTransition(
            "Only a draft can be edited (status '{status}').", field="action", params={"status": app.status}
        )
    check_version(app, expected_version)
    changes = parse(DraftUpdate, data).model_dump(exclude_unset=True)
    if changes.get("product_name", "") is None:
        raise ValidationFailed("'product_name' cannot be empty.", field="product_name")
    with audit.recorded_change(session, actor, "update_draft", SUBJECT, app, FIELDS):
        for key, value in changes.items():
            setattr(app, key, value)
    return app


def attach_document(
    session: Session,
    actor: Actor,
    app_id: int,
    *,
    doc_type: str,
    title: str,
    filename: str,
    data: bytes | BinaryIO,
    declared_mime: str | None = None,
) -> ApplicationDocument:
    """Add a dossier document (No.83 Art.4) to a draft, or in answer to a supplement request."""
    app = load(session, actor, app_id)
    if actor.organisation_id != app.registrant_org_id or not actor.has(Role.REGISTRANT):
        raise PermissionDenied("Only the applicant can add documents.", field="actor")
    if app.status not in DOCUMENTS_OPEN:
        raise InvalidTransition(
            "Documents cannot be added while the application is '{status}'.",
            field="action",
            params={"status": app.status},
        )
    meta = parse(DocumentIn, {"doc_type": doc_type, "title": title, "filename": filename})
    stored = files.store(session, actor, filename=meta.filename, data=data, declared_mime=declared_mime)
    doc = ApplicationDocument(
        application_id=app.id,
        stored_file_id=stored.id,
        doc_type=meta.doc_type.value,
        title=meta.title,
        uploaded_by=actor.user_id,
    )
    session.add(doc)
    session.flush()
    session.refresh(app, ["documents"])
    audit.record(
        session,
        actor,
        "attach_document",
        SUBJECT,
        app.id,
        after={
            "document_id": doc.id,
            "doc_type": doc.doc_type,
            "title": doc.title,
            "stored_file_id": stored.id,
            "sha256": stored.sha256,
        },
    )
    return doc


def submit(
    session: Session,
    actor: Actor,
    app_id: int,
    *,
    expected_version: int | None = None,
    today: date | None = None,
) -> InnovationApplication:
    """No.83 Art.5: domestic applicants to their province, overseas ones to NMPA directly."""
    today = today or today_shanghai()
    app = load(session, actor, app_id)
    org = app.registrant
    action = submit_action(org.is_domestic)
    TABLE.next_status(app.status, action, actor.workflow_roles)
    check_version(app, expected_version)
    if org.is_domestic and not org.province:
        raise ValidationFailed("The applicant's province is not known.", field="province")
    require_eligible(app, today)
    transition(
        session,
        actor,
        app,
        action,
        expected_version,
        submitted_on=today,
        province=org.province if org.is_domestic else None,
    )
    start_clock(session, app, PROVINCE_CLOCK if org.is_domestic else FORMAL_CLOCK, today)
    return app


# --- province and formal check ----------------------------------------------------------------
def province_pass(
    session: Session,
    actor: Actor,
    app_id: int,
    opinion: str,
    *,
    expected_version: int | None = None,
    today: date | None = None,
) -> InnovationApplication:
    today = today or today_shanghai()
    app = load(session, actor, app_id)
    transition(
        session,
        actor,
        app,
        "province_pass",
        expected_version,
        province_opinion=required_text(opinion, "opinion"),
    )
    stop_clock(session, app, PROVINCE_CLOCK, today)
    start_clock(session, app, FORMAL_CLOCK, today)
    return app


def province_refuse(
    session: Session,
    actor: Actor,
    app_id: int,
    reasons: str,
    *,
    expected_version: int | None = None,
    today: date | None = None,
) -> InnovationApplication:
    today = today or today_shanghai()
    app = load(session, actor, app_id)
    transition(
        session,
        actor,
        app,
        "province_refuse",
        expected_version,
        province_opinion=required_text(reasons, "reasons"),
        decided_on=today,
    )
    stop_clock(session, app, PROVINCE_CLOCK, today)
    return app


def _next_acceptance_no(session: Session, year: int) -> str:
    """The next CQTS number of ``year`` (No.83 Art.6); the counter row is locked while numbering."""
    stmt = (
        select(AcceptanceCounter)
        .where(AcceptanceCounter.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    counter = session.execute(stmt).scalar_one_or_none()
    if counter is None:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(AcceptanceCounter)
            .values(year=year, last_serial=0)
            .on_conflict_do_nothing(index_elements=["year"])
        )
        counter = session.execute(stmt).scalar_one()
    counter.last_serial += 1
    return rules.acceptance_number(year, counter.last_serial)


def accept(
    session: Session,
    actor: Actor,
    app_id: int,
    *,
    expected_version: int | None = None,
    today: date | None = None,
) -> InnovationApplication:
    """No.83 Art.6, CMDE Art.6-7: the formal check passes; the application gets its CQTS number."""
    today = today or today_shanghai()
    app = load(session, actor, app_id)
    TABLE.next_status(app.status, "accept", actor.workflow_roles)
    check_version(app, expected_version)
    require_eligible(app, app.submitted_on or today)
    transition(
        session,
        actor,
        app,
        "accept",
        expected_version,
        accepted_on=today,
        acceptance_no=_next_acceptance_no(session, today.year),
    )
    stop_clock(session, app, FORMAL_CLOCK, today)
    start_clock(session, app, REVIEW_CLOCK, today)
    return app


def request_supplement(
    session: Session,
    actor: Actor,
    app_id: int,
    items: str,
    *,
    expected_version: int | None = None,
    today: date | None = None,
) -> InnovationApplication:
    """Tell the applicant everything to correct at once (Order 47 Art.53(3) by analogy); pauses the clock."""
    today = today or today_shanghai()
    app = load(session, actor, app_id)
    transition(
        session,
        actor,
        app,
        "request_supplement",
        expected_version,
        supplement_request=required_text(items, "items"),
        supplement_requested_at=utcnow(),
    )
    clock = running_clock(session, app, FORMAL_CLOCK)
    if clock is not None:
        clocks.pause_clock(session, clock, today, "supplement requested from the applicant")
    return app


def provide_supplement(
    session: Session,
    actor: Actor,
    app_id: int,
    note: str,
    *,
    expected_version: int | None = None,
    today: date | None = None,
) -> InnovationApplication:
    """The applicant answers with at least one document added since the request; resumes the clock."""
    today = today or today_shanghai()
    app = load(session, actor, app_id)
    TABLE.next_status(app.status, "provide_supplement", actor.workflow_roles)
    if actor.organisation_id != app.registrant_org_id:
        raise PermissionDenied("Only the applicant can supplement.", field="actor")
    since = app.supplement_requested_at
    if not any(since is None or d.uploaded_at >= since for d in app.documents):
        raise ValidationFailed("Attach the supplementary documents first.", field="documents")
    transition(
        session,
        actor,
        app,
        "provide_supplement",
        expected_version,
        note=required_text(note, "note", maximum=2000),
    )
    clock = running_clock(session, app, FORMAL_CLOCK)
    if clock is not None and clock.open_pause is not None:
        clocks.resume_clock(session, clock, today)
    return app


def refuse_acceptance(
    session: Session,
    actor: Actor,
    app_id: int,
    reasons: str,
    *,
    expected_version: int | None = None,
    today: date | None = None,
) -> InnovationApplication:
    today = today or today_shanghai()
    app = load(session, actor, app_id)
    transition(
        session,
        actor,
        app,
        "refuse_acceptance",
        expected_version,
        decision_reasons=required_text(reasons, "reasons"),
        decided_on=today,
    )
    stop_clock(session, app, FORMAL_CLOCK, today)
    return app


from medreg.premarket.innovation.service_review import (  # noqa: E402  (re-exported use cases)
    answer_objection,
    assign_experts,
    close_notice,
    conclude,
    decide,
    decision_content,
    file_objection,
    give_opinion,
    open_notice,
    terminate,
    withdraw,
)

__all__ = [
    "create_draft",
    "update_draft",
    "attach_document",
    "submit",
    "province_pass",
    "province_refuse",
    "accept",
    "request_supplement",
    "provide_supplement",
    "refuse_acceptance",
    "assign_experts",
    "give_opinion",
    "conclude",
    "file_objection",
    "answer_objection",
    "close_notice",
    "decide",
    "withdraw",
    "terminate",
    "eligibility",
    "eligibility_input",
    "load",
    "decision_content",
    "open_notice",
]
