"""Shared steps of the registration services: load with tenancy, optimistic locking, jurisdiction,
the audited transition, statutory clocks. Never commits."""

from __future__ import annotations

from datetime import date
from typing import Any

import pydantic
from sqlalchemy.orm import Session

from medreg.core import audit, clocks, lookups
from medreg.core.actor import Actor
from medreg.core.clock import today_shanghai
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from medreg.premarket.innovation import queries as innovation_queries
from medreg.premarket.registration import numbers, rules
from medreg.premarket.registration.models import APPLICATION_FIELDS, RegistrationApplication
from medreg.premarket.registration.states import ADMIN, OFFICE, PROVINCE, REGISTRANT, REVIEWER, TABLE, Status

ENTITY = "registration_application"

# Clocks of one application: (name, limit or None when the limit depends on the case).
ACCEPTANCE = ("registration.acceptance", rules.ACCEPTANCE)
FORWARDING = ("registration.forwarding", rules.FORWARDING)
REVIEW = ("registration.review", None)  # rules.review_limit(class)
REVIEW_AFTER_SUPPLEMENT = ("registration.review_after_supplement", None)
SUPPLEMENT = ("registration.supplement", rules.SUPPLEMENT_PERIOD)  # the applicant's year
OBJECTION = ("registration.objection", rules.OBJECTION_PERIOD)  # the applicant's 15 days
DECISION = ("registration.decision", rules.DECISION)
CERTIFICATE = ("registration.certificate", rules.CERTIFICATE_ISSUE)
ALL_CLOCKS = (
    ACCEPTANCE,
    FORWARDING,
    REVIEW,
    REVIEW_AFTER_SUPPLEMENT,
    SUPPLEMENT,
    OBJECTION,
    DECISION,
    CERTIFICATE,
)
REGULATOR_ROLES = frozenset({OFFICE, PROVINCE, REVIEWER, ADMIN})


def day(on: date | None) -> date:
    """The legal day of the act: Beijing today unless given (back-dated entry of paper acts)."""
    return on if on is not None else today_shanghai()


def parse(schema: type[pydantic.BaseModel], data: Any) -> Any:
    """Validate ``data`` into ``schema``; the first error becomes ValidationFailed naming its field."""
    if isinstance(data, schema):
        return data
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or "body"
        raise ValidationFailed(
            "'{name}' is not valid: {reason}", field=field, params={"name": field, "reason": err["msg"]}
        ) from None


def text(value: Any, field: str, *, minimum: int = 1, maximum: int = 20_000) -> str:
    if not isinstance(value, str) or not minimum <= len(value.strip()) <= maximum:
        raise ValidationFailed(
            "'{name}' must be {minimum} to {maximum} characters.",
            field=field,
            params={"name": field, "minimum": minimum, "maximum": maximum},
        )
    return value.strip()


def is_regulator(actor: Actor) -> bool:
    return bool(actor.workflow_roles & REGULATOR_ROLES)


def visible(actor: Actor, app: RegistrationApplication) -> bool:
    """Registrant: its own organisation's cases; regulator: every case once submitted; public: none."""
    if (
        actor.organisation_id is not None
        and actor.organisation_id == app.registrant_org_id
        and REGISTRANT in actor.roles
    ):
        return True
    return is_regulator(actor) and app.status != Status.DRAFT


def load(
    session: Session, actor: Actor, app_id: Any, expected_version: int | None = None
) -> RegistrationApplication:
    app = session.get(RegistrationApplication, app_id) if isinstance(app_id, int) else None
    if app is None or not visible(actor, app):
        raise NotFound("Registration application {id} was not found.", field="app_id", params={"id": app_id})
    check_version(app, expected_version)
    return app


def check_version(record: Any, expected_version: int | None) -> None:
    if expected_version is not None and record.version != expected_version:
        raise Conflict(
            "The record was changed by someone else (version {current}, you saw {seen}); "
            "reload and try again.",
            field="expected_version",
            params={"current": record.version, "seen": expected_version},
        )


def check_jurisdiction(actor: Actor, app: RegistrationApplication, action: str) -> None:
    """Order 47 Art.8: domestic Class II is accepted, reviewed and decided in the registrant's province;
    everything else by NMPA and CMDE (regulator units). The registrant acts only on its own cases."""
    if TABLE.get(app.status, action) and TABLE.get(app.status, action).roles == {REGISTRANT}:
        if actor.organisation_id != app.registrant_org_id:
            raise PermissionDenied("Only the applicant may do this.", field="actor")
        return
    roles = actor.workflow_roles
    if ADMIN in roles:
        return
    if numbers.decided_by_province(app.device_class, app.origin):
        ok = PROVINCE in roles and _same_province(actor.province, app.province)
        authority = "the provincial bureau of {}".format(app.province or "?")
    else:
        ok = OFFICE in roles
        authority = "NMPA and CMDE"
    if not ok:
        raise PermissionDenied(
            "This case is handled by {authority} (Order 47 Art.8).",
            field="actor",
            params={"authority": authority},
        )


# Acts done by the system or under conditions the form cannot know; offered only where they apply.
_SYSTEM_ACTS = frozenset({"deem_accepted", "deem_renewed", "terminate_review"})


