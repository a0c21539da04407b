"""The monitors page: every monitor one may see with its design (the monitoring centre: all; a
registrant: its devices'), and for the centre the form that defines a monitor - the same checks and
the same call as ``POST /api/surveillance/monitors`` (``schemas.MonitorCreate``, then
``service_monitoring.create_monitor``, audited ``surveillance.monitor.create``).

The form's fields are data (``FIELDS``): a new design parameter of ``MonitorCreate`` is one more row
here (its label and input attributes) and appears on the form, is read from it and checked by the
schema like the others. A monitor kind (``kind`` select) is a Poisson MaxSPRT, continuous or
group-sequential, whose page adds the risk-adjusted CUSUM and the O/E chart (``pages``), or a DELTA
propensity-matched comparison (``DELTA`` rows and the ``delta_spending`` select: alpha per look, or an
overall alpha spent across looks up to the planned pairs), whose page charts the matched risk difference."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Depends, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.deps import get_session, pages_router, require_login
from medreg.core.errors import DomainError, ValidationFailed
from medreg.core.i18n import _
from medreg.core.templating import register_nav, render
from medreg.premarket.innovation.pages_forms import form_error, refused, see_other
from medreg.surveillance import queries, service_monitoring
from medreg.surveillance.access import is_centre, require_centre
from medreg.surveillance.pages_registry import GROUP_LABELS, OUTCOME_LABELS
from medreg.surveillance.schemas import MonitorCreate

router = pages_router(prefix="/surveillance", tags=["surveillance pages"])
Db = Depends(get_session)
Who = Depends(require_login)
FORM = "monitor"

register_nav("/surveillance/monitors", _("Monitors"), roles=["monitoring_centre", "admin", "registrant"],
             description=_("Define sequential monitors of implants and see their designs"), order=43)


@dataclass(frozen=True)
class Field:
    """One input of the monitor form: ``name`` is the ``MonitorCreate`` field it fills."""

    name: str
    label: str
    type: str = "text"  # text | number | date
    default: str = ""
    attrs: dict[str, str] = field(default_factory=dict)
    hint: str | None = None


# the monitored device and outcome (selects for the group and the outcome are in the template)
DEVICE = (
    Field("name", _("Monitor name"), attrs={"maxlength": "200", "required": ""}),
    Field("udi_di", _("UDI-DI of the monitored device (GTIN-14)"),
          attrs={"maxlength": "14", "pattern": r"\d{14}", "inputmode": "numeric", "required": ""}),
    Field("window_days", _("Outcome window (days after the procedure)"), "number", "180",
          {"min": "1", "max": "3650", "required": ""}),
    Field("reference_start", _("Reference period from"), "date", attrs={"required": ""}),
    Field("reference_end", _("Reference period to"), "date", attrs={"required": ""},
          hint=_("The risk model is fitted on the other devices of the group in this period.")),
)
# the sequential design (Kulldorff et al. 2011); add a row for a new parameter of MonitorCreate
DESIGN = (
    Field("alpha", _("Alpha (probability of a false signal)"), "number", "0.05",
          {"min": "0.0001", "max": "0.5", "step": "any"}),
    Field("sample_size", _("T: upper limit on the length of surveillance (expected events)"), "number",
          "20", {"min": "0.1", "max": "100000", "step": "any"}),
    Field("min_events", _("M: minimum number of events to signal"), "number", "4",
          {"min": "1", "max": "100"}),
    # the risk-adjusted CUSUM of the monitor page (Steiner et al. 2000)
    Field("cusum_null_odds_ratio", _("CUSUM: odds ratio of the null (R_0)"), "number", "1",
          {"min": "0.01", "max": "100", "step": "any"}),
    Field("cusum_odds_ratio", _("CUSUM: odds ratio to detect (R_A)"), "number", "2",
          {"min": "0.01", "max": "100", "step": "any"}),
    Field("cusum_false_alarm", _("CUSUM: false-alarm probability over the sequence"), "number", "0.05",
          {"min": "0.0001", "max": "0.5", "step": "any"},
          hint=_("The chart tests R_0 against R_A; its control limit h is simulated for this probability.")),
)
# the DELTA-style propensity-matched comparison (kind ``delta``; ``alpha`` above is then per look)
DELTA = (
    Field("delta_margin", _("DELTA: margin of the risk difference"), "number", "0",
          {"min": "0", "max": "0.5", "step": "any"},
          hint=_("An alert when the lower confidence limit of the matched risk difference exceeds it.")),
    Field("delta_min_pairs", _("DELTA: minimum matched pairs to alert"), "number", "20",
          {"min": "2", "max": "100000"}),
    Field("delta_caliper", _("DELTA: caliper (SD of the logit propensity score)"), "number", "0.2",
          {"min": "0.01", "max": "1", "step": "any"}),
    # overall alpha spending across looks (the ``delta_spending`` select is in the template)
    Field("delta_planned_pairs", _("DELTA: planned matched pairs (the monitor ends there)"), "number", "",
          {"min": "2", "max": "1000000"},
          hint=_("The information horizon of alpha spending: information = matched pairs / planned pairs.")),
    Field("delta_hsd_gamma", _("DELTA: Hwang-Shih-DeCani gamma"), "number", "-4",
          {"min": "-40", "max": "40", "step": "any"}),
)
# DELTA's alpha spending functions (Lan & DeMets 1983; Hwang, Shih & DeCani 1990); "": alpha per look
SPENDING_LABELS = {
    "": _("None: alpha per look"),
    "obf": _("O'Brien-Fleming type (Lan-DeMets)"),
    "pocock": _("Pocock type (Lan-DeMets)"),
    "hsd": _("Hwang-Shih-DeCani (gamma below)"),
}
# the matched binomial MaxSPRT (kind ``maxsprt_binomial``; T is then N, a whole number of events)
BINOMIAL = (
    Field("binomial_z", _("Binomial MaxSPRT: comparators matched to each device procedure (z)"), "number",
          "1", {"min": "1", "max": "10"}),
)
FIELDS = DEVICE + DESIGN + DELTA + BINOMIAL
KIND_LABELS = {
    "maxsprt_poisson": _("Poisson MaxSPRT (observed against risk-expected events)"),
    "delta": _("DELTA: propensity-matched comparison with the other devices of the group"),
    "maxsprt_binomial": _("Binomial MaxSPRT: each procedure matched to z comparators (T in events)"),
}
LOOKS = {
    "continuous": _("Continuous monitoring (a look whenever the centre runs one)"),
    "planned": _("Group-sequential: this many equal looks"),
    "look_at": _("Group-sequential: looks at these fractions of T (e.g. 0.25, 0.5, 1)"),
}

# pydantic's error types, as a reason users can read in their language
REASONS = {
    "missing": _("This field is required."),
    "string_too_short": _("This field is required."),
    "string_too_long": _("At most {limit} characters."),
    "int_parsing": _("Enter a whole number."),
    "int_from_float": _("Enter a whole number."),
    "float_parsing": _("Enter a number."),
    "date_parsing": _("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": _("Enter a date as YYYY-MM-DD."),
    "greater_than": _("Must be greater than {limit}."),
    "greater_than_equal": _("Must be at least {limit}."),
    "less_than_equal": _("Must be at most {limit}."),
    "string_pattern_mismatch": _("Not in the expected format."),
    "too_long": _("At most {limit} values."),
    "literal_error": _("Choose one of the listed values."),
}


def _refusal(exc: ValidationError) -> ValidationFailed:
    """The first problem pydantic found, as a domain error naming the form's field."""
    e = exc.errors()[0]
    ctx = e.get("ctx") or {}
    limit = next((ctx[k] for k in ("gt", "ge", "le", "max_length") if k in ctx), "")
    loc = e.get("loc") or ("",)
    return ValidationFailed(REASONS.get(e["type"], _("The input is not valid.")), field=str(loc[0]),
                            params={"limit": limit})


