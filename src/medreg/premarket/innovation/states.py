"""The innovative special review (创新医疗器械特别审查) as a state machine: ONE transition table.

Sources: NMPA Announcement 2018 No.83 ("No.83") and the CMDE implementing rules, CMDE Notice
2025 No.7 ("CMDE"). Texts: ``medreg/data/nmpa-law/innovative_review_rules.md``.

Roles: ``registrant`` (the applicant or its Chinese agent), ``province`` (a reviewer of the
provincial bureau of the applicant's province), ``office`` (a reviewer of the CMDE innovation
review office 创新审查办), ``expert`` and ``public`` (anyone, no login).
"""

from __future__ import annotations

import enum

from medreg.core.workflow import TransitionTable


class Status(enum.StrEnum):
    DRAFT = "draft"
    PROVINCE_REVIEW = "province_review"  # No.83 Art.5: provincial preliminary review (初审)
    PROVINCE_REFUSED = "province_refused"  # No.83 Art.5: 经初审不符合第二条要求
    SUBMITTED = "submitted"  # at the office, awaiting the formal check (No.83 Art.6, CMDE Art.6-7)
    SUPPLEMENT_REQUESTED = "supplement_requested"  # formal defects to correct (by analogy Order 47 Art.53)
    ACCEPTANCE_REFUSED = "acceptance_refused"  # does not meet the formal requirements of Art.4
    ACCEPTED = "accepted"  # 受理: has a CQTS acceptance number (No.83 Art.6)
    EXPERT_REVIEW = "expert_review"  # experts assigned (No.83 Art.8, CMDE Art.8-17)
    PUBLIC_NOTICE = "public_notice"  # 公示 >= 10 working days (No.83 Art.10, CMDE Art.20)
    DECISION_PENDING = "decision_pending"  # notice closed, objections answered (No.83 Art.10)
    REJECTION_PENDING = "rejection_pending"  # conclusion 'disagree' or Art.13 ground, to be signed
    APPROVED = "approved"  # accepted into the special track (No.83 Art.11)
    REJECTED = "rejected"  # not accepted (No.83 Art.11)
    WITHDRAWN = "withdrawn"  # No.83 Art.6 second paragraph, CMDE Art.23
    TERMINATED = "terminated"  # No.83 Art.22


REGISTRANT, PROVINCE, OFFICE, EXPERT, PUBLIC = "registrant", "province", "office", "expert", "public"
# Art.10 of No.83 / Art.24(1) of CMDE: "任何机构或个人" may object to a notice: every role.
ANYONE = frozenset(
    {
        PUBLIC,
        REGISTRANT,
        PROVINCE,
        OFFICE,
        EXPERT,
        "reviewer",
        "inspector",
        "monitoring_centre",
        "hospital",
        "admin",
    }
)

# Before the decision the applicant may withdraw (No.83 Art.6 second paragraph; CMDE Art.23).
_WITHDRAWABLE = (
    Status.PROVINCE_REVIEW,
    Status.SUBMITTED,
    Status.SUPPLEMENT_REQUESTED,
    Status.ACCEPTED,
    Status.EXPERT_REVIEW,
    Status.PUBLIC_NOTICE,
    Status.DECISION_PENDING,
    Status.REJECTION_PENDING,
)

TABLE = TransitionTable(
    {
        # No.83 Art.5: a domestic applicant applies to its provincial bureau ...
        (Status.DRAFT, "submit"): (Status.PROVINCE_REVIEW, {REGISTRANT}),
        # ... an overseas applicant applies to NMPA directly (Art.5 second paragraph).
        (Status.DRAFT, "submit_imported"): (Status.SUBMITTED, {REGISTRANT}),
        # No.83 Art.5: preliminary opinion within 20 working days; eligible files are forwarded.
        (Status.PROVINCE_REVIEW, "province_pass"): (Status.SUBMITTED, {PROVINCE}),
        (Status.PROVINCE_REVIEW, "province_refuse"): (Status.PROVINCE_REFUSED, {PROVINCE}),
        # No.83 Art.6, CMDE Art.6-7: formal check and acceptance (CQTS number).
        (Status.SUBMITTED, "accept"): (Status.ACCEPTED, {OFFICE}),
        (Status.SUBMITTED, "request_supplement"): (Status.SUPPLEMENT_REQUESTED, {OFFICE}),
        (Status.SUPPLEMENT_REQUESTED, "provide_supplement"): (Status.SUBMITTED, {REGISTRANT}),
        (Status.SUBMITTED, "refuse_acceptance"): (Status.ACCEPTANCE_REFUSED, {OFFICE}),
        # No.83 Art.8, CMDE Art.9-12: the office organises the expert review.
        (Status.ACCEPTED, "assign_experts"): (Status.EXPERT_REVIEW, {OFFICE}),
        (Status.EXPERT_REVIEW, "give_opinion"): (Status.EXPERT_REVIEW, {EXPERT}),
        # CMDE Art.19-20: conclusion 'agree' -> public notice; 'disagree' -> rejection.
        (Status.EXPERT_REVIEW, "conclude_propose"): (Status.PUBLIC_NOTICE, {OFFICE}),
        (Status.EXPERT_REVIEW, "conclude_reject"): (Status.REJECTION_PENDING, {OFFICE}),
        # No.83 Art.8 / CMDE Art.13: no expert review for false, confused, mismatched files etc.
        (Status.ACCEPTED, "conclude_reject"): (Status.REJECTION_PENDING, {OFFICE}),
        # No.83 Art.10, CMDE Art.24-26: objections during the notice, studied before the decision.
        (Status.PUBLIC_NOTICE, "file_objection"): (Status.PUBLIC_NOTICE, ANYONE),
        (Status.PUBLIC_NOTICE, "answer_objection"): (Status.PUBLIC_NOTICE, {OFFICE}),
        (Status.PUBLIC_NOTICE, "close_notice"): (Status.DECISION_PENDING, {OFFICE}),
        # No.83 Art.10-11: final decision, told to the applicant via the CMDE website.
        (Status.DECISION_PENDING, "approve"): (Status.APPROVED, {OFFICE}),
        (Status.DECISION_PENDING, "reject"): (Status.REJECTED, {OFFICE}),
        (Status.REJECTION_PENDING, "reject"): (Status.REJECTED, {OFFICE}),
        # No.83 Art.22: termination of the procedure after approval.
        (Status.APPROVED, "terminate"): (Status.TERMINATED, {OFFICE}),
        **{(s, "withdraw"): (Status.WITHDRAWN, {REGISTRANT}) for s in _WITHDRAWABLE},
    }
)

# Statuses in which the registrant may still edit or add dossier documents.
EDITABLE = frozenset({Status.DRAFT})
DOCUMENTS_OPEN = frozenset({Status.DRAFT, Status.SUPPLEMENT_REQUESTED})
FINAL = frozenset(
    {
        Status.PROVINCE_REFUSED,
        Status.ACCEPTANCE_REFUSED,
        Status.APPROVED,
        Status.REJECTED,
        Status.WITHDRAWN,
        Status.TERMINATED,
    }
)


def next_status(status: Status | str, action: str, roles) -> Status:
    """The status after ``action`` by an actor with ``roles``; raises InvalidTransition/PermissionDenied."""
    return Status(TABLE.next_status(status, action, roles))


def submit_action(is_domestic: bool) -> str:
    """No.83 Art.5: domestic applicants go through their province, overseas ones straight to NMPA."""
    return "submit" if is_domestic else "submit_imported"
