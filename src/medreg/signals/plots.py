"""Signal pictures as SVG text (pure: numbers in, markup out; the pages inline it or serve it).

* ``overview_svg``: one dot per case, log2 of ROR or EBGM against n11 (log scale), the threshold as a
  dashed line, the flagged cases in red. Undefined values (no statistic) are left out.
* ``ic_svg``: the IC of one pair with its 95 % credibility interval over the runs, the line IC = 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

W, H, PAD = 640, 360, 48


@dataclass(frozen=True)
class Point:
    n11: int
    value: float | None
    flagged: bool
    label: str
    href: str | None = None


def _scale(lo: float, hi: float, a: float, b: float):
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) * (b - a) / span


def _frame(title: str, xlabel: str, ylabel: str, body: list[str], css: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="{css}" viewBox="0 0 {W} {H}" width="{W}" '
            f'height="{H}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
            '<rect width="100%" height="100%" fill="#fff"/>'
            f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD / 2}" y2="{H - PAD}" stroke="#333"/>'
            f'<line x1="{PAD}" y1="{PAD / 2}" x2="{PAD}" y2="{H - PAD}" stroke="#333"/>'
            f'<text x="{W / 2}" y="{H - 10}" text-anchor="middle" font-size="13">{escape(xlabel)}</text>'
            f'<text x="14" y="{H / 2}" text-anchor="middle" font-size="13" '
            f'transform="rotate(-90 14 {H / 2})">{escape(ylabel)}</text>' + "".join(body) + "</svg>")


def overview_svg(points: Sequence[Point], threshold: float, *, title: str, xlabel: str, ylabel: str) -> str:
    """log2(value) against log10(n11); ``threshold`` on the value scale (e.g. ROR 1, EBGM 2)."""
    pts = [p for p in points if p.value is not None and p.value > 0 and math.isfinite(p.value) and p.n11 > 0]
    ys = [math.log2(p.value) for p in pts] + [math.log2(threshold)]
    xs = [math.log10(p.n11) for p in pts] or [0.0]
    fx = _scale(0.0, max(max(xs), 1.0), PAD, W - PAD)
    fy = _scale(min(min(ys), 0.0) - 0.5, max(ys) + 0.5, H - PAD, PAD / 2)
    body = []
    ty = fy(math.log2(threshold))
    body.append(f'<line class="threshold" x1="{PAD}" y1="{ty:.1f}" x2="{W - PAD / 2}" y2="{ty:.1f}" '
                f'stroke="#c0392b" stroke-dasharray="6 4"/>')
    for n in (1, 10, 100, 1000, 10000):
        if math.log10(n) <= max(max(xs), 1.0):
            x = fx(math.log10(n))
            body.append(f'<text x="{x:.1f}" y="{H - PAD + 16}" text-anchor="middle" '
                        f'font-size="11">{n}</text>')
    for p in pts:
        colour = "#c0392b" if p.flagged else "#2c7fb8"
        dot = (f'<circle cx="{fx(math.log10(p.n11)):.1f}" cy="{fy(math.log2(p.value)):.1f}" r="5" '
               f'fill="{colour}"><title>{escape(p.label)}: n={p.n11}, {p.value:.3g}</title></circle>')
        body.append(f'<a href="{escape(p.href)}">{dot}</a>' if p.href else dot)
    return _frame(title, xlabel, ylabel, body, "signal-overview")


def ic_svg(series: Sequence[tuple[str, float | None, float | None, float | None]], *, title: str,
           xlabel: str, ylabel: str) -> str:
    """``series``: (run label, IC, IC025, IC975) in run order; points without an IC are skipped."""
    pts = [(i, lab, ic, lo, hi) for i, (lab, ic, lo, hi) in enumerate(series) if ic is not None]
    vals = [v for _, _, ic, lo, hi in pts for v in (ic, lo, hi) if v is not None] + [0.0]
    fx = _scale(-0.5, max(len(series) - 0.5, 0.5), PAD, W - PAD)
    fy = _scale(min(vals) - 0.5, max(vals) + 0.5, H - PAD, PAD / 2)
    body = [f'<line class="threshold" x1="{PAD}" y1="{fy(0):.1f}" x2="{W - PAD / 2}" y2="{fy(0):.1f}" '
            'stroke="#c0392b" stroke-dasharray="6 4"/>']
    for i, lab, ic, lo, hi in pts:
        x = fx(i)
        if lo is not None and hi is not None:
            body.append(f'<line class="interval" x1="{x:.1f}" y1="{fy(lo):.1f}" x2="{x:.1f}" '
                        f'y2="{fy(hi):.1f}" stroke="#555"/>')
        body.append(f'<circle cx="{x:.1f}" cy="{fy(ic):.1f}" r="5" fill="#2c7fb8"><title>{escape(lab)}: '
                    f'IC {ic:.3f}</title></circle>')
        body.append(f'<text x="{x:.1f}" y="{H - PAD + 16}" text-anchor="middle" font-size="11">'
                    f'{escape(lab[:16])}</text>')
    return _frame(title, xlabel, ylabel, body, "ic-over-time")
