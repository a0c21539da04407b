"""Parse the UDI of an implant (GS1 element string) into its DI and PI with ``biip`` (pure).

The UDI carrier of an implant is a GS1 message: the device identifier (DI) is the GTIN in AI (01);
the production identifiers (PI) are the expiry date (17), production date (11), lot (10) and serial
number (21). Both the human-readable form with parentheses and the raw element string (FNC1 group
separator byte 0x1D between variable-length fields) are accepted. A GTIN with a wrong check digit is
refused (biip parses the message but flags the (01) element).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from biip import ParseError
from biip.gs1_messages import GS1Message

from medreg.core.errors import ValidationFailed

__all__ = ["ParsedUdi", "parse_udi"]


@dataclass(frozen=True)
class ParsedUdi:
    di: str  # GTIN-14 (AI 01)
    lot: str | None  # AI 10
    serial: str | None  # AI 21
    expiry: date | None  # AI 17
    production: date | None  # AI 11


def parse_udi(text: str, *, field: str = "udi") -> ParsedUdi:
    """DI and PI of a GS1 UDI; ``ValidationFailed`` naming ``field`` when it is not a valid UDI."""
    value = (text or "").strip()
    if not value:
        raise ValidationFailed("The UDI is missing.", field=field)
    try:
        msg = GS1Message.parse_hri(value) if value.startswith("(") else GS1Message.parse(value)
    except ParseError as exc:
        raise ValidationFailed("Not a GS1 UDI: {reason}", field=field, params={"reason": str(exc)}) from exc
    found = {es.ai.ai: es for es in msg.element_strings}
    gtin = found.get("01")
    if gtin is None:
        raise ValidationFailed("The UDI has no device identifier (AI 01).", field=field)
    if gtin.gtin is None:
        raise ValidationFailed("The device identifier has a wrong check digit.", field=field)

    def value_of(ai: str) -> str | None:
        return found[ai].value if ai in found else None

    def date_of(ai: str) -> date | None:
        return found[ai].date if ai in found else None

    return ParsedUdi(gtin.value, value_of("10"), value_of("21"), date_of("17"), date_of("11"))
