"""Chinese patent application numbers (CNIPA ZC 0006-2003): parsing and the check character. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from medreg.core.said import _, english, said

# --- Chinese patent application numbers ------------------------------------------------------
# CNIPA standard ZC 0006-2003 《专利申请号标准》 (in force 2003-10-01): 12 digits = filing year (4)
# + kind (1 digit: 1 invention, 2 utility model, 3 design, 8 PCT invention entering the Chinese
# national phase, 9 PCT utility model) + serial (7), then "." and a check character: the digits
# times the weights 2,3,4,5,6,7,8,9,2,3,4,5, summed, mod 11; 10 is written "X". Older numbers
# (before 2003-10-01) have 8 digits: year (2) + kind (1) + serial (5), weights 2..9.
# Example: 201710601862.3. A granted patent is "ZL" + the application number; databases often
# write "CN" + the digits. Only kinds 1 and 8 are invention patents (No.83 Art.2(1): 发明专利).
_PATENT_RE = re.compile(r"^(?:ZL|CN)?(\d{8}|\d{12})\.?([0-9X])$")
INVENTION_KINDS = frozenset({"1", "8"})
KIND_NAMES = {
    "1": _("invention"),
    "2": _("utility model"),
    "3": _("design"),
    "8": _("PCT invention"),
    "9": _("PCT utility model"),
}


@dataclass(frozen=True)
class PatentNumber:
    digits: str
    check: str

    @property
    def kind(self) -> str:
        return self.digits[4] if len(self.digits) == 12 else self.digits[2]

    @property
    def is_invention(self) -> bool:
        return self.kind in INVENTION_KINDS

    @property
    def filing_year(self) -> int:
        return int(self.digits[:4]) if len(self.digits) == 12 else 1900 + int(self.digits[:2])

    def __str__(self) -> str:
        return f"ZL{self.digits}.{self.check}"


def patent_check_char(digits: str) -> str:
    weights = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    rest = sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11
    return "X" if rest == 10 else str(rest)


def parse_patent_number(text: str) -> PatentNumber | str:
    """A :class:`PatentNumber`, or the reason (English) why ``text`` is not a valid CN application number."""
    parsed = parse_patent(text)
    return parsed if isinstance(parsed, PatentNumber) else english(parsed)


def parse_patent(text: str) -> PatentNumber | dict:
    """A :class:`PatentNumber`, or the reason as said(msgid, **params)."""
    compact = re.sub(r"[\s\u3000]", "", text or "").upper()
    m = _PATENT_RE.match(compact)
    if not m:
        return said(_("not a Chinese patent application number (e.g. ZL 2017 1 0601862.3: "
                      "12 digits and a check character, CNIPA ZC 0006-2003)"))
    digits, check = m.groups()
    if patent_check_char(digits) != check:
        return said(_("check character should be {check} (CNIPA ZC 0006-2003)"),
                    check=patent_check_char(digits))
    number = PatentNumber(digits, check)
    if number.kind not in KIND_NAMES:
        return said(_("unknown application kind digit {digit}"), digit=number.kind)
    return number
