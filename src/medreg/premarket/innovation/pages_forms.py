"""Form handling shared by the innovation and expert pages: the posted form, the error shown next
to its field, and the case page (re-rendered with the error when an action is refused).

Post/Redirect/Get: an action that succeeds redirects (303); one refused by the domain rolls the
request's transaction back (nothing of it is written) and re-renders the page with the translated
message next to the field at fault, with the error's HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from medreg.core.actor import Actor
from medreg.core.errors import DomainError, NotFound, ValidationFailed
from medreg.core.i18n import _, translate_error
from medreg.core.templating import render, request_locale
from medreg.premarket.experts import queries as expert_queries
from medreg.premarket.experts import service as experts
from medreg.premarket.innovation import queries, service
from medreg.premarket.innovation.doc_names import DOC_NAMES
from medreg.premarket.innovation.models import TERMINATION_ITEMS, TerminationGround
from medreg.premarket.innovation.rules import DeviceClass, DocType, PatentKind
from medreg.premarket.innovation.states import DOCUMENTS_OPEN, EDITABLE
from medreg.premarket.innovation.web_common import ACTION_LABELS, CLOCK_LABELS, STATUS_LABELS

DRAFT_TEXT = (
    "product_name",
    "product_name_en",
    "intended_use",
    "working_principle",
    "technical_field",
    "innovation_statement",
    "patent_number",
    "search_report_no",
    "avoidance_request",
)
DRAFT_CHOICES = ("proposed_class", "patent_kind", "patent_grant_date")
DRAFT_FLAGS = (
    "domestically_first",
    "internationally_leading",
    "significant_clinical_value",
    "search_report_confirms",
)
CRITERION_LABELS = {
    "device_class": _("Device class"),
    "innovation_claims": _("Innovation claims"),
    "patent_number": _("Patent number"),
    "patent_grant_window": _("Patent grant window"),
    "search_report": _("Search report"),
    "dossier": _("Dossier"),
}
DOC_LABELS = DOC_NAMES  # the document types, named as the eligibility reasons name them
GROUND_LABELS = {
    "applicant_request": _("The applicant asks to end the procedure"),
    "obligations_not_met": _("Obligations not met in time"),
    "false_documents": _("Forged or false documents"),
    "patent_applications_rejected": _("All core patent applications rejected or withdrawn"),
    "patent_rights_lost": _("All core patent rights or licences lost"),
    "no_longer_a_device": _("No longer regulated as a medical device"),
    "expert_meeting_decision": _("Expert meeting: no longer suited to this procedure"),
}


@dataclass
class FormError:
    """A refused form: which form, which field, the message in the page's language."""

    form: str
    message: str
    field: str | None = None
    code: str = "error"
    values: dict[str, Any] = dc_field(default_factory=dict)
    details: dict = dc_field(default_factory=dict)

    def on(self, form: str, name: str | None = None) -> bool:
        return self.form == form and (name is None or self.field == name)


def form_error(
    request: Request, form: str, err: DomainError, values: FormData | dict | None = None
) -> FormError:
    data = {
        k: v for k, v in (values or {}).items() if k not in ("csrf_token", "password") and isinstance(v, str)
    }
    return FormError(
        form=form,
        message=translate_error(err, request_locale(request)),
        field=err.field,
        code=err.code,
        values=data,
        details=err.details,
    )


def refused(session: Session, err: DomainError) -> None:
    """Undo what the refused action wrote (the request then commits nothing of it)."""
    session.rollback()
    if isinstance(err, NotFound):  # the caller may not know the record exists: the 404 page
        raise err


def see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def version_of(form: FormData) -> int:
    try:
        return int(str(form.get("expected_version", "")))
    except ValueError:
        raise ValidationFailed(
            _("Reload the page: the version of the record is missing."), field="expected_version"
        ) from None


def draft_from_form(form: FormData) -> dict[str, Any]:
    data: dict[str, Any] = {k: str(form.get(k, "")).strip() or None for k in DRAFT_TEXT + DRAFT_CHOICES}
    data["product_name"] = str(form.get("product_name", "")).strip()
    data.update({k: form.get(k) in ("on", "true", "1") for k in DRAFT_FLAGS})
    return data


def labels() -> dict:
    return {
        "status_labels": STATUS_LABELS,
        "action_labels": ACTION_LABELS,
        "clock_labels": CLOCK_LABELS,
        "criterion_labels": CRITERION_LABELS,
        "doc_labels": DOC_LABELS,
        "ground_labels": GROUND_LABELS,
    }


def draft_choices() -> dict:
    return {
        "classes": [DeviceClass.II.value, DeviceClass.III.value],
        "patent_kinds": [k.value for k in PatentKind],
    }


def render_case(
    request: Request,
    session: Session,
    actor: Actor,
    app_id: int,
    error: FormError | None = None,
    status_code: int = 200,
) -> Response:
    """The case page: fields, eligibility, documents, clocks, opinions, objections, timeline, and
    the forms of the actions the caller may take now."""
    detail = queries.get_for(session, actor, app_id)
    app = detail.application
    office = "office" in actor.workflow_roles
    mine = actor.organisation_id == app.registrant_org_id and actor.has("registrant")
    allowed = set(detail.allowed_actions)
    context = {
        **labels(),
        "detail": detail,
        "app": app,
        "allowed": allowed,
        "office": office,
        "mine": mine,
        "editable": mine and app.status in EDITABLE,
        "documents_open": mine and app.status in DOCUMENTS_OPEN,
        "eligibility": service.eligibility(session, actor, app_id),
        "timeline": queries.timeline(session, actor, app_id),
        "tally": expert_queries.tally(session, app_id) if office else None,
        "candidates": experts.candidate_experts(session, actor, app) if "assign_experts" in allowed else [],
        "grounds": [(g.value, TERMINATION_ITEMS[g]) for g in TerminationGround],
        "doc_types": [d.value for d in DocType],
        "classes": [DeviceClass.II.value, DeviceClass.III.value],
        "error": error,
    }
    return render(request, "innovation/case.html", context, status_code=status_code)
