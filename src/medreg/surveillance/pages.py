"""HTML pages of active surveillance: the monitoring dashboard (each monitor's boundary chart), one
monitor's looks (JSON twin: ``/api/surveillance/monitors/{id}/looks``), its chart as an SVG file, and
the alert cases. Read-only; the same queries as the API (tenancy: centre all, registrant its devices)."""

from __future__ import annotations

from fastapi import Depends, Path, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.deps import get_session, pages_router, require_login
from medreg.core.i18n import _
from medreg.core.templating import register_nav, render
from medreg.surveillance import queries
from medreg.surveillance.charts import boundary_chart_svg

router = pages_router(prefix="/surveillance", tags=["surveillance pages"])
Db = Depends(get_session)
MonitorId = Path(ge=1, le=2**31 - 1)

register_nav("/surveillance/", _("Active surveillance"), roles=["monitoring_centre", "admin", "registrant"],
             description=_("Sequential monitoring of implants: boundary charts and alerts"), order=40)


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
