"""The surveillance alert case as a state machine.

A monitoring look that crosses its critical value opens an alert case (by the system) and a signal case
in the signal workflow (``medreg.signals``, through ``core.events``). The signal case is THE workflow:
the alert follows it (``FOLLOWS``: the alert takes the state of its signal case, ``service_alerts``),
and its own transitions are refused while it has one.

``TABLE`` is the fallback workflow of an alert without a signal case (opened while the signal workflow
was not loaded, or before it existed): the monitoring centre investigates it, then confirms it as a
safety signal or dismisses it with reasons; a confirmed alert is closed when the actions are done. Such
an alert can also be raised to a signal case, and then follows it.
"""

from __future__ import annotations

import enum

from medreg.core.workflow import TransitionTable


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"  # fallback workflow only
    CONFIRMED = "confirmed"  # fallback workflow only
    VALIDATED = "validated"  # following a signal case
    ASSESSED = "assessed"  # following a signal case
    ACTION_DECIDED = "action_decided"  # following a signal case
    DISMISSED = "dismissed"
    CLOSED = "closed"


# the state of the signal case (signals.states.Status, by value: surveillance may not import signals)
# -> the state of an alert that follows it
FOLLOWS = {
    "new": AlertStatus.OPEN,
    "validated": AlertStatus.VALIDATED,
    "assessed": AlertStatus.ASSESSED,
    "action_decided": AlertStatus.ACTION_DECIDED,
    "closed": AlertStatus.CLOSED,
    "dismissed": AlertStatus.DISMISSED,
}
FINISHED = frozenset({AlertStatus.CLOSED, AlertStatus.DISMISSED})


CENTRE = "monitoring_centre"

TABLE = TransitionTable({
    (AlertStatus.OPEN, "investigate"): (AlertStatus.INVESTIGATING, {CENTRE}),
    (AlertStatus.OPEN, "dismiss"): (AlertStatus.DISMISSED, {CENTRE}),
    (AlertStatus.INVESTIGATING, "confirm"): (AlertStatus.CONFIRMED, {CENTRE}),
    (AlertStatus.INVESTIGATING, "dismiss"): (AlertStatus.DISMISSED, {CENTRE}),
    (AlertStatus.CONFIRMED, "close"): (AlertStatus.CLOSED, {CENTRE}),
})
