"""Registry extracts as XLSX workbooks: read into the text cells the CSV checks expect (pure).

The first worksheet is read (openpyxl, read-only, cached values of formulas); its first row is the
header, with the same column names as the CSV (``importer.COLUMNS``), and the row numbers reported
are the spreadsheet's own. Cells become the text a CSV would carry: a date cell gives ``YYYY-MM-DD``
(a date-time with a time of day is left as date-time text, which the date check refuses), a whole
number ``66`` (not ``66.0``), a boolean ``true``/``false``, an empty cell an empty string. Entirely
empty rows are skipped, as blank CSV lines are. A UDI must be a text cell: a number cell has lost
its leading zeros or digits (Excel keeps 15 significant digits) and is refused by the UDI check.

A workbook is a ZIP archive: its declared uncompressed size is checked before anything is parsed
(a small file must not expand into gigabytes), and any error while reading it is reported as a
problem with the file (``ValidationFailed`` on ``file``), never as a server error.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time

from medreg.core.errors import ValidationFailed
from medreg.surveillance.importer import RowError, ValidatedRow, validate_extract, validate_records

__all__ = ["MAX_UNPACKED", "is_xlsx", "read_xlsx", "validate_file"]

MAX_UNPACKED = 1 << 30  # 1 GiB of XML once decompressed: far above 200,000 rows of the registry
_ZIP_MAGIC = b"PK\x03\x04"


def is_xlsx(data: bytes) -> bool:
    """A ZIP archive (an Office Open XML workbook starts as one); a CSV never does."""
    return data[:4] == _ZIP_MAGIC


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _unreadable(exc: Exception | None = None) -> ValidationFailed:
    return ValidationFailed(
        "The file is not a readable XLSX workbook: {reason}",
        field="file",
        params={"reason": type(exc).__name__ if exc else "-"},
    )


def read_xlsx(data: bytes) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    """The header and the numbered rows ``(row, {column: text})`` of the first worksheet."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _unreadable(exc) from exc
    if unpacked > MAX_UNPACKED:
        raise ValidationFailed(
            "The workbook expands to more than {limit} MB; split the extract.",
            field="file",
            params={"limit": MAX_UNPACKED >> 20},
        )
    from openpyxl import load_workbook  # imported here: only imports need it

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        first = next(rows, None)
    except Exception as exc:  # openpyxl raises many types (zip, XML, KeyError...) on a broken file
        raise _unreadable(exc) from exc
    names = [_text(v).strip() for v in (first or ())]
    keep = [(i, name) for i, name in enumerate(names) if name]

    def records() -> Iterator[tuple[int, dict]]:
        try:
            for n, values in enumerate(rows, start=2):
                cells = {name: _text(values[i]) if i < len(values) else "" for i, name in keep}
                if any(v.strip() for v in cells.values()):
                    yield n, cells
        except ValidationFailed:
            raise
        except Exception as exc:  # a sheet broken half way through is still the file's problem
            raise _unreadable(exc) from exc
        finally:
            wb.close()

    return [name for _i, name in keep], records()


def validate_file(data: bytes | str, groups, today: date) -> tuple[list[ValidatedRow], list[RowError]]:
    """Check an uploaded extract whatever its format: an XLSX workbook, or CSV text in UTF-8."""
    if isinstance(data, bytes) and is_xlsx(data):
        header, records = read_xlsx(data)
        return validate_records(header, records, groups, today)
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationFailed(
                "The file must be a CSV in UTF-8 or an XLSX workbook.", field="file"
            ) from exc
    return validate_extract(data, groups, today)
