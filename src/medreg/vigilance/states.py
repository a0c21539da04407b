"""The adverse-event case (可疑医疗器械不良事件报告) as ONE transition table.

Order 1 (SAMR/NHC Order No. 1, 2018): the reporter submits through the national system (Art.20, 25);
the monitoring body checks authenticity, completeness and accuracy and feeds back (Art.28; here the
provincial centre of the event's province, which may return the report for correction); the national
centre receives it (Art.12) and closes the case once the registrant's evaluation (Art.29) is in.

Roles as the table names them (``Actor.workflow_roles`` plus the service's ``reporter_roles``):
``reporter`` (the organisation that filed the report), ``registrant`` (the device's registrant, for
follow-up and final reports), ``province`` (a provincial monitoring centre), ``national`` (the
national monitoring centre), ``admin``.
"""

from __future__ import annotations

import enum

from medreg.core.workflow import TransitionTable


class Status(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # with the provincial centre (Art.28 review)
    RETURNED = "returned"  # returned to the reporter for correction
    AT_NATIONAL = "at_national"  # reviewed by the province, with the national centre
    CLOSED = "closed"  # national centre closed the case (final report received)


class VersionKind(enum.StrEnum):
    INITIAL = "initial"  # 首次报告
    FOLLOW_UP = "follow_up"  # 补充报告 (Art.29: new findings)
    FINAL = "final"  # the registrant's evaluation result (Art.29)


REPORTER, REGISTRANT, PROVINCE, NATIONAL, ADMIN = "reporter", "registrant", "province", "national", "admin"
CENTRES = frozenset({PROVINCE, NATIONAL, ADMIN})

TABLE = TransitionTable({
    (Status.DRAFT, "submit"): (Status.SUBMITTED, {REPORTER}),
    (Status.SUBMITTED, "return_for_correction"): (Status.RETURNED, {PROVINCE, ADMIN}),
    (Status.RETURNED, "resubmit"): (Status.SUBMITTED, {REPORTER}),
    (Status.SUBMITTED, "accept"): (Status.AT_NATIONAL, {PROVINCE, ADMIN}),
    (Status.AT_NATIONAL, "close"): (Status.CLOSED, {NATIONAL, ADMIN}),
    # Follow-up and final reports add a version without changing where the case is.
    (Status.SUBMITTED, "follow_up"): (Status.SUBMITTED, {REPORTER, REGISTRANT}),
    (Status.AT_NATIONAL, "follow_up"): (Status.AT_NATIONAL, {REPORTER, REGISTRANT}),
    (Status.SUBMITTED, "final"): (Status.SUBMITTED, {REGISTRANT}),
    (Status.AT_NATIONAL, "final"): (Status.AT_NATIONAL, {REGISTRANT}),
})

EDITABLE = frozenset({Status.DRAFT, Status.RETURNED})
