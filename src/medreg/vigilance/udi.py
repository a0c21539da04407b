"""GS1 UDIs parsed with ``biip`` into the device identifier (DI, AI 01) and the production identifiers
(PI: AI 11 production date, 17 expiry date, 10 lot, 21 serial). Pure.

Accepted: the human-readable form with AIs in parentheses, ``(01)06901234567892(17)271231(10)A1``, or the
raw element string with FNC1 as the group separator (byte 0x1D, or the text ``<GS>``). biip turns a
``(17)`` day ``00`` into the month's last day and reports a wrong GTIN check digit as ``gtin_error``
(refused here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from biip import ParseError
from biip.gs1_messages import GS1Message

from medreg.core.errors import ValidationFailed
from medreg.core.i18n import _

GS = "\x1d"


@dataclass(frozen=True)
class Udi:
    di: str  # GTIN-14 of AI (01)
    production_date: date | None = None  # (11)
    expiry_date: date | None = None  # (17)
    lot: str | None = None  # (10)
    serial: str | None = None  # (21)

    @property
    def pi(self) -> dict:
        return {
            k: v
            for k, v in (
                ("production_date", self.production_date),
                ("expiry_date", self.expiry_date),
                ("lot", self.lot),
                ("serial", self.serial),
            )
            if v is not None
        }


def _bad(field: str, message: str, **params) -> ValidationFailed:
    return ValidationFailed(message, field=field, params=params)


def _values(raw: str) -> dict | tuple[str, dict]:
    """The element strings of a GS1 message (biip), or (msgid, params) of the reason it is refused."""
    try:
        msg = GS1Message.parse_hri(raw) if raw.startswith("(") else GS1Message.parse(raw)
    except (ParseError, ValueError) as exc:
        return _("The UDI could not be parsed as GS1: {detail}"), {"detail": str(exc)}
    values: dict = {}
    for es in msg.element_strings:
        ai = es.ai.ai
        if ai == "01":
            if es.gtin is None:
                return _("The UDI-DI (01) {value} is not a valid GTIN (check digit)."), {"value": es.value}
            values["di"] = es.value
        elif ai in ("11", "17"):
            values["production_date" if ai == "11" else "expiry_date"] = es.date
        elif ai == "10":
            values["lot"] = es.value
        elif ai == "21":
            values["serial"] = es.value
    return values


_DI_VALUES = lru_cache(maxsize=8192)(_values)  # a file names few devices: each DI is checked once
# A human-readable UDI starting with its DI: "(01)" + 14 digits, then the production identifiers.
_HRI_DI = re.compile(r"\(01\)(\d{14})(?=\(|$)")


@lru_cache(maxsize=65536)
def _parse(raw: str) -> Udi | tuple[str, dict]:
    """parse_udi's work, cached: the same UDI text gives the same answer. A human-readable UDI is split
    after its fixed-length AI (01): the DI goes through the DI cache, the rest through biip alone (the
    parse of each element string does not depend on the others, so the values are biip's own)."""
    head = _HRI_DI.match(raw)
    rest = raw[head.end():] if head else ""
    if head and rest and "(01)" not in rest:
        values = _DI_VALUES(raw[: head.end()])
        if isinstance(values, dict):
            tail = _values(rest)
            # a refused tail: biip's answer on the whole text, so the reason is the one it gives
            values = {**values, **tail} if isinstance(tail, dict) else _values(raw)
    else:
        values = _values(raw)
    if isinstance(values, tuple):
        return values
    if "di" not in values:
        return _("The UDI has no device identifier (AI 01)."), {}
    return Udi(**values)


def parse_udi(text: str, field: str = "device.udi") -> Udi:
    raw = (text or "").strip().replace("<GS>", GS)
    if not raw:
        raise _bad(field, _("A UDI is empty."))
    out = _parse(raw)
    if isinstance(out, tuple):
        raise _bad(field, out[0], **out[1])
    return out
