"""GS1 UDIs parsed with ``biip`` into the device identifier (DI, AI 01) and the production identifiers
(PI: AI 11 production date, 17 expiry date, 10 lot, 21 serial). Pure.

Accepted: the human-readable form with AIs in parentheses, ``(01)06901234567892(17)271231(10)A1``, or the
raw element string with FNC1 as the group separator (byte 0x1D, or the text ``<GS>``). biip turns a
``(17)`` day ``00`` into the month's last day and reports a wrong GTIN check digit as ``gtin_error``
(refused here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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


def parse_udi(text: str, field: str = "device.udi") -> Udi:
    raw = (text or "").strip().replace("<GS>", GS)
    if not raw:
        raise _bad(field, _("A UDI is empty."))
    try:
        msg = GS1Message.parse_hri(raw) if raw.startswith("(") else GS1Message.parse(raw)
    except (ParseError, ValueError) as exc:
        raise _bad(field, _("The UDI could not be parsed as GS1: {detail}"), detail=str(exc)) from None
    values: dict = {}
    for es in msg.element_strings:
        ai = es.ai.ai
        if ai == "01":
            if es.gtin is None:
                raise _bad(
                    field, _("The UDI-DI (01) {value} is not a valid GTIN (check digit)."), value=es.value
                )
            values["di"] = es.value
        elif ai in ("11", "17"):
            values["production_date" if ai == "11" else "expiry_date"] = es.date
        elif ai == "10":
            values["lot"] = es.value
        elif ai == "21":
            values["serial"] = es.value
    if "di" not in values:
        raise _bad(field, _("The UDI has no device identifier (AI 01)."))
    return Udi(**values)
