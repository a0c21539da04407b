"""Validation of a registry extract before anything is written (pure). A CSV is read here; an XLSX
workbook is read into the same text cells by ``importer_xlsx``, so both get the same checks.

Every row is checked and every problem is reported as ``{"row", "field", "reason"}`` (row 2 is the
first data row, as a spreadsheet shows it); the service writes nothing unless the whole file is clean
(all-or-nothing). Patients must be pseudonymised: an identifier that looks like a resident identity
number (18 characters, GB 11643) or a mobile phone number is refused.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from medreg.core.errors import ValidationFailed
from medreg.surveillance.udi import parse_udi
from medreg.surveillance.vocab import DeviceGroup, OutcomeKind

__all__ = ["COLUMNS", "RowError", "ValidatedRow", "validate_extract", "validate_records",
           "validate_row"]

REQUIRED = (
    "patient_pseudonym",
    "procedure_date",
    "device_group",
    "udi",
    "age",
    "sex",
    "diabetes",
    "renal_failure",
    "prior_mi",
    "follow_up_end",
)
OPTIONAL = ("ejection_fraction", *(f"{k}_date" for k in OutcomeKind))
COLUMNS = (*REQUIRED, *OPTIONAL)
PSEUDONYM = re.compile(r"^[A-Za-z0-9._-]{4,64}$")
RESIDENT_ID = re.compile(r"^\d{17}[\dXx]$")  # GB 11643-1999 citizen identity number
MOBILE = re.compile(r"^1\d{10}$")
TRUE, FALSE = {"1", "true", "yes", "y", "是"}, {"0", "false", "no", "n", "否"}
MAX_ROWS = 200_000


def N_(msgid: str) -> str:  # noqa: N802  (marks a msgid for extraction; translated where shown)
    return msgid


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    reason: str  # msgid with {placeholders}
    params: tuple = ()  # (name, value) pairs

    @property
    def message(self) -> str:
        return self.reason.format(**dict(self.params))

    def as_dict(self) -> dict:
        """``reason`` in English; ``msgid`` and ``params`` let a page or client translate it."""
        return {"row": self.row, "field": self.field, "reason": self.message, "msgid": self.reason,
                "params": {k: str(v) for k, v in self.params}}


@dataclass
class ValidatedRow:
    patient_pseudonym: str
    procedure_date: date
    device_group: str
    udi_raw: str
    udi_di: str
    udi_lot: str | None
    udi_serial: str | None
    udi_expiry: date | None
    age: int
    sex: str
    diabetes: bool
    renal_failure: bool
    prior_mi: bool
    ejection_fraction: float | None
    follow_up_end: date
    outcomes: dict[str, date] = field(default_factory=dict)


class _Row:
    def __init__(self, n: int, raw: dict, errors: list[RowError]):
        self.n, self.raw, self.errors = n, raw, errors

    def bad(self, name: str, reason: str, **params) -> None:
        self.errors.append(RowError(self.n, name, reason, tuple(params.items())))

    def text(self, name: str) -> str:
        return (self.raw.get(name) or "").strip()

    def date(self, name: str, required: bool = True) -> date | None:
        v = self.text(name)
        if not v:
            if required:
                self.bad(name, N_("required"))
            return None
        try:
            return date.fromisoformat(v)
        except ValueError:
            self.bad(name, N_("not a date (YYYY-MM-DD)"))
            return None

    def number(self, name: str, lo: float, hi: float, required: bool = True) -> float | None:
        v = self.text(name)
        if not v:
            if required:
                self.bad(name, N_("required"))
            return None
        try:
            x = float(v)
        except ValueError:
            self.bad(name, N_("not a number"))
            return None
        if not lo <= x <= hi:
            self.bad(name, N_("must lie between {lo} and {hi}"), lo=f"{lo:g}", hi=f"{hi:g}")
            return None
        return x

    def flag(self, name: str) -> bool:
        v = self.text(name).lower()
        if v in TRUE:
            return True
        if v not in FALSE:
            self.bad(name, N_("must be 1/0, yes/no or true/false"))
        return False


def _one(
    n: int, raw: dict, groups: frozenset[str], today: date, errors: list[RowError]
) -> ValidatedRow | None:
    r = _Row(n, raw, errors)
    start = len(errors)
    pseudo = r.text("patient_pseudonym")
    if RESIDENT_ID.match(pseudo) or MOBILE.match(pseudo):
        r.bad("patient_pseudonym", N_("looks like a real identifier; only pseudonyms may be imported"))
    elif not PSEUDONYM.match(pseudo):
        r.bad("patient_pseudonym", N_("must be 4-64 letters, digits, '.', '_' or '-'"))
    proc = r.date("procedure_date")
    if proc and proc > today:
        r.bad("procedure_date", N_("in the future"))
    group = r.text("device_group")
    if group not in {g.value for g in DeviceGroup}:
        r.bad("device_group", N_("unknown device group"))
    elif group not in groups:
        r.bad("device_group", N_("the hospital is not enrolled for this device group"))
    udi = None
    try:
        udi = parse_udi(r.text("udi"))
    except ValidationFailed as exc:
        r.bad("udi", exc.template, **exc.params)
    age = r.number("age", 18, 110)
    sex = r.text("sex").upper()
    if sex not in ("M", "F"):
        r.bad("sex", N_("must be M or F"))
    flags = {k: r.flag(k) for k in ("diabetes", "renal_failure", "prior_mi")}
    ef = r.number("ejection_fraction", 5, 90, required=False)
    fu = r.date("follow_up_end")
    if proc and fu and fu < proc:
        r.bad("follow_up_end", N_("before the procedure"))
    outcomes = {}
    for kind in OutcomeKind:
        d = r.date(f"{kind}_date", required=False)
        if d and proc and d < proc:
            r.bad(f"{kind}_date", N_("before the procedure"))
        elif d and fu and d > fu:
            r.bad(f"{kind}_date", N_("after the end of follow-up"))
        elif d:
            outcomes[kind.value] = d
    if len(errors) > start:
        return None
    return ValidatedRow(
        pseudo,
        proc,
        group,
        r.text("udi"),
        udi.di,
        udi.lot,
        udi.serial,
        udi.expiry,
        int(age),
        sex,
        flags["diabetes"],
        flags["renal_failure"],
        flags["prior_mi"],
        ef,
        fu,
        outcomes,
    )


def validate_row(raw: dict, groups, today: date) -> tuple[ValidatedRow | None, list[RowError]]:
    """Check one procedure entered on a form (same rules as a row of an extract)."""
    errors: list[RowError] = []
    row = _one(1, {k: v for k, v in raw.items() if isinstance(v, str)}, frozenset(groups), today, errors)
    return row, errors


def validate_extract(text: str, groups, today: date) -> tuple[list[ValidatedRow], list[RowError]]:
    """Parse and check a CSV extract; returns the rows and the list of problems (empty when clean)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    records = ({k.strip(): v for k, v in raw.items() if k} for raw in reader)
    return validate_records(header, enumerate(records, start=2), groups, today)