def allowed_actions(session: Session, actor: Actor, app_id: Any) -> list[str]:
    """The actions ``actor`` may take on the application now: the transition table for its roles,
    then ownership and jurisdiction (Order 47 Art.8). The services still check everything again."""
    app = load(session, actor, app_id)
    out = []
    for action in TABLE.allowed_actions(app.status, actor.workflow_roles):
        if action in _SYSTEM_ACTS and not (action == "terminate_review" and app.supplement_due_on
                                           and day(None) > app.supplement_due_on):
            continue
        try:
            check_jurisdiction(actor, app, action)
        except PermissionDenied:
            continue
        out.append(action)
    return out


def _same_province(a: str | None, b: str | None) -> bool:
    try:
        return numbers.province_abbreviation(a) == numbers.province_abbreviation(b)
    except ValidationFailed:
        return False


def act(
    session: Session,
    actor: Actor,
    app: RegistrationApplication,
    action: str,
    mutate=None,
    *,
    note: str | None = None,
) -> RegistrationApplication:
    """Check the table and the jurisdiction, apply ``mutate(app)``, set the status, audit, flush."""
    target = TABLE.next_status(app.status, action, actor.workflow_roles)
    check_jurisdiction(actor, app, action)
    with audit.recorded_change(session, actor, action, ENTITY, app, APPLICATION_FIELDS, note=note):
        if mutate is not None:
            mutate(app)
        app.status = Status(target).value
    return app


def check_category(session: Session, subcatalogue_code: str | None, category1_code: str | None,
                   category2_code: str | None, *, prefix: str = "") -> None:
    """The product category of an application (Order 47 Art.20): format and consistency with the
    sub-catalogue (``rules.check_category``), then existence in the current catalogue, asked through
    ``medreg.core.lookups`` (catalog is a sibling domain that registration may not import). Where the
    catalogue cannot tell (no row of that sub-catalogue: only 01 and 04 ship) the code is accepted."""
    rules.check_category(subcatalogue_code, category1_code, category2_code, prefix=prefix)
    for name, code in (("category1_code", category1_code), ("category2_code", category2_code)):
        found = lookups.look_up(session, lookups.NMPA_CATEGORY, code) if code else None
        if found is not None and found.known is False:
            raise ValidationFailed("The product category {code} is not in the catalogue (version {version}).",
                                   field=prefix + name, params={"code": code, "version": found.source})


def check_application_category(session: Session, app: RegistrationApplication,
                               edits: dict[str, Any] | None = None) -> None:
    """The category ``app`` will carry once ``edits`` are applied: its own (initial registration), or
    the certificate's with the requested changes (change registration; fields named ``changes.*``)."""
    v = {f: (edits or {}).get(f, getattr(app, f)) for f in
         ("subcatalogue_code", "category1_code", "category2_code", "changes")}
    if app.kind == rules.Kind.INITIAL:
        check_category(session, v["subcatalogue_code"], v["category1_code"], v["category2_code"])
    elif {"category1_code", "category2_code"} & set(v["changes"] or {}):
        changes = v["changes"]
        check_category(session, v["subcatalogue_code"], changes.get("category1_code", v["category1_code"]),
                       changes.get("category2_code", v["category2_code"]), prefix="changes.")


INNOVATION_APPROVED = "approved"  # innovation.states.Status.APPROVED (No.83 Art.11)


def innovation_for(session: Session, actor: Actor, innovation_id: int | None, field: str):
    """The innovative application (read through ``innovation.queries``, with its tenancy) if it is the
    applicant's own and accepted into the special track (No.83 Art.11); else ValidationFailed."""
    if innovation_id is None:
        return None
    try:
        inn = innovation_queries.get_for(session, actor, innovation_id).application
    except NotFound:
        inn = None
    if inn is None or inn.registrant_org_id != actor.organisation_id:
        raise ValidationFailed(
            "Innovative application {id} is not one of yours.", field=field, params={"id": innovation_id}
        )
    if inn.status != INNOVATION_APPROVED:
        raise ValidationFailed(
            "Innovative application {id} is '{status}', not accepted into the special "
            "track (No.83 Art.11, Art.22).",
            field=field,
            params={"id": innovation_id, "status": inn.status},
        )
    return inn


# ---- clocks --------------------------------------------------------------------------------------
def start(
    session: Session,
    app: RegistrationApplication,
    spec: tuple,
    on: date,
    limit: rules.Limit | None = None,
    *,
    subject_type: str = ENTITY,
) -> clocks.StatutoryClock:
    name, default = spec
    lim = limit or default
    return clocks.start_clock(
        session,
        subject_type=subject_type,
        subject_id=app.id,
        name=name,
        limit_value=lim.value,
        limit_unit=lim.unit,
        legal_basis=lim.basis,
        started_on=on,
    )


def running(session: Session, app: Any, spec: tuple, *, subject_type: str = ENTITY):
    return clocks.running_clock(session, subject_type, app.id, spec[0])


def stop(session: Session, app: Any, spec: tuple, on: date, *, subject_type: str = ENTITY) -> None:
    clock = running(session, app, spec, subject_type=subject_type)
    if clock is not None:
        clocks.stop_clock(session, clock, max(on, _last(clock)))


def stop_all(session: Session, app: RegistrationApplication, on: date) -> None:
    for spec in ALL_CLOCKS:
        stop(session, app, spec, on)


def _last(clock: clocks.StatutoryClock) -> date:
    return max([clock.started_on] + [p.resumed_on or p.paused_on for p in clock.pauses])


def review_clock(session: Session, app: RegistrationApplication):
    """The technical-review clock that runs now (the first one, or the one after supplements)."""
    return running(session, app, REVIEW_AFTER_SUPPLEMENT) or running(session, app, REVIEW)
