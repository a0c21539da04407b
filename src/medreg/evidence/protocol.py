"""Study protocols of real-world evidence studies, fixed before the data are looked at (pure).

A protocol states the question, the device(s) and comparator, the cohort (inclusion and exclusion
criteria on registry fields), the outcomes and the analysis plan. ``protocol_hash`` is the SHA-256 of
its canonical JSON (sorted keys, no whitespace, UTF-8), so that any later change is visible; the
service stores the hash with the registration time, and every analysis records the hash of the
protocol it followed and refuses to run on a protocol registered after the data cut-off it analyses.

Cohort criteria are plain data ``(field, operator, value, type)`` with operators ``== != < <= > >= in``;
``select_cohort`` keeps the rows meeting every inclusion and no exclusion criterion, and says how
many rows each criterion removed (the flow diagram of the study).

A criterion's ``type`` says how its value is read back from the protocol's stored JSON: ``""`` (the
default) for the values JSON carries as they are (yes/no, numbers, text), ``"date"`` for a calendar
date, stored as ``YYYY-MM-DD`` text and compared as a date. The canonical form writes ``type`` only
when it is not ``""``, so a protocol without date criteria hashes exactly as it did before typed
criteria existed (protocols registered then keep their hash).
"""

from __future__ import annotations

import hashlib
import json
import operator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from medreg.core.errors import ValidationFailed

__all__ = ["Criterion", "StudyProtocol", "protocol_hash", "select_cohort"]

OPERATORS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
             ">=": operator.ge, "in": lambda a, b: a in b}
CRITERION_TYPES = ("", "date")  # "": the JSON value as it is; "date": an ISO date (YYYY-MM-DD)
ANALYSES = ("kaplan_meier", "logrank", "cox_ph", "cumulative_incidence", "matched_comparison")


@dataclass(frozen=True)
class Criterion:
    field: str
    op: str
    value: object
    type: str = ""  # "" (yes/no, number, text: JSON keeps them) or "date"

    def __post_init__(self):
        if self.op not in OPERATORS:
            raise ValidationFailed("Unknown operator {op} in a cohort criterion.", field="cohort",
                                   params={"op": self.op})
        if self.type not in CRITERION_TYPES:
            raise ValidationFailed("Unknown type of a cohort criterion.", field="cohort")
        if self.type == "date":
            object.__setattr__(self, "value", _as_date(self.value))
            if self.op == "in":
                raise ValidationFailed("Unknown operator {op} in a cohort criterion.", field="cohort",
                                       params={"op": self.op})

    def as_json(self) -> dict:
        """The criterion as stored and hashed: ``type`` only when the value is not JSON's own."""
        if not self.type:
            return {"field": self.field, "op": self.op, "value": self.value}
        return {"field": self.field, "op": self.op, "value": self.value.isoformat(), "type": self.type}

    def holds(self, row: dict) -> bool:
        v = row.get(self.field)
        if v is None:
            return False
        try:
            return bool(OPERATORS[self.op](v, self.value))
        except TypeError:
            return False


@dataclass(frozen=True)
class StudyProtocol:
    title: str
    question: str
    device_group: str  # the device group or DI(s) under study
    comparator: str
    outcomes: tuple[str, ...]
    analyses: tuple[str, ...]
    follow_up_days: int
    inclusion: tuple[Criterion, ...] = ()
    exclusion: tuple[Criterion, ...] = ()
    covariates: tuple[str, ...] = ()
    device_dis: tuple[str, ...] = ()  # the DI(s) of the device under study; the rest of the group compares
    notes: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.title.strip() or not self.question.strip():
            raise ValidationFailed("A protocol needs a title and a question.", field="title")
        if not self.outcomes:
            raise ValidationFailed("A protocol needs at least one outcome.", field="outcomes")
        unknown = [a for a in self.analyses if a not in ANALYSES]
        if not self.analyses or unknown:
            raise ValidationFailed("Analyses must be chosen from: {allowed}.", field="analyses",
                                   params={"allowed": ", ".join(ANALYSES)})
        if self.follow_up_days <= 0:
            raise ValidationFailed("The follow-up must be a positive number of days.", field="follow_up_days")

    def canonical(self) -> str:
        content = asdict(self)
        content["inclusion"] = [c.as_json() for c in self.inclusion]
        content["exclusion"] = [c.as_json() for c in self.exclusion]
        return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _as_date(value: object) -> date:
    """A date criterion's value: a ``date`` or its ``YYYY-MM-DD`` text (as read back from JSON)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise ValidationFailed("Enter a date as YYYY-MM-DD.", field="cohort")


def protocol_hash(protocol: StudyProtocol) -> str:
    """SHA-256 (hex) of the canonical JSON of the protocol."""
    return hashlib.sha256(protocol.canonical().encode("utf-8")).hexdigest()


def select_cohort(rows: list[dict], protocol: StudyProtocol) -> tuple[list[dict], list[tuple[str, int]]]:
    """Rows meeting the protocol's criteria, and the number removed by each criterion in order."""
    kept = list(rows)
    flow: list[tuple[str, int]] = []
    for c in protocol.inclusion:
        before = len(kept)
        kept = [r for r in kept if c.holds(r)]
        flow.append((f"include {c.field} {c.op} {c.value}", before - len(kept)))
    for c in protocol.exclusion:
        before = len(kept)
        kept = [r for r in kept if not c.holds(r)]
        flow.append((f"exclude {c.field} {c.op} {c.value}", before - len(kept)))
    return kept, flow
