"""Use cases of adverse-event reporting (Order 1): create and edit a report, submit it (statutory clock
and late flag), return it for correction, accept it, add follow-up and final reports, close the case.

Every call takes the caller's session, checks tenancy (``access``) and the transition table, mutates,
records the audit event and flushes. It never commits. ``now`` defaults to the current UTC time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pydantic
from sqlalchemy import delete
from sqlalchemy.orm import Session

from medreg.core import audit
from medreg.core.accounts import Organisation, OrgKind
from medreg.core.actor import Actor
from medreg.core.clock import as_utc, to_shanghai, utcnow
from medreg.core.errors import DomainError, InvalidTransition, PermissionDenied, ValidationFailed
from medreg.premarket.registration import queries as registration_queries
from medreg.vigilance import deadlines as dl
from medreg.vigilance.access import load, roles_on
from medreg.vigilance.assessment import assess
from medreg.vigilance.models import CASE_FIELDS, VigilanceCase, VigilanceReportCode, VigilanceReportVersion
from medreg.vigilance.rules import CODE_FIELDS, missing_required
from medreg.vigilance.schemas import ReportContent
from medreg.vigilance.states import EDITABLE, TABLE, Status, VersionKind
from medreg.vigilance.udi import parse_udi

ENTITY = "vigilance_case"
# Reporter roles each kind of organisation may file as (Order 1 Art.14-16, 25, 27).
ROLES_BY_ORG = {
    OrgKind.HOSPITAL: {dl.ReporterRole.USING_ENTITY},
    OrgKind.REGISTRANT: {dl.ReporterRole.REGISTRANT, dl.ReporterRole.AGENT, dl.ReporterRole.DISTRIBUTOR},
}
# The duties an individual report fulfils (the cluster first notice is made by phone or fax).
INDIVIDUAL = {"report_death", "report_serious", "report_overseas", "cluster_case_report"}


def parse_content(data: Any) -> ReportContent:
    if isinstance(data, ReportContent):
        return data
    try:
        return ReportContent.model_validate(data)
    except pydantic.ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or "body"
        raise ValidationFailed(
            "'{name}' is not valid: {reason}", field=field, params={"name": field, "reason": err["msg"]}
        ) from None


def content_of(version: VigilanceReportVersion) -> ReportContent:
    return parse_content({k: v for k, v in version.content.items() if k != "udi_parsed"})


def udi_parsed(text: str) -> dict:
    """A GS1 UDI as the stored form keeps it: the DI and the PI as strings (biip)."""
    udi = parse_udi(text)
    return {"di": udi.di, **{k: str(v) for k, v in udi.pi.items()}}


def stored_form(content: ReportContent) -> dict:
    """The form as JSON plus the UDI parsed into DI and PI (biip)."""
    out = content.model_dump(mode="json")
    if content.device.udi:
        out["udi_parsed"] = udi_parsed(content.device.udi)
    return out


def _registrant(session: Session, content: ReportContent) -> int | None:
    """The device's registrant: named by id, or found from the registration certificate number."""
    given = content.device.registrant_org_id
    if given is not None:
        org = session.get(Organisation, given)
        if org is None or org.kind != OrgKind.REGISTRANT:
            raise ValidationFailed(
                "'{name}' is not a registrant organisation.",
                field="device.registrant_org_id",
                params={"name": "device.registrant_org_id"},
            )
    found = None
    if content.device.registration_number:
        try:
            cert = registration_queries.certificate_by_number(
                session, Actor.system(), content.device.registration_number
            )
            found = cert.registrant_org_id
        except DomainError:
            found = None  # not a certificate this system issued (filed, imported or mistyped)
    if given is not None and found is not None and given != found:
        raise ValidationFailed(
            "Certificate {number} belongs to another registrant.",
            field="device.registrant_org_id",
            params={"number": content.device.registration_number},
        )
    return given if given is not None else found


