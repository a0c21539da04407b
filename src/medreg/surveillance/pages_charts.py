"""Every surveillance picture as a file: the boundary chart (PNG; the SVG is in ``pages``), the
risk-adjusted CUSUM and the O/E chart of a monitor (SVG and PNG), and the Kaplan-Meier curves of a
study analysis (PNG; the SVG is in ``pages_studies``). The same descriptions draw the inline SVG of
the pages (``cusum_chart``, ``oe_chart``), so a file shows what the page shows."""

from __future__ import annotations

from fastapi import Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from medreg.core import i18n
from medreg.core.actor import Actor
from medreg.core.db import MAX_ID
from medreg.core.deps import get_session, pages_router, require_login
from medreg.core.errors import NotFound
from medreg.core.i18n import _
from medreg.core.templating import request_locale
from medreg.surveillance import queries, queries_studies
from medreg.surveillance.charts_lines import Band, Line, LineChart, Mark, RefLine, line_chart_svg
from medreg.surveillance.charts_png import km_png, line_chart_png
from medreg.surveillance.queries_charts import QualityCharts, quality_charts

router = pages_router(prefix="/surveillance", tags=["surveillance pages"])
Db = Depends(get_session)
Who = Depends(require_login)
MonitorId = Path(ge=1, le=MAX_ID)
T = i18n.gettext  # translate in the request's locale (set around the drawing)


def boundary_chart(monitor, looks) -> LineChart:
    """The boundary chart as a line chart (for the PNG; the page's SVG is ``charts.boundary_chart_svg``)."""
    return LineChart(
        title=f"{monitor.name} — {T(_('Log-likelihood ratio'))}",
        x_label=T(_("Look")),
        y_label=T(_("Log-likelihood ratio")),
        css_class="boundary-chart",
        lines=(Line(T(_("Log-likelihood ratio")), tuple(lk.llr for lk in looks)),
               *_respent_line(monitor, looks)),
        refs=(RefLine(f"CV {monitor.critical_value:.3f}", monitor.critical_value),),
        marks=tuple(Mark(i, lk.llr, T(_("Signal"))) for i, lk in enumerate(looks) if lk.signal),
        y_floor=0.0,
    )


def _respent_line(monitor, looks) -> tuple:
    """The looks' own critical values when alpha was re-spent (a group design's runs off its plan)."""
    if all(lk.critical_value == monitor.critical_value for lk in looks):
        return ()
    return (Line(T(_("Critical value of the look")), tuple(lk.critical_value for lk in looks), "#e67e22"),)


def delta_chart(monitor, looks) -> LineChart:
    """A DELTA monitor's cumulative matched risk difference at each look with its confidence band,
    the margin of the alert rule and 0 (looks without enough pairs are gaps). With alpha spending the
    band is the repeated confidence interval and a line draws each analysed look's alert boundary on
    the risk-difference scale, ``margin + c_k SE`` (the difference alerts above it)."""
    nan = float("nan")

    def col(name):
        return tuple(nan if getattr(lk, name) is None else getattr(lk, name) for lk in looks)

    band = f"{1 - monitor.alpha:.0%} {T(_('confidence interval'))}"
    lines = (Line(T(_("Risk difference")), col("risk_difference")),)
    if monitor.delta_spending:
        band = T(_("repeated confidence interval"))
        bound = tuple(nan if lk.nominal_alpha is None or lk.rd_lower is None
                      else monitor.delta_margin + (lk.rd_upper - lk.rd_lower) / 2.0 for lk in looks)
        lines += (Line(T(_("Alert boundary of the risk difference")), bound, "#e67e22"),)
    return LineChart(
        title=f"{monitor.name} — {T(_('Cumulative risk difference (matched)'))}",
        x_label=T(_("Look")),
        y_label=T(_("Risk difference")),
        css_class="delta-chart",
        lines=lines,
        band=Band(band, col("rd_lower"), col("rd_upper")),
        refs=(RefLine(f"{T(_('margin'))} {monitor.delta_margin:g}", monitor.delta_margin),
              *((RefLine("0", 0.0, "#555"),) if monitor.delta_margin != 0 else ())),
        marks=tuple(Mark(i, lk.risk_difference, T(_("Signal"))) for i, lk in enumerate(looks) if lk.signal),
        attrs={"margin": f"{monitor.delta_margin:g}", "looks": str(len(looks)),
               "signal": next((str(lk.look_no) for lk in looks if lk.signal), ""),
               **({"spending": monitor.delta_spending} if monitor.delta_spending else {})},
    )


def cusum_chart(qc: QualityCharts) -> LineChart | None:
    """The CUSUM at each look (stored; ``service_cusum``) and its highest value between looks, against
    the monitor's stored h; the look that raised the CUSUM alert marked."""
    if not qc.points:
        return None
    m, pts = qc.monitor, qc.points
    sign = 1.0 if m.cusum_odds_ratio > m.cusum_null_odds_ratio else -1.0  # improvement charts run below 0
    h = pts[-1].control_limit
    return LineChart(
        title=f"{m.name} — {T(_('Risk-adjusted CUSUM'))} (R_0 = {m.cusum_null_odds_ratio:g}, "
              f"R_A = {m.cusum_odds_ratio:g})",
        x_label=T(_("Look")),
        y_label="CUSUM",
        css_class="cusum-chart",
        lines=(Line(T(_("CUSUM at the look")), tuple(p.value for p in pts)),
               Line(T(_("Highest CUSUM since the previous look")), tuple(sign * p.peak for p in pts),
                    "#e67e22")),
        refs=(RefLine(f"h {h:.3f}", sign * h),),
        marks=tuple(Mark(i, sign * p.peak, T(_("CUSUM alert"))) for i, p in enumerate(pts)
                    if p.crossed_at is not None),
        **({"y_floor": 0.0} if sign > 0 else {"y_cap": 0.0}),
        attrs={"control-limit": f"{h:.6f}", "points": str(len(pts)),
               "signal": "" if qc.alarm is None else str(qc.alarm.crossed_at)},
    )


