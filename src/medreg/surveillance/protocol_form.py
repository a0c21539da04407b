"""A study protocol from what a user typed (pure): the registration form of the pages and the JSON body
of ``POST /api/surveillance/studies/protocols`` both go through ``build_protocol``.

The cohort criteria are on the registry fields a study row carries (``service_studies._rows``); each
value is converted to the field's type (age: whole years, ejection fraction: per cent, the risk
factors: yes/no, sex: M/F, the procedure date: a date stored with ``type: "date"``, days of follow-up:
whole days), so that the registered protocol compares like with like when it runs. The procedure-date
window (``procedure_date_from`` / ``procedure_date_to``) and the minimum follow-up
(``min_follow_up_days``) become the first inclusion criteria; the minimum follow-up is
``days_followed_or_event >= N`` (a follow-up ended early by the outcome or death is kept; only patients
censored before N days are excluded - ``service_studies._followed_or_event``). Every refusal names the
field at fault (``inclusion-2`` for the second inclusion criterion).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from biip import ParseError
from biip.gtin import Gtin

from medreg.core.errors import ValidationFailed
from medreg.evidence.protocol import ANALYSES, Criterion, StudyProtocol
from medreg.surveillance.monitoring import COVARIATES  # the risk factors a study may adjust for
from medreg.surveillance.vocab import DeviceGroup, OutcomeKind

__all__ = ["COVARIATES", "CRITERION_FIELDS", "MAX_CRITERIA", "OPERATORS", "build_protocol", "form_data",
           "form_rows_count", "split_dis"]

# field -> (kind, smallest, largest); the registry's own ranges (importer: age 18-110, EF 5-90 %)
CRITERION_FIELDS: dict[str, tuple[str, float | None, float | None]] = {
    "age": ("int", 0, 120),
    "sex": ("sex", None, None),
    "diabetes": ("bool", None, None),
    "renal_failure": ("bool", None, None),
    "prior_mi": ("bool", None, None),
    "ejection_fraction": ("float", 0, 100),
    # the procedure's date; days followed: from the procedure to the end of follow-up or the data
    # cut-off, whichever comes first (service_studies._rows)
    "procedure_date": ("date", None, None),
    "days_followed": ("int", 0, 3650),
    # the same, except that a follow-up ended by the study's outcome or death counts as followed to the
    # data cut-off (service_studies._followed_or_event): what the minimum follow-up compares
    "days_followed_or_event": ("int", 0, 3650),
}
FIRST_DAY, LAST_DAY = date(1990, 1, 1), date(2099, 12, 31)  # dates a criterion may name
OPERATORS = ("==", "!=", "<", "<=", ">", ">=")
EQUALITY = ("==", "!=")
MAX_CRITERIA = 10
TRUE, FALSE = ("yes", "true", "1", "y"), ("no", "false", "0", "n")
LIMITS = {"title": 200, "question": 4000, "comparator": 500, "notes": 4000}


def _text(data: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    value = str(data.get(name) or "").strip()
    if required and not value:
        raise ValidationFailed("This field is required.", field=name)
    if len(value) > LIMITS[name]:
        raise ValidationFailed("At most {limit} characters.", field=name, params={"limit": LIMITS[name]})
    return value


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def split_dis(value: Any) -> list[str]:
    """DIs typed one per line or separated by commas or spaces (or given as a list)."""
    out: list[str] = []
    for item in _list(value):
        out.extend(x for x in item.replace(",", " ").split() if x)
    return out


def _dis(value: Any) -> tuple[str, ...]:
    dis = split_dis(value)
    if not dis:
        raise ValidationFailed("Name the UDI-DI(s) of the device under study.", field="device_dis")
    if len(dis) > 50:
        raise ValidationFailed("At most {limit} device identifiers.", field="device_dis",
                               params={"limit": 50})
    for di in dis:
        if not (di.isdigit() and len(di) == 14):
            raise ValidationFailed("A UDI-DI here is a GTIN-14: 14 digits ({di}).", field="device_dis",
                                   params={"di": di[:20]})
        try:
            Gtin.parse(di)
        except ParseError:
            raise ValidationFailed("The device identifier {di} has a wrong check digit.", field="device_dis",
                                   params={"di": di}) from None
    return tuple(dict.fromkeys(dis))


def _value(kind: str, raw: Any, low, high, field: str):
    if kind == "date":
        return _date(raw, field)
    text = str(raw if raw is not None else "").strip()
    if kind == "bool":
        if text.lower() in TRUE:
            return True
        if text.lower() in FALSE:
            return False
        raise ValidationFailed("Answer yes or no.", field=field)
    if kind == "sex":
        if text.upper() in ("M", "F"):
            return text.upper()
        raise ValidationFailed("Sex is M or F.", field=field)
    try:
        number = int(text) if kind == "int" else float(text)
    except ValueError:
        raise ValidationFailed("Enter a number.", field=field) from None
    if not low <= number <= high:
        raise ValidationFailed("The value must be between {low} and {high}.", field=field,
                               params={"low": low, "high": high})
    return number


def _date(raw: Any, field: str) -> date:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        day = raw
    else:
        text = str(raw if raw is not None else "").strip()
        try:
            if len(text) != 10:
                raise ValueError(text)
            day = date.fromisoformat(text)
        except ValueError:
            raise ValidationFailed("Enter a date as YYYY-MM-DD.", field=field) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationFailed("The date must lie between {low} and {high}.", field=field,
                               params={"low": FIRST_DAY.isoformat(), "high": LAST_DAY.isoformat()})
    return day


def _criteria(rows: Any, which: str) -> tuple[Criterion, ...]:
    rows = list(rows or [])
    if len(rows) > MAX_CRITERIA:
        raise ValidationFailed("At most {limit} criteria.", field=which, params={"limit": MAX_CRITERIA})
    out = []
    for i, row in enumerate(rows, start=1):
        field = f"{which}-{i}"
        if not isinstance(row, Mapping):
            raise ValidationFailed("A criterion is a field, an operator and a value.", field=field)
        name, op, raw = (str(row.get(k) or "").strip() for k in ("field", "op", "value"))
        if not name and not str(row.get("value") or "").strip():
            continue  # an empty row of the form
        if name not in CRITERION_FIELDS:
            raise ValidationFailed("Choose a registry field for the criterion.", field=field)
        kind, low, high = CRITERION_FIELDS[name]
        if op not in (EQUALITY if kind in ("bool", "sex") else OPERATORS):
            raise ValidationFailed("This operator does not apply to this field.", field=field)
        out.append(Criterion(name, op, _value(kind, row.get("value"), low, high, field),
                             "date" if kind == "date" else ""))
    return tuple(out)


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _window(data: Mapping[str, Any]) -> tuple[Criterion, ...]:
    """The procedure-date window and the minimum follow-up, as the first inclusion criteria."""
    out = []
    start = None if _blank(data.get("procedure_date_from")) else _date(data.get("procedure_date_from"),
                                                                         "procedure_date_from")
    end = None if _blank(data.get("procedure_date_to")) else _date(data.get("procedure_date_to"),
                                                                     "procedure_date_to")
    if start and end and start > end:
        raise ValidationFailed("The window ends before it starts.", field="procedure_date_to")
    if start:
        out.append(Criterion("procedure_date", ">=", start, "date"))
    if end:
        out.append(Criterion("procedure_date", "<=", end, "date"))
    if not _blank(data.get("min_follow_up_days")):
        try:
            days = int(str(data.get("min_follow_up_days")).strip())
        except ValueError:
            raise ValidationFailed("Enter a whole number of days.", field="min_follow_up_days") from None
        if not 1 <= days <= 3650:
            raise ValidationFailed("The minimum follow-up must be 1 to 3650 days.",
                                   field="min_follow_up_days")
        # not ``days_followed``: that criterion also excludes the patients whose outcome or death came
        # before N days; protocols registered with it keep it and its meaning (and their hash)
        out.append(Criterion("days_followed_or_event", ">=", days))
    return tuple(out)


def _check_dates(inclusion: tuple[Criterion, ...]) -> None:
    """Inclusion criteria on the procedure date that no date meets are refused (an empty cohort)."""
    day = timedelta(days=1)
    dated = [c for c in inclusion if c.type == "date"]
    lows = [{">=": c.value, ">": c.value + day, "==": c.value}.get(c.op) for c in dated]
    highs = [{"<=": c.value, "<": c.value - day, "==": c.value}.get(c.op) for c in dated]
    lows, highs = [d for d in lows if d], [d for d in highs if d]
    if lows and highs and max(lows) > min(highs):
        raise ValidationFailed("The date criteria leave no procedure date.", field="inclusion")


def _follow_up(raw: Any) -> int:
    try:
        days = int(str(raw if raw is not None else "").strip())
    except ValueError:
        raise ValidationFailed("Enter a whole number of days.", field="follow_up_days") from None
    if not 1 <= days <= 3650:
        raise ValidationFailed("The follow-up must be 1 to 3650 days.", field="follow_up_days")
    return days


def build_protocol(data: Mapping[str, Any]) -> StudyProtocol:
    """The protocol described by ``data`` (title, question, device_group, device_dis, comparator,
    outcomes - the first is the primary one -, analyses, follow_up_days, inclusion, exclusion (lists
    of ``{field, op, value}``), procedure_date_from, procedure_date_to, min_follow_up_days, covariates,
    notes); ``ValidationFailed`` naming the field otherwise."""
    title, question = _text(data, "title"), _text(data, "question")
    group = str(data.get("device_group") or "")
    if group not in {g.value for g in DeviceGroup}:
        raise ValidationFailed("Choose a device group.", field="device_group")
    dis = _dis(data.get("device_dis"))
    comparator = _text(data, "comparator")
    outcomes = tuple(dict.fromkeys(o for o in _list(data.get("outcomes")) if o))
    if not outcomes or any(o not in {k.value for k in OutcomeKind} for o in outcomes):
        raise ValidationFailed("Choose the outcome(s) from the registry's outcomes.", field="outcomes")
    analyses = tuple(dict.fromkeys(_list(data.get("analyses"))))
    if not analyses or any(a not in ANALYSES for a in analyses):
        raise ValidationFailed("Choose at least one analysis.", field="analyses")
    follow_up = _follow_up(data.get("follow_up_days"))
    covariates = tuple(dict.fromkeys(_list(data.get("covariates"))))
    if any(c not in COVARIATES for c in covariates):
        raise ValidationFailed("Choose the risk factors from the registry's.", field="covariates")
    inclusion = _window(data) + _criteria(data.get("inclusion"), "inclusion")
    _check_dates(inclusion)
    return StudyProtocol(
        title=title,
        question=question,
        device_group=group,
        comparator=comparator,
        outcomes=outcomes,
        analyses=analyses,
        follow_up_days=follow_up,
        inclusion=inclusion,
        exclusion=_criteria(data.get("exclusion"), "exclusion"),
        covariates=covariates,
        device_dis=dis,
        notes=_text(data, "notes", required=False),
    )


def form_rows(form: Mapping[str, Any], which: str, count: int) -> list[dict[str, str]]:
    """The criteria rows of the HTML form (``inclusion-1-field``, ``inclusion-1-op``, ...)."""
    return [
        {k: str(form.get(f"{which}-{i}-{k}") or "") for k in ("field", "op", "value")}
        for i in range(1, count + 1)
    ]


def form_rows_count(form: Mapping[str, Any], which: str, default: int) -> int:
    """How many criteria rows of a kind the posted form had (``inclusion-rows``), 1 to MAX_CRITERIA."""
    try:
        count = int(str(form.get(f"{which}-rows") or default))
    except ValueError:
        count = default
    return min(max(count, 1), MAX_CRITERIA)


def form_data(form: Any, rows: int | Mapping[str, int]) -> dict[str, Any]:
    """What ``build_protocol`` reads, from a posted form (``getlist`` for the multiple choices);
    ``rows``: the criteria rows of each kind (one number for both, or ``{"inclusion": n, ...}``)."""
    data: dict[str, Any] = {k: form.get(k) for k in ("title", "question", "device_group", "device_dis",
                                                     "comparator", "follow_up_days", "notes",
                                                     "procedure_date_from", "procedure_date_to",
                                                     "min_follow_up_days")}
    primary = str(form.get("primary_outcome") or "")
    # the primary outcome first; secondary outcomes without a primary one are refused (no outcome)
    data["outcomes"] = [o for o in [primary, *form.getlist("outcomes")] if o] if primary else []
    for many in ("analyses", "covariates"):
        data[many] = list(form.getlist(many))
    for which in ("inclusion", "exclusion"):
        data[which] = form_rows(form, which, rows if isinstance(rows, int) else rows[which])
    return data
