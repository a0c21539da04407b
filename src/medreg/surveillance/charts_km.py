"""Kaplan-Meier curves as SVG (pure): survival step functions with their confidence bands.

Plain SVG text like ``charts.boundary_chart_svg``; the at-risk table is drawn by the page under the
chart (an HTML table, so it is readable and translatable). Labels come in already translated.
"""

from __future__ import annotations

from html import escape

__all__ = ["km_chart_svg"]

COLOURS = ("#1f5fa8", "#c0392b", "#27ae60", "#8e44ad")


def _steps(times, values, x, y) -> str:
    """Points of a right-continuous step function starting at (0, 1)."""
    pts, prev = [f"{x(0):.1f},{y(1.0):.1f}"], 1.0
    for t, v in zip(times, values, strict=True):
        pts.append(f"{x(t):.1f},{y(prev):.1f}")
        pts.append(f"{x(t):.1f},{y(v):.1f}")
        prev = v
    return " ".join(pts)


def km_chart_svg(
    curves: list[dict],
    *,
    horizon: float,
    title: str,
    x_label: str,
    y_label: str,
    width: int = 640,
    height: int = 300,
) -> str:
    """``curves``: ``{"label", "times", "survival", "lower", "upper"}`` each; x from 0 to ``horizon``."""
    left, right, top, bottom = 56, 16, 32, 44
    w, h = width - left - right, height - top - bottom
    lows = [v for c in curves for v in c["lower"] if v == v]
    y_min = max(0.0, min([*lows, 0.9]) - 0.05)
    y_min = int(y_min * 20) / 20  # down to a multiple of 0.05

    def x(t: float) -> float:
        return left + w * min(max(t, 0.0), horizon) / horizon

    def y(v: float) -> float:
        return top + h - h * (min(max(v, y_min), 1.0) - y_min) / (1.0 - y_min)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title)}" class="km-chart">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="#fff" stroke="#999"/>',
    ]
    for k in range(5):
        v = y_min + (1.0 - y_min) * k / 4
        parts.append(
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11">{v:.2f}</text>'
        )
        t = horizon * k / 4
        parts.append(
            f'<text x="{x(t):.1f}" y="{top + h + 16}" text-anchor="middle" font-size="10">{t:g}</text>'
        )
    for i, c in enumerate(curves):
        colour = COLOURS[i % len(COLOURS)]
        times = [t for t in c["times"] if t <= horizon]
        n = len(times)
        upper = _steps(times, c["upper"][:n], x, y).split(" ")
        lower = _steps(times, c["lower"][:n], x, y).split(" ")
        parts.append(
            f'<polygon points="{" ".join(upper + lower[::-1])}" fill="{colour}" fill-opacity="0.12" '
            f'stroke="none" data-band="{escape(c["label"])}"/>'
        )
        parts.append(
            f'<polyline points="{_steps(times, c["survival"][:n], x, y)}" fill="none" stroke="{colour}" '
            f'stroke-width="2" data-curve="{escape(c["label"])}" '
            f'data-final="{(c["survival"][n - 1] if n else 1.0):.6f}"/>'
        )
        legend_y = top + h - 8 - 14 * (len(curves) - 1 - i)  # bottom left, below the curves
        parts.append(
            f'<text x="{left + 8}" y="{legend_y}" font-size="11" fill="{colour}">{escape(c["label"])}</text>'
        )
    parts.append(
        f'<text x="{left + w / 2:.1f}" y="{height - 6}" text-anchor="middle" font-size="12">'
        f"{escape(x_label)}</text>"
    )
    parts.append(
        f'<text x="14" y="{top + h / 2:.1f}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 14 {top + h / 2:.1f})">{escape(y_label)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
