"""Reading report files into report forms (pure): CSV with one column per form field, and openFDA
device-event JSON (MAUDE, ``/device/event``). Validation happens in the service, row by row.

CSV or XLSX (first sheet): a header of form paths (``reporter.role``, ``device.generic_name``,
``event.aware_at`` ...; an awareness time without a zone is Beijing time); code columns
(``codes.device_problem``...) hold codes separated by spaces or ``|``; empty cells are left out.

openFDA: each record of ``results`` becomes one form of an **overseas** event (Order 1 Art.27):
``event_type`` Death -> death, Injury -> serious_injury (21 CFR 803.3 "serious injury"), anything else ->
other; ``date_of_event``; the awareness date is ``date_manufacturer_received``, else ``date_facility_aware``,
else ``date_received`` (YYYYMMDD, taken as 00:00 Beijing time: MAUDE gives no time); the first device's
generic and brand name, model, lot, FDA product code (``device_report_product_code``, three letters) and a
GS1 ``udi_public`` (other UDI issuers are left out); the event
description from ``mdr_text``; ``product_problems`` (FDA device-problem terms) mapped onto IMDRF Annex A
codes through the NCI EVS FDA-CDRH map shipped in ``data/imdrf-aet/fda_ncit_device_problem_map.csv``
(terms the map or the shipped AET release lacks are listed as unmapped, never guessed).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib.resources import files

from medreg.vigilance.rules import CODE_FIELDS

SECTIONS = ("reporter", "device", "patient", "event", "codes", "evaluation")
EVENT_TYPES = {"death": "death", "injury": "serious_injury"}
MAX_ROWS = 100_000


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based data row (CSV: the header is row 0) or record index + 1
    field: str
    reason: str


@dataclass
class Parsed:
    forms: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    unmapped: dict[str, int] = field(default_factory=dict)  # FDA problem term -> count


def parse_csv(text: str) -> Parsed:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    return parse_records(reader.fieldnames or [], reader)


def _beijing(value: str) -> str:
    """An awareness time without a zone is read as Beijing time (reports are filed in China)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value  # the form's validation names the field
    return value if parsed.tzinfo else parsed.isoformat() + "+08:00"


def _cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_records(source) -> tuple[list[str], Iterator[dict]]:
    """The first sheet of an .xlsx workbook (bytes or a binary file, read row by row: openpyxl's
    read-only mode never holds the whole sheet): the header of form paths, then one record per non-empty
    row (column -> cell text; cells beyond the header under the key None). Raises ``ValueError`` when
    the file is not a workbook."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(source) if isinstance(source, bytes) else source,
                             read_only=True, data_only=True)
        sheet = book.worksheets[0]
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ValueError(f"not an .xlsx workbook ({type(exc).__name__})") from None
    rows = sheet.iter_rows(values_only=True)
    header = [_cell(c).strip() for c in next(rows, ())]
    while header and not header[-1]:
        header.pop()

    def records() -> Iterator[dict]:
        for values in rows:
            cells = [_cell(v) for v in values]
            if not any(c.strip() for c in cells):
                continue
            record = dict(zip(header, cells, strict=False))
            if any(c.strip() for c in cells[len(header) :]):
                record[None] = cells[len(header) :]
            yield record

    return header, records()


def parse_xlsx(raw: bytes) -> Parsed:
    """The first sheet of an .xlsx workbook: a header row of form paths, then one report per row."""
    try:
        header, records = xlsx_records(raw)
    except ValueError as exc:
        out = Parsed()
        out.errors.append(RowError(0, "file", str(exc)))
        return out
    return parse_records(header, records)


def bad_columns(columns) -> list[RowError]:
    """Header cells that are not ``section.field`` of the report form."""
    out = []
    for col in columns:
        section, _, name = (col or "").partition(".")
        if section not in SECTIONS or not name:
            out.append(RowError(0, col, "unknown column"))
    return out


def form_of(record: dict, row: int) -> tuple[dict, list[RowError]]:
    """One CSV/XLSX record (column -> cell) as a report form, with the row's shape errors."""
    form: dict = {}
    errors: list[RowError] = []
    for col, value in record.items():
        if col is None:
            errors.append(RowError(row, "row", "more cells than columns"))
            continue
        value = (value or "").strip()
        if not value:
            continue
        section, _, name = col.partition(".")
        if section == "codes" and name in CODE_FIELDS:
            form.setdefault(section, {})[name] = value.replace("|", " ").split()
        elif col == "event.aware_at":
            form.setdefault(section, {})[name] = _beijing(value)
        elif col in ("event.overseas", "event.cluster"):
            form.setdefault(section, {})[name] = value.lower() in ("1", "true", "yes", "y")
        else:
            form.setdefault(section, {})[name] = value
    return form, errors


