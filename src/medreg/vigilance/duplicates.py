"""Likely duplicate reports (pure): the same event reported twice, e.g. by the hospital and by the
registrant, or re-entered by the same reporter.

Blocking keeps it sub-quadratic: only reports with the same device key (registration certificate
number, else UDI-DI, else the normalised device name) whose event dates lie within ``window_days`` of
each other are compared (sorted by date, a sliding window per block). Each compared pair gets a score in
[0, 1]: a weighted mean of the features both reports carry, and the list of fields that match.

| feature | weight | similarity |
|---|---|---|
| device identity | 0.20 | same UDI-DI 1.0; else same certificate and model 1.0, same certificate 0.8; both
|  |  | identified and different 0.0 |
| lot / serial | 0.15 | same serial 1.0; same lot 0.8; both given and different 0.0 |
| event date | 0.20 | 1 - days apart / (window_days + 1) |
| patient | 0.15 | sex equal (0.5) + age within 1 year (0.5) |
| outcome | 0.05 | equal 1.0 |
| narrative | 0.25 | rapidfuzz ``token_set_ratio`` / 100 |

The weights are medreg's choice (documented, not a published standard); the threshold is a parameter.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz

WEIGHTS = {
    "device": 0.20,
    "lot_serial": 0.15,
    "event_date": 0.20,
    "patient": 0.15,
    "outcome": 0.05,
    "narrative": 0.25,
}


@dataclass(frozen=True)
class ReportRow:
    id: int
    event_date: date | None
    registration_number: str | None = None
    udi_di: str | None = None
    device_name: str | None = None
    model: str | None = None
    lot: str | None = None
    serial: str | None = None
    age: float | None = None
    sex: str | None = None
    outcome: str | None = None
    narrative: str = ""


@dataclass(frozen=True)
class Pair:
    a: int
    b: int
    score: float
    features: dict = field(default_factory=dict)  # feature -> similarity (only features both carry)
    matching: tuple[str, ...] = ()  # features with similarity >= 0.8


def _norm(s: str | None) -> str:
    return re.sub(r"\s+", "", (s or "").lower())


def block_key(r: ReportRow) -> str | None:
    if r.registration_number:
        return "reg:" + _norm(r.registration_number)
    if r.udi_di:
        return "di:" + r.udi_di
    if r.device_name:
        return "name:" + _norm(r.device_name)
    return None


def similarity(x: ReportRow, y: ReportRow, window_days: int = 30) -> dict[str, float]:
    f: dict[str, float] = {}
    if x.udi_di and y.udi_di and x.udi_di == y.udi_di:
        f["device"] = 1.0
    elif (
        x.registration_number
        and y.registration_number
        and _norm(x.registration_number) == _norm(y.registration_number)
    ):
        f["device"] = 1.0 if x.model and _norm(x.model) == _norm(y.model) else 0.8
    elif (x.udi_di and y.udi_di) or (x.registration_number and y.registration_number):
        f["device"] = 0.0  # both identified, and not as the same device
    if x.serial and y.serial:
        f["lot_serial"] = 1.0 if _norm(x.serial) == _norm(y.serial) else 0.0
    elif x.lot and y.lot:
        f["lot_serial"] = 0.8 if _norm(x.lot) == _norm(y.lot) else 0.0
    if x.event_date and y.event_date:
        f["event_date"] = max(0.0, 1 - abs((x.event_date - y.event_date).days) / (window_days + 1))
    parts = []
    if x.sex and y.sex and "unknown" not in (x.sex, y.sex):
        parts.append(1.0 if x.sex == y.sex else 0.0)
    if x.age is not None and y.age is not None:
        parts.append(1.0 if abs(x.age - y.age) <= 1 else 0.0)
    if parts:
        f["patient"] = sum(parts) / len(parts)
    if x.outcome and y.outcome:
        f["outcome"] = 1.0 if x.outcome == y.outcome else 0.0
    if x.narrative.strip() and y.narrative.strip():
        f["narrative"] = fuzz.token_set_ratio(x.narrative.lower(), y.narrative.lower()) / 100
    return f


def score_pair(x: ReportRow, y: ReportRow, window_days: int = 30) -> Pair:
    f = similarity(x, y, window_days)
    weight = sum(WEIGHTS[k] for k in f)
    s = sum(WEIGHTS[k] * v for k, v in f.items()) / weight if weight else 0.0
    a, b = sorted((x.id, y.id))
    return Pair(
        a,
        b,
        round(s, 4),
        {k: round(v, 4) for k, v in f.items()},
        tuple(k for k in WEIGHTS if f.get(k, 0) >= 0.8),
    )


def candidate_pairs(
    rows: Iterable[ReportRow], window_days: int = 30
) -> Iterable[tuple[ReportRow, ReportRow]]:
    """Pairs in the same block whose event dates are at most ``window_days`` apart."""
    blocks: dict[str, list[ReportRow]] = defaultdict(list)
    for r in rows:
        key = block_key(r)
        if key is not None and r.event_date is not None:
            blocks[key].append(r)
    for members in blocks.values():
        members.sort(key=lambda r: (r.event_date, r.id))
        start = 0
        for i, r in enumerate(members):
            while (r.event_date - members[start].event_date).days > window_days:
                start += 1
            for j in range(start, i):
                yield members[j], r


def find_duplicates(
    rows: Iterable[ReportRow],
    *,
    threshold: float = 0.8,
    window_days: int = 30,
    exclude: set[tuple[int, int]] = frozenset(),
) -> list[Pair]:
    """Scored pairs at or above ``threshold``, best first; ``exclude`` holds dismissed (a, b) pairs."""
    out = []
    for x, y in candidate_pairs(rows, window_days):
        p = score_pair(x, y, window_days)
        if p.score >= threshold and (p.a, p.b) not in exclude:
            out.append(p)
    out.sort(key=lambda p: (-p.score, p.a, p.b))
    return out