def oe_chart(qc: QualityCharts) -> LineChart | None:
    """The cumulative O/E at each look with its two-sided 95 % control limits (stored counts)."""
    if not qc.points:
        return None
    pts, last = qc.points, qc.points[-1]
    finite = [p.ratio for p in pts if p.ratio == p.ratio]
    return LineChart(
        title=f"{qc.monitor.name} — {T(_('Observed / expected'))}",
        x_label=T(_("Look")),
        y_label="O/E",
        css_class="oe-chart",
        lines=(Line("O/E", tuple(p.ratio for p in pts)),),
        band=Band(T(_("95% control limits")), tuple(p.lower for p in pts), tuple(p.upper for p in pts)),
        refs=(RefLine("1", 1.0, "#555"),),
        marks=tuple(Mark(i, p.ratio, T(_("Signal"))) for i, p in enumerate(pts) if p.ratio > p.upper),
        y_floor=0.0,
        y_cap=max(3.0, 1.5 * max(finite, default=1.0)),  # the first looks' limits are very wide
        attrs={"observed": f"{last.observed:g}", "expected": f"{last.expected:.6f}"},
    )


def _file(body: bytes | str, kind: str, name: str) -> Response:
    media = "image/svg+xml" if kind == "svg" else "image/png"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'}
    )


def _draw(request: Request, build, kind: str):
    token = i18n.current_locale.set(request_locale(request))
    try:
        chart = build()
        if chart is None:
            return None
        return line_chart_svg(chart) if kind == "svg" else line_chart_png(chart)
    finally:
        i18n.current_locale.reset(token)


def _empty(request: Request, title: str, kind: str) -> bytes | str:
    token = i18n.current_locale.set(request_locale(request))
    try:
        chart = LineChart(
            title=f"{title} — {T(_('No look yet'))}", x_label="", y_label="", css_class="empty", lines=()
        )
        return line_chart_svg(chart) if kind == "svg" else line_chart_png(chart)
    finally:
        i18n.current_locale.reset(token)


@router.get("/monitors/{monitor_id}/chart.png")
def boundary_png(request: Request, monitor_id: int = MonitorId, session: Session = Db, actor: Actor = Who):
    monitor, looks = queries.monitor_looks(session, actor, monitor_id)
    build = delta_chart if monitor.kind == "delta" else boundary_chart
    return _file(_draw(request, lambda: build(monitor, looks), "png"), "png", f"monitor-{monitor_id}")


@router.get("/monitors/{monitor_id}/delta.{kind}")
def delta_file(request: Request, monitor_id: int = MonitorId, kind: str = Path(pattern="^(svg|png)$"),
               session: Session = Db, actor: Actor = Who):
    """A DELTA monitor's risk-difference chart as a file (SVG or PNG; 404 for another kind)."""
    monitor, looks = queries.monitor_looks(session, actor, monitor_id)
    if monitor.kind != "delta":
        raise NotFound("No such chart for this monitor.", field="monitor_id")
    body = _draw(request, lambda: delta_chart(monitor, looks), kind)
    return _file(body, kind, f"monitor-{monitor_id}-delta")


def _quality_file(request: Request, session: Session, actor: Actor, monitor_id: int, kind: str, build,
                  suffix: str) -> Response:
    """A monitor's CUSUM or O/E chart as a file (``build``: ``cusum_chart`` or ``oe_chart``); before the
    first look, a chart saying there is none yet."""
    qc = quality_charts(session, actor, monitor_id)
    body = _draw(request, lambda: build(qc), kind) or _empty(request, qc.monitor.name, kind)
    return _file(body, kind, f"monitor-{monitor_id}-{suffix}")


Kind = Path(pattern="^(svg|png)$")


@router.get("/monitors/{monitor_id}/cusum.{kind}")
def cusum_file(request: Request, monitor_id: int = MonitorId, kind: str = Kind, session: Session = Db,
               actor: Actor = Who):
    return _quality_file(request, session, actor, monitor_id, kind, cusum_chart, "cusum")


@router.get("/monitors/{monitor_id}/oe.{kind}")
def oe_file(request: Request, monitor_id: int = MonitorId, kind: str = Kind, session: Session = Db,
            actor: Actor = Who):
    return _quality_file(request, session, actor, monitor_id, kind, oe_chart, "oe")


@router.get("/studies/analyses/{analysis_id}/km.png")
def km_file(
    request: Request, analysis_id: int = Path(ge=1, le=MAX_ID), session: Session = Db, actor: Actor = Who
):
    from medreg.surveillance.pages_studies import km_curves

    protocol, analysis = queries_studies.read_analysis(session, actor, analysis_id)
    token = i18n.current_locale.set(request_locale(request))
    try:
        curves, labels = km_curves(protocol, analysis)
        body = km_png(curves, **labels)
    finally:
        i18n.current_locale.reset(token)
    return _file(body, "png", f"analysis-{analysis_id}-km")