def monitor_values(form) -> dict:
    """What the form says, as the JSON body of ``POST /api/surveillance/monitors`` would say it."""
    values = {f.name: str(form.get(f.name) or "").strip() for f in FIELDS}
    values = {k: v for k, v in values.items() if v}
    if str(form.get("notes") or "").strip():
        values["notes"] = str(form.get("notes"))
    for name in ("device_group", "outcome", "registrant_org_id", "kind", "delta_spending"):
        if form.get(name):
            values[name] = str(form.get(name))
    design = str(form.get("looks") or "continuous")
    if design == "planned":
        values["planned_looks"] = str(form.get("planned_looks") or "").strip()
    elif design == "look_at":
        text = str(form.get("look_at") or "").replace(" ", "")
        values["look_at"] = text.split(",") if text else []
    return values


def _page(request: Request, session: Session, actor: Actor, *, values=None, error=None, status_code=200):
    centre = is_centre(actor)
    registrants = queries.registrant_names(session, actor) if centre else {}
    return render(request, "surveillance/monitors.html", {
        "monitors": queries.list_monitors(session, actor), "can_define": centre,
        "registrants": registrants, "fields": FIELDS, "device_fields": DEVICE, "design_fields": DESIGN,
        "delta_fields": DELTA, "kind_labels": KIND_LABELS, "spending_labels": SPENDING_LABELS,
        "binomial_fields": BINOMIAL,
        "looks_labels": LOOKS, "group_labels": GROUP_LABELS, "outcome_labels": OUTCOME_LABELS,
        "v": values or {f.name: f.default for f in FIELDS}, "error": error, "form": FORM,
        "created": request.query_params.get("created"),
    }, status_code=status_code)


@router.get("/monitors")
def monitors(request: Request, session: Session = Db, actor: Actor = Who):
    return _page(request, session, actor)


@router.post("/monitors")
async def define(request: Request, session: Session = Db, actor: Actor = Who):
    """Define a monitor (monitoring centre); its critical value is fixed now from the design."""
    require_centre(actor)
    form = await request.form()
    values = monitor_values(form)
    try:
        try:
            body = MonitorCreate.model_validate(values)
        except ValidationError as exc:
            raise _refusal(exc) from None
        monitor = service_monitoring.create_monitor(session, actor, **body.model_dump())
    except DomainError as err:
        refused(session, err)
        shown = {**values, "kind": str(form.get("kind") or "maxsprt_poisson"),
                 "delta_spending": str(form.get("delta_spending") or ""),
                 "looks": str(form.get("looks") or "continuous"),
                 "look_at": str(form.get("look_at") or "")}
        return _page(request, session, actor, values=shown, error=form_error(request, FORM, err, form),
                     status_code=err.http_status)
    return see_other(f"/surveillance/monitors?created={monitor.id}#monitor-{monitor.id}")