def _sync(
    session: Session, case: VigilanceCase, content: ReportContent, stored: dict, version_no: int
) -> None:
    d, e = content.device, content.event
    udi = stored.get("udi_parsed") or {}
    case.reporter_role = content.reporter.role.value if content.reporter.role else None
    case.registrant_org_id = _registrant(session, content)
    case.province, case.outcome = e.province, e.outcome.value if e.outcome else None
    case.overseas, case.cluster, case.aware_at, case.event_date = (
        e.overseas,
        e.cluster,
        e.aware_at,
        e.event_date,
    )
    case.device_name, case.registration_number, case.model = d.generic_name, d.registration_number, d.model
    case.udi_di = udi.get("di")
    case.lot_number = d.lot_number or udi.get("lot")
    case.serial_number = d.serial_number or udi.get("serial")
    case.latest_version_no = version_no
    session.execute(delete(VigilanceReportCode).where(VigilanceReportCode.case_id == case.id))
    for field, annex in CODE_FIELDS.items():
        for code in getattr(content.codes, field):
            session.add(
                VigilanceReportCode(
                    case_id=case.id, version_no=version_no, field=field, annex=annex, code=code
                )
            )


def _check_role(actor: Actor, org: Organisation | None, content: ReportContent) -> None:
    allowed = ROLES_BY_ORG.get(org.kind if org else None, set())
    if not allowed:
        raise PermissionDenied(
            "Only hospitals, registrants and distributors file adverse-event reports here.", field="actor"
        )
    role = content.reporter.role
    if role is not None and role not in allowed:
        raise ValidationFailed(
            "A {kind} organisation cannot report as '{role}'.",
            field="reporter.role",
            params={"kind": org.kind, "role": role.value},
        )


def create_report(session: Session, actor: Actor, data: Any) -> VigilanceCase:
    content = parse_content(data)
    org = session.get(Organisation, actor.organisation_id) if actor.organisation_id else None
    _check_role(actor, org, content)
    stored = stored_form(content)
    case = VigilanceCase(reporter_org_id=org.id, reporter_user_id=actor.user_id, status=Status.DRAFT)
    session.add(case)
    session.flush()
    case.versions.append(
        VigilanceReportVersion(
            version_no=1, kind=VersionKind.INITIAL, content=stored, created_by_user_id=actor.user_id
        )
    )
    _sync(session, case, content, stored, 1)
    case.quality_score = assess(session, case, utcnow()).score
    session.flush()
    audit.record(session, actor, "create", ENTITY, case.id, after=audit.snapshot(case, CASE_FIELDS))
    return case


def update_draft(
    session: Session, actor: Actor, case_id: Any, data: Any, *, expected_version: int | None = None
) -> VigilanceCase:
    case = load(session, actor, case_id, expected_version)
    if "reporter" not in roles_on(actor, case):
        raise PermissionDenied("Only the reporting organisation may edit the report.", field="actor")
    if case.status not in EDITABLE:
        raise InvalidTransition(
            "The report can be edited only as a draft or when returned for correction.", field="status"
        )
    content = parse_content(data)
    org = session.get(Organisation, case.reporter_org_id)
    _check_role(actor, org, content)
    stored = stored_form(content)
    with audit.recorded_change(session, actor, "update", ENTITY, case, CASE_FIELDS):
        case.versions[-1].content = stored
        _sync(session, case, content, stored, case.latest_version_no)
        case.quality_score = assess(session, case, utcnow()).score
    return case


def _transition(
    session: Session, actor: Actor, case: VigilanceCase, action: str, mutate=None, note: str | None = None
) -> VigilanceCase:
    target = TABLE.next_status(case.status, action, roles_on(actor, case))
    with audit.recorded_change(session, actor, action, ENTITY, case, CASE_FIELDS, note=note):
        if mutate:
            mutate(case)
        case.status = target
        case.quality_score = assess(session, case, utcnow()).score
    return case


def _ready(content: ReportContent, now: datetime) -> None:
    missing = missing_required(content.model_dump(mode="json"))
    if missing:
        raise ValidationFailed(
            "'{name}' is required to submit the report.",
            field=missing[0],
            params={"name": missing[0]},
            details={"missing": missing},
        )
    if as_utc(content.event.aware_at) > now:
        raise ValidationFailed("The date of awareness cannot be in the future.", field="event.aware_at")
    if content.event.event_date > to_shanghai(now).date():
        raise ValidationFailed("The event date cannot be in the future.", field="event.event_date")


