"""Use cases of registration up to the technical review opinion (SAMR Order 47, 2021).

Every function takes ``(session, actor, ...)``, checks the transition table and the jurisdiction,
mutates, records the audit event and flushes; it never commits. ``expected_version`` is the version
the user saw (optimistic locking: ``Conflict``). ``on`` is the legal day of the act (default: today
in Beijing). Review decisions, licensing, certificates, obligations and consultations:
``service_decisions``, ``service_licensing``, ``service_certificates``, ``service_consultations``
(re-exported at the end of this module).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medreg.core import audit, clocks
from medreg.core.accounts import Organisation
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from medreg.premarket.registration import numbers, rules
from medreg.premarket.registration import service_support as s
from medreg.premarket.registration.models import (
    APPLICATION_FIELDS,
    RegistrationApplication,
    RegistrationCertificate,
)
from medreg.premarket.registration.rules import Kind
from medreg.premarket.registration.schemas import RegistrationCreate, RegistrationUpdate
from medreg.premarket.registration.states import EDITABLE, FINAL, REGISTRANT, Status

PRIORITY_INITIAL = "No.83 Art.20-21; Order 47 Art.70: innovative device, priority technical review"
PRIORITY_CHANGE = (
    "No.83 Art.24; NMPA Announcement No.63 measure I: change of an innovative device, "
    "special track with priority"
)
_REQUIRED_INITIAL = (
    "product_name",
    "model_spec",
    "structure_composition",
    "intended_use",
    "device_class",
    "subcatalogue_code",
)


def _certificate_for(
    session: Session, cert_id: int | None, org_id: int, today: date
) -> RegistrationCertificate:
    cert = session.get(RegistrationCertificate, cert_id) if cert_id else None
    if cert is None or cert.registrant_org_id != org_id:
        raise ValidationFailed("A change or renewal names one of your certificates.", field="registration_id")
    if cert.status != "valid" or today > cert.valid_until:
        raise ValidationFailed(
            "Certificate {number} is not valid (status {status}, valid until {until}).",
            field="registration_id",
            params={"number": cert.number, "status": cert.status, "until": cert.valid_until.isoformat()},
        )
    return cert


def create_application(
    session: Session, actor: Actor, data: RegistrationCreate | dict[str, Any], *, on: date | None = None
) -> RegistrationApplication:
    """A registrant drafts an initial, change or renewal application."""
    if REGISTRANT not in actor.roles or actor.organisation_id is None:
        raise PermissionDenied("Only a registrant may apply for registration.", field="actor")
    d = s.parse(RegistrationCreate, data)
    org = session.get(Organisation, actor.organisation_id)
    app = RegistrationApplication(
        kind=d.kind.value,
        registrant_org_id=org.id,
        origin=numbers.origin_of(org.country).value,
        province=org.province,
    )
    if d.kind is Kind.INITIAL:
        if d.registration_id is not None or d.changes is not None:
            raise ValidationFailed(
                "An initial registration names no certificate and no changes.",
                field="registration_id" if d.registration_id else "changes",
            )
        for f in ("product_name", "device_class", "subcatalogue_code"):
            if getattr(d, f) is None:
                raise ValidationFailed("'{name}' is required.", field=f, params={"name": f})
        for f in ("product_name", "model_spec", "structure_composition", "intended_use", "subcatalogue_code",
                  "category1_code", "category2_code"):
            setattr(app, f, getattr(d, f))
        app.device_class = d.device_class.value
        s.check_application_category(session, app)
        inn = s.innovation_for(session, actor, d.innovation_application_id, "innovation_application_id")
        if inn is not None:
            app.innovation_application_id, app.innovative, app.priority = inn.id, True, True
            app.priority_basis = PRIORITY_INITIAL
    else:
        _follow_on(session, app, d, s.day(on))
    session.add(app)
    session.flush()
    audit.record(session, actor, "create", s.ENTITY, app.id, after=audit.snapshot(app, APPLICATION_FIELDS))
    return app


def _follow_on(session: Session, app: RegistrationApplication, d: RegistrationCreate, today: date) -> None:
    """A change or renewal copies the certificate; an innovative certificate keeps the special track."""
    cert = _certificate_for(session, d.registration_id, app.registrant_org_id, today)
    if d.kind is Kind.CHANGE and not d.changes:
        raise ValidationFailed(
            "A change registration names the items to change (Order 47 Art.79).", field="changes"
        )
    if d.kind is Kind.RENEWAL and d.changes:
        raise ValidationFailed("A renewal changes nothing; apply for a change registration.", field="changes")
    if d.innovation_application_id not in (None, cert.innovation_application_id):
        raise ValidationFailed(
            "The certificate was not granted through that innovative application.",
            field="innovation_application_id",
        )
    open_same = session.scalar(
        select(func.count())
        .select_from(RegistrationApplication)
        .where(
            RegistrationApplication.registration_id == cert.id,
            RegistrationApplication.kind == d.kind.value,
            RegistrationApplication.status.not_in([x.value for x in FINAL]),
        )
    )
    if open_same:
        raise Conflict(
            "An open {kind} application already exists for certificate {number}.",
            field="registration_id",
            params={"kind": d.kind.value, "number": cert.number},
        )
    app.registration_id = cert.id
    for f in (
        "product_name",
        "model_spec",
        "structure_composition",
        "intended_use",
        "device_class",
        "subcatalogue_code",
        "category1_code",
        "category2_code",
    ):
        setattr(app, f, getattr(cert, f))
    app.changes = dict(d.changes) if d.changes else None
    s.check_application_category(session, app)
    if cert.innovative:
        app.innovation_application_id, app.innovative = cert.innovation_application_id, True
        if d.kind is Kind.CHANGE:
            app.priority, app.priority_basis = True, PRIORITY_CHANGE


def update_application(
    session: Session,
    actor: Actor,
    app_id: int,
    data: RegistrationUpdate | dict[str, Any],
    *,
    expected_version: int | None = None,
) -> RegistrationApplication:
    """The applicant edits a draft, or an application returned for corrections (Order 47 Art.53)."""
    app = s.load(session, actor, app_id, expected_version)
    if actor.organisation_id != app.registrant_org_id or REGISTRANT not in actor.roles:
        raise PermissionDenied("Only the applicant may edit its application.", field="actor")
    if app.status not in EDITABLE:
        raise InvalidTransition(
            "The application can no longer be edited (status '{status}').",
            field="status",
            params={"status": app.status},
        )
    d = s.parse(RegistrationUpdate, data)
    fields = d.model_dump(exclude_unset=True)
    if app.kind != Kind.INITIAL:
        if set(fields) - {"changes"}:
            raise ValidationFailed(
                "A change or renewal takes its product data from the certificate; edit 'changes' only.",
                field=sorted(set(fields) - {"changes"})[0],
            )
        if app.kind == Kind.RENEWAL and fields.get("changes"):
            raise ValidationFailed("A renewal changes nothing.", field="changes")
    for k, v in fields.items():
        if v is None and k in ("product_name", "device_class", "subcatalogue_code"):
            raise ValidationFailed("'{name}' cannot be empty.", field=k, params={"name": k})
    s.check_application_category(session, app, fields)
    with audit.recorded_change(session, actor, "update", s.ENTITY, app, APPLICATION_FIELDS + ("changes",)):
        for k, v in fields.items():
            setattr(app, k, v.value if hasattr(v, "value") else v)
    return app


def submit(
    session: Session,
    actor: Actor,
    app_id: int,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationApplication:
    """Order 47 Art.52: the dossier is filed; the authority has 5 WD to ask for corrections (Art.53)."""
    today = s.day(on)
    app = s.load(session, actor, app_id, expected_version)
    if app.kind == Kind.INITIAL:
        for f in _REQUIRED_INITIAL:
            if not getattr(app, f):
                raise ValidationFailed(
                    "'{name}' is required before submission (Order 47 Art.52).", field=f, params={"name": f}
                )
        if app.innovation_application_id is not None:
            s.innovation_for(session, actor, app.innovation_application_id, "innovation_application_id")
    else:
        _certificate_for(session, app.registration_id, app.registrant_org_id, today)

    def mutate(a):
        a.submitted_on = today

    s.act(session, actor, app, "submit", mutate)
    s.start(session, app, s.ACCEPTANCE, today)
    return app


def _next_acceptance_number(session: Session, app: RegistrationApplication, year: int) -> str:
    probe = rules.acceptance_number(kind=app.kind, origin=app.origin, year=year, serial=0)[:5]
    last = session.scalar(
        select(func.max(RegistrationApplication.acceptance_number)).where(
            RegistrationApplication.acceptance_number.like(f"{probe}%")
        )
    )
    serial = int(last[5:]) + 1 if last else 1
    return rules.acceptance_number(kind=app.kind, origin=app.origin, year=year, serial=serial)


def _accept(session: Session, actor: Actor, app: RegistrationApplication, action: str, today: date):
    deemed = rules.deemed_accepted(app.submitted_on, today)
    if action == "deem_accepted" and not deemed:
        raise InvalidTransition(
            "The 5 working days to ask for corrections run until {due} (Order 47 Art.53(3)).",
            field="action",
            params={"due": rules.acceptance_due(app.submitted_on).isoformat()},
        )

    def mutate(a):
        # Art.53(3): with no correction notice in 5 WD the application is accepted as of receipt.
        a.accepted_on = a.submitted_on if deemed else today
        a.acceptance_number = _next_acceptance_number(session, a, a.accepted_on.year)

    s.act(session, actor, app, action, mutate, note="Order 47 Art.53(3): deemed accepted" if deemed else None)
    s.stop(session, app, s.ACCEPTANCE, today)
    s.start(session, app, s.FORWARDING, app.accepted_on)
    return app


def accept(
    session: Session,
    actor: Actor,
    app_id: int,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationApplication:
    """Order 47 Art.53(1): accepted (受理), with an acceptance number; forwarded within 3 WD (Art.91)."""
    return _accept(session, actor, s.load(session, actor, app_id, expected_version), "accept", s.day(on))


def deem_accepted(
    session: Session, actor: Actor, app_id: int, *, on: date | None = None
) -> RegistrationApplication:
    """Order 47 Art.53(3): the 5 WD passed without a correction notice: accepted as of receipt."""
    return _accept(session, actor, s.load(session, actor, app_id), "deem_accepted", s.day(on))


def request_corrections(
    session: Session,
    actor: Actor,
    app_id: int,
    notes: str,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationApplication:
    """Order 47 Art.53(3): all corrections at once, within 5 WD of receipt (after that: deemed accepted)."""
    today, notes = s.day(on), s.text(notes, "notes")
    app = s.load(session, actor, app_id, expected_version)
    if app.status == Status.SUBMITTED and rules.deemed_accepted(app.submitted_on, today):
        raise InvalidTransition(
            "Too late to ask for corrections: the application counts as accepted on "
            "receipt (Order 47 Art.53(3)).",
            field="action",
        )

    def mutate(a):
        a.correction_notes = notes

    s.act(session, actor, app, "request_corrections", mutate)
    s.stop(session, app, s.ACCEPTANCE, today)
    return app


def provide_corrections(
    session: Session,
    actor: Actor,
    app_id: int,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationApplication:
    """The corrected dossier is received anew; the 5 WD of Art.53 run again."""
    today = s.day(on)
    app = s.load(session, actor, app_id, expected_version)

    def mutate(a):
        a.submitted_on = today

    s.act(session, actor, app, "provide_corrections", mutate)
    s.start(session, app, s.ACCEPTANCE, today)
    return app


def refuse_acceptance(
    session: Session,
    actor: Actor,
    app_id: int,
    reasons: str,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationApplication:
    """Order 47 Art.53(4): not within this authority's competence: not accepted, with reasons."""
    today, reasons = s.day(on), s.text(reasons, "reasons")
    app = s.load(session, actor, app_id, expected_version)

    def mutate(a):
        a.decision, a.decision_reasons, a.decided_on = "not_accepted", reasons, today

    s.act(session, actor, app, "refuse_acceptance", mutate)
    s.stop_all(session, app, today)
    return app


