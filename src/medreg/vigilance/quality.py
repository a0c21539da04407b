"""Report quality score (pure): a score out of 100 with the reason for every point lost, so the
reporter can fix the report when saving it and the centre can compare reporters and registrants.

| part | points | what |
|---|---|---|
| completeness | 30 | required fields (rules.REQUIRED) count twice, desirable ones (rules.DESIRABLE) once |
| timeliness | 20 | the statutory report duty met (deadlines.py, Order 1 Art.25/27/31) |
| consistency | 20 | dates in order, UDI vs entered lot/serial/dates, outcome vs health-impact code,
|  |  | device identity vs the registration record |
| coding | 15 | device-problem and health-impact codes given; the narrative's matches covered by a code |
| follow-up | 15 | serious events: the registrant's final report with its investigation codes (Art.29) |

The weights are medreg's choice (no official scoring scheme was found); the checks are listed in
docs/vigilance.md. Each reason is a msgid with params and the field it concerns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from medreg.core.clock import to_shanghai
from medreg.core.i18n import _
from medreg.vigilance.aet import Terminology
from medreg.vigilance.aet_search import suggest
from medreg.vigilance.rules import DESIRABLE, REQUIRED, is_blank

WEIGHTS = {"completeness": 30, "timeliness": 20, "consistency": 20, "coding": 15, "follow_up": 15}
# Annex F codes that say the patient died (F02 Death, F0201 Intrauterine Fetal Death, F03 Brain Death),
# that say there was no harm (F26) or no patient (F27), and the serious-injury branch (F12).
DEATH_CODES = ("F02", "F03")
NO_HARM_CODES = ("F26", "F27")
SERIOUS_CODES = ("F12",)


@dataclass(frozen=True)
class Reason:
    field: str
    message: str  # msgid
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Part:
    name: str
    points: float
    out_of: int
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Quality:
    score: int
    parts: tuple[Part, ...]

    @property
    def reasons(self) -> list[Reason]:
        return [r for p in self.parts for r in p.reasons]


@dataclass(frozen=True)
class Context:
    """What the score needs besides the form (all optional)."""

    late: bool | None = None  # None: no statutory clock, or not submitted yet
    days_late: int = 0
    final_submitted: bool = False
    evaluation_due: date | None = None
    today: date | None = None
    registered: dict | None = None  # {"product_name", "model_spec"} of the certificate


# Device fields the UDI's production identifiers fill when the reporter left them blank.
FROM_UDI = {"device.lot_number": "lot", "device.serial_number": "serial",
            "device.manufacture_date": "production_date", "device.expiry_date": "expiry_date"}


# (path split, weight, the reason when blank, the UDI key that fills it): built once, reused per report
_FIELDS = tuple(
    (tuple(path.split(".")), weight, Reason(path, msg, {"name": path}), FROM_UDI.get(path, ""))
    for paths, weight, msg in ((REQUIRED, 2, _("Required field '{name}' is empty.")),
                               (DESIRABLE, 1, _("Field '{name}' is empty.")))
    for path in paths
)
_TOTAL = sum(f[1] for f in _FIELDS)


def _completeness(c: dict) -> Part:
    reasons, got = [], 0
    udi = c.get("udi_parsed") or {}
    for (section, name), weight, reason, udi_key in _FIELDS:
        node = c.get(section)
        value = node.get(name) if isinstance(node, dict) else None
        if is_blank(value) and not udi.get(udi_key):
            reasons.append(reason)
        else:
            got += weight
    return Part(
        "completeness", WEIGHTS["completeness"] * got / _TOTAL, WEIGHTS["completeness"], tuple(reasons)
    )


def _timeliness(ctx: Context) -> Part:
    if ctx.late:
        r = Reason(
            "event.aware_at",
            _("Reported {days} day(s) after the statutory deadline (Order 1)."),
            {"days": ctx.days_late},
        )
        return Part("timeliness", 0.0, WEIGHTS["timeliness"], (r,))
    return Part("timeliness", float(WEIGHTS["timeliness"]), WEIGHTS["timeliness"], ())


def _d(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    text = str(value)
    return to_shanghai(datetime.fromisoformat(text)).date() if "T" in text else date.fromisoformat(text)


def _consistency(c: dict, ctx: Context) -> Part:
    checks: list[tuple[bool, Reason]] = []
    ev, dev = c.get("event") or {}, c.get("device") or {}
    event_on, aware_on = _d(ev.get("event_date")), _d(ev.get("aware_at"))
    made, expires = _d(dev.get("manufacture_date")), _d(dev.get("expiry_date"))
    if event_on and aware_on:
        checks.append(
            (
                event_on <= aware_on,
                Reason("event.event_date", _("The event date is after the date of awareness.")),
            )
        )
    if made and expires:
        checks.append(
            (
                made <= expires,
                Reason("device.expiry_date", _("The expiry date is before the manufacture date.")),
            )
        )
    if made and event_on:
        checks.append(
            (
                made <= event_on,
                Reason("device.manufacture_date", _("The device was made after the event date.")),
            )
        )
    udi = c.get("udi_parsed") or {}
    for key, path in (
        ("lot", "device.lot_number"),
        ("serial", "device.serial_number"),
        ("production_date", "device.manufacture_date"),
        ("expiry_date", "device.expiry_date"),
    ):
        entered = dev.get(path.split(".")[1])
        if udi.get(key) and entered:
            checks.append(
                (
                    str(entered) == str(udi[key]),
                    Reason(
                        path,
                        _("'{name}' ({entered}) differs from the UDI ({udi})."),
                        {"name": path, "entered": entered, "udi": udi[key]},
                    ),
                )
            )
    outcome = ev.get("outcome")
    impact = (c.get("codes") or {}).get("health_impact") or []
    if outcome and impact:
        says_death = any(x.startswith(DEATH_CODES) for x in impact)
        says_no_harm = any(x.startswith(NO_HARM_CODES) for x in impact)
        says_serious = any(x.startswith(SERIOUS_CODES) for x in impact)
        ok = not (
            (says_death and outcome != "death")
            or (outcome == "death" and not says_death)
            or (says_no_harm and outcome in ("death", "serious_injury"))
            or (says_serious and outcome == "other")
        )
        checks.append(
            (
                ok,
                Reason(
                    "codes.health_impact",
                    _("The outcome '{outcome}' does not agree with the health-impact codes {codes}."),
                    {"outcome": outcome, "codes": ", ".join(impact)},
                ),
            )
        )
    reg = ctx.registered or {}
    if reg.get("product_name") and dev.get("generic_name"):
        checks.append(
            (
                reg["product_name"].strip() == dev["generic_name"].strip(),
                Reason(
                    "device.generic_name",
                    _("The device name differs from the registration certificate ({registered})."),
                    {"registered": reg["product_name"]},
                ),
            )
        )
    if reg.get("model_spec") and dev.get("model"):
        checks.append(
            (
                dev["model"].strip() in reg["model_spec"],
                Reason(
                    "device.model",
                    _("The model is not among the certificate's models ({registered})."),
                    {"registered": reg["model_spec"]},
                ),
            )
        )
    failed = tuple(r for ok, r in checks if not ok)
    points = WEIGHTS["consistency"] * (1 - len(failed) / len(checks)) if checks else WEIGHTS["consistency"]
    return Part("consistency", points, WEIGHTS["consistency"], failed)


def _coding(c: dict, aet: Terminology) -> Part:
    codes = c.get("codes") or {}
    given = [x for v in codes.values() for x in (v or [])]
    reasons = []
    if not codes.get("device_problem"):
        reasons.append(Reason("codes.device_problem", _("No IMDRF device-problem code (Annex A) is given.")))
    if not codes.get("health_impact"):
        reasons.append(Reason("codes.health_impact", _("No IMDRF health-impact code (Annex F) is given.")))
    narrative = " ".join(str((c.get("event") or {}).get(k) or "") for k in ("description", "device_problem"))
    hints = [s for s in suggest(aet, narrative, annexes=("A", "E")) if s.annex in "AE"]
    uncovered = [s for s in hints if not any(g.startswith(s.code[:3]) for g in given)]
    for s in uncovered:
        reasons.append(
            Reason(
                f"codes.{'device_problem' if s.annex == 'A' else 'health_effect'}",
                _("The narrative says '{words}' ({code} '{term}') but no code of that branch is given."),
                {"words": s.params["words"], "code": s.code, "term": s.term},
            )
        )
    missing = (not codes.get("device_problem")) + (not codes.get("health_impact"))
    share_covered = 1 - len(uncovered) / len(hints) if hints else 1.0
    points = WEIGHTS["coding"] * (0.6 * (2 - missing) / 2 + 0.4 * share_covered)
    return Part("coding", points, WEIGHTS["coding"], tuple(reasons))


def _follow_up(c: dict, ctx: Context) -> Part:
    outcome = (c.get("event") or {}).get("outcome")
    full = float(WEIGHTS["follow_up"])
    if outcome not in ("death", "serious_injury"):
        return Part("follow_up", full, WEIGHTS["follow_up"], ())
    if not ctx.final_submitted:
        if ctx.evaluation_due and ctx.today and ctx.today > ctx.evaluation_due:
            r = Reason(
                "evaluation.summary",
                _("The registrant's evaluation was due on {date} and is missing (Order 1 Art.29)."),
                {"date": ctx.evaluation_due.isoformat()},
            )
            return Part("follow_up", 0.0, WEIGHTS["follow_up"], (r,))
        return Part("follow_up", full, WEIGHTS["follow_up"], ())
    codes = c.get("codes") or {}
    reasons = tuple(
        Reason(f"codes.{k}", _("The final report has no '{name}' code."), {"name": k})
        for k in ("investigation_type", "investigation_finding", "investigation_conclusion")
        if not codes.get(k)
    )
    return Part("follow_up", full * (1 - len(reasons) / 4), WEIGHTS["follow_up"], reasons)


def score(content: dict, aet: Terminology, ctx: Context | None = None) -> Quality:
    """The quality of one report version (``content`` as stored: the form plus ``udi_parsed``)."""
    ctx = ctx or Context()
    parts = (
        _completeness(content),
        _timeliness(ctx),
        _consistency(content, ctx),
        _coding(content, aet),
        _follow_up(content, ctx),
    )
    return Quality(round(sum(p.points for p in parts)), parts)
