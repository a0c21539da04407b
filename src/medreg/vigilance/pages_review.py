"""HTML pages for the monitoring centres (duplicate candidates with merge / dismiss, cluster alerts, late
reports and mean quality per reporter and registrant) and
the registrant's final report (its evaluation, Order 1 Art.29). JSON twins: ``/api/vigilance/duplicates``,
``/api/vigilance/clusters``, ``POST /api/vigilance/reports/{id}/versions``."""

from __future__ import annotations

from fastapi import Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from medreg.core.actor import Actor
from medreg.core.db import MAX_ID
from medreg.core.deps import get_session, pages_router, require_roles
from medreg.core.errors import DomainError, ValidationFailed
from medreg.core.i18n import _
from medreg.core.templating import register_nav, render
from medreg.premarket.innovation.pages_forms import form_error, refused, see_other, version_of
from medreg.vigilance import queries, review, service
from medreg.vigilance.pages import _page, posted

router = pages_router(prefix="/vigilance", tags=["vigilance pages"])
Db = Depends(get_session)
CaseId = Path(ge=1, le=MAX_ID, description="adverse-event case id")
Centre = Depends(require_roles("monitoring_centre", "admin"))
Registrant = Depends(require_roles("registrant"))

register_nav(
    "/vigilance/review",
    _("Duplicates and clusters"),
    roles=["monitoring_centre", "admin"],
    description=_("Likely duplicate reports and cluster alerts"),
    order=41,
)


# The criteria of duplicates.WEIGHTS, as the review page names them.
MATCH_LABELS = {"device": _("Device"), "lot_serial": _("Lot or serial number"), "event_date": _("Event date"),
                "patient": _("Patient"), "outcome": _("Event outcome"), "narrative": _("Event description")}


def _review(request: Request, session: Session, actor: Actor, error=None, status_code: int = 200) -> Response:
    return render(
        request,
        "vigilance/review.html",
        {
            "pairs": review.duplicate_candidates(session, actor),
            "clusters": review.cluster_alerts(session, actor),
            "by_reporter": queries.per_organisation(session, actor, "reporter"),
            "by_registrant": queries.per_organisation(session, actor, "registrant"),
            "error": error,
            "match_labels": MATCH_LABELS,
        },
        status_code=status_code,
    )


@router.get("/review")
def review_page(request: Request, session: Session = Db, actor: Actor = Centre):
    return _review(request, session, actor)


@router.post("/review/decide")
def decide(
    request: Request, form: FormData = Depends(posted), session: Session = Db, actor: Actor = Centre
) -> Response:
    try:
        try:
            a, b = int(str(form.get("case_a", ""))), int(str(form.get("case_b", "")))
        except ValueError:
            raise ValidationFailed(
                "'{name}' must be a number.", field="case_b", params={"name": "case_b"}
            ) from None
        review.decide_duplicate(
            session, actor, a, b, str(form.get("decision", "")), str(form.get("note", "")).strip() or None
        )
    except DomainError as err:
        refused(session, err)
        return _review(request, session, actor, form_error(request, "decide", err, form), err.http_status)
    return see_other("/vigilance/review?done=decide")


@router.post("/{case_id:int}/final")
def final_report(
    request: Request,
    case_id: int = CaseId,
    form: FormData = Depends(posted),
    session: Session = Db,
    actor: Actor = Registrant,
) -> Response:
    """The registrant's final report: the current report plus its evaluation and investigation codes."""
    try:
        version = version_of(form)
        case = service.load(session, actor, case_id)
        content = service.content_of(case.versions[-1]).model_dump(mode="json")
        content["evaluation"] = {
            k: v
            for k, v in {
                "summary": str(form.get("evaluation.summary", "")).strip() or None,
                "causality": str(form.get("evaluation.causality", "")).strip() or None,
                "corrective_actions": str(form.get("evaluation.corrective_actions", "")).strip() or None,
            }.items()
            if v
        }
        for name in ("investigation_type", "investigation_finding", "investigation_conclusion"):
            content["codes"][name] = str(form.get(f"codes.{name}", "")).replace(",", " ").split()
        service.add_version(session, actor, case_id, content, "final", expected_version=version)
    except DomainError as err:
        refused(session, err)
        return _page(
            request, session, actor, case_id, form_error(request, "final", err, form), err.http_status
        )
    return see_other(f"/vigilance/{case_id}?done=final")
