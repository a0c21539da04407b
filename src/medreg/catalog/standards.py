"""Standards registry look-up (pure): GB/YY medical-device standards (``data/standards/``), their
adoption of IEC/ISO standards where the data states it, and "which standards apply to this product".

Applicability is a text match, said as such: a standard applies to a catalogue category when its title
contains the category's 二级 name or one of its 品名举例 (provenance ``title_match``), or when the
title covers most of that name's character pairs (``title_partial``); the horizontal standards of the
curated ``standards.csv`` (QMS, risk management, …) apply to every device (``horizontal``), those of
medical electrical equipment (GB 9706 / YY 9706 family) only to active devices and the software ones
only to devices with software; when that is not known they are listed with their condition.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from medreg.catalog.catalogue import CatalogueEntry

PARTIAL = 0.75


@dataclass(frozen=True)
class Standard:
    number: str
    title_zh: str
    status: str
    effective_date: str
    area: str
    intl_standard: str
    adoption: str
    category: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _rows(name: str) -> list[dict]:
    raw = (files("medreg") / "data" / "standards" / name).read_bytes().decode("utf-8")
    return list(csv.DictReader(io.StringIO(raw)))


@lru_cache
def registry() -> tuple[Standard, ...]:
    curated = {r["number"]: r for r in _rows("standards.csv")}
    mapping = {r["gb_number"]: r for r in _rows("iso_gb_mapping.csv")}
    out = []
    for r in _rows("nmpa_device_standards.csv"):
        c = curated.get(r["number"], {})
        m = mapping.get(r["number"], {})
        # the curated file notes doubtful mapping rows and leaves them blank; its word wins
        intl = c.get("intl_standard", "") if c else m.get("iso_number", "")
        adoption = c.get("adoption_degree", "") if c else m.get("adoption_type", "")
        out.append(Standard(r["number"], r["title_zh"], r["status"], r["effective_date"],
                            "/".join(x for x in (r["tc_area"], r["l1"], r["l2"]) if x), intl, adoption,
                            c.get("category", "")))
    return tuple(out)


def _pairs(s: str) -> set[str]:
    return {s[i:i + 2] for i in range(len(s) - 1)}


def _condition(s: Standard) -> str:
    if "9706" in s.number:
        return "active"
    return "software" if s.title_zh.startswith("医疗器械软件") else ""


def for_entry(entry: CatalogueEntry, active: bool | None = None, software: bool | None = None) -> list[dict]:
    """Standards that apply to a catalogue category, product-specific first, then horizontal ones
    (``condition``: "" = every device, "active", "software"; those known not to apply are left out)."""
    return _with_horizontal(_for_category(entry), {"active": active, "software": software})


def _for_category(entry: CatalogueEntry) -> dict[str, dict]:
    names = [entry.category2_name, *entry.examples]
    found: dict[str, dict] = {}
    for s in registry():
        exact = next((n for n in names if len(n) >= 2 and n in s.title_zh), None)
        if exact:
            found[s.number] = {**s.to_dict(), "provenance": "title_match", "matched": exact, "condition": ""}
            continue
        pairs = _pairs(entry.category2_name)
        if len(pairs) >= 2 and len(pairs & _pairs(s.title_zh)) / len(pairs) >= PARTIAL:
            found[s.number] = {**s.to_dict(), "provenance": "title_partial", "matched": entry.category2_name,
                               "condition": ""}
    return found


def _with_horizontal(found: dict[str, dict], known: dict[str, bool | None]) -> list[dict]:
    for s in registry():
        cond = _condition(s)
        if "horizontal" in s.category and s.number not in found and known.get(cond) is not False:
            found[s.number] = {**s.to_dict(), "provenance": "horizontal", "matched": "",
                               "condition": "" if known.get(cond) else cond}
    order = {"title_match": 0, "title_partial": 1, "name_match": 1, "family": 2, "horizontal": 3}
    return sorted(found.values(), key=lambda f: (order[f["provenance"]], f["condition"],
                                                 f["status"] != "active", f["number"]))


def for_product(entry: CatalogueEntry | None, name: str | None, core_word: str | None = None,
                active: bool | None = None, software: bool | None = None,
                families: dict[str, str] | None = None) -> list[dict]:
    """Standards for a classified product: those of its catalogue category when the classification found
    one; otherwise those whose title contains the name's core word (a term of the naming guidelines) or
    most of the name's character pairs (provenance ``name_match``); then the standards of its product
    families (``families``: curated category of ``standards.csv`` -> why, e.g. robot -> the rule set
    no63-medical-robot is in scope; provenance ``family``); then the horizontal ones."""
    known = {"active": active, "software": software}
    found = _for_category(entry) if entry is not None else _for_name(name, core_word)
    for s in registry():
        fam = next((f for f in (families or {}) if f in s.category.split(";")), None)
        if fam and s.number not in found:
            found[s.number] = {**s.to_dict(), "provenance": "family", "matched": families[fam],
                               "condition": ""}
    return _with_horizontal(found, known)


def _for_name(name: str | None, core_word: str | None) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for q in (core_word, name):
        for hit in search(q or "", limit=50) if q and len(q) >= 2 else []:
            if hit["number"] not in found:
                found[hit["number"]] = {**{k: v for k, v in hit.items() if k != "score"},
                                        "provenance": "name_match", "matched": q, "condition": ""}
    return found


def search(query: str, limit: int = 20) -> list[dict]:
    """Standards whose number or title contains the query (or most of its character pairs)."""
    q = query.strip()
    if not q:
        return []
    hits = []
    for s in registry():
        if q.lower() in s.number.lower() or q in s.title_zh:
            hits.append((1.0, s))
        elif len(_pairs(q)) >= 2:
            share = len(_pairs(q) & _pairs(s.title_zh)) / len(_pairs(q))
            if share >= PARTIAL:
                hits.append((share, s))
    hits.sort(key=lambda h: (-h[0], h[1].number))
    return [{**s.to_dict(), "score": round(score, 3)} for score, s in hits[:limit]]
