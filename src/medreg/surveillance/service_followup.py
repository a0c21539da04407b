"""Use cases of a sentinel hospital entering its registry one patient at a time: enrol a procedure
(the same checks as a row of an imported extract) and record follow-up (outcomes with their dates,
the end of follow-up). Services never commit; every change writes an audit event. Tenancy: a hospital
acts on its own site's procedures only; the monitoring centre on all."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core import audit
from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from medreg.surveillance.access import is_centre
from medreg.surveillance.importer import validate_row
from medreg.surveillance.models import Outcome, OutcomeKind, Procedure, SentinelHospital
from medreg.surveillance.service import _existing_clashes, hospital_of
from medreg.surveillance.service_monitoring import registry_changed

__all__ = ["enrol_procedure", "get_procedure", "record_follow_up"]


def _refuse(errors) -> None:
    first = errors[0]  # the form shows it at its field; all of them are in the details
    raise ValidationFailed(
        first.reason,
        field=first.field,
        params=dict(first.params),
        details={"errors": [e.as_dict() for e in errors]},
    )


def enrol_procedure(
    session: Session, actor: Actor, values: dict, *, today: date, hospital_code: str | None = None
) -> Procedure:
    """Enrol one procedure (the form's fields are the extract's columns, outcomes optional)."""
    site = hospital_of(session, actor, hospital_code)
    row, errors = validate_row(values, site.device_groups, today)
    if row is not None:
        errors = _existing_clashes(session, site, [row])
    if errors:
        _refuse(errors)
    proc = Procedure(
        hospital_id=site.id,
        patient_pseudonym=row.patient_pseudonym,
        procedure_date=row.procedure_date,
        device_group=row.device_group,
        udi_raw=row.udi_raw,
        udi_di=row.udi_di,
        udi_lot=row.udi_lot,
        udi_serial=row.udi_serial,
        udi_expiry=row.udi_expiry,
        age=row.age,
        sex=row.sex,
        diabetes=row.diabetes,
        renal_failure=row.renal_failure,
        prior_mi=row.prior_mi,
        ejection_fraction=row.ejection_fraction,
        follow_up_end=row.follow_up_end,
    )
    session.add(proc)
    session.flush()
    session.add_all([Outcome(procedure_id=proc.id, kind=k, event_date=d) for k, d in row.outcomes.items()])
    session.flush()
    registry_changed(session, {(proc.device_group, proc.udi_di): proc.procedure_date})
    audit.record(
        session,
        actor,
        "surveillance.procedure.enrol",
        "surveillance_procedure",
        proc.id,
        after={
            "hospital": site.code,
            "pseudonym": row.patient_pseudonym,
            "udi_di": row.udi_di,
            "procedure_date": row.procedure_date,
            "outcomes": row.outcomes,
        },
    )
    return proc


def get_procedure(session: Session, actor: Actor, procedure_id: int) -> tuple[Procedure, list[Outcome]]:
    """A procedure with its outcomes, if the actor may see it (else: not found)."""
    q = select(Procedure).where(Procedure.id == procedure_id)
    if not is_centre(actor):
        if not actor.has(Role.HOSPITAL) or actor.organisation_id is None:
            raise PermissionDenied("Only sentinel hospitals and the monitoring centre may see procedures.")
        q = q.join(SentinelHospital, SentinelHospital.id == Procedure.hospital_id).where(
            SentinelHospital.organisation_id == actor.organisation_id
        )
    proc = session.scalar(q)
    if proc is None:
        raise NotFound("No such procedure.", field="procedure_id")
    q = select(Outcome).where(Outcome.procedure_id == proc.id).order_by(Outcome.event_date, Outcome.kind)
    outcomes = session.scalars(q).all()
    return proc, list(outcomes)


def record_follow_up(
    session: Session,
    actor: Actor,
    procedure_id: int,
    *,
    today: date,
    follow_up_end: date | None = None,
    outcome: str | None = None,
    event_date: date | None = None,
) -> Procedure:
    """Record a follow-up visit: the patient was followed to ``follow_up_end`` (never moved back) and,
    optionally, the first occurrence of an outcome on ``event_date`` (one row per outcome kind)."""
    proc, outcomes = get_procedure(session, actor, procedure_id)
    before = {"follow_up_end": proc.follow_up_end}
    if follow_up_end is None and outcome is None:
        raise ValidationFailed("Give the end of follow-up or an outcome.", field="follow_up_end")
    if follow_up_end is not None:
        if follow_up_end > today:
            raise ValidationFailed("The end of follow-up cannot be in the future.", field="follow_up_end")
        if follow_up_end < proc.follow_up_end:
            raise ValidationFailed("The end of follow-up cannot move back.", field="follow_up_end")
    if outcome is not None:
        if outcome not in {k.value for k in OutcomeKind}:
            raise ValidationFailed("Unknown outcome.", field="outcome")
        if event_date is None:
            raise ValidationFailed("Give the date of the outcome.", field="event_date")
        if event_date < proc.procedure_date or event_date > today:
            raise ValidationFailed(
                "The outcome date must lie between the procedure and today.", field="event_date"
            )
        if any(o.kind == outcome for o in outcomes):
            raise Conflict("This outcome is already recorded for the procedure.", field="outcome")
        session.add(Outcome(procedure_id=proc.id, kind=outcome, event_date=event_date))
    proc.follow_up_end = max(d for d in (proc.follow_up_end, follow_up_end, event_date) if d is not None)
    session.flush()
    registry_changed(session, {(proc.device_group, proc.udi_di): proc.procedure_date})
    audit.record(
        session,
        actor,
        "surveillance.procedure.follow_up",
        "surveillance_procedure",
        proc.id,
        before=before,
        after={"follow_up_end": proc.follow_up_end, "outcome": outcome, "event_date": event_date},
    )
    return proc