def _start_clocks(case: VigilanceCase, content: ReportContent, now: datetime) -> None:
    """On first submission: the statutory report duty (Order 1 Art.25/27/31) and the late flag."""
    e = content.event
    duties = dl.reporting_duties(e.outcome, content.reporter.role, overseas=e.overseas, cluster=e.cluster)
    if isinstance(duties, dl.NoDuty):
        case.report_due_at, case.late = None, None
    else:
        due = min((dl.deadline(d, e.aware_at) for d in duties if d.key in INDIVIDUAL), key=lambda x: x.due_at)
        case.report_due_at, case.late = due.due_at, dl.timeliness(due, now).late
    evaluation = dl.evaluation_duty(e.outcome)
    if case.registrant_org_id is not None and isinstance(evaluation, dl.Duty):
        case.evaluation_due_at = dl.deadline(evaluation, now).due_at  # Art.29: from the report


def submit(
    session: Session,
    actor: Actor,
    case_id: Any,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> VigilanceCase:
    now = now or utcnow()
    case = load(session, actor, case_id, expected_version)
    action = "resubmit" if case.status == Status.RETURNED else "submit"
    content = content_of(case.versions[-1])
    TABLE.next_status(case.status, action, roles_on(actor, case))
    _ready(content, now)

    def mutate(c: VigilanceCase) -> None:
        c.versions[-1].submitted_at = now
        c.return_reason = None
        if c.first_submitted_at is None:  # timeliness counts from the first submission
            c.first_submitted_at = now
            _start_clocks(c, content, now)

    return _transition(session, actor, case, action, mutate)


def return_for_correction(
    session: Session, actor: Actor, case_id: Any, reason: str, *, expected_version: int | None = None
) -> VigilanceCase:
    case = load(session, actor, case_id, expected_version)
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 2000:
        raise ValidationFailed(
            "'{name}' must be {minimum} to {maximum} characters.",
            field="reason",
            params={"name": "reason", "minimum": 1, "maximum": 2000},
        )

    def mutate(c: VigilanceCase) -> None:
        c.return_reason = reason

    return _transition(session, actor, case, "return_for_correction", mutate, note=reason)


def accept(
    session: Session, actor: Actor, case_id: Any, *, expected_version: int | None = None
) -> VigilanceCase:
    return _transition(session, actor, load(session, actor, case_id, expected_version), "accept")


def add_version(
    session: Session,
    actor: Actor,
    case_id: Any,
    data: Any,
    kind: VersionKind | str,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> VigilanceCase:
    """A follow-up (补充报告) or the registrant's final report with its evaluation (Order 1 Art.29)."""
    now = now or utcnow()
    try:
        kind = VersionKind(kind)
    except ValueError:
        kind = None
    if kind not in (VersionKind.FOLLOW_UP, VersionKind.FINAL):
        raise ValidationFailed(
            "'{name}' must be one of: {allowed}.",
            field="kind",
            params={"name": "kind", "allowed": "follow_up, final"},
        )
    case = load(session, actor, case_id, expected_version)
    action = "final" if kind is VersionKind.FINAL else "follow_up"
    TABLE.next_status(case.status, action, roles_on(actor, case))
    content = parse_content(data)
    if kind is VersionKind.FINAL and (content.evaluation is None or not content.evaluation.summary):
        raise ValidationFailed(
            "A final report needs the registrant's evaluation.", field="evaluation.summary"
        )
    _ready(content, now)
    stored = stored_form(content)

    def mutate(c: VigilanceCase) -> None:
        n = c.latest_version_no + 1
        c.versions.append(
            VigilanceReportVersion(
                version_no=n, kind=kind, content=stored, submitted_at=now, created_by_user_id=actor.user_id
            )
        )
        _sync(session, c, content, stored, n)
        if kind is VersionKind.FINAL and c.final_submitted_at is None:
            c.final_submitted_at = now
            c.evaluation_late = c.evaluation_due_at is not None and now >= as_utc(c.evaluation_due_at)

    return _transition(session, actor, case, action, mutate)


def close(
    session: Session, actor: Actor, case_id: Any, *, expected_version: int | None = None
) -> VigilanceCase:
    case = load(session, actor, case_id, expected_version)
    TABLE.next_status(case.status, "close", roles_on(actor, case))
    if case.outcome in (dl.Outcome.DEATH, dl.Outcome.SERIOUS_INJURY) and case.final_submitted_at is None:
        raise InvalidTransition(
            "The case cannot be closed before the registrant's final report (Order 1 Art.29).", field="action"
        )
    return _transition(session, actor, case, "close")
