"""PNG export of the surveillance pictures, drawn with matplotlib (Agg, no display) from the same
descriptions as the SVG (``charts_lines.LineChart``; the KM curve dicts of ``charts_km``): matplotlib
cannot read SVG, so the picture is drawn again from the same numbers and scales.

Figure, fonts (Chinese titles and labels fall back glyph by glyph to an installed CJK font) and PNG
bytes: ``medreg.core.figures``, shared with ``signals.png``.
"""

from __future__ import annotations

import math

from medreg.core.figures import figure as _figure
from medreg.core.figures import png_bytes
from medreg.surveillance.charts_lines import LineChart

__all__ = ["km_png", "line_chart_png"]

KM_COLOURS = ("#1f5fa8", "#c0392b", "#27ae60", "#8e44ad")


def _png(fig) -> bytes:
    return png_bytes(fig, tight=True)


def line_chart_png(chart: LineChart) -> bytes:
    fig = _figure()
    ax = fig.add_subplot()
    xs = list(range(1, chart.n + 1))
    if chart.band and chart.n:
        ax.fill_between(
            xs,
            chart.band.lower,
            chart.band.upper,
            color=chart.band.colour,
            alpha=0.12,
            label=chart.band.label,
            linewidth=0,
        )
    for r in chart.refs:
        ax.axhline(r.value, color=r.colour, linestyle="--", linewidth=1, label=r.label)
    for ln in chart.lines:
        ax.plot(xs[: len(ln.values)], ln.values, color=ln.colour, linewidth=1.5, label=ln.label)
    for m in chart.marks:
        ax.plot([m.index + 1], [m.value], "o", color="#c0392b")
    lo, hi = chart.y_range()
    ax.set_ylim(lo, hi)
    ax.set(title=chart.title, xlabel=chart.x_label, ylabel=chart.y_label)
    if chart.lines or chart.refs:
        ax.legend(loc="upper left", fontsize=8)
    return _png(fig)


def km_png(curves: list[dict], *, horizon: float, title: str, x_label: str, y_label: str) -> bytes:
    """``curves`` as for ``charts_km.km_chart_svg``: label, times, survival, lower, upper."""
    fig = _figure()
    ax = fig.add_subplot()
    lows = [v for c in curves for v in c["lower"] if math.isfinite(v)]
    y_min = int(max(0.0, min([*lows, 0.9]) - 0.05) * 20) / 20  # as in the SVG
    for i, c in enumerate(curves):
        colour = KM_COLOURS[i % len(KM_COLOURS)]
        keep = [k for k, t in enumerate(c["times"]) if t <= horizon]
        ts = [0.0] + [c["times"][k] for k in keep] + [horizon]

        def ext(values, keep=keep):
            vs = [values[k] for k in keep]
            return [1.0, *vs, vs[-1] if vs else 1.0]

        ax.fill_between(
            ts, ext(c["lower"]), ext(c["upper"]), step="post", color=colour, alpha=0.12, linewidth=0
        )
        ax.step(ts, ext(c["survival"]), where="post", color=colour, linewidth=1.5, label=c["label"])
    ax.set_xlim(0, horizon)
    ax.set_ylim(y_min, 1.0)
    ax.set(title=title, xlabel=x_label, ylabel=y_label)
    if curves:
        ax.legend(loc="lower left", fontsize=8)
    return _png(fig)
