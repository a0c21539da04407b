"""Pure rules of the report form: which IMDRF annex each code field takes, the fields a submission
needs, and the check that free text carries no direct patient identifier."""

from __future__ import annotations

import re
from typing import Any

# Code fields of the form and their IMDRF annex (IMDRF/AE WG/N43; see docs/vigilance.md).
CODE_FIELDS: dict[str, str] = {
    "device_problem": "A",
    "investigation_type": "B",
    "investigation_finding": "C",
    "investigation_conclusion": "D",
    "health_effect": "E",
    "health_impact": "F",
    "component": "G",
}

# What the 可疑医疗器械不良事件报告表 must carry before it is submitted (Order 1 Art.25 asks for a report
# of the event; these are the items without which a centre cannot review it under Art.28: the device,
# when it happened and was learned of, what happened, and the outcome the clock depends on).
REQUIRED: tuple[str, ...] = (
    "reporter.role",
    "device.generic_name",
    "device.registration_number",
    "event.event_date",
    "event.aware_at",
    "event.outcome",
    "event.description",
)
# Asked for by the form, not blocking a submission (scored as completeness, quality.py).
DESIRABLE: tuple[str, ...] = (
    "device.model",
    "device.udi",
    "device.lot_number",
    "device.manufacture_date",
    "patient.age_years",
    "patient.sex",
    "event.province",
    "event.device_problem",
    "event.actions_taken",
    "codes.device_problem",
    "codes.health_impact",
)

# Direct identifiers that must not be in a report: a resident identity card number (GB 11643-1999:
# 17 digits + a digit or X) and a mainland mobile number (11 digits starting 13-19).
_RESIDENT_ID = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def direct_identifier_in(text: str | None) -> str | None:
    """The kind of direct identifier found in ``text`` (None if none)."""
    if not text:
        return None
    if _RESIDENT_ID.search(text):
        return "resident ID number"
    if _MOBILE.search(text):
        return "mobile phone number"
    return None


def value_at(content: dict, path: str) -> Any:
    node: Any = content
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and len(value) == 0)


def missing_required(content: dict) -> list[str]:
    """The required fields (dotted paths) still blank in ``content``, in form order."""
    return [p for p in REQUIRED if is_blank(value_at(content, p))]