def parse_records(columns, records) -> Parsed:
    out = Parsed()
    out.errors.extend(bad_columns(columns))
    if out.errors:
        return out
    for i, record in enumerate(records, start=1):
        if i > MAX_ROWS:
            out.errors.append(RowError(i, "file", f"more than {MAX_ROWS} rows"))
            break
        form, errors = form_of(record, i)
        out.errors.extend(errors)
        out.forms.append(form)
    return out


@lru_cache
def fda_to_imdrf() -> dict[str, str]:
    raw = (files("medreg") / "data" / "imdrf-aet" / "fda_ncit_device_problem_map.csv").read_text("utf-8")
    return {r["fda_term"].strip().lower(): r["imdrf_code"] for r in csv.DictReader(io.StringIO(raw))}


def _day(value) -> str | None:
    v = str(value or "").strip()
    if len(v) == 8 and v.isdigit():
        return f"{v[:4]}-{v[4:6]}-{v[6:]}"
    return None


NOT_OPENFDA = "an openFDA device-event file has a 'results' list"


def openfda_form(rec, row: int, *, known_codes: set[str] | frozenset[str] = frozenset(),
                 reporter_role: str = "registrant", unmapped: dict[str, int] | None = None
                 ) -> tuple[dict | None, list[RowError]]:
    """One record of ``results`` as a report form (an overseas event), or the reason it is not one.
    FDA problem terms without an IMDRF code are counted in ``unmapped``."""
    if not isinstance(rec, dict):
        return None, [RowError(row, "record", "not an object")]
    devices, texts = rec.get("device") or [{}], rec.get("mdr_text") or []
    if not isinstance(devices, list) or not isinstance(texts, list) or not all(
            isinstance(x, dict) for x in [*devices[:1], *texts]):
        return None, [RowError(row, "record", "'device' and 'mdr_text' must be lists of objects")]
    device = devices[0] or {}
    narrative = next(
        (t.get("text") for t in texts if "description" in str(t.get("text_type_code") or "").lower()),
        texts[0].get("text") if texts else None,
    )
    aware = next(
        (
            _day(rec.get(k))
            for k in ("date_manufacturer_received", "date_facility_aware", "date_received")
            if _day(rec.get(k))
        ),
        None,
    )
    mapping, codes = fda_to_imdrf(), []
    problems = rec.get("product_problems") or []
    for term in problems if isinstance(problems, list) else [problems]:
        code = mapping.get(str(term).strip().lower())
        if code and (not known_codes or code in known_codes):
            codes.append(code)
        elif unmapped is not None:
            unmapped[str(term)] = unmapped.get(str(term), 0) + 1
    udi = str(device.get("udi_public") or "").strip()
    product_code = str(device.get("device_report_product_code") or "").strip().upper()
    form = {
        "reporter": {"role": reporter_role},
        "device": {
            k: v
            for k, v in {
                "generic_name": device.get("generic_name"),
                "trade_name": device.get("brand_name"),
                "model": device.get("model_number"),
                "lot_number": device.get("lot_number"),
                "udi": udi if udi.startswith("(01)") else None,
                "fda_product_code": product_code if re.fullmatch(r"[A-Z]{3}", product_code) else None,
            }.items()
            if v
        },  # no NMPA certificate number: the registrant adds it before submitting
        "event": {
            k: v
            for k, v in {
                "event_date": _day(rec.get("date_of_event")),
                "aware_at": f"{aware}T00:00:00+08:00" if aware else None,
                "outcome": EVENT_TYPES.get(str(rec.get("event_type") or "").strip().lower(), "other"),
                "overseas": True,
                "description": narrative,
            }.items()
            if v is not None
        },
        "codes": {"device_problem": list(dict.fromkeys(codes))} if codes else {},
    }
    patients = rec.get("patient") or [{}]
    first = patients[0] if isinstance(patients, list) and patients else {}
    sex = str((first if isinstance(first, dict) else {}).get("patient_sex") or "").strip().lower()
    if sex in ("female", "male"):
        form["patient"] = {"sex": sex}
    return form, []


def parse_openfda(
    data: dict, *, known_codes: set[str] | frozenset[str] = frozenset(), reporter_role: str = "registrant"
) -> Parsed:
    out = Parsed()
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        out.errors.append(RowError(0, "results", NOT_OPENFDA))
        return out
    for i, rec in enumerate(results[:MAX_ROWS], start=1):
        form, errors = openfda_form(rec, i, known_codes=known_codes, reporter_role=reporter_role,
                                    unmapped=out.unmapped)
        out.errors.extend(errors)
        if form is not None:
            out.forms.append(form)
    return out
