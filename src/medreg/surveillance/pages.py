"""HTML pages of active surveillance: the monitoring dashboard (each monitor's boundary chart), one
monitor's looks (JSON twin: ``/api/surveillance/monitors/{id}/looks``), its chart as an SVG file, and
the alert cases. Read-only; the same queries as the API (tenancy: centre all, registrant its devices)."""

from __future__ import annotations

from fastapi import Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from medreg.core import clock
from medreg.core.actor import Actor
from medreg.core.db import MAX_ID
from medreg.core.deps import get_session, pages_router, require_login
from medreg.core.errors import ValidationFailed
from medreg.core.i18n import _, translate, translate_error
from medreg.core.templating import register_nav, render, request_locale
from medreg.surveillance import queries, service
from medreg.surveillance.charts import boundary_chart_svg

router = pages_router(prefix="/surveillance", tags=["surveillance pages"])
Db = Depends(get_session)
MonitorId = Path(ge=1, le=MAX_ID)

register_nav("/surveillance/", _("Active surveillance"), roles=["monitoring_centre", "admin", "registrant"],
             description=_("Sequential monitoring of implants: boundary charts and alerts"), order=40)
register_nav("/surveillance/import", _("Registry import"), roles=["hospital", "monitoring_centre"],
             description=_("Import a sentinel hospital's registry extract (CSV)"), order=41)
MAX_CSV = 50 * 1024 * 1024


def _chart(monitor, looks) -> str:
    return boundary_chart_svg([lk.as_of.strftime("%Y-%m") for lk in looks], [lk.llr for lk in looks],
                              monitor.critical_value, title=f"{monitor.name} — {_('Log-likelihood ratio')}",
                              x_label=_("Look"), y_label=_("Log-likelihood ratio"))


@router.get("/")
def dashboard(request: Request, session: Session = Db, actor: Actor = Depends(require_login)):
    rows = []
    for m in queries.list_monitors(session, actor):
        _monitor, looks = queries.monitor_looks(session, actor, m.id)
        rows.append((m, looks[-1] if looks else None, Markup(_chart(m, looks))))  # escaped in charts.py
    return render(request, "surveillance/index.html", {"rows": rows})


@router.get("/monitors/{monitor_id}")
def monitor_page(request: Request, monitor_id: int = MonitorId, session: Session = Db,
                 actor: Actor = Depends(require_login)):
    monitor, looks = queries.monitor_looks(session, actor, monitor_id)
    return render(request, "surveillance/monitor.html",
                  {"m": monitor, "looks": looks, "chart": Markup(_chart(monitor, looks))})


@router.get("/monitors/{monitor_id}/chart.svg")
def monitor_chart(monitor_id: int = MonitorId, session: Session = Db, actor: Actor = Depends(require_login)):
    monitor, looks = queries.monitor_looks(session, actor, monitor_id)
    return Response(_chart(monitor, looks), media_type="image/svg+xml",
                    headers={"Content-Disposition": f'inline; filename="monitor-{monitor_id}.svg"'})


@router.get("/alerts")
def alerts(request: Request, session: Session = Db, actor: Actor = Depends(require_login)):
    return render(request, "surveillance/alerts.html", {"alerts": queries.list_alerts(session, actor)})


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
            raise ValidationFailed("Choose a CSV file.", field="file")
        data = await upload.read(MAX_CSV + 1)
        if len(data) > MAX_CSV:
            raise ValidationFailed("The file is too large (at most 50 MB).", field="file")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationFailed("The file must be UTF-8 text (CSV).", field="file") from exc
        batch = service.import_extract(session, actor, text, filename=upload.filename or "extract.csv",
                                       today=clock.today_shanghai(),
                                       hospital_code=(form.get("hospital") or None))
    except ValidationFailed as err:  # nothing was written: validation happens before any insert
        rows = [dict(e, reason=translate(e["msgid"], locale, **e["params"]))
                for e in err.details.get("errors", [])]
        return render(request, "surveillance/import.html",
                      {"error": translate_error(err, locale), "rows": rows}, status_code=err.http_status)
    return RedirectResponse(f"/surveillance/import?done={batch.rows}", status_code=303)
