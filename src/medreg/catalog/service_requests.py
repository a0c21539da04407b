"""分类界定 requests as cases: a registrant asks, the engine's opinion is stored, a reviewer decides
(electronically signed) and the result is published. Services never commit; every transition is
checked against ``states.TABLE``, audited, and optimistically locked (``expected_version``).

Time limit: 医疗器械监督管理条例（国务院令第739号）第二十三条 — the NMPA decides the class of a 类别确认
request within 20 working days of accepting it (``nmpa-law/deadlines.csv``). medreg has no separate
acceptance step, so the clock (``core.clocks``, Chinese working days) starts on the day the request is
filed (that day not counted) and stops when the reviewer decides or the registrant withdraws.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.catalog import classify
from medreg.catalog.index import current_index
from medreg.catalog.models import CatalogDeterminationRequest as Req
from medreg.catalog.schemas import is_blank
from medreg.catalog.states import TABLE, RequestStatus
from medreg.core import audit, clocks, reference, signatures
from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.calendar import working_days_between
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

DECIDABLE = ("I", "II", "III", "not_medical_device")
SUBJECT = "catalog_determination_request"
CLOCK = "determination.decision"


def _limit() -> reference.TimeLimitRow:
    """20 working days, 国务院令第739号 第二十三条 (the row of deadlines.csv)."""
    return reference.time_limit("State Council Decree 739", "23", "class-confirmation")


def _stop_clock(session: Session, req: Req, on: date) -> None:
    clock = clocks.running_clock(session, SUBJECT, req.id, CLOCK)
    if clock is not None:
        clocks.stop_clock(session, clock, max(on, clock.started_on))


def _visible(actor: Actor, req: Req) -> bool:
    if actor.has(Role.REVIEWER) or actor.has(Role.ADMIN):
        return True
    if actor.has(Role.REGISTRANT) and actor.organisation_id is not None:
        return req.organisation_id == actor.organisation_id or req.status == RequestStatus.PUBLISHED
    return req.status == RequestStatus.PUBLISHED


def get_for(session: Session, actor: Actor, request_id: int) -> Req:
    req = session.get(Req, request_id)
    if req is None or not _visible(actor, req):
        raise NotFound("No determination request {id}.", field="request_id", params={"id": request_id})
    return req


def list_for(session: Session, actor: Actor) -> list[Req]:
    rows = session.scalars(select(Req).order_by(Req.id.desc())).all()
    return [r for r in rows if _visible(actor, r)]


def _check_version(req: Req, expected_version: int) -> None:
    if expected_version != req.version:
        raise Conflict("Someone else changed this request meanwhile; reload and try again.",
                       field="expected_version")


def submit(session: Session, actor: Actor, facts: dict, today: date) -> Req:
    """A registrant asks for a determination; the engine's opinion is stored with the request."""
    if not actor.has(Role.REGISTRANT) or actor.organisation_id is None:
        raise PermissionDenied("Only a registrant may ask for a classification determination.")
    if not (facts.get("name") or "").strip():
        raise ValidationFailed("The product name is required.", field="name")
    if is_blank(facts):  # pragma: no cover - a name makes it non-blank
        raise ValidationFailed("Describe the device: a name, its intended use, a catalogue code or at least "
                               "one fact.", field="name")
    label, index = current_index(session)
    opinion = {"catalogue_version": label, **classify.classify(index, facts).to_dict()}
    req = Req(organisation_id=actor.organisation_id, product_name=facts["name"].strip(), description=facts,
              engine_opinion=opinion, status=RequestStatus.SUBMITTED, submitted_by=actor.username,
              submitted_on=today)
    session.add(req)
    session.flush()
    limit = _limit()
    clock = clocks.start_clock(session, subject_type=SUBJECT, subject_id=req.id, name=CLOCK,
                               limit_value=limit.limit_value, limit_unit=limit.limit_unit,
                               legal_basis="国务院令第739号 第二十三条", started_on=today)
    audit.record(session, actor, "determination_requested", "catalog_determination_request", req.id,
                 after={"product_name": req.product_name, "engine_class": opinion["management_class"],
                        "engine_status": opinion["status"],
                        "due_on": clocks.status(clock, today).due_on.isoformat()})
    return req


