"""matplotlib for the PNG exports of the domains' pictures (``signals.png``, ``surveillance.charts_png``):
the Agg backend (no display), a figure, its PNG bytes, and a font list of installed fonts only.

Chinese titles and labels fall back, glyph by glyph, from DejaVu Sans to a CJK font: WenQuanYi Micro
Hei (the Makefile's ``pdf`` target installs it for WeasyPrint), else Noto Sans CJK SC or Source Han
Sans SC where a system has them. Only the installed ones are named: matplotlib logs a ``findfont``
warning for a missing family, once per text it draws.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC")
BASE_FONT = "DejaVu Sans"  # shipped with matplotlib


def installed(families: Sequence[str]) -> list[str]:
    """The font families among ``families`` that matplotlib finds on this system, in order."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return [f for f in families if f in names]


def figure(width: float = 6.4, height: float = 3.6, dpi: int = 100):
    """A new matplotlib ``Figure`` on the Agg backend, with the installed fonts only."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["font.family"] = [BASE_FONT, *installed(CJK_FONTS)]
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=dpi)


def png_bytes(fig, *, tight: bool = False) -> bytes:
    """The figure as PNG (``tight``: lay it out first so that long labels are not cut)."""
    buf = io.BytesIO()
    if tight:
        fig.tight_layout()
    fig.savefig(buf, format="png")
    return buf.getvalue()
