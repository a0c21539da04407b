"""Signal management use cases: open or update cases from a scoring run, move a case. Never commits.

Every change writes an audit event in the same transaction (``audit.record``): a case opened, the
statistics a run appended to it, each transition with the state before and after. Each transition is
also announced (``core.events.SIGNAL_CASE_MOVED``, :func:`announce`): the surveillance alert cases of a
monitor-raised case follow its state in the same transaction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core import audit, events
from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from medreg.signals.criteria import SignalCriteria
from medreg.signals.models import SignalCase, SignalCaseReport, SignalStat
from medreg.signals.states import CENTRE, OPEN, TABLE, Decision, Status

STAT_COLUMNS = ("expected", "prr", "prr_lower", "ror", "ror_lower", "ic", "ic025", "ic975", "ebgm", "eb05")


@dataclass(frozen=True)
class RunOutcome:
    opened: int
    updated: int
    cases: tuple[int, ...] = ()  # the case of each flagged pair, in the order of the pairs


def _finite(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _snapshot(case: SignalCase) -> dict:
    return {"status": case.status, "decision": case.decision, "reason": case.reason,
            "assignee_id": case.assignee_id, "version": case.version,
            "response_due_at": case.response_due_at, "responded_at": case.responded_at}


def record_run(session: Session, actor: Actor, columns: Mapping[str, np.ndarray], *,
               criteria: SignalCriteria, run_label: str,
               owners: Mapping[str, int] | None = None, run_id: int | None = None,
               reports: Mapping[tuple[str, str], Sequence[int]] | None = None,
               registration_numbers: bool = False, device_level: str = "certificate") -> RunOutcome:
    """Turn the pairs of a scoring run that meet ``criteria`` into cases.

    ``columns`` holds ``device``, ``event``, ``n11`` and the score columns (as written by ``medreg
    signals score``). A pair with an open case gets the run's statistics appended; otherwise a new case
    is opened. ``owners`` maps a device to its registrant organisation (who may see the case).
    ``reports`` maps a (device, event) pair to the ids of the reports behind its count (linked to the
    appended statistics); ``registration_numbers`` says the device keys are registration certificates
    (a run at ``device_level`` certificate). An open case is matched on (device level, device,
    event): a category-level signal and a certificate-level one on the same event are distinct cases.
    """
    if not CENTRE & actor.roles:
        raise PermissionDenied("Only the monitoring centre records signal runs.", field="actor")
    if not run_label or len(run_label) > 120:
        raise ValidationFailed("Give a run label of 1 to 120 characters.", field="run_label")
    flags = criteria.flags(columns)
    opened = updated = 0
    cases: list[int] = []
    for i in np.flatnonzero(flags):
        device, event = str(columns["device"][i]), str(columns["event"][i])
        case = session.scalar(select(SignalCase).where(
            SignalCase.device_level == device_level, SignalCase.device == device, SignalCase.event == event,
            SignalCase.status.in_([s.value for s in OPEN])))
        if case is None:
            case = SignalCase(device_level=device_level, device=device, event=event, status=Status.NEW.value,
                              criteria=criteria.describe(), owner_org_id=(owners or {}).get(device),
                              registration_number=device[:40] if registration_numbers else None)
            session.add(case)
            session.flush()
            audit.record(session, actor, "signals.case.open", "signals_case", case.id,
                         after={"device_level": device_level, "device": device, "event": event,
                                "criteria": case.criteria})
            opened += 1
        else:
            updated += 1
            if case.owner_org_id is None and (owners or {}).get(device) is not None:
                case.owner_org_id = owners[device]
        cases.append(case.id)
        stat = SignalStat(case_id=case.id, run_id=run_id, run_label=run_label, n11=int(columns["n11"][i]),
                          **{c: _finite(columns[c][i]) for c in STAT_COLUMNS if c in columns})
        session.add(stat)
        session.flush()
        linked = sorted(set((reports or {}).get((device, event), ())))
        session.add_all(SignalCaseReport(case_id=case.id, stat_id=stat.id, report_id=int(r)) for r in linked)
        audit.record(session, actor, "signals.case.stats", "signals_case", case.id,
                     after={"run": run_label, "run_id": run_id, "n11": stat.n11, "stat_id": stat.id,
                            "reports": len(linked)})
    session.flush()
    return RunOutcome(opened=opened, updated=updated, cases=tuple(cases))


def act(session: Session, actor: Actor, case_id: int, action: str, *, expected_version: int | None = None,
        decision: str | None = None, reason: str | None = None, due_days: int | None = None) -> SignalCase:
    """Move a case: validate, assess, decide_action (with ``decision``), close, dismiss (with ``reason``).

    Requesting the registrant's evaluation needs ``due_days`` (1-365): the centre sets the deadline
    in the request (no statutory period for a signal evaluation is coded here).
    """
    case = session.get(SignalCase, case_id)
    own = (Role.REGISTRANT in actor.roles and actor.organisation_id is not None
           and case is not None and case.owner_org_id == actor.organisation_id)
    if case is None or not (CENTRE & actor.roles or own):
        raise NotFound("Signal case {id} not found.", field="case_id", params={"id": case_id})
    if expected_version is not None and case.version != expected_version:
        raise Conflict("The record was changed by someone else (version {current}, you saw {seen}); "
                       "reload and try again.", field="expected_version",
                       params={"current": case.version, "seen": expected_version})
    target = TABLE.next_status(case.status, action, actor.roles)
    before = _snapshot(case)
    now = utcnow()
    if action == "dismiss" and not (reason or "").strip():
        raise ValidationFailed("Say why the signal is dismissed.", field="reason")
    if action == "decide_action":
        if decision not in {d.value for d in Decision}:
            raise ValidationFailed("'decision' must be one of: {allowed}.", field="decision",
                                   params={"allowed": ", ".join(d.value for d in Decision)})
        if decision == Decision.REQUEST_EVALUATION:
            if due_days is None or not 1 <= due_days <= 365:
                raise ValidationFailed("Give the registrant 1 to 365 days to respond.", field="due_days")
            case.response_due_at = now + timedelta(days=due_days)
        case.decision = decision
    if reason is not None:
        case.reason = reason.strip() or None
    case.status = target
    case.updated_at = now
    if case.assignee_id is None and actor.user_id is not None:
        case.assignee_id = actor.user_id
    session.flush()
    audit.record(session, actor, f"signals.case.{action}", "signals_case", case.id, before=before,
                 after=_snapshot(case))
    announce(session, actor, case, action)
    return case


def announce(session: Session, actor: Actor, case: SignalCase, action: str) -> None:
    """Publish ``SIGNAL_CASE_MOVED`` for the case (its state, reason, decision and the surveillance looks
    it holds), in the caller's transaction: lower domains follow it (surveillance's alert cases)."""
    looks = session.scalars(select(SignalStat.look_id).where(SignalStat.case_id == case.id,
                                                             SignalStat.look_id.is_not(None))
                            .order_by(SignalStat.look_id)).all()
    events.publish(session, actor, events.SIGNAL_CASE_MOVED, {
        "case_id": case.id, "action": action, "status": case.status, "reason": case.reason,
        "decision": case.decision, "look_ids": list(looks)})


def respond(session: Session, actor: Actor, case_id: int, response: str, *,
            expected_version: int | None = None) -> SignalCase:
    """The device's registrant answers a request for its evaluation (once; late answers are kept and
    shown as late against ``response_due_at``)."""
    case = session.get(SignalCase, case_id)
    own = (Role.REGISTRANT in actor.roles and actor.organisation_id is not None
           and case is not None and case.owner_org_id == actor.organisation_id)
    if case is None or not (own or CENTRE & actor.roles):
        raise NotFound("Signal case {id} not found.", field="case_id", params={"id": case_id})
    if not own:
        raise PermissionDenied("Only the device's registrant responds to a signal.", field="actor")
    if expected_version is not None and case.version != expected_version:
        raise Conflict("The record was changed by someone else (version {current}, you saw {seen}); "
                       "reload and try again.", field="expected_version",
                       params={"current": case.version, "seen": expected_version})
    if case.decision != Decision.REQUEST_EVALUATION or case.status != Status.ACTION_DECIDED:
        raise ValidationFailed("No evaluation of this signal has been requested from you.", field="case_id")
    if case.responded_at is not None:
        raise ValidationFailed("The evaluation has already been submitted.", field="response")
    if not (response or "").strip():
        raise ValidationFailed("Write your evaluation of the signal.", field="response")
    before = _snapshot(case)
    case.response, case.responded_at = response.strip(), utcnow()
    case.updated_at = case.responded_at
    session.flush()
    audit.record(session, actor, "signals.case.respond", "signals_case", case.id, before=before,
                 after=_snapshot(case) | {"late": response_late(case)})
    return case


def response_late(case: SignalCase, now=None) -> bool | None:
    """True when the answer came (or is still missing) after the deadline; None without a deadline."""
    if case.response_due_at is None:
        return None
    return (case.responded_at or now or utcnow()) > case.response_due_at
