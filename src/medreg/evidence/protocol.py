"""Study protocols of real-world evidence studies, fixed before the data are looked at (pure).

A protocol states the question, the device(s) and comparator, the cohort (inclusion and exclusion
criteria on registry fields), the outcomes and the analysis plan. ``protocol_hash`` is the SHA-256 of
its canonical JSON (sorted keys, no whitespace, UTF-8), so that any later change is visible; the
service stores the hash with the registration time, and every analysis records the hash of the
protocol it followed and refuses to run on a protocol registered after the data cut-off it analyses.

Cohort criteria are plain data ``(field, operator, value)`` with operators ``== != < <= > >= in``;
``select_cohort`` keeps the rows meeting every inclusion and no exclusion criterion, and says how
many rows each criterion removed (the flow diagram of the study).
"""

from __future__ import annotations

import hashlib
import json
import operator
from dataclasses import asdict, dataclass, field

from medreg.core.errors import ValidationFailed

__all__ = ["Criterion", "StudyProtocol", "protocol_hash", "select_cohort"]

OPERATORS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
             ">=": operator.ge, "in": lambda a, b: a in b}
ANALYSES = ("kaplan_meier", "logrank", "cox_ph", "cumulative_incidence", "matched_comparison")


@dataclass(frozen=True)
class Criterion:
    field: str
    op: str
    value: object

    def __post_init__(self):
        if self.op not in OPERATORS:
            raise ValidationFailed("Unknown operator {op} in a cohort criterion.", field="cohort",
                                   params={"op": self.op})

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
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          default=str)


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
