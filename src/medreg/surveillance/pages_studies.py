"""Real-world evidence studies in the pages: the list of registered studies with their analyses (and,
for the monitoring centre and reviewers, a form to run an analysis at a data cut-off), and the study
report - the protocol it was registered under (and its SHA-256), the Kaplan-Meier curves with the
at-risk table, the baseline balance (standardised mean differences before and after propensity
matching) and the results (log-rank, Cox with its proportional-hazards test, cumulative incidence with
death competing) - as HTML, as PDF (WeasyPrint) and as its JSON twin
(``/api/surveillance/studies/analyses/{id}``). The KM chart is also served as ``.svg`` (``.png`` in
``pages_charts``). Tenancy: ``queries_studies`` (centre and reviewers all; a registrant its devices')."""

from __future__ import annotations

from datetime import date

from fastapi import Depends, Path, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from medreg.core import clock, i18n
from medreg.core.actor import Actor
from medreg.core.db import MAX_ID
from medreg.core.deps import get_session, pages_router, require_login
from medreg.core.errors import DomainError, NotFound, ValidationFailed
from medreg.core.i18n import _
from medreg.core.related import register_related
from medreg.core.templating import env, register_nav, render, request_locale
from medreg.evidence.queries import can_read_all
from medreg.premarket.innovation.pages_forms import form_error, refused, see_other
from medreg.surveillance import queries_studies, service_citations
from medreg.surveillance.charts_km import km_chart_svg

router = pages_router(prefix="/surveillance/studies", tags=["surveillance pages"])
register_related(service_citations.APPLICATION, "rwe-studies", service_citations.study_links)
Db = Depends(get_session)
Who = Depends(require_login)
AnalysisId = Path(ge=1, le=MAX_ID)
ProtocolId = Path(ge=1, le=MAX_ID)
T = i18n.gettext  # translate in the locale set around the drawing (``_`` only marks msgids)
ARM_LABELS = {"device": _("Study device"), "comparator": _("Comparator devices")}

register_nav(
    "/surveillance/studies/",
    _("Real-world evidence studies"),
    roles=["monitoring_centre", "admin", "reviewer", "registrant"],
    description=_("Registered study protocols, their analyses and reports"),
    order=42,
)


def km_curves(protocol, analysis) -> tuple[list[dict], dict]:
    """The KM curves of an analysis (translated labels) and the chart's titles, for SVG and PNG."""
    km = [c for c in analysis.results.get("kaplan_meier") or [] if "curve" in c]
    curves = [{"label": T(ARM_LABELS.get(c["group"], c["group"])), **c["curve"]} for c in km]
    return curves, {
        "horizon": float(protocol.content.get("follow_up_days", 365)),
        "title": f"{protocol.title} — {T(_('Kaplan-Meier survival'))}",
        "x_label": T(_("Days since the procedure")),
        "y_label": T(_("Event-free survival")),
    }


def _km_svg(protocol, analysis) -> str | None:
    curves, labels = km_curves(protocol, analysis)
    return km_chart_svg(curves, **labels) if curves else None


def report_context(protocol, analysis) -> dict:
    """What the HTML and the PDF report show (numbers straight from the stored results)."""
    r = analysis.results
    balance = r.get("balance", {})
    rows = list(
        zip(
            balance.get("names", []), balance.get("smd_before", []), balance.get("smd_after", []), strict=True
        )
    )
    km = r.get("kaplan_meier") or []
    risk_times = sorted({float(t) for c in km for t in c["at_risk"]})
    at_risk = [
        (
            c["group"],
            [
                c["at_risk"].get(f"{t:g}", c["at_risk"].get(str(t), c["at_risk"].get(t, "")))
                for t in risk_times
            ],
        )
        for c in km
    ]
    svg = _km_svg(protocol, analysis)
    return {
        "p": protocol,
        "a": analysis,
        "r": r,
        "balance_rows": rows,
        "km": km,
        "risk_times": risk_times,
        "at_risk": at_risk,
        "arm_labels": ARM_LABELS,
        "chart": Markup(svg) if svg else None,  # every text escaped in charts_km
    }


def _with_locale(request: Request, fn):
    token = i18n.current_locale.set(request_locale(request))
    try:
        return fn()
    finally:
        i18n.current_locale.reset(token)


def _list_page(request: Request, session: Session, actor: Actor, *, error=None, status_code: int = 200):
    return render(
        request,
        "surveillance/studies.html",
        {
            "studies": queries_studies.studies(session, actor),
            "can_run": can_read_all(actor),
            "today": clock.today_shanghai(),
            "error": error,
            "arm_labels": ARM_LABELS,
        },
        status_code=status_code,
    )


@router.get("/")
def studies(request: Request, session: Session = Db, actor: Actor = Who):
    return _list_page(request, session, actor)


