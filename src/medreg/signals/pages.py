"""HTML pages of signal management: the case list (sortable by every statistic) with the overview plot,
and the case page (statistics over the runs, the IC plot, the reports, the actions). Plots are inline SVG
and downloadable as SVG or PNG. JSON twins: ``/api/signals/cases`` and ``/api/signals/cases/{id}``.
"""

from __future__ import annotations

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from medreg.core.actor import Actor
from medreg.core.deps import MAX_ID, get_session, pages_router, require_login
from medreg.core.errors import DomainError, ValidationFailed
from medreg.core.i18n import _, translate
from medreg.core.templating import register_nav, render, request_locale
from medreg.premarket.innovation.pages_forms import form_error, refused, see_other, version_of
from medreg.signals import plots, queries, service
from medreg.signals.states import Decision, Status
from medreg.surveillance.pages_registry import OUTCOME_LABELS as EVENT_LABELS  # monitor-raised cases

router = pages_router(prefix="/signals", tags=["signals pages"])
Db = Depends(get_session)
Login = Depends(require_login)
CaseId = Path(ge=1, le=MAX_ID, description="signal case id")

register_nav("/signals/", _("Signals"), roles=["monitoring_centre", "admin", "registrant"],
             description=_("Disproportionality signals in adverse-event reports"), order=45)

SORTS = ("id", "n11", "expected", "prr", "prr_lower", "ror", "ror_lower", "ic", "ic025", "ebgm", "eb05")
STATUS_LABELS = {
    Status.NEW: _("New signal"), Status.VALIDATED: _("Validated"), Status.ASSESSED: _("Assessed"),
    Status.ACTION_DECIDED: _("Action decided"), Status.CLOSED: _("Closed"), Status.DISMISSED: _("Dismissed"),
}
LEVEL_LABELS = {"certificate": _("Registration certificate"), "registrant": _("Registrant"),
                "category": _("Sub-catalogue"), "category1": _("Catalogue category, level 1"),
                "category2": _("Catalogue category, level 2"), "fda-product-code": _("FDA product code"),
                "udi-di": _("UDI-DI")}
ACTION_LABELS = {"validate": _("Validate the signal"), "assess": _("Record the assessment"),
                 "decide_action": _("Decide the action"), "close": _("Close the signal"),
                 "dismiss": _("Dismiss the signal")}
DECISION_LABELS = {
    Decision.REQUEST_EVALUATION: _("Request the registrant's evaluation"),
    Decision.LABEL_CHANGE: _("Change the label or instructions for use"),
    Decision.FIELD_SAFETY_ACTION: _("Field safety corrective action"),
    Decision.RE_EVALUATION: _("Order a re-evaluation of the registration"),
}
SOURCE_LABELS = {"disproportionality": _("Disproportionality in reports"),
                 "surveillance_monitor": _("Surveillance monitors")}
PLOTS = {"ebgm": ("ebgm", 2.0), "ror": ("ror", 1.0)}
PlotQuery = Query("ebgm", pattern="^(ebgm|ror)$")
ActionPath = Path(pattern="^(validate|assess|decide_action|close|dismiss|respond)$")


def _value(case, key: str):
    if key == "id":
        return case.id
    s = case.stats[-1] if case.stats else None
    return getattr(s, key, None) if s else None


def _sorted(cases: list, sort: str, order: str) -> list:
    known = [c for c in cases if _value(c, sort) is not None]
    unknown = [c for c in cases if _value(c, sort) is None]
    return sorted(known, key=lambda c: _value(c, sort), reverse=order == "desc") + unknown


def _overview(request: Request, session: Session, actor: Actor, plot: str, fmt: str = "svg"):
    column, threshold = PLOTS[plot]
    loc = request_locale(request)
    points = [plots.Point(n11=c.stats[-1].n11, value=getattr(c.stats[-1], column),
                          flagged=c.status in {s.value for s in Status if s != Status.DISMISSED},
                          label=f"{c.device} / {c.event}", href=f"/signals/{c.id}")
              for c in queries.list_cases(session, actor, limit=1000) if c.stats]
    name = "EBGM" if plot == "ebgm" else "ROR"
    labels = {"title": translate(_("Signal overview"), loc),
              "xlabel": translate(_("Number of reports (n11)"), loc), "ylabel": f"log2 {name}"}
    if fmt == "png":
        from medreg.signals.png import overview_png

        return overview_png(points, threshold, **labels)
    return plots.overview_svg(points, threshold, **labels)


