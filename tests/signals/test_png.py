"""PNG export draws Chinese titles and labels with a CJK font, not as missing-glyph boxes."""

from __future__ import annotations

import warnings

import pytest

from medreg.core import figures
from medreg.signals import png
from medreg.signals.plots import Point


def _has_cjk_font() -> bool:
    return bool(figures.installed(figures.CJK_FONTS))


NO_CJK_FONT = "no CJK font installed (the Makefile's `pdf` target installs one)"


@pytest.mark.skipif(not _has_cjk_font(), reason=NO_CJK_FONT)
def test_chinese_labels_render_without_missing_glyphs():
    points = [Point(n11=5, value=4.0, flagged=True, label="A"),
              Point(n11=40, value=1.1, flagged=False, label="B")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        overview = png.overview_png(points, 2.0, title="信号总览", xlabel="报告数", ylabel="比值")
        ic = png.ic_png([("第1次", 0.5, -0.2, 1.1), ("第2次", 1.2, 0.3, 2.0)], title="信息成分",
                        xlabel="运行", ylabel="IC")
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert not missing, missing
    assert overview[:8] == ic[:8] == b"\x89PNG\r\n\x1a\n"
