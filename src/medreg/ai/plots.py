"""ROC and FROC curves as SVG text for the HTML and PDF reports. Pure: numbers in, markup out.

The caller decides who may see a curve (a registrant never does: see service_runs and service_detection).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

SIZE, PAD = 320, 40
PLOT = SIZE - 2 * PAD
FROC_MAX = 8.0  # the largest LUNA16 false-positive rate per image


def _frame(x_label: str, y_label: str, x_ticks: Sequence[tuple[float, str]], body: str, css_id: str) -> str:
    ticks = []
    for pos, text in x_ticks:
        x = PAD + PLOT * pos
        ticks.append(f'<line x1="{x:.1f}" y1="{PAD + PLOT}" x2="{x:.1f}" y2="{PAD + PLOT + 4}" '
                     'stroke="#555"/>'
                     f'<text x="{x:.1f}" y="{PAD + PLOT + 16}" text-anchor="middle" font-size="10">'
                     f"{escape(text)}</text>")
    for k in range(6):
        y = PAD + PLOT * (1 - k / 5)
        ticks.append(f'<line x1="{PAD - 4}" y1="{y:.1f}" x2="{PAD}" y2="{y:.1f}" stroke="#555"/>'
                     f'<text x="{PAD - 6}" y="{y + 3:.1f}" text-anchor="end" font-size="10">'
                     f"{k / 5:.1f}</text>")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" id="{css_id}" width="{SIZE}" height="{SIZE}" '
            f'viewBox="0 0 {SIZE} {SIZE}" role="img" aria-label="{escape(y_label)}">'
            f'<rect x="{PAD}" y="{PAD}" width="{PLOT}" height="{PLOT}" fill="none" stroke="#888"/>'
            + "".join(ticks) + body +
            f'<text x="{PAD + PLOT / 2}" y="{SIZE - 4}" text-anchor="middle" font-size="11">'
            f"{escape(x_label)}</text>"
            f'<text x="12" y="{PAD + PLOT / 2}" text-anchor="middle" font-size="11" '
            f'transform="rotate(-90 12 {PAD + PLOT / 2})">{escape(y_label)}</text></svg>')


def _polyline(xs: Sequence[float], ys: Sequence[float], colour: str) -> str:
    pts = " ".join(f"{PAD + PLOT * x:.1f},{PAD + PLOT * (1 - y):.1f}" for x, y in zip(xs, ys, strict=True))
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>'


COLOURS = ("#1f5fa8", "#c0392b")


def roc_svg(curves: Sequence[tuple[Sequence[float], Sequence[float]]], x_label: str, y_label: str) -> str:
    """ROC curves (false-positive rate, sensitivity) on the unit square with the chance diagonal."""
    body = (f'<line x1="{PAD}" y1="{PAD + PLOT}" x2="{PAD + PLOT}" y2="{PAD}" stroke="#bbb" '
            'stroke-dasharray="4 4"/>')
    body += "".join(_polyline(fpr, tpr, COLOURS[i % 2]) for i, (fpr, tpr) in enumerate(curves))
    return _frame(x_label, y_label, [(k / 5, f"{k / 5:.1f}") for k in range(6)], body, "roc-svg")


def froc_svg(fp_per_image: Sequence[float], sensitivity: Sequence[float], x_label: str, y_label: str) -> str:
    """A FROC curve with false positives per image on a log2 axis from 1/8 to 8 (the LUNA16 rates);
    points below 1/8 sit on the left edge, points above 8 are cut."""
    def pos(v: float) -> float:
        return min(max((math.log2(max(v, 1 / 8)) + 3) / 6, 0.0), 1.0)

    pts = [(pos(x), y) for x, y in zip(fp_per_image, sensitivity, strict=True) if x <= FROC_MAX]
    body = _polyline([p[0] for p in pts], [p[1] for p in pts], COLOURS[0]) if pts else ""
    ticks = [((k + 3) / 6, label) for k, label in zip(range(-3, 4), ("1/8", "1/4", "1/2", "1", "2", "4", "8"),
                                                       strict=True)]
    return _frame(x_label, y_label, ticks, body, "froc-svg")