def withdraw(
    session: Session,
    actor: Actor,
    app_id: int,
    reason: str,
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> RegistrationApplication:
    """Order 47 Art.55: the applicant withdraws before the decision, giving reasons."""
    today, reason = s.day(on), s.text(reason, "reason")
    app = s.load(session, actor, app_id, expected_version)

    def mutate(a):
        a.withdrawal_reason, a.withdrawn_on = reason, today

    s.act(session, actor, app, "withdraw", mutate)
    s.stop_all(session, app, today)
    return app


def clock_status(session: Session, app: RegistrationApplication, today: date):
    """(clock, ClockStatus) of every running clock of an application."""
    return [
        (c, clocks.status(c, today)) for c in clocks.clocks_for(session, s.ENTITY, app.id) if c.is_running
    ]


from medreg.premarket.registration.service_certificates import (  # noqa: E402,F401
    apply_deemed_renewals,
    deem_renewed,
    fulfil_obligation,
    issue_certificate,
    mark_late_obligations,
)
from medreg.premarket.registration.service_consultations import (  # noqa: E402,F401
    answer_consultation,
    confirm_minutes,
    decline_consultation,
    issue_minutes,
    request_consultation,
    schedule_meeting,
    withdraw_consultation,
)
from medreg.premarket.registration.service_decisions import (  # noqa: E402,F401
    close_objection_window,
    complete_review,
    dismiss_objection,
    file_objection,
    propose_negative,
    provide_supplement,
    request_supplement,
    start_review,
    terminate_review,
    uphold_objection,
)
from medreg.premarket.registration.service_licensing import approve, approve_conditionally, refuse  # noqa: E402,F401
