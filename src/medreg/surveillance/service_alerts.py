"""An alert case follows its signal case: the signal workflow (``medreg.signals``) is THE workflow of a
monitor's signal, the alert case its surveillance-side record. Never commits.

Surveillance may not import signals (import-linter layers), so signals announces every move of a case
(opened, a look appended, validate, assess, decide_action, close, dismiss) with
``core.events.SIGNAL_CASE_MOVED`` inside its unit of work, and :func:`follow_signal_case` makes each
alert whose look the case holds take the case's state (``states.FOLLOWS``) and reason, audited as
``surveillance.alert.follow`` (before and after, with the signal case's action). Registered at import;
``signals.bridge`` imports this module, so wherever monitor cases are made the alerts follow them.

An alert without a signal case (opened while the signal workflow was not loaded) keeps the fallback
workflow (:func:`transition_alert`) or is raised to a signal case with
:func:`raise_signal_case`, and then follows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from medreg.core import audit, events
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, NotFound, ValidationFailed
from medreg.surveillance.access import is_centre, require_centre
from medreg.surveillance.models import AlertCase, Look, Monitor
from medreg.surveillance.service_alert_open import announce_alert
from medreg.surveillance.states import FINISHED, FOLLOWS, TABLE

__all__ = ["allowed_actions", "follow_signal_case", "raise_signal_case"]


def allowed_actions(actor: Actor, alert: AlertCase) -> list[str]:
    """What the actor may do on the alert itself: nothing once it follows a signal case (the case is
    worked); otherwise the fallback workflow, and raising it to a signal case (monitoring centre)."""
    if alert.signal_case_id is not None or not is_centre(actor):
        return []
    allowed = TABLE.allowed_actions(alert.status, actor.workflow_roles)
    return allowed + (["raise"] if alert.status not in FINISHED else [])


def _state(alert: AlertCase) -> dict:
    return {"status": alert.status, "signal_case_id": alert.signal_case_id, "resolution": alert.resolution}


def follow_signal_case(session: Session, actor: Actor, payload: Mapping[str, Any]) -> None:
    """The alerts of the signal case's looks (or already following it) take its state, audited."""
    target = FOLLOWS.get(str(payload["status"]))
    if target is None:
        raise ValueError(f"unknown signal case state {payload['status']!r}")
    case_id = int(payload["case_id"])
    look_ids = [int(x) for x in payload.get("look_ids") or ()]
    which = AlertCase.signal_case_id == case_id
    if look_ids:
        which = or_(which, AlertCase.look_id.in_(look_ids))
    for alert in session.scalars(select(AlertCase).where(which).order_by(AlertCase.id)):
        if alert.signal_case_id not in (None, case_id):
            continue  # follows another case (a look is never in two cases; defensive)
        before = _state(alert)
        alert.status, alert.signal_case_id = target, case_id
        if payload.get("reason"):
            alert.resolution = str(payload["reason"])
        if _state(alert) == before:
            continue
        session.flush()
        audit.record(session, actor, "surveillance.alert.follow", "surveillance_alert", alert.id,
                     before=before, after=_state(alert) | {"signal_action": payload.get("action"),
                                                           "decision": payload.get("decision")})


def raise_signal_case(session: Session, actor: Actor, alert_id: int, *, expected_version: int) -> AlertCase:
    """Open (or join) the signal case of an alert that has none; the alert then follows it (centre).

    The alert's monitor signal is announced again (``MONITOR_SIGNALLED``); signals opens the case, or
    appends the look to the open case of the same UDI-DI and outcome, and the alert follows that case.
    """
    require_centre(actor)
    alert = session.get(AlertCase, alert_id)
    if alert is None:
        raise NotFound("No such alert.", field="alert_id")
    if alert.version != expected_version:
        raise Conflict("Someone else changed this alert first; reload it.", field="expected_version")
    if alert.signal_case_id is not None:
        raise Conflict("This alert follows signal case {case}: act on the signal case.", field="alert_id",
                       params={"case": alert.signal_case_id})
    if alert.status in FINISHED:
        raise Conflict("This alert is finished; a finished alert is not raised to a signal case.",
                       field="alert_id")

    audit.record(session, actor, "surveillance.alert.raise", "surveillance_alert", alert.id,
                 after={"look_id": alert.look_id})
    monitor, look = session.get(Monitor, alert.monitor_id), session.get(Look, alert.look_id)
    if announce_alert(session, actor, monitor, look, alert) == 0 or alert.signal_case_id is None:
        raise Conflict("The signal workflow is not available; the alert keeps its own workflow.",
                       field="alert_id")
    return alert


events.subscribe(events.SIGNAL_CASE_MOVED, "surveillance", follow_signal_case)


def transition_alert(
    session: Session,
    actor: Actor,
    alert_id: int,
    action: str,
    *,
    expected_version: int,
    note: str | None = None,
) -> AlertCase:
    """Move an alert case through its fallback workflow (investigate, confirm, dismiss, close).

    Refused (409) for an alert that follows a signal case: the signal case is worked instead
    (``service_alerts``)."""
    alert = session.get(AlertCase, alert_id)
    if alert is None:
        raise NotFound("No such alert.", field="alert_id")
    require_centre(actor)
    if alert.signal_case_id is not None:
        raise Conflict("This alert follows signal case {case}: act on the signal case.", field="alert_id",
                       params={"case": alert.signal_case_id})
    if alert.version != expected_version:
        raise Conflict("Someone else changed this alert first; reload it.", field="expected_version")
    new = TABLE.next_status(alert.status, action, actor.workflow_roles)
    if action == "dismiss" and not (note or "").strip():
        raise ValidationFailed("Give the reasons for dismissing the alert.", field="note")
    before = {"status": alert.status}
    alert.status = new
    if note:
        alert.resolution = note.strip()
    session.flush()
    audit.record(
        session,
        actor,
        f"surveillance.alert.{action}",
        "surveillance_alert",
        alert.id,
        before=before,
        after={"status": new, "note": note},
    )
    return alert