def _ic(request: Request, case, fmt: str = "svg"):
    loc = request_locale(request)
    series = [(s.run_label, s.ic, s.ic025, s.ic975) for s in case.stats]
    labels = {"title": translate(_("Information component over time"), loc),
              "xlabel": translate(_("Run"), loc), "ylabel": "IC (95%)"}
    if fmt == "png":
        from medreg.signals.png import ic_png

        return ic_png(series, **labels)
    return plots.ic_svg(series, **labels)


def _picture(content, fmt: str, name: str) -> Response:
    media = "image/svg+xml" if fmt == "svg" else "image/png"
    return Response(content, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


@router.get("/")
def case_list(request: Request, sort: str = Query("eb05", pattern="^(" + "|".join(SORTS) + ")$"),
              order: str = Query("desc", pattern="^(asc|desc)$"), plot: str = PlotQuery,
              source: str | None = Query(None, pattern="^(" + "|".join(queries.SOURCES) + ")$"),
              session: Session = Db, actor: Actor = Login):
    cases = _sorted(queries.list_cases(session, actor, source=source, limit=1000), sort, order)
    return render(request, "signals/list.html", {
        "cases": cases, "sort": sort, "order": order, "sorts": SORTS, "plot": plot, "source": source,
        "source_labels": SOURCE_LABELS,
        "overview": _overview(request, session, actor, plot), "status_labels": STATUS_LABELS,
        "level_labels": LEVEL_LABELS, "event_labels": EVENT_LABELS})


@router.get("/overview.{fmt}")
def overview_file(request: Request, fmt: str = Path(pattern="^(svg|png)$"),
                  plot: str = PlotQuery, session: Session = Db, actor: Actor = Login):
    return _picture(_overview(request, session, actor, plot, fmt), fmt, f"signal-overview-{plot}")


def _page(request: Request, session: Session, actor: Actor, case_id: int, error=None, status_code: int = 200):
    case = queries.get_case(session, actor, case_id)
    return render(request, "signals/case.html", {
        "case": case, "error": error,
        "ic_plot": _ic(request, case) if case.source != "surveillance_monitor" else None,
        "reports": queries.case_reports(session, actor, case_id),
        "allowed": queries.allowed_actions(actor, case), "status_labels": STATUS_LABELS,
        "can_respond": queries.may_respond(actor, case), "late": service.response_late(case),
        "action_labels": ACTION_LABELS, "decision_labels": DECISION_LABELS, "level_labels": LEVEL_LABELS,
        "event_labels": EVENT_LABELS},
        status_code=status_code)


@router.get("/{case_id:int}")
def case_page(request: Request, case_id: int = CaseId, session: Session = Db, actor: Actor = Login):
    return _page(request, session, actor, case_id)


@router.get("/{case_id:int}/ic.{fmt}")
def ic_file(request: Request, case_id: int = CaseId, fmt: str = Path(pattern="^(svg|png)$"),
            session: Session = Db, actor: Actor = Login):
    return _picture(_ic(request, queries.get_case(session, actor, case_id), fmt), fmt, f"signal-{case_id}-ic")


def _days(form: FormData) -> int | None:
    raw = str(form.get("due_days") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 3:
        raise ValidationFailed("Give the registrant 1 to 365 days to respond.", field="due_days")
    return int(raw)


async def posted(request: Request) -> FormData:
    return await request.form()


@router.post("/{case_id:int}/{action}")
def act(request: Request, case_id: int = CaseId, action: str = ActionPath,
        form: FormData = Depends(posted), session: Session = Db, actor: Actor = Login) -> Response:
    try:
        if action == "respond":
            service.respond(session, actor, case_id, str(form.get("response") or ""),
                            expected_version=version_of(form))
        else:
            service.act(session, actor, case_id, action, expected_version=version_of(form),
                        decision=str(form.get("decision") or "") or None,
                        reason=str(form["reason"]) if form.get("reason") is not None else None,
                        due_days=_days(form))
    except DomainError as err:
        refused(session, err)
        error = form_error(request, action, err, form)
        return _page(request, session, actor, case_id, error, err.http_status)
    return see_other(f"/signals/{case_id}?done={action}")
