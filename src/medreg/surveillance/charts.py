"""The sequential boundary chart as SVG (pure): the LLR at each look against the critical value.

Plain SVG text (no plotting library), so that pages inline it and the same picture can be saved as a
``.svg`` file. Labels are passed in already translated; every number is formatted here.
"""

from __future__ import annotations

from html import escape

__all__ = ["boundary_chart_svg"]


def boundary_chart_svg(labels: list[str], llr: list[float], critical_value: float, *, title: str,
                       x_label: str, y_label: str, width: int = 640, height: int = 280,
                       look_critical_values: list[float] | None = None) -> str:
    """SVG of the LLR over the looks with the critical value as a dashed line; signals in red.

    ``look_critical_values``: each look's own critical value when it differs from the design's (alpha
    re-spent at the actual looks of a group design), drawn as a dotted line through the looks."""
    left, right, top, bottom = 56, 16, 32, 44
    w, h = width - left - right, height - top - bottom
    n = len(llr)
    cvs = list(look_critical_values) if look_critical_values is not None else [critical_value] * n
    finite = [v for v in [*llr, *cvs] if v == v and v != float("inf")]
    y_max = max([critical_value * 1.25, *finite, 1.0])

    def x(i: int) -> float:
        return left + (w * (i + 0.5) / n if n else 0)

    def y(v: float) -> float:
        return top + h - h * min(v, y_max) / y_max

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{escape(title)}" class="boundary-chart">',
             f"<title>{escape(title)}</title>",
             f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="#fff" stroke="#999"/>']
    for k in range(5):
        v = y_max * k / 4
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11">'
                     f"{v:.1f}</text>")
    cv_y = y(critical_value)
    parts.append(f'<line x1="{left}" y1="{cv_y:.1f}" x2="{left + w}" y2="{cv_y:.1f}" stroke="#c0392b" '
                 f'stroke-dasharray="6 4" data-critical-value="{critical_value:.6f}"/>')
    parts.append(f'<text x="{left + w - 4}" y="{cv_y - 5:.1f}" text-anchor="end" font-size="11" '
                 f'fill="#c0392b">CV {critical_value:.3f}</text>')
    if n and any(c != critical_value for c in cvs):
        points = " ".join(f"{x(i):.1f},{y(c):.1f}" for i, c in enumerate(cvs))
        parts.append(f'<polyline points="{points}" fill="none" stroke="#e67e22" stroke-width="1.5" '
                     f'stroke-dasharray="2 3" class="look-critical-values"/>')
    if n:
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(llr))
        parts.append(f'<polyline points="{points}" fill="none" stroke="#1f5fa8" stroke-width="2"/>')
        for i, v in enumerate(llr):
            hit = v >= cvs[i]
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="{4 if hit else 3}" '
                         f'fill="{"#c0392b" if hit else "#1f5fa8"}" data-look="{i + 1}" data-llr="{v:.6f}" '
                         f'data-cv="{cvs[i]:.6f}"/>')
        step = max(1, n // 8)
        for i in range(0, n, step):
            parts.append(f'<text x="{x(i):.1f}" y="{top + h + 16}" text-anchor="middle" font-size="10">'
                         f"{escape(labels[i])}</text>")
    parts.append(f'<text x="{left + w / 2:.1f}" y="{height - 6}" text-anchor="middle" font-size="12">'
                 f"{escape(x_label)}</text>")
    parts.append(f'<text x="14" y="{top + h / 2:.1f}" text-anchor="middle" font-size="12" '
                 f'transform="rotate(-90 14 {top + h / 2:.1f})">{escape(y_label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
