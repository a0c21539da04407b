"""Line charts of quality monitoring as SVG (pure): the risk-adjusted CUSUM and the cumulative O/E.

One small description of a chart (``LineChart``: lines, an optional band, horizontal reference lines,
marked points) is drawn here as SVG text and by ``charts_png`` as PNG, so both files show the same
picture. Labels are passed in already translated; every text is escaped here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

__all__ = ["Band", "Line", "LineChart", "Mark", "RefLine", "line_chart_svg"]


@dataclass(frozen=True)
class Line:
    label: str
    values: tuple[float, ...]  # one per x (procedure 1..n)
    colour: str = "#1f5fa8"


@dataclass(frozen=True)
class Band:
    label: str
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    colour: str = "#c0392b"


@dataclass(frozen=True)
class RefLine:
    label: str
    value: float
    colour: str = "#c0392b"


@dataclass(frozen=True)
class Mark:
    index: int  # 0-based x
    value: float
    label: str


@dataclass(frozen=True)
class LineChart:
    title: str
    x_label: str
    y_label: str
    css_class: str
    lines: tuple[Line, ...]
    band: Band | None = None
    refs: tuple[RefLine, ...] = ()
    marks: tuple[Mark, ...] = ()
    y_floor: float | None = None  # lowest value shown (default: the data's minimum)
    y_cap: float | None = None  # highest value shown (default: the data's maximum)
    attrs: dict = field(default_factory=dict)  # data-* attributes of the <svg> (tests, scripts)

    @property
    def n(self) -> int:
        return max((len(ln.values) for ln in self.lines), default=0)

    def y_range(self) -> tuple[float, float]:
        vals = [v for ln in self.lines for v in ln.values] + [r.value for r in self.refs]
        if self.band:
            vals += [*self.band.lower, *self.band.upper]
        vals = [v for v in vals if math.isfinite(v)]
        lo = min(vals, default=0.0) if self.y_floor is None else self.y_floor
        hi = max(vals, default=1.0)
        if self.y_cap is not None:
            hi = min(hi, self.y_cap)
        if hi - lo < 1e-9:
            hi = lo + 1.0
        pad = 0.05 * (hi - lo)
        return lo - (pad if self.y_floor is None else 0.0), hi + pad


def line_chart_svg(chart: LineChart, *, width: int = 640, height: int = 280) -> str:
    left, right, top, bottom = 56, 16, 32, 44
    w, h = width - left - right, height - top - bottom
    n = chart.n
    y_lo, y_hi = chart.y_range()

    def x(i: float) -> float:
        return left + (w * (i + 0.5) / n if n else 0.0)

    def y(v: float) -> float:
        v = min(max(v, y_lo), y_hi)
        return top + h - h * (v - y_lo) / (y_hi - y_lo)

    def poly(values) -> str:
        return " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values) if math.isfinite(v))

    data = "".join(f' data-{escape(k)}="{escape(str(v))}"' for k, v in chart.attrs.items())
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(chart.title)}" class="{escape(chart.css_class)}"'
        f"{data}>",
        f"<title>{escape(chart.title)}</title>",
        f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="#fff" stroke="#999"/>',
    ]
    for k in range(5):
        v = y_lo + (y_hi - y_lo) * k / 4
        parts.append(
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11">{v:.2f}</text>'
        )
    if n:
        for k in range(5):
            i = round((n - 1) * k / 4)
            parts.append(
                f'<text x="{x(i):.1f}" y="{top + h + 16}" text-anchor="middle" font-size="10">{i + 1}</text>'
            )
    if chart.band and n:
        b = chart.band
        shown = [i for i, (lo, hi) in enumerate(zip(b.lower, b.upper, strict=True))
                 if math.isfinite(lo) and math.isfinite(hi)]  # a look without an estimate is a gap
        upper = [f"{x(i):.1f},{y(b.upper[i]):.1f}" for i in shown]
        lower = [f"{x(i):.1f},{y(b.lower[i]):.1f}" for i in shown]
        parts.append(
            f'<polygon points="{" ".join(upper + lower[::-1])}" fill="{b.colour}" fill-opacity="0.10" '
            f'stroke="none" data-band="{escape(b.label)}"/>'
        )
    for r in chart.refs:
        parts.append(
            f'<line x1="{left}" y1="{y(r.value):.1f}" x2="{left + w}" y2="{y(r.value):.1f}" '
            f'stroke="{r.colour}" stroke-dasharray="6 4" data-ref="{escape(r.label)}" '
            f'data-value="{r.value:.6f}"/>'
        )
        parts.append(
            f'<text x="{left + w - 4}" y="{y(r.value) - 5:.1f}" text-anchor="end" font-size="11" '
            f'fill="{r.colour}">{escape(r.label)}</text>'
        )
    for ln in chart.lines:
        if n:
            final = ln.values[-1] if ln.values else float("nan")
            parts.append(
                f'<polyline points="{poly(ln.values)}" fill="none" stroke="{ln.colour}" stroke-width="1.5" '
                f'data-line="{escape(ln.label)}" data-final="{final:.6f}"/>'
            )
    for m in chart.marks:
        parts.append(
            f'<circle cx="{x(m.index):.1f}" cy="{y(m.value):.1f}" r="4" fill="#c0392b" '
            f'data-mark="{m.index + 1}"><title>{escape(m.label)}</title></circle>'
        )
    legend = [(ln.label, ln.colour) for ln in chart.lines] + (
        [(chart.band.label, chart.band.colour)] if chart.band else []
    )
    for k, (label, colour) in enumerate(legend):
        parts.append(
            f'<text x="{left + 8}" y="{top + 14 + 14 * k}" font-size="11" fill="{colour}">'
            f"{escape(label)}</text>"
        )
    parts.append(
        f'<text x="{left + w / 2:.1f}" y="{height - 6}" text-anchor="middle" font-size="12">'
        f"{escape(chart.x_label)}</text>"
    )
    parts.append(
        f'<text x="14" y="{top + h / 2:.1f}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 14 {top + h / 2:.1f})">{escape(chart.y_label)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
