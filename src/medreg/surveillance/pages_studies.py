"""The study report page: a real-world evidence analysis with the protocol it was registered under
(and its SHA-256), the Kaplan-Meier curves as SVG with the at-risk table, the baseline balance
(standardised mean differences before and after propensity matching) and the results (log-rank, Cox,
cumulative incidence). The KM chart is also served as an ``.svg`` file."""

from __future__ import annotations

from fastapi import Depends, Path, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.db import MAX_ID
from medreg.core.deps import get_session, pages_router, require_login
from medreg.core.i18n import _
from medreg.core.templating import render
from medreg.evidence import service as evidence
from medreg.surveillance.charts_km import km_chart_svg

router = pages_router(prefix="/surveillance/studies", tags=["surveillance pages"])
Db = Depends(get_session)
AnalysisId = Path(ge=1, le=MAX_ID)
ARM_LABELS = {"device": _("Study device"), "comparator": _("Comparator devices")}


def _km(protocol, analysis) -> str | None:
    km = analysis.results.get("kaplan_meier")
    if not km or "curve" not in km[0]:
        return None
    curves = [{"label": _(ARM_LABELS.get(c["group"], c["group"])), **c["curve"]} for c in km]
    return km_chart_svg(
        curves,
        horizon=float(protocol.content.get("follow_up_days", 365)),
        title=f"{protocol.title} — {_('Kaplan-Meier survival')}",
        x_label=_("Days since the procedure"),
        y_label=_("Event-free survival"),
    )


@router.get("/analyses/{analysis_id}")
def report(
    request: Request,
    analysis_id: int = AnalysisId,
    session: Session = Db,
    actor: Actor = Depends(require_login),
):
    protocol, analysis = evidence.get_analysis(session, actor, analysis_id)
    r = analysis.results
    balance = r.get("balance", {})
    rows = list(
        zip(
            balance.get("names", []), balance.get("smd_before", []), balance.get("smd_after", []), strict=True
        )
    )
    km = r.get("kaplan_meier") or []
    risk_times = sorted({float(t) for c in km for t in c["at_risk"]}, key=float)
    svg = _km(protocol, analysis)
    return render(
        request,
        "surveillance/study_report.html",
        {
            "p": protocol,
            "a": analysis,
            "r": r,
            "balance_rows": rows,
            "km": km,
            "risk_times": risk_times,
            "arm_labels": ARM_LABELS,
            "chart": Markup(svg) if svg else None,
        },
    )  # every text escaped in charts_km


@router.get("/analyses/{analysis_id}/km.svg")
def km_svg(analysis_id: int = AnalysisId, session: Session = Db, actor: Actor = Depends(require_login)):
    protocol, analysis = evidence.get_analysis(session, actor, analysis_id)
    svg = _km(protocol, analysis) or km_chart_svg(
        [], horizon=1.0, title=protocol.title, x_label="", y_label=""
    )
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'inline; filename="analysis-{analysis_id}-km.svg"'},
    )
