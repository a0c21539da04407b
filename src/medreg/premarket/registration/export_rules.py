"""Pure rules of the export sales certificate (医疗器械出口销售证明, NMPA Announcement 2025 No.126,
text in ``src/medreg/data/nmpa-law/export_certificate_rules.md``, "No.126"): its number (Art.6), its
validity (Art.7), its status on a given day (Art.7, 10, 11), and the verification code medreg prints
on it for the public check. No database, no clock, no randomness (the caller passes the bytes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from medreg.core.errors import ValidationFailed

# No.126 annex 4 item 7: the two-letter code of each province (X1 of the English number), keyed by the
# one-character abbreviation of numbers.PROVINCE_ABBREVIATIONS (X1 of the Chinese number).
PROVINCE_LETTER_CODES: dict[str, str] = {
    "京": "BJ", "津": "TJ", "冀": "HE", "晋": "SX", "蒙": "NM", "辽": "LN", "吉": "JL", "黑": "HL",
    "沪": "SH", "苏": "JS", "浙": "ZJ", "皖": "AH", "闽": "FJ", "赣": "JX", "鲁": "SD", "豫": "HA",
    "鄂": "HB", "湘": "HN", "粤": "GD", "桂": "GX", "琼": "HI", "渝": "CQ", "川": "SC", "黔": "GZ",
    "滇": "YN", "藏": "XZ", "陕": "SN", "甘": "GS", "青": "QH", "宁": "NX", "新": "XJ",
}  # fmt: skip
ABBREVIATION_OF_CODE = {code: abbr for abbr, code in PROVINCE_LETTER_CODES.items()}


class ExportKind(StrEnum):
    REGISTERED = "I"  # No.126 Art.4: registered or filed in China, 证明（I）
    UNREGISTERED = "II"  # Art.5: made in China, not registered there (not issued by medreg yet)


class ExportStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"  # Art.7: past its validity
    REVOKED = "revoked"  # Art.10, 11: 公示作废 by the issuing department
    LAPSED = "lapsed"  # Art.7 second para: the registration certificate it rests on was cancelled


# ---- number (Art.6) --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportNumber:
    letter_code: str  # BJ, SH ...
    year: int
    serial: int

    @property
    def zh(self) -> str:
        """X1药监械出X2X3号: 京药监械出2026000001号."""
        return f"{ABBREVIATION_OF_CODE[self.letter_code]}药监械出{self.year:04d}{self.serial:06d}号"

    @property
    def en(self) -> str:
        """No.MDX1X2X3: No.MDBJ2026000001."""
        return f"No.MD{self.letter_code}{self.year:04d}{self.serial:06d}"


def export_number(abbreviation: str, year: int, serial: int) -> ExportNumber:
    code = PROVINCE_LETTER_CODES.get(abbreviation)
    if code is None:
        raise ValidationFailed("Unknown province abbreviation '{value}'.", field="province",
                               params={"value": abbreviation})
    if not (1 <= serial <= 999_999 and 1000 <= year <= 9999):
        raise ValidationFailed("The export certificate serial {serial} is out of range.", field="serial",
                               params={"serial": serial})
    return ExportNumber(code, year, serial)


_ZH = re.compile(r"^(?P<abbr>\w)药监械出(?P<year>\d{4})(?P<serial>\d{6})号?$")
_EN = re.compile(r"^(?:NO\.?)?MD(?P<code>[A-Z]{2})(?P<year>\d{4})(?P<serial>\d{6})$")


def parse_export_number(text: object) -> ExportNumber | None:
    """The number in either language (spaces ignored, the English one in any case, ``No.`` optional);
    None when it is not an export certificate number (the caller answers as for an unknown one)."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    t = re.sub(r"\s+", "", text)
    m = _ZH.match(t)
    if m and m["abbr"] in PROVINCE_LETTER_CODES and int(m["serial"]) >= 1:
        return ExportNumber(PROVINCE_LETTER_CODES[m["abbr"]], int(m["year"]), int(m["serial"]))
    m = _EN.match(t.upper())
    if m and m["code"] in ABBREVIATION_OF_CODE and int(m["serial"]) >= 1:
        return ExportNumber(m["code"], int(m["year"]), int(m["serial"]))
    return None


# ---- verification code -----------------------------------------------------------------------------
# Crockford's base 32 (no I, L, O, U): 12 symbols of 5 bits = 60 bits from 8 random bytes. Someone
# who knows a number has one chance in 2**60 (1.15e18) per guess; at 1,000 guesses a second that is
# 18 million years on average. Shown in groups of four: 7K3M-9QXD-T2VA.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
CODE_BITS = CODE_LENGTH * 5
CODE_RANDOM_BYTES = 8


def verification_code(random_bytes: bytes) -> str:
    """The printed code made of ``CODE_RANDOM_BYTES`` random bytes (the first 60 bits are used)."""
    if len(random_bytes) < CODE_RANDOM_BYTES:
        raise ValueError(f"need {CODE_RANDOM_BYTES} random bytes")
    value = int.from_bytes(random_bytes[:CODE_RANDOM_BYTES], "big") >> (CODE_RANDOM_BYTES * 8 - CODE_BITS)
    symbols = "".join(CODE_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH)))
    return "-".join(symbols[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(text: object) -> str | None:
    """The code as stored (groups of four, upper case), from what a person typed: any case, spaces and
    hyphens ignored, O read as 0 and I, L as 1 (Crockford). None when it cannot be a code."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    t = re.sub(r"[\s\-]+", "", text).upper().translate(str.maketrans("OIL", "011"))
    if len(t) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in t):
        return None
    return "-".join(t[i:i + 4] for i in range(0, CODE_LENGTH, 4))


# ---- validity and status (Art.7, 10, 11) -----------------------------------------------------------
def latest_valid_until(underlying_expiries: list[date], issued_on: date) -> date:
    """Art.7: not beyond the earliest expiry of the certificates the application rests on."""
    if not underlying_expiries:
        raise ValidationFailed("Name at least one registration certificate.", field="registration_numbers")
    earliest = min(underlying_expiries)
    if earliest < issued_on:
        raise ValidationFailed("A registration certificate it rests on has expired.",
                               field="registration_numbers")
    return earliest


def status_on(today: date, *, valid_until: date, revoked: bool, underlying_cancelled: bool) -> ExportStatus:
    """The status the public check shows: revoked (Art.10-11) before lapsed (Art.7) before expired."""
    if revoked:
        return ExportStatus.REVOKED
    if underlying_cancelled:
        return ExportStatus.LAPSED
    if today > valid_until:
        return ExportStatus.EXPIRED
    return ExportStatus.VALID


def may_see(roles: frozenset[str], *, actor_org_id: int | None, actor_letter_code: str | None,
            applicant_org_id: int, letter_code: str) -> bool:
    """Who sees the full record, its verification code included: the applicant, the issuing province,
    NMPA (Art.3: it guides the work) and the administrator. Everyone else uses the public check."""
    if roles & {"office", "admin"}:
        return True
    if "province" in roles and actor_letter_code == letter_code:
        return True
    return "registrant" in roles and actor_org_id == applicant_org_id
