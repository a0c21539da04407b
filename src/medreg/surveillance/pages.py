"""HTML pages of active surveillance: the monitoring dashboard (each monitor's boundary chart), one
monitor's looks (JSON twin: ``/api/surveillance/monitors/{id}/looks``), its chart as an SVG file, and
the alert cases. Read-only; the same queries as the API (tenancy: centre all, registrant its devices)."""

from __future__ import annotations

from fastapi import Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from medreg.core import clock, i18n
from medreg.core.actor import Actor
from medreg.core.db import MAX_ID
from medreg.core.deps import get_session, pages_router, require_login
from medreg.core.errors import DomainError, ValidationFailed
from medreg.core.i18n import _, translate, translate_error
from medreg.core.related import related_links
from medreg.core.templating import register_nav, render, request_locale
from medreg.premarket.innovation.pages_forms import form_error, refused, see_other, version_of
from medreg.surveillance import queries, service, service_alerts, service_stop
from medreg.surveillance.access import is_centre
from medreg.surveillance.charts import boundary_chart_svg
from medreg.surveillance.charts_lines import line_chart_svg
from medreg.surveillance.pages_charts import cusum_chart, delta_chart, oe_chart
from medreg.surveillance.pages_monitors import SPENDING_LABELS
from medreg.surveillance.pages_registry import OUTCOME_LABELS
from medreg.surveillance.queries_charts import quality_charts
from medreg.surveillance.service_delta import delta_rule

router = pages_router(prefix="/surveillance", tags=["surveillance pages"])
Db = Depends(get_session)
MonitorId = Path(ge=1, le=MAX_ID)

register_nav("/surveillance/", _("Active surveillance"), roles=["monitoring_centre", "admin", "registrant"],
             description=_("Sequential monitoring of implants: boundary charts and alerts"), order=40)
register_nav("/surveillance/import", _("Registry import"), roles=["hospital", "monitoring_centre"],
             description=_("Import a sentinel hospital's registry extract (CSV or XLSX)"), order=41)
MAX_CSV = 50 * 1024 * 1024


def _chart(monitor, looks) -> str:
    """The monitor's chart, its texts in the current locale (``i18n.current_locale``)."""
    if monitor.kind == "delta":  # the matched risk difference with its CI band and the margin
        return line_chart_svg(delta_chart(monitor, looks))
    llr = translate(_("Log-likelihood ratio"))
    return boundary_chart_svg([lk.as_of.strftime("%Y-%m") for lk in looks], [lk.llr for lk in looks],
                              monitor.critical_value, title=f"{monitor.name} — {llr}",
                              x_label=translate(_("Look")), y_label=llr,
                              look_critical_values=[lk.critical_value for lk in looks])


@router.get("/")
def dashboard(request: Request, session: Session = Db, actor: Actor = Depends(require_login)):
    rows = []
    token = i18n.current_locale.set(request_locale(request))  # the charts' labels are translated
    try:
        for m in queries.list_monitors(session, actor):
            _monitor, looks = queries.monitor_looks(session, actor, m.id)
            # the stored CUSUM state: the look that raised the CUSUM alert, if any
            alarm = next((lk for lk in looks if lk.cusum_crossed_at is not None), None)
            chart = Markup(_chart(m, looks))  # escaped in charts
            rows.append((m, looks[-1] if looks else None, chart, alarm))
    finally:
        i18n.current_locale.reset(token)
    return render(request, "surveillance/index.html", {"rows": rows, "outcome_labels": OUTCOME_LABELS})


@router.get("/monitors/{monitor_id}")
def monitor_page(request: Request, monitor_id: int = MonitorId, session: Session = Db,
                 actor: Actor = Depends(require_login)):
    return _monitor_view(request, monitor_id, session, actor)


def _monitor_view(request: Request, monitor_id: int, session: Session, actor: Actor, error=None,
                  status_code: int = 200):
    qc = quality_charts(session, actor, monitor_id)
    token = i18n.current_locale.set(request_locale(request))
    try:  # every text escaped in charts_lines
        cusum, oe = cusum_chart(qc), oe_chart(qc)
        cusum_svg = Markup(line_chart_svg(cusum)) if cusum else None
        oe_svg = Markup(line_chart_svg(oe)) if oe else None
        chart = Markup(_chart(qc.monitor, qc.looks))
    finally:
        i18n.current_locale.reset(token)
    m = qc.monitor
    return render(request, "surveillance/monitor.html",
                  {"m": m, "looks": qc.looks, "chart": chart,
                   "qc": qc, "cusum_chart": cusum_svg, "oe_chart": oe_svg, "outcome_labels": OUTCOME_LABELS,
                   "rule": delta_rule(m) if m.kind == "delta" else None, "spending_labels": SPENDING_LABELS,
                   "can_stop": is_centre(actor) and m.status == "active", "error": error, "form": "stop",
                   "stopped": request.query_params.get("stopped"),
                   "edited": request.query_params.get("edited"),
                   "cert": queries.device_certificate(session, actor, m.udi_di),
                   "related": related_links(session, actor, "surveillance_monitor", m.id)},
                  status_code=status_code)


@router.post("/monitors/{monitor_id}/stop")
async def stop(request: Request, monitor_id: int = MonitorId, session: Session = Db,
               actor: Actor = Depends(require_login)):
    """Stop an active monitor with the reasons (monitoring centre; ``service_stop``, audited)."""
    form = await request.form()
    try:
        service_stop.stop_monitor(session, actor, monitor_id, str(form.get("reason") or "")[:4000])
    except DomainError as err:
        refused(session, err)
        return _monitor_view(request, monitor_id, session, actor, form_error(request, "stop", err, form),
                            err.http_status)
    return see_other(f"/surveillance/monitors/{monitor_id}?stopped=1")


