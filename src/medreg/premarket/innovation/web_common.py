"""Helpers shared by the JSON API (``api.py``) and the HTML pages (``pages.py``) of the innovative
special review: the dossier download, and the web-facing labels of statuses and actions.

Both entry points import this module (they may not import each other: import-linter keeps api,
pages and cli independent).
"""

from __future__ import annotations

from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from medreg.core import files
from medreg.core.actor import Actor
from medreg.core.errors import NotFound
from medreg.core.i18n import _
from medreg.premarket.innovation import queries

_EXT_OF = {mime: ext for ext, mime in reversed(list(files.EXTENSIONS.items()))}

STATUS_LABELS = {
    "draft": _("Draft"),
    "province_review": _("Provincial pre-review"),
    "province_refused": _("Refused by the province"),
    "submitted": _("Submitted to the office"),
    "supplement_requested": _("Supplement requested"),
    "acceptance_refused": _("Acceptance refused"),
    "accepted": _("Accepted"),
    "expert_review": _("Expert review"),
    "public_notice": _("Public notice"),
    "decision_pending": _("Decision pending"),
    "rejection_pending": _("Rejection pending"),
    "approved": _("Approved for the special procedure"),
    "rejected": _("Not approved"),
    "withdrawn": _("Withdrawn"),
    "terminated": _("Terminated"),
}

ACTION_LABELS = {
    "submit": _("Submit"),
    "submit_imported": _("Submit"),
    "province_pass": _("Pass the pre-review"),
    "province_refuse": _("Refuse in pre-review"),
    "accept": _("Accept"),
    "request_supplement": _("Request a supplement"),
    "provide_supplement": _("Provide the supplement"),
    "refuse_acceptance": _("Refuse acceptance"),
    "assign_experts": _("Assign experts"),
    "give_opinion": _("Give an opinion"),
    "conclude_propose": _("Conclude: propose approval"),
    "conclude_reject": _("Conclude: propose rejection"),
    "file_objection": _("File an objection"),
    "answer_objection": _("Answer the objection"),
    "close_notice": _("Close the notice"),
    "approve": _("Approve"),
    "reject": _("Reject"),
    "withdraw": _("Withdraw"),
    "terminate": _("Terminate"),
    "create_draft": _("Draft created"),
    "update_draft": _("Draft edited"),
    "attach_document": _("Document attached"),
    "publish_notice": _("Notice published"),
    "sign": _("Electronic signature"),
    "conclude": _("Conclusion"),
    "decide": _("Decision"),
    "assign_expert": _("Expert assigned"),
}

CLOCK_LABELS = {
    "innovation.province_pre_review": _("Provincial pre-review"),
    "innovation.formal_check": _("Formal check"),
    "innovation.review_opinion": _("Review opinion"),
    "innovation.public_notice": _("Public notice"),
}


def document_response(session: Session, actor: Actor, app_id: int, document_id: int) -> FileResponse:
    """A dossier document, to whoever may see the application (NotFound otherwise)."""
    detail = queries.get_for(session, actor, app_id)
    doc = next((d for d in detail.documents if d.id == document_id), None)
    if doc is None:
        raise NotFound(_("Document {id} not found."), field="document_id", params={"id": document_id})
    stored = files.get(session, doc.stored_file_id)
    files.open_file(stored).close()  # NotFound if the content is missing from the store
    name = f"{detail.application.id}-{doc.doc_type}-{doc.id}.{_EXT_OF.get(stored.mime_type, 'bin')}"
    return FileResponse(files.path_of(stored.sha256), media_type=stored.mime_type, filename=name)
