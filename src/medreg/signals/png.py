"""PNG export of the signal pictures, drawn with matplotlib (Agg, no display) from the same data and
scales as the SVG of ``plots`` (matplotlib cannot read SVG, so the picture is drawn again). Figure, fonts
(Chinese labels with an installed CJK font) and PNG bytes: ``medreg.core.figures``."""

from __future__ import annotations

import math
from collections.abc import Sequence

from medreg.core.figures import figure as _figure
from medreg.core.figures import png_bytes as _png
from medreg.signals.plots import Point


def overview_png(points: Sequence[Point], threshold: float, *, title: str, xlabel: str, ylabel: str) -> bytes:
    fig = _figure()
    ax = fig.add_subplot()
    pts = [p for p in points if p.value is not None and p.value > 0 and math.isfinite(p.value) and p.n11 > 0]
    ax.scatter([p.n11 for p in pts], [math.log2(p.value) for p in pts],
               c=["#c0392b" if p.flagged else "#2c7fb8" for p in pts])
    ax.set_xscale("log")
    ax.axhline(math.log2(threshold), color="#c0392b", linestyle="--")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return _png(fig)


def ic_png(series: Sequence[tuple[str, float | None, float | None, float | None]], *, title: str,
           xlabel: str, ylabel: str) -> bytes:
    fig = _figure()
    ax = fig.add_subplot()
    pts = [(i, ic, lo, hi) for i, (_, ic, lo, hi) in enumerate(series) if ic is not None]
    for i, _ic, lo, hi in pts:
        if lo is not None and hi is not None:
            ax.vlines(i, lo, hi, color="#555")
    ax.scatter([p[0] for p in pts], [p[1] for p in pts], color="#2c7fb8")
    ax.axhline(0, color="#c0392b", linestyle="--")
    ax.set_xticks(range(len(series)), [s[0][:16] for s in series])
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return _png(fig)
