"""Web-facing labels of registration (statuses, actions, clocks, kinds, topics), shared by the HTML
pages; English msgids translated where they are shown (``{{ _(label) }}``).

A separate module because ``api.py`` and ``pages.py`` may not import each other (import-linter).
"""

from __future__ import annotations

from medreg.core.i18n import _

STATUS_LABELS = {
    "draft": _("Draft"),
    "submitted": _("Submitted"),
    "correction_requested": _("Corrections requested"),
    "acceptance_refused": _("Not accepted"),
    "accepted": _("Accepted"),
    "in_review": _("In technical review"),
    "supplement_requested": _("Supplement requested"),
    "negative_notice": _("Intended refusal notified"),
    "objection_review": _("Objection under review"),
    "review_completed": _("Review completed"),
    "approved": _("Approved"),
    "certificate_issued": _("Certificate issued"),
    "refused": _("Refused"),
    "withdrawn": _("Withdrawn"),
}

ACTION_LABELS = {
    "create": _("Application created"),
    "update": _("Application edited"),
    "submit": _("Submit"),
    "accept": _("Accept"),
    "deem_accepted": _("Deemed accepted"),
    "request_corrections": _("Request corrections"),
    "provide_corrections": _("Provide corrections"),
    "refuse_acceptance": _("Refuse acceptance"),
    "start_review": _("Start the technical review"),
    "request_supplement": _("Request a supplement"),
    "provide_supplement": _("Provide the supplement"),
    "terminate_review": _("Terminate the review"),
    "propose_negative": _("Notify an intended refusal"),
    "file_objection": _("Object to the intended refusal"),
    "close_objection_window": _("Close the objection period"),
    "uphold_objection": _("Uphold the objection"),
    "dismiss_objection": _("Dismiss the objection"),
    "complete_review": _("Give a favourable review opinion"),
    "approve": _("Approve the registration"),
    "approve_conditionally": _("Approve with conditions"),
    "refuse": _("Refuse registration"),
    "issue_certificate": _("Issue the certificate"),
    "deem_renewed": _("Renewal deemed granted"),
    "withdraw": _("Withdraw"),
    "sign": _("Electronic signature"),
}

CLOCK_LABELS = {
    "registration.acceptance": _("Acceptance (5 working days)"),
    "registration.forwarding": _("Forwarding to the review body (3 working days)"),
    "registration.review": _("Technical review"),
    "registration.review_after_supplement": _("Technical review after supplements"),
    "registration.supplement": _("Applicant's time to supplement (1 year)"),
    "registration.objection": _("Applicant's time to object"),
    "registration.decision": _("Administrative decision (20 working days)"),
    "registration.certificate": _("Issue of the certificate (10 working days)"),
    "registration.consultation_answer": _("Answer (service target, not statutory)"),
}

KIND_LABELS = {
    "initial": _("Initial registration"),
    "change": _("Change registration"),
    "renewal": _("Renewal"),
}

ORIGIN_LABELS = {
    "domestic": _("Domestic"),
    "imported": _("Imported"),
    "hk_macao_taiwan": _("Hong Kong, Macao or Taiwan"),
}

DECISION_LABELS = {
    "approved": _("Approved"),
    "conditionally_approved": _("Approved with conditions"),
    "refused": _("Refused"),
    "not_accepted": _("Not accepted"),
    "deemed_renewed": _("Renewal deemed granted"),
}

GROUND_LABELS = {
    "rare_disease": _("Treats a rare disease"),
    "life_threatening": _("Serious life-threatening disease without effective treatment"),
    "public_health_emergency": _("Urgently needed for a public health emergency"),
}

TOPIC_LABELS = {
    "major_technical": _("Major technical question"),
    "major_safety": _("Major safety question"),
    "clinical_trial_protocol": _("Clinical trial protocol"),
    "interim_clinical_results": _("Interim clinical trial results"),
    "supplement_notice": _("Content of a supplement notice"),
    "other": _("Other important question"),
}

CONSULTATION_STATUS_LABELS = {
    "submitted": _("Waiting for an answer"),
    "answered": _("Answered"),
    "meeting_scheduled": _("Meeting scheduled"),
    "minutes_issued": _("Minutes issued"),
    "closed": _("Closed"),
    "declined": _("Declined"),
    "withdrawn": _("Withdrawn"),
}

CONSULTATION_ACTION_LABELS = {
    "answer": _("Answer in writing"),
    "decline": _("Decline"),
    "schedule_meeting": _("Schedule a meeting"),
    "issue_minutes": _("Issue the minutes"),
    "confirm_minutes": _("Confirm the minutes"),
    "withdraw": _("Withdraw"),
}

CERTIFICATE_STATUS_LABELS = {
    "valid": _("Valid"),
    "renewed": _("Superseded by a renewal"),
    "cancelled": _("Cancelled"),
}

OBLIGATION_STATUS_LABELS = {
    "open": _("Open"),
    "fulfilled": _("Fulfilled"),
    "late": _("Late"),
}

FIELD_LABELS = {
    "product_name": _("Product name"),
    "model_spec": _("Models and specifications"),
    "structure_composition": _("Structure and composition"),
    "intended_use": _("Intended use"),
    "device_class": _("Device class"),
    "subcatalogue_code": _("Sub-catalogue code"),
    "category1_code": _("Product category, level 1 (一级产品类别)"),
    "category2_code": _("Product category, level 2 (二级产品类别, optional)"),
}


def labels() -> dict:
    """Every label table, for the template context."""
    return {
        "status_labels": STATUS_LABELS,
        "action_labels": ACTION_LABELS,
        "clock_labels": CLOCK_LABELS,
        "kind_labels": KIND_LABELS,
        "origin_labels": ORIGIN_LABELS,
        "decision_labels": DECISION_LABELS,
        "ground_labels": GROUND_LABELS,
        "topic_labels": TOPIC_LABELS,
        "consultation_status_labels": CONSULTATION_STATUS_LABELS,
        "consultation_action_labels": CONSULTATION_ACTION_LABELS,
        "certificate_status_labels": CERTIFICATE_STATUS_LABELS,
        "obligation_status_labels": OBLIGATION_STATUS_LABELS,
        "field_labels": FIELD_LABELS,
    }