def decide(session: Session, actor: Actor, request_id: int, *, decided_class: str, reason: str,
           password: str, expected_version: int, today: date) -> Req:
    """A reviewer decides the class (signed); the engine's opinion stays beside it for comparison."""
    req = get_for(session, actor, request_id)
    status = TABLE.next_status(req.status, "decide", actor.roles)
    _check_version(req, expected_version)
    if decided_class not in DECIDABLE:
        raise ValidationFailed("The class must be one of I, II, III or not_medical_device.",
                               field="decided_class")
    if not reason.strip():
        raise ValidationFailed("Give the reasons for the decision.", field="reason")
    content = {"request_id": req.id, "product_name": req.product_name, "decided_class": decided_class,
               "reason": reason, "engine_class": req.engine_opinion.get("management_class")}
    sig = signatures.sign(session, actor, password=password, meaning=signatures.SignatureMeaning.REVIEWED,
                          entity_type="catalog_determination_request", entity_id=req.id, content=content)
    before = {"status": req.status}
    req.status, req.decided_class, req.decision_reason = status, decided_class, reason
    req.decided_by, req.decided_on, req.signature_id = actor.username, today, sig.id
    _stop_clock(session, req, today)
    session.flush()
    audit.record(session, actor, "determination_decided", "catalog_determination_request", req.id,
                 before=before, after={"status": status, **content})
    return req


def act(session: Session, actor: Actor, request_id: int, action: str, expected_version: int,
        today: date) -> Req:
    """publish (reviewer, admin) or withdraw (the registrant who asked)."""
    if action not in ("publish", "withdraw"):
        raise ValidationFailed("Unknown action '{action}'.", field="action", params={"action": action})
    req = get_for(session, actor, request_id)
    if action == "withdraw" and req.organisation_id != actor.organisation_id:
        raise PermissionDenied("Only the registrant who asked may withdraw the request.")
    status = TABLE.next_status(req.status, action, actor.roles)
    _check_version(req, expected_version)
    before = {"status": req.status}
    req.status = status
    if action == "publish":
        req.published_on = today
    else:
        _stop_clock(session, req, today)
    session.flush()
    audit.record(session, actor, f"determination_{action}", "catalog_determination_request", req.id,
                 before=before, after={"status": status})
    return req


def to_dict(req: Req, today: date) -> dict:
    end = req.decided_on or today
    return {
        "id": req.id, "product_name": req.product_name, "status": req.status, "version": req.version,
        "submitted_by": req.submitted_by, "submitted_on": req.submitted_on.isoformat(),
        "working_days_elapsed": working_days_between(req.submitted_on, end),
        "engine_opinion": {k: req.engine_opinion.get(k) for k in (
            "management_class", "status", "decided_by", "trace", "catalogue_matches", "notes",
            "catalogue_version", "rules_sha256")},
        "decided_class": req.decided_class, "decision_reason": req.decision_reason,
        "decided_by": req.decided_by, "decided_on": req.decided_on.isoformat() if req.decided_on else None,
        "signature_id": req.signature_id,
        "published_on": req.published_on.isoformat() if req.published_on else None,
        "description": req.description,
    }


def clock_dict(session: Session, req: Req, today: date) -> dict | None:
    """The statutory clock of the request (limit, article, due date, working days used and left)."""
    found = [c for c in clocks.clocks_for(session, SUBJECT, req.id) if c.name == CLOCK]
    if not found:
        return None
    clock = found[-1]
    st = clocks.status(clock, today)
    return {"limit": st.limit, "unit": st.unit.value, "legal_basis": clock.legal_basis,
            "started_on": st.started_on.isoformat(), "due_on": st.due_on.isoformat(), "used": st.used,
            "left": st.left, "overdue": st.overdue, "stopped_on": st.stopped_on.isoformat() if st.stopped_on
            else None, "provisional": st.provisional}


def view(session: Session, req: Req, today: date) -> dict:
    """The request as the API and the pages show it, with its statutory clock."""
    return {**to_dict(req, today), "clock": clock_dict(session, req, today)}
