"""The surveillance alert case as a state machine: ONE transition table.

A monitoring look that crosses its critical value opens an alert case (by the system). The monitoring
centre investigates it, then confirms it as a safety signal (to be handled in the vigilance signal
workflow once that exists) or dismisses it with reasons; a confirmed alert is closed when the actions
are done. Shape of the vigilance signal workflow (detected -> assessed -> confirmed/refuted -> closed).
"""

from __future__ import annotations

import enum

from medreg.core.workflow import TransitionTable


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    CLOSED = "closed"


CENTRE = "monitoring_centre"

TABLE = TransitionTable({
    (AlertStatus.OPEN, "investigate"): (AlertStatus.INVESTIGATING, {CENTRE}),
    (AlertStatus.OPEN, "dismiss"): (AlertStatus.DISMISSED, {CENTRE}),
    (AlertStatus.INVESTIGATING, "confirm"): (AlertStatus.CONFIRMED, {CENTRE}),
    (AlertStatus.INVESTIGATING, "dismiss"): (AlertStatus.DISMISSED, {CENTRE}),
    (AlertStatus.CONFIRMED, "close"): (AlertStatus.CLOSED, {CENTRE}),
})
