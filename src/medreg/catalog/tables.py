"""Read an official catalogue table file (.xlsx or .csv) into header + rows (I/O only; parsing and
validation are in :mod:`medreg.catalog.catalogue`). Documented layout: docs/catalog.md."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from medreg.catalog.catalogue import ParsedTable, RowProblem, parse_table
from medreg.core.errors import ValidationFailed

HEADER_MARKERS = ("品名举例", "examples")
_SUB = re.compile(r"^\D*?(\d{2})")


def _header_at(rows: list[list]) -> int | None:
    for i, row in enumerate(rows[:15]):
        if any(str(c or "").strip() in HEADER_MARKERS for c in row):
            return i
    return None


def _sheets(path: Path, data: bytes) -> list[tuple[str, list[list]]]:
    if path.suffix.lower() == ".csv":
        text = data.decode("utf-8-sig")
        return [(path.stem, [list(r) for r in csv.reader(io.StringIO(text))])]
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several kinds for a damaged file
            raise ValidationFailed("Not a readable .xlsx file.", field="file") from exc
        return [(ws.title, [list(r) for r in ws.iter_rows(values_only=True)]) for ws in book.worksheets]
    raise ValidationFailed("Unsupported file type {suffix}: use .xlsx or .csv.", field="file",
                           params={"suffix": path.suffix or "(none)"})


def read_catalogue_file(path: Path, data: bytes, subcatalogue: str | None = None) -> ParsedTable:
    """All sheets holding a catalogue table; the sub-catalogue comes from a 子目录 column, the option,
    or the two digits leading the sheet (or file) name."""
    out = ParsedTable()
    offset = 0
    for title, rows in _sheets(path, data):
        at = _header_at(rows)
        if at is None:
            continue
        sub = subcatalogue or (m.group(1) if (m := _SUB.match(title)) else None) or (
            m.group(1) if (m := _SUB.match(path.stem)) else None)
        parsed = parse_table([str(c or "") for c in rows[at]], rows[at + 1:], sub)
        out.entries.extend(parsed.entries)
        out.problems.extend(RowProblem(p.row + offset, p.field, f"[{title}] {p.reason}")
                            for p in parsed.problems)
        offset += len(rows) - at - 1
    if not out.entries and not out.problems:
        out.problems.append(RowProblem(0, "header", "no sheet has a header row with 品名举例 / examples"))
    return out