def _cutoff(form) -> date:
    raw = str(form.get("data_cutoff", "")).strip()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed("Give the data cut-off as a date (YYYY-MM-DD).", field="data_cutoff") from None


@router.post("/protocols/{protocol_id}/run")
async def run(request: Request, protocol_id: int = ProtocolId, session: Session = Db, actor: Actor = Who):
    """Run the registered protocol on the registry at a data cut-off (HTMX: the study's card comes back
    with the new analysis; without HTMX: the new report). Audited by ``record_analysis``."""
    from medreg.surveillance.service_studies import run_study  # statsmodels, lifelines: seconds to import

    form = await request.form()
    hx = bool(request.headers.get("hx-request"))
    try:
        analysis = run_study(
            session, actor, protocol_id, data_cutoff=_cutoff(form), today=clock.today_shanghai()
        )
    except DomainError as err:
        refused(session, err)
        error = form_error(request, f"run-{protocol_id}", err, form)
        if not hx:
            return _list_page(request, session, actor, error=error, status_code=err.http_status)
        study = next(
            (s for s in queries_studies.studies(session, actor) if s.protocol.id == protocol_id), None
        )
        if study is None:  # a study the actor may not see: the error page
            raise err
        return render(
            request,
            "surveillance/_study.html",
            {"s": study, "can_run": can_read_all(actor), "today": clock.today_shanghai(), "error": error},
            status_code=err.http_status,
        )
    if not hx:
        return see_other(f"/surveillance/studies/analyses/{analysis.id}")
    study = next(s for s in queries_studies.studies(session, actor) if s.protocol.id == protocol_id)
    return render(
        request,
        "surveillance/_study.html",
        {
            "s": study,
            "can_run": can_read_all(actor),
            "today": clock.today_shanghai(),
            "error": None,
            "new_analysis": analysis.id,
        },
    )


def _report_page(
    request: Request, session: Session, actor: Actor, analysis_id: int, *, error=None, status_code: int = 200
):
    protocol, analysis = queries_studies.read_analysis(session, actor, analysis_id)
    context = _with_locale(request, lambda: report_context(protocol, analysis))
    context.update(
        citations=service_citations.citations_of(session, actor, analysis_id),
        error=error,
        cited=request.query_params.get("cited"),
    )
    return render(request, "surveillance/study_report.html", context, status_code=status_code)


@router.get("/analyses/{analysis_id}")
def report(request: Request, analysis_id: int = AnalysisId, session: Session = Db, actor: Actor = Who):
    return _report_page(request, session, actor, analysis_id)


def _application_id(form) -> int:
    raw = str(form.get("application_id", "")).strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise ValidationFailed("Give the number of the registration application.", field="application_id")
    return int(raw)


@router.post("/analyses/{analysis_id}/cite")
async def cite(request: Request, analysis_id: int = AnalysisId, session: Session = Db, actor: Actor = Who):
    """Cite the analysis as real-world evidence in a registration or change-registration case
    (same service as ``POST /api/surveillance/studies/analyses/{id}/citations``; audited)."""
    form = await request.form()
    try:
        service_citations.cite_in_application(
            session, actor, analysis_id, _application_id(form), note=str(form.get("note", ""))[:4000]
        )
    except DomainError as err:
        if isinstance(err, NotFound) and err.field == "analysis_id":
            raise
        session.rollback()
        return _report_page(
            request,
            session,
            actor,
            analysis_id,
            error=form_error(request, "cite", err, form),
            status_code=err.http_status,
        )
    return see_other(f"/surveillance/studies/analyses/{analysis_id}?cited=1#citations")


@router.get("/analyses/{analysis_id}/report.pdf")
def report_pdf(request: Request, analysis_id: int = AnalysisId, session: Session = Db, actor: Actor = Who):
    from weasyprint import HTML  # imported on use: it loads Pango

    protocol, analysis = queries_studies.read_analysis(session, actor, analysis_id)
    locale = request_locale(request)

    def html() -> str:
        return env.get_template("surveillance/pdf/study_report.html").render(
            {"locale": locale, "now": clock.utcnow(), **report_context(protocol, analysis)}
        )

    pdf = HTML(string=_with_locale(request, html)).write_pdf()
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="study-analysis-{analysis_id}.pdf"'},
    )


@router.get("/analyses/{analysis_id}/km.svg")
def km_svg(request: Request, analysis_id: int = AnalysisId, session: Session = Db, actor: Actor = Who):
    protocol, analysis = queries_studies.read_analysis(session, actor, analysis_id)
    svg = _with_locale(request, lambda: _km_svg(protocol, analysis)) or km_chart_svg(
        [], horizon=1.0, title=protocol.title, x_label="", y_label=""
    )
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'attachment; filename="analysis-{analysis_id}-km.svg"'},
    )
