"""QR codes of the verification URLs printed on certificates, drawn by segno (ISO/IEC 18004).

Byte mode, level M (15 % of the symbol may be damaged), no error-level boost, so that the symbol is the
one the standard's level-M tables describe; the smallest version that holds the text.
"""

from __future__ import annotations

import segno

ERROR_LEVEL = "m"


def _make(text: str) -> segno.QRCode:
    return segno.make_qr(text, error=ERROR_LEVEL, boost_error=False, mode="byte", encoding="utf-8")


def encode(text: str) -> list[list[bool]]:
    """The QR matrix of ``text`` (UTF-8), without the quiet zone; rows top to bottom (True = dark)."""
    return [[bool(v) for v in row] for row in _make(text).matrix]


def svg(text: str, *, module: int = 4, border: int = 4, title: str = "") -> str:
    """An inline SVG of the QR code of ``text`` (black on white, a quiet zone of ``border`` modules, a
    ``<title>`` for screen readers when given)."""
    return _make(text).svg_inline(scale=module, border=border, dark="#000", light="#fff",
                                  title=title or None, svgclass=None, lineclass=None)
