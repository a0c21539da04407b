"""The shared matplotlib helper names installed fonts only, so drawing logs no ``findfont`` warning
for a missing family (signals.png and surveillance.charts_png draw through it)."""

from __future__ import annotations

import logging

import matplotlib

from medreg.core import figures


def test_only_installed_families_are_named():
    assert figures.installed(["No Such Font 2026", figures.BASE_FONT]) == [figures.BASE_FONT]
    figures.figure()
    family = matplotlib.rcParams["font.family"]
    assert family[0] == figures.BASE_FONT and set(family[1:]) <= set(figures.CJK_FONTS)
    assert figures.installed(family) == family


def test_drawing_logs_no_missing_font(caplog, monkeypatch):
    monkeypatch.setattr(figures, "CJK_FONTS", ("No Such Font 2026", *figures.CJK_FONTS))
    fig = figures.figure(3, 2)
    ax = fig.add_subplot()
    ax.plot([1, 2, 3], [1, 4, 9])
    ax.set(title="Signal overview", xlabel="n11", ylabel="log2 EBGM")
    with caplog.at_level(logging.WARNING, logger="matplotlib.font_manager"):
        data = figures.png_bytes(fig, tight=True)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [r for r in caplog.records if "findfont" in r.getMessage()]
