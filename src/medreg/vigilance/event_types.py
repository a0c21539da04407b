"""Imaging and AI event types (NMPA Announcement No. 63, measure VII) as a view of IMDRF codes.

Data: ``medreg/data/vigilance-imaging-ai/event_types.csv`` with its SOURCE.md. Each row maps an everyday
event type onto one IMDRF code (verbatim term) with a reporting-scope note applying Order 1 Art.18.
``problems`` checks the rows against the AET (pure).

``unsourced.csv`` lists the event types issue 7 names for which no source was found (no IMDRF term, no
primary regulatory text): they are **not** event types of the table above, never shown as sourced; each
carries what was searched and the IMDRF codes medreg suggests as the nearest (medreg's judgement, not a
mapping from any source) until a source is found.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from medreg.vigilance.aet import Terminology
from medreg.vigilance.rules import CODE_FIELDS

SCOPE_ARTICLE = "Order 1 Art.18"


@dataclass(frozen=True)
class EventType:
    group: str  # imaging | ai
    event_type: str
    imdrf_field: str  # a key of rules.CODE_FIELDS
    imdrf_code: str
    imdrf_term: str
    scope_note: str


def parse(text: str) -> tuple[EventType, ...]:
    return tuple(
        EventType(**{k: (v or "").strip() for k, v in r.items()}) for r in csv.DictReader(io.StringIO(text))
    )


@lru_cache
def event_types() -> tuple[EventType, ...]:
    raw = (files("medreg") / "data" / "vigilance-imaging-ai" / "event_types.csv").read_text("utf-8")
    return parse(raw)


def problems(rows: tuple[EventType, ...], aet: Terminology) -> list[str]:
    """Every row whose code is unknown, not selectable, from the wrong annex or whose term differs."""
    out = []
    for r in rows:
        annex = CODE_FIELDS.get(r.imdrf_field)
        if annex is None or r.group not in ("imaging", "ai"):
            out.append(f"{r.imdrf_code}: bad field {r.imdrf_field!r} or group {r.group!r}")
            continue
        check = aet.check(r.imdrf_code, annex)
        if not check.ok:
            out.append(f"{r.imdrf_code}: {check.reason.format(**check.params)}")
        elif check.term.term != r.imdrf_term:
            out.append(f"{r.imdrf_code}: term {r.imdrf_term!r} is not IMDRF's {check.term.term!r}")
    return out


@dataclass(frozen=True)
class Unsourced:
    group: str
    event_type: str
    status: str  # always "no source found"
    nearest_imdrf_codes: tuple[str, ...]  # medreg's suggestion, not a sourced mapping
    searched: str
    sourced: bool = False


@lru_cache
def unsourced() -> tuple[Unsourced, ...]:
    raw = (files("medreg") / "data" / "vigilance-imaging-ai" / "unsourced.csv").read_text("utf-8")
    return tuple(
        Unsourced(r["group"].strip(), r["event_type"].strip(), r["status"].strip(),
                  tuple(r["nearest_imdrf_codes"].split()), r["searched"].strip())
        for r in csv.DictReader(io.StringIO(raw))
    )
