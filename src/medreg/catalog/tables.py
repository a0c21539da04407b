"""Read an official catalogue table file (.xlsx, .docx or .csv) into header + rows (I/O only; parsing
and validation are in :mod:`medreg.catalog.catalogue`). Documented layout: docs/catalog.md.

.docx (Word 2007+) is read with the standard library (zip + XML): every table of the document is a
"sheet" titled by the paragraph before it; a vertically merged cell (``w:vMerge`` continuing) arrives
empty and is filled from the row above like a merged xlsx cell; a cell spanning columns
(``w:gridSpan``) is followed by empty cells; a header row repeated on a new page is dropped. The old
binary .doc format cannot be read: save it as .docx or .xlsx first."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from medreg.catalog.catalogue import ParsedTable, RowProblem, parse_table
from medreg.core.errors import ValidationFailed

HEADER_MARKERS = ("品名举例", "examples")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MAX_DOCX_XML = 200_000_000  # bytes of document.xml accepted (a zip bomb is refused)


def _cell_text(tc: ElementTree.Element) -> str:
    paragraphs = ["".join(t.text or "" for t in p.iter(f"{_W}t")) for p in tc.iter(f"{_W}p")]
    return "\n".join(x for x in paragraphs if x.strip())


def _docx_tables(data: bytes) -> list[tuple[str, list[list]]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            info = z.getinfo("word/document.xml")
            if info.file_size > MAX_DOCX_XML:
                raise ValidationFailed("The .docx file is too large.", field="file")
            root = ElementTree.fromstring(z.read(info))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
        raise ValidationFailed("Not a readable .docx file.", field="file") from exc
    body = root.find(f"{_W}body")
    out: list[tuple[str, list[list]]] = []
    title = ""
    for child in list(body) if body is not None else []:
        if child.tag == f"{_W}p":
            text = "".join(t.text or "" for t in child.iter(f"{_W}t")).strip()
            title = text or title
        elif child.tag == f"{_W}tbl":
            rows = []
            for tr in child.findall(f"{_W}tr"):
                row: list[str] = []
                for tc in tr.findall(f"{_W}tc"):
                    props = tc.find(f"{_W}tcPr")
                    merge = props.find(f"{_W}vMerge") if props is not None else None
                    continued = merge is not None and merge.get(f"{_W}val", "continue") == "continue"
                    row.append("" if continued else _cell_text(tc))
                    span = props.find(f"{_W}gridSpan") if props is not None else None
                    row.extend([""] * (int(span.get(f"{_W}val", "1")) - 1 if span is not None else 0))
                rows.append(row)
            out.append((title or f"table {len(out) + 1}", rows))
    return out
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
    if path.suffix.lower() == ".docx":
        return _docx_tables(data)
    raise ValidationFailed("Unsupported file type {suffix}: use .xlsx, .docx or .csv (save a .doc as .docx).",
                           field="file", params={"suffix": path.suffix or "(none)"})


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
        header = [str(c or "") for c in rows[at]]
        body = [r for r in rows[at + 1:] if [str(c or "") for c in r] != header]  # header repeated per page
        parsed = parse_table(header, body, sub)
        out.entries.extend(parsed.entries)
        out.problems.extend(RowProblem(p.row + offset, p.field, f"[{title}] {p.reason}")
                            for p in parsed.problems)
        offset += len(rows) - at - 1
    if not out.entries and not out.problems:
        out.problems.append(RowProblem(0, "header", "no sheet has a header row with 品名举例 / examples"))
    return out
