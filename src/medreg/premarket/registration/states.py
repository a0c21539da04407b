"""Registration (注册), change registration (变更注册) and renewal (延续注册) as ONE transition table,
plus the small state machine of consultations (沟通交流).

Sources: SAMR Order 47 (2021) "Order 47" (``medreg/data/nmpa-law/registration_rules.md``), State
Council Decree 739 "739", NMPA 2018 No.83 "No.83" (``innovative_review_rules.md``).

Roles: ``registrant`` (the applicant or its Chinese agent, Order 47 Art.14), ``office`` (a reviewer of
a national regulator unit: the accepting/deciding authority, NMPA), ``province`` (a reviewer of a
provincial bureau: the accepting/deciding authority for domestic Class II, Order 47 Art.8),
``reviewer`` (the technical review body: CMDE, or the provincial review body for domestic Class II,
Order 47 Art.5-6). Which authority may act on which case is checked by the service (jurisdiction).
``admin`` stands for system jobs (deemed acceptance / deemed renewal, which happen by law).
"""

from __future__ import annotations

import enum

from medreg.core.workflow import TransitionTable


class Status(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # received, formal check pending (Order 47 Art.53, 5 WD)
    CORRECTION_REQUESTED = "correction_requested"  # 一次告知补正 at acceptance (Art.53(3))
    ACCEPTANCE_REFUSED = "acceptance_refused"  # 不予受理 (Art.53(4))
    ACCEPTED = "accepted"  # 受理; dossier forwarded to the review body within 3 WD (Art.91)
    IN_REVIEW = "in_review"  # technical review (Art.92: III 90 WD, II 60 WD)
    SUPPLEMENT_REQUESTED = "supplement_requested"  # 补正资料 during review (Art.54, 1 year)
    NEGATIVE_NOTICE = "negative_notice"  # intended negative conclusion told, 15 WD to object (Art.57)
    OBJECTION_REVIEW = "objection_review"  # objection filed, being assessed (Art.57, time not counted)
    REVIEW_COMPLETED = "review_completed"  # opinion with the deciding authority (Art.94, 20 WD)
    APPROVED = "approved"  # 准予注册 / 附条件批准; certificate due within 10 WD (Art.95)
    CERTIFICATE_ISSUED = "certificate_issued"  # 注册证 / 变更注册文件 / renewed certificate issued
    REFUSED = "refused"  # 不予注册 (Art.58-59; Art.54 third para; renewal: Art.83)
    WITHDRAWN = "withdrawn"  # Art.55


REGISTRANT, OFFICE, PROVINCE, REVIEWER, ADMIN = "registrant", "office", "province", "reviewer", "admin"
AUTHORITY = frozenset({OFFICE, PROVINCE})  # the accepting and deciding administration
SYSTEM = frozenset({ADMIN})

# Art.55: the applicant may withdraw before the licensing decision is made.
_WITHDRAWABLE = (
    Status.DRAFT,
    Status.SUBMITTED,
    Status.CORRECTION_REQUESTED,
    Status.ACCEPTED,
    Status.IN_REVIEW,
    Status.SUPPLEMENT_REQUESTED,
    Status.NEGATIVE_NOTICE,
    Status.OBJECTION_REVIEW,
    Status.REVIEW_COMPLETED,
)
# Art.82 second para / 739 Art.22: a renewal not decided before expiry is deemed granted.
_UNDECIDED = _WITHDRAWABLE[1:]

TABLE = TransitionTable(
    {
        (Status.DRAFT, "submit"): (Status.SUBMITTED, {REGISTRANT}),
        # Art.53: accept, ask once for all corrections (within 5 WD), or refuse to accept.
        (Status.SUBMITTED, "accept"): (Status.ACCEPTED, AUTHORITY),
        (Status.SUBMITTED, "request_corrections"): (Status.CORRECTION_REQUESTED, AUTHORITY),
        (Status.SUBMITTED, "refuse_acceptance"): (Status.ACCEPTANCE_REFUSED, AUTHORITY),
        # Art.53(3): no correction notice within 5 WD -> accepted as of the day of receipt.
        (Status.SUBMITTED, "deem_accepted"): (Status.ACCEPTED, SYSTEM | AUTHORITY),
        (Status.CORRECTION_REQUESTED, "provide_corrections"): (Status.SUBMITTED, {REGISTRANT}),
        # Art.91: forwarded to the technical review body; review starts.
        (Status.ACCEPTED, "start_review"): (Status.IN_REVIEW, {REVIEWER}),
        # Art.54: supplements, once, all at once; applicant has 1 year.
        (Status.IN_REVIEW, "request_supplement"): (Status.SUPPLEMENT_REQUESTED, {REVIEWER}),
        (Status.SUPPLEMENT_REQUESTED, "provide_supplement"): (Status.IN_REVIEW, {REGISTRANT}),
        # Art.54 third para: no supplement within 1 year -> review terminated, registration refused.
        (Status.SUPPLEMENT_REQUESTED, "terminate_review"): (Status.REFUSED, AUTHORITY | SYSTEM),
        # Art.57: intended negative conclusion -> 15 WD to object; objection time not counted.
        (Status.IN_REVIEW, "propose_negative"): (Status.NEGATIVE_NOTICE, {REVIEWER}),
        (Status.NEGATIVE_NOTICE, "file_objection"): (Status.OBJECTION_REVIEW, {REGISTRANT}),
        (Status.NEGATIVE_NOTICE, "close_objection_window"): (Status.REVIEW_COMPLETED, {REVIEWER}),
        (Status.OBJECTION_REVIEW, "uphold_objection"): (Status.IN_REVIEW, {REVIEWER}),
        (Status.OBJECTION_REVIEW, "dismiss_objection"): (Status.REVIEW_COMPLETED, {REVIEWER}),
        (Status.IN_REVIEW, "complete_review"): (Status.REVIEW_COMPLETED, {REVIEWER}),
        # Art.58, Art.94 (20 WD); conditional approval Art.61-63 / 739 Art.19.
        (Status.REVIEW_COMPLETED, "approve"): (Status.APPROVED, AUTHORITY),
        (Status.REVIEW_COMPLETED, "approve_conditionally"): (Status.APPROVED, AUTHORITY),
        (Status.REVIEW_COMPLETED, "refuse"): (Status.REFUSED, AUTHORITY),
        # Art.95: certificate (or change document, Art.81) issued within 10 WD of the decision.
        (Status.APPROVED, "issue_certificate"): (Status.CERTIFICATE_ISSUED, AUTHORITY),
        **{(s, "withdraw"): (Status.WITHDRAWN, {REGISTRANT}) for s in _WITHDRAWABLE},
        **{(s, "deem_renewed"): (Status.CERTIFICATE_ISSUED, SYSTEM | AUTHORITY) for s in _UNDECIDED},
    }
)

EDITABLE = frozenset({Status.DRAFT, Status.CORRECTION_REQUESTED})
FINAL = frozenset({Status.ACCEPTANCE_REFUSED, Status.CERTIFICATE_ISSUED, Status.REFUSED, Status.WITHDRAWN})
# Statuses in which the regulator has the ball (the reviewer queue).
REGULATOR_TURN = frozenset(
    {
        Status.SUBMITTED,
        Status.ACCEPTED,
        Status.IN_REVIEW,
        Status.NEGATIVE_NOTICE,
        Status.OBJECTION_REVIEW,
        Status.REVIEW_COMPLETED,
        Status.APPROVED,
    }
)
# No.83 Art.17-18: consultations before acceptance and during technical review.
CONSULTABLE = frozenset(
    {
        Status.DRAFT,
        Status.SUBMITTED,
        Status.CORRECTION_REQUESTED,
        Status.ACCEPTED,
        Status.IN_REVIEW,
        Status.SUPPLEMENT_REQUESTED,
        Status.NEGATIVE_NOTICE,
        Status.OBJECTION_REVIEW,
    }
)


def next_status(status: Status | str, action: str, roles) -> Status:
    """The status after ``action`` by an actor with ``roles``; raises InvalidTransition/PermissionDenied."""
    return Status(TABLE.next_status(status, action, roles))


class ConsultationStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # 沟通交流申请表 filed (No.83 Art.18; CMDE Art.29)
    ANSWERED = "answered"  # answered in writing (No.83 Art.19 回复单)
    MEETING_SCHEDULED = "meeting_scheduled"  # CMDE agreed to meet (No.83 Art.19; CMDE Art.31)
    MINUTES_ISSUED = "minutes_issued"  # minutes sent for signature (No.83 Art.19; CMDE Art.34)
    CLOSED = "closed"  # minutes signed by both sides
    DECLINED = "declined"  # not agreed, with reasons (CMDE Art.31)
    WITHDRAWN = "withdrawn"


CONSULTATION_TABLE = TransitionTable(
    {
        (ConsultationStatus.SUBMITTED, "answer"): (ConsultationStatus.ANSWERED, {OFFICE, REVIEWER}),
        (ConsultationStatus.SUBMITTED, "schedule_meeting"): (
            ConsultationStatus.MEETING_SCHEDULED,
            {OFFICE, REVIEWER},
        ),
        (ConsultationStatus.SUBMITTED, "decline"): (ConsultationStatus.DECLINED, {OFFICE, REVIEWER}),
        (ConsultationStatus.SUBMITTED, "withdraw"): (ConsultationStatus.WITHDRAWN, {REGISTRANT}),
        (ConsultationStatus.MEETING_SCHEDULED, "issue_minutes"): (
            ConsultationStatus.MINUTES_ISSUED,
            {OFFICE, REVIEWER},
        ),
        (ConsultationStatus.MEETING_SCHEDULED, "withdraw"): (ConsultationStatus.WITHDRAWN, {REGISTRANT}),
        (ConsultationStatus.MINUTES_ISSUED, "confirm_minutes"): (ConsultationStatus.CLOSED, {REGISTRANT}),
    }
)

CONSULTATION_OPEN = frozenset(
    {ConsultationStatus.SUBMITTED, ConsultationStatus.MEETING_SCHEDULED, ConsultationStatus.MINUTES_ISSUED}
)


def next_consultation_status(status: ConsultationStatus | str, action: str, roles) -> ConsultationStatus:
    return ConsultationStatus(CONSULTATION_TABLE.next_status(status, action, roles))
