"""The signal case as a state machine (Announcement No. 63, measure VII: detect and use signals).

new -> validated -> assessed -> action_decided -> closed, or dismissed (with a reason) before an action
is decided. The national or provincial monitoring centre (监测机构) works the case; an administrator may
act for it. Registrants see the cases of their own devices (queries) but do not move them.
"""

from __future__ import annotations

import enum

from medreg.core.accounts import Role
from medreg.core.workflow import TransitionTable


class Status(enum.StrEnum):
    NEW = "new"
    VALIDATED = "validated"
    ASSESSED = "assessed"
    ACTION_DECIDED = "action_decided"
    CLOSED = "closed"
    DISMISSED = "dismissed"


OPEN = frozenset({Status.NEW, Status.VALIDATED, Status.ASSESSED, Status.ACTION_DECIDED})


class Decision(enum.StrEnum):
    """What the regulator decides to do about a confirmed signal."""

    REQUEST_EVALUATION = "request_evaluation"  # ask the registrant for its evaluation
    LABEL_CHANGE = "label_change"  # change the instructions for use / label
    FIELD_SAFETY_ACTION = "field_safety_action"  # recall or field safety corrective action
    RE_EVALUATION = "re_evaluation"  # order a re-evaluation of the registered device


CENTRE = {Role.MONITORING_CENTRE, Role.ADMIN}

TABLE = TransitionTable({
    (Status.NEW, "validate"): (Status.VALIDATED, CENTRE),
    (Status.VALIDATED, "assess"): (Status.ASSESSED, CENTRE),
    (Status.ASSESSED, "decide_action"): (Status.ACTION_DECIDED, CENTRE),
    (Status.ACTION_DECIDED, "close"): (Status.CLOSED, CENTRE),
    (Status.NEW, "dismiss"): (Status.DISMISSED, CENTRE),
    (Status.VALIDATED, "dismiss"): (Status.DISMISSED, CENTRE),
    (Status.ASSESSED, "dismiss"): (Status.DISMISSED, CENTRE),
})
