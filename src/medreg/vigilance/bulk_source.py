"""The rows of a stored import file, streamed, for the background import (``bulk.py``).

One reader per format, each yielding ``(row, form, shape_errors)`` in file order with the row numbers
the synchronous import uses (CSV / XLSX: data row, the header is row 0, blank XLSX rows skipped;
openFDA: the index in ``results`` + 1). Nothing is held whole in memory: CSV is read line by line,
XLSX with openpyxl's read-only mode (row by row), openFDA JSON with ``ijson`` (record by record of
``results``), so a resumed job can skip the rows an earlier attempt committed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import ijson

from medreg.vigilance import imports

FORMATS = {"csv": "csv", "xlsx": "xlsx", "openfda": "json"}  # format -> file extension
Row = tuple[int, dict | None, list[imports.RowError]]


@dataclass
class Source:
    header_errors: list[imports.RowError]
    rows: Iterator[Row]
    unmapped: dict[str, int] = field(default_factory=dict)  # openFDA problem terms without an IMDRF code


class FileUnreadable(Exception):
    """The file broke while being read (bad UTF-8, broken CSV quoting, invalid JSON, damaged XLSX)."""


def _tabular(columns: list[str], records) -> Iterator[Row]:
    for row, record in enumerate(records, start=1):
        form, errors = imports.form_of(record, row)
        yield row, form, errors


def _openfda(fh: BinaryIO, src: Source, reporter_role: str, known_codes: frozenset[str]) -> Iterator[Row]:
    row = 0
    for row, rec in enumerate(ijson.items(fh, "results.item", use_float=True), start=1):
        form, errors = imports.openfda_form(rec, row, known_codes=known_codes, reporter_role=reporter_role,
                                            unmapped=src.unmapped)
        yield row, form, errors
    if row == 0:
        yield 0, None, [imports.RowError(0, "results", imports.NOT_OPENFDA)]


def open_source(fh: BinaryIO, fmt: str, *, reporter_role: str, known_codes: frozenset[str]) -> Source:
    """The rows of ``fh``; reading errors surface as ``FileUnreadable`` while iterating."""
    if fmt == "csv":
        reader = csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8-sig", newline=""))
        try:
            columns = list(reader.fieldnames or [])
        except (UnicodeDecodeError, csv.Error) as exc:
            raise FileUnreadable(str(exc)[:200]) from None
        return Source(imports.bad_columns(columns), _guard(_tabular(columns, reader)))
    if fmt == "xlsx":
        try:
            columns, records = imports.xlsx_records(fh)
        except ValueError as exc:
            raise FileUnreadable(str(exc)) from None
        return Source(imports.bad_columns(columns), _guard(_tabular(columns, records)))
    if fmt == "openfda":
        src = Source([], iter(()))
        src.rows = _guard(_openfda(fh, src, reporter_role, known_codes))
        return src
    raise ValueError(f"unknown import format {fmt!r}")


def _guard(rows: Iterator[Row]) -> Iterator[Row]:
    try:
        yield from rows
    except (UnicodeDecodeError, csv.Error, ijson.JSONError) as exc:
        raise FileUnreadable(str(exc)[:200]) from None
    except Exception as exc:  # openpyxl / zipfile errors of a damaged workbook, found while reading
        if type(exc).__module__.split(".")[0] in ("openpyxl", "zipfile", "xml"):
            raise FileUnreadable(f"damaged workbook ({type(exc).__name__})") from None
        raise