@router.get("/monitors/{monitor_id}/chart.svg")
def monitor_chart(request: Request, monitor_id: int = MonitorId, session: Session = Db,
                  actor: Actor = Depends(require_login)):
    monitor, looks = queries.monitor_looks(session, actor, monitor_id)
    token = i18n.current_locale.set(request_locale(request))
    try:
        svg = _chart(monitor, looks)
    finally:
        i18n.current_locale.reset(token)
    return Response(svg, media_type="image/svg+xml",
                    headers={"Content-Disposition": f'inline; filename="monitor-{monitor_id}.svg"'})


ACTION_LABELS = {"investigate": _("Investigate"), "confirm": _("Confirm the signal"),
                 "dismiss": _("Dismiss the alert"), "close": _("Close the alert"),
                 "raise": _("Raise a signal case")}
STATUS_LABELS = {"open": _("Alert open"), "investigating": _("Under investigation"),
                 "confirmed": _("Confirmed signal"), "dismissed": _("Dismissed"), "closed": _("Alert closed"),
                 "validated": _("Validated"), "assessed": _("Assessed"),
                 "action_decided": _("Action decided")}
AlertId = Path(ge=1, le=MAX_ID)
AlertAction = Path(pattern=r"^(investigate|confirm|dismiss|close|raise)$")


def _alerts_page(request: Request, session: Session, actor: Actor):
    rows = [(a, related_links(session, actor, "surveillance_alert", a.id))
            for a in queries.list_alerts(session, actor)]
    return render(request, "surveillance/alerts.html",
                  {"rows": rows, "status_labels": STATUS_LABELS, "done": request.query_params.get("done")})


@router.get("/alerts")
def alerts(request: Request, session: Session = Db, actor: Actor = Depends(require_login)):
    return _alerts_page(request, session, actor)


def _alert_view(request: Request, session: Session, actor: Actor, alert_id: int, error=None,
                status_code: int = 200):
    alert, monitor, look, looks = queries.get_alert(session, actor, alert_id)
    token = i18n.current_locale.set(request_locale(request))
    try:
        chart = Markup(_chart(monitor, looks))  # escaped in charts
    finally:
        i18n.current_locale.reset(token)
    return render(request, "surveillance/alert.html",
                  {"a": alert, "m": monitor, "look": look, "chart": chart, "error": error,
                   "allowed": service_alerts.allowed_actions(actor, alert), "action_labels": ACTION_LABELS,
                   "status_labels": STATUS_LABELS, "outcome_labels": OUTCOME_LABELS,
                   "related": related_links(session, actor, "surveillance_alert", alert.id),
                   "done": request.query_params.get("done")},
                  status_code=status_code)


@router.get("/alerts/{alert_id}")
def alert_page(request: Request, alert_id: int = AlertId, session: Session = Db,
               actor: Actor = Depends(require_login)):
    """One alert: its look's statistics, the monitor, the boundary chart and the signal case it follows
    (JSON twin: ``/api/surveillance/alerts/{id}``)."""
    return _alert_view(request, session, actor, alert_id)


@router.post("/alerts/{alert_id}/{action}")
async def alert_action(request: Request, alert_id: int = AlertId, action: str = AlertAction,
                       session: Session = Db, actor: Actor = Depends(require_login)):
    """The fallback workflow of an alert without a signal case, or raising it to one (same services as
    ``POST /api/surveillance/alerts/{id}/{action}``); an alert following a signal case answers 409."""
    form = await request.form()
    try:
        if action == "raise":
            service_alerts.raise_signal_case(session, actor, alert_id, expected_version=version_of(form))
        else:
            service_alerts.transition_alert(session, actor, alert_id, action,
                                                expected_version=version_of(form),
                                                note=str(form.get("note", "")).strip()[:4000] or None)
    except DomainError as err:
        refused(session, err)
        error = form_error(request, f"alert-{alert_id}", err, form)
        return _alert_view(request, session, actor, alert_id, error, err.http_status)
    return see_other(f"/surveillance/alerts/{alert_id}?done={action}")


@router.get("/import")
def import_form(request: Request, actor: Actor = Depends(require_login)):
    return render(request, "surveillance/import.html", {"done": request.query_params.get("done")})


@router.post("/import")
async def import_post(request: Request, session: Session = Db, actor: Actor = Depends(require_login)):
    form = await request.form()
    upload = form.get("file")
    locale = request_locale(request)
    try:
        if upload is None or not hasattr(upload, "read"):
            raise ValidationFailed("Choose a CSV or XLSX file.", field="file")
        data = await upload.read(MAX_CSV + 1)
        if len(data) > MAX_CSV:
            raise ValidationFailed("The file is too large (at most 50 MB).", field="file")
        batch = service.import_extract(session, actor, data, filename=upload.filename or "extract.csv",
                                       today=clock.today_shanghai(),
                                       hospital_code=(form.get("hospital") or None))
    except ValidationFailed as err:  # nothing was written: validation happens before any insert
        rows = [dict(e, reason=translate(e["msgid"], locale, **e["params"]))
                for e in err.details.get("errors", [])]
        return render(request, "surveillance/import.html",
                      {"error": translate_error(err, locale), "rows": rows}, status_code=err.http_status)
    return RedirectResponse(f"/surveillance/import?done={batch.rows}", status_code=303)
