"""The 医疗器械分类目录 as plain data (pure: no database, no clock).

Rows come either from the shipped package data (``medreg/data/nmpa-catalogue/catalogue.csv``: only
sub-catalogues 01 and 04, see its SOURCE.md) or from an imported official table
(:func:`parse_table`, used by ``medreg catalog import``). Both give :class:`CatalogueEntry` tuples.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files

SHIPPED_VERSION = "2017-104+2022-30 (01,04)"
CLASSES = ("I", "II", "III")
CLASS_RANK = {"I": 1, "II": 2, "III": 3}
_CODE2 = re.compile(r"^\d{2}-\d{2}-\d{2}$")
_LEADING_NO = re.compile(r"^\s*(\d{1,2})[\s.、．]*(.*)$", re.S)
_CLASS_WORDS = {
    "I": "I", "Ⅰ": "I", "1": "I", "一": "I", "一类": "I", "第一类": "I",
    "II": "II", "Ⅱ": "II", "2": "II", "二": "II", "二类": "II", "第二类": "II",
    "III": "III", "Ⅲ": "III", "3": "III", "三": "III", "三类": "III", "第三类": "III",
}


@dataclass(frozen=True)
class CatalogueEntry:
    """One row of a sub-catalogue table: a 二级产品类别 with one description / use / examples / class."""

    subcatalogue_code: str
    subcatalogue_name: str
    category1_code: str
    category1_name: str
    category2_code: str
    category2_name: str
    description: str
    intended_use: str
    examples: tuple[str, ...]
    management_class: str
    source_section: str = ""
    parse_note: str = ""
    row_no: int = 0  # position of the row inside its 二级 category (several rows may share a code)

    @property
    def key(self) -> str:
        return f"{self.category2_code}#{self.row_no}"

    def to_dict(self) -> dict:
        return {
            "key": self.key, "subcatalogue_code": self.subcatalogue_code,
            "subcatalogue_name": self.subcatalogue_name, "category1_code": self.category1_code,
            "category1_name": self.category1_name, "category2_code": self.category2_code,
            "category2_name": self.category2_name, "description": self.description,
            "intended_use": self.intended_use, "examples": list(self.examples),
            "management_class": self.management_class,
        }


@dataclass
class RowProblem:
    row: int  # 1-based data row in the file (header excluded)
    field: str
    reason: str


@dataclass
class ParsedTable:
    entries: list[CatalogueEntry] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def _read(name: str) -> str:
    return (files("medreg") / "data" / "nmpa-catalogue" / name).read_bytes().decode("utf-8")


@lru_cache
def subcatalogue_names() -> dict[str, str]:
    rows = csv.DictReader(io.StringIO(_read("subcatalogues.csv")))
    return {r["subcatalogue_code"]: r["subcatalogue_name"] for r in rows}


def shipped_bytes() -> bytes:
    return _read("catalogue.csv").encode("utf-8")


@lru_cache
def shipped_entries() -> tuple[CatalogueEntry, ...]:
    """The catalogue rows shipped with medreg (sub-catalogues 01 and 04)."""
    reader = csv.reader(io.StringIO(_read("catalogue.csv")))
    header = next(reader)
    parsed = parse_table(header, list(reader))
    if parsed.problems:  # pragma: no cover - the shipped file is checked by the tests
        raise ValueError(f"shipped catalogue.csv is invalid: {parsed.problems[:3]}")
    return tuple(parsed.entries)


def split_examples(cell: str) -> tuple[str, ...]:
    parts = re.split(r"[、，,；;\n]+", cell or "")
    return tuple(p.strip() for p in parts if p.strip())


def normalise_class(value: str) -> str | None:
    v = re.sub(r"\s+", "", str(value or "")).replace("类医疗器械", "类")
    return _CLASS_WORDS.get(v) or _CLASS_WORDS.get(v.upper())


# The medreg layout (the columns of the shipped catalogue.csv) and the official layout (the column
# headings of the tables of 2017 No.104 / 2022 No.30); a file may use either, see docs/catalog.md.
MEDREG_COLUMNS = ("subcatalogue_code", "category1_code", "category1_name", "category2_code",
                  "category2_name", "description", "intended_use", "examples", "management_class")
OFFICIAL_COLUMNS = {
    "子目录": "subcatalogue", "序号": "no", "一级产品类别": "category1", "二级产品类别": "category2",
    "产品描述": "description", "预期用途": "intended_use", "品名举例": "examples", "管理类别": "class",
}


def _clean(v) -> str:
    return "" if v is None else str(v).strip()


def parse_table(header: list[str], rows: list[list], subcatalogue: str | None = None) -> ParsedTable:
    """Rows of one table (either layout) -> entries and the problems found (all, not just the first)."""
    head = [_clean(h) for h in header]
    if all(c in head for c in MEDREG_COLUMNS):
        return _parse_medreg(head, rows)
    missing = [c for c in ("一级产品类别", "二级产品类别", "品名举例", "管理类别") if c not in head]
    if missing:
        return ParsedTable(problems=[RowProblem(0, "header", "missing columns: " + ", ".join(missing))])
    return _parse_official(head, rows, subcatalogue)


def _check(out: ParsedTable, i: int, e: CatalogueEntry, raw_class: str) -> None:
    names = subcatalogue_names()
    if e.subcatalogue_code not in names:
        out.problems.append(RowProblem(i, "subcatalogue_code",
                                       f"unknown sub-catalogue '{e.subcatalogue_code}'"))
    if not _CODE2.match(e.category2_code) or not e.category2_code.startswith(e.category1_code + "-"):
        out.problems.append(RowProblem(i, "category2_code", f"bad code '{e.category2_code}'"))
    if not e.category1_name or not e.category2_name:
        out.problems.append(RowProblem(i, "category2_name", "category names must not be empty"))
    if not e.management_class:
        out.problems.append(RowProblem(i, "management_class", f"not a class: '{raw_class}'"))
    if not e.examples:
        out.problems.append(RowProblem(i, "examples", "no 品名举例"))


def _numbered(entries: list[CatalogueEntry]) -> list[CatalogueEntry]:
    seen: dict[str, int] = {}
    out = []
    for e in entries:
        seen[e.category2_code] = seen.get(e.category2_code, 0) + 1
        out.append(CatalogueEntry(**{**e.__dict__, "row_no": seen[e.category2_code]}))
    return out


def _parse_medreg(head: list[str], rows: list[list]) -> ParsedTable:
    out = ParsedTable()
    names = subcatalogue_names()
    for i, raw in enumerate(rows, start=1):
        if not any(_clean(v) for v in raw):
            continue
        r = {h: _clean(raw[j]) if j < len(raw) else "" for j, h in enumerate(head)}
        code = r["subcatalogue_code"].zfill(2)
        e = CatalogueEntry(code, names.get(code, r.get("subcatalogue_name", "")), r["category1_code"],
                           r["category1_name"], r["category2_code"], r["category2_name"], r["description"],
                           r["intended_use"], split_examples(r["examples"]),
                           normalise_class(r["management_class"]) or "", r.get("source_section", ""),
                           r.get("parse_note", ""))
        _check(out, i, e, r["management_class"])
        out.entries.append(e)
    out.entries = _numbered(out.entries)
    return out


def _parse_official(head: list[str], rows: list[list], subcatalogue: str | None) -> ParsedTable:
    """The official layout: merged cells arrive empty and are filled from the row above; numbers
    may lead the category cells ("01 超声手术设备") or stand in 序号; otherwise they are counted."""
    out = ParsedTable()
    names = subcatalogue_names()
    col = {OFFICIAL_COLUMNS[h]: j for j, h in enumerate(head) if h in OFFICIAL_COLUMNS}
    prev: dict[str, str] = {}
    c1_no = c2_no = 0
    cur1 = cur2 = ""
    for i, raw in enumerate(rows, start=1):
        cells = {k: _clean(raw[j]) if j < len(raw) else "" for k, j in col.items()}
        if not any(cells.values()):
            continue
        sub = (cells.get("subcatalogue") or subcatalogue or "").strip()[:2].zfill(2) if (
            cells.get("subcatalogue") or subcatalogue) else ""
        if not sub:
            out.problems.append(RowProblem(i, "subcatalogue_code", "no 子目录 column and no --subcatalogue"))
            continue
        if cells.get("category1"):
            m = _LEADING_NO.match(cells["category1"])
            no = m.group(1) if m and m.group(2) else cells.get("no", "")
            c1_no = int(no) if no.isdigit() else c1_no + 1
            cur1, c2_no = (m.group(2) if m and m.group(2) else cells["category1"]).strip(), 0
        if cells.get("category2"):
            m = _LEADING_NO.match(cells["category2"])
            c2_no = int(m.group(1)) if m and m.group(2) else c2_no + 1
            cur2 = (m.group(2) if m and m.group(2) else cells["category2"]).strip()
        filled = {k: cells.get(k) or prev.get(k, "") for k in ("description", "intended_use", "class")}
        prev = filled
        c1 = f"{sub}-{c1_no:02d}"
        e = CatalogueEntry(sub, names.get(sub, ""), c1, cur1, f"{c1}-{c2_no:02d}", cur2,
                           filled["description"], filled["intended_use"],
                           split_examples(cells.get("examples", "")), normalise_class(filled["class"]) or "")
        _check(out, i, e, filled["class"])
        out.entries.append(e)
    out.entries = _numbered(out.entries)
    return out