def validate_records(
    header: list[str], records: Iterable[tuple[int, dict]], groups, today: date
) -> tuple[list[ValidatedRow], list[RowError]]:
    """Check the numbered rows of an extract (CSV or XLSX, already read as text cells).

    ``records`` yields ``(row number, {column: text})``; the row number is the one a spreadsheet
    shows (2 = first data row). The same checks whatever the file format.
    """
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return [], [RowError(1, c, N_("missing column")) for c in missing]
    rows: list[ValidatedRow] = []
    errors: list[RowError] = []
    seen: dict[tuple, int] = {}
    count = 0
    for n, raw in records:
        count += 1
        if count > MAX_ROWS:
            errors.append(
                RowError(n, "file", N_("more than {limit} rows; split the extract"), (("limit", MAX_ROWS),))
            )
            break
        row = _one(n, raw, frozenset(groups), today, errors)
        if row is None:
            continue
        key = (row.patient_pseudonym, row.procedure_date, row.udi_di)
        if key in seen:
            errors.append(
                RowError(
                    n,
                    "patient_pseudonym",
                    N_("same patient, date and device as row {other}"),
                    (("other", seen[key]),),
                )
            )
            continue
        seen[key] = n
        rows.append(row)
    if not rows and not errors:
        errors.append(RowError(2, "file", N_("no data rows")))
    return rows, errors
