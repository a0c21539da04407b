"""HTML pages of adverse-event reporting: the list (reporter: its own reports; registrant: reports on its
devices; centres: all), a new-report form that shows the quality reasons after saving, and the report
page with its workflow actions. JSON twins: ``/api/vigilance/reports`` and ``/api/vigilance/reports/{id}``.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from medreg.core.actor import Actor
from medreg.core.clock import SHANGHAI, utcnow
from medreg.core.deps import MAX_ID, get_session, pages_router, require_login
from medreg.core.errors import DomainError, ValidationFailed
from medreg.core.i18n import _
from medreg.core.templating import register_nav, render
from medreg.premarket.innovation.pages_forms import form_error, refused, see_other, version_of
from medreg.vigilance import queries, service
from medreg.vigilance.deadlines import Outcome, ReporterRole

router = pages_router(prefix="/vigilance", tags=["vigilance pages"])
Db = Depends(get_session)
CaseId = Path(ge=1, le=MAX_ID, description="adverse-event case id")
Login = Depends(require_login)

register_nav(
    "/vigilance/",
    _("Adverse events"),
    roles=["hospital", "registrant", "monitoring_centre", "admin"],
    description=_("Adverse-event reports: file, review, follow up"),
    order=40,
)

STATUS_LABELS = {
    "draft": _("Draft"),
    "submitted": _("Submitted"),
    "returned": _("Returned for correction"),
    "at_national": _("With the national centre"),
    "closed": _("Closed"),
}
OUTCOME_LABELS = {"death": _("Death"), "serious_injury": _("Serious injury"), "other": _("Other")}
ROLE_LABELS = {
    "registrant": _("Registrant"),
    "agent": _("Agent of an overseas registrant"),
    "distributor": _("Distributor"),
    "using_entity": _("Using entity (hospital)"),
    "other": _("Other unit or individual"),
}
ACTION_LABELS = {
    "submit": _("Submit"),
    "resubmit": _("Resubmit"),
    "accept": _("Accept and forward"),
    "return_for_correction": _("Return for correction"),
    "close": _("Close the case"),
}
# Form inputs of the new-report page: "section.field" names, as the errors name them.
TEXT_FIELDS = (
    "device.generic_name",
    "device.trade_name",
    "device.registration_number",
    "device.udi",
    "device.model",
    "device.lot_number",
    "device.serial_number",
    "event.province",
)
AREA_FIELDS = ("event.description", "event.device_problem", "event.actions_taken")
CODE_INPUTS = ("codes.device_problem", "codes.health_effect", "codes.health_impact", "codes.component")
# What the form and the quality reasons call each field (the IMDRF codes by their annex, aet.ANNEXES).
FIELD_LABELS = {
    "reporter.role": _("Reporter role"),
    "event.event_date": _("Event date"),
    "event.aware_at": _("Discovered or learned of (Beijing time)"),
    "event.outcome": _("Event outcome"),
    "patient.age_years": _("Patient age (years)"),
    "patient.sex": _("Patient sex"),
    "device.generic_name": _("Generic name"),
    "device.trade_name": _("Trade name"),
    "device.registration_number": _("Registration certificate number"),
    "device.udi": _("Unique device identifier (UDI)"),
    "device.model": _("Model or specification"),
    "device.lot_number": _("Lot number"),
    "device.serial_number": _("Serial number"),
    "device.manufacture_date": _("Date of manufacture"),
    "event.province": _("Province where the event occurred"),
    "event.description": _("Event description"),
    "event.device_problem": _("Device malfunction"),
    "event.actions_taken": _("Control measures taken"),
    "codes.device_problem": _("Medical device problem (IMDRF annex A)"),
    "codes.health_effect": _("Clinical signs, symptoms or conditions (IMDRF annex E)"),
    "codes.health_impact": _("Health impact (IMDRF annex F)"),
    "codes.component": _("Medical device component (IMDRF annex G)"),
}


async def posted(request: Request) -> FormData:
    return await request.form()


def _labels() -> dict:
    return {
        "status_labels": STATUS_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "role_labels": ROLE_LABELS,
        "action_labels": ACTION_LABELS,
        "text_fields": TEXT_FIELDS,
        "area_fields": AREA_FIELDS,
        "code_inputs": CODE_INPUTS,
        "field_labels": FIELD_LABELS,
        "outcomes": [o.value for o in Outcome],
        "roles": [r.value for r in ReporterRole],
    }


def content_from(form: FormData) -> dict:
    """The flat form as the nested report form (empty inputs left out)."""
    out: dict = {"reporter": {}, "device": {}, "patient": {}, "event": {}, "codes": {}}

    def put(name: str, value):
        section, field = name.split(".")
        out[section][field] = value

    for name in (
        *TEXT_FIELDS,
        *AREA_FIELDS,
        "reporter.role",
        "patient.sex",
        "event.outcome",
        "event.event_date",
        "device.manufacture_date",
        "device.expiry_date",
    ):
        value = str(form.get(name, "")).strip()
        if value:
            put(name, value)
    for name in ("patient.age_years", "device.registrant_org_id"):
        value = str(form.get(name, "")).strip()
        if value:
            try:
                put(name, float(value) if name == "patient.age_years" else int(value))
            except ValueError:
                raise ValidationFailed(
                    "'{name}' must be a number.", field=name, params={"name": name}
                ) from None
    aware = str(form.get("event.aware_at", "")).strip()
    if aware:  # a datetime-local input: Beijing time
        put("event.aware_at", aware if aware[-6:-5] in "+-" and ":" in aware[-3:] else aware + _offset())
    for name in CODE_INPUTS:
        codes = [c for c in str(form.get(name, "")).replace(",", " ").split() if c]
        if codes:
            put(name, codes)
    return out


KIND_LABELS = {"initial": _("Initial report"), "follow_up": _("Follow-up report"), "final": _("Final report")}
# The names the report form shows (pages/_report_fields.html): a follow-up replaces exactly these.
FORM_FIELDS = (*TEXT_FIELDS, *AREA_FIELDS, "reporter.role", "patient.sex", "patient.age_years",
               "event.outcome", "event.event_date", "event.aware_at", *CODE_INPUTS)


def flat(content: dict) -> dict[str, str]:
    """A stored form as the flat values of the page's inputs (codes joined by spaces, the awareness
    time as a Beijing datetime-local value)."""
    out: dict[str, str] = {}
    for section, fields in content.items():
        if not isinstance(fields, dict) or section == "udi_parsed":
            continue
        for name, value in fields.items():
            if value in (None, [], ""):
                continue
            key = f"{section}.{name}"
            if isinstance(value, list):
                out[key] = " ".join(str(v) for v in value)
            elif key == "event.aware_at":
                out[key] = datetime.fromisoformat(value).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
            elif isinstance(value, float) and value.is_integer():
                out[key] = str(int(value))
            else:
                out[key] = str(value)
    return out


def version_rows(versions) -> list[dict]:
    """Each version with the form fields it changed from the version before it."""
    rows, before = [], None
    for v in versions:
        now = flat(v.content)
        changed = [] if before is None else sorted(k for k in now.keys() | before.keys()
                                                   if now.get(k) != before.get(k))
        rows.append({"version_no": v.version_no, "kind": str(getattr(v.kind, "value", v.kind)),
                     "created_at": v.created_at, "submitted_at": v.submitted_at, "changed": changed})
        before = now
    return rows


def _offset() -> str:
    return utcnow().astimezone(SHANGHAI).strftime("%z")[:3] + ":00"


@router.get("/")
def report_list(request: Request, session: Session = Db, actor: Actor = Login):
    return render(request, "vigilance/list.html", {**_labels(), "cases": queries.list_cases(session, actor)})


@router.get("/new")
def new_report(request: Request, actor: Actor = Login):
    # A hospital reports as a using entity (使用单位), not as the registrant first in the list.
    values = {"reporter.role": ReporterRole.USING_ENTITY.value} if "hospital" in actor.roles else {}
    return render(request, "vigilance/new.html", {**_labels(), "error": None, "values": values})


@router.post("/new")
def create_report(
    request: Request, form: FormData = Depends(posted), session: Session = Db, actor: Actor = Login
) -> Response:
    try:
        case = service.create_report(session, actor, content_from(form))
    except DomainError as err:
        refused(session, err)
        values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
        return render(
            request,
            "vigilance/new.html",
            {**_labels(), "values": values, "error": form_error(request, "report", err, form)},
            status_code=err.http_status,
        )
    return see_other(f"/vigilance/{case.id}?saved=1")


def _page(request: Request, session: Session, actor: Actor, case_id: int, error=None, status_code: int = 200):
    case = queries.get_case(session, actor, case_id)
    return render(
        request,
        "vigilance/case.html",
        {
            **_labels(),
            "case": case,
            "error": error,
            "version_rows": version_rows(queries.versions(session, actor, case_id)),
            "kind_labels": KIND_LABELS,
            "quality": queries.case_quality(session, actor, case_id, utcnow()),
            "allowed": queries.allowed_actions(session, actor, case_id),
            "saved": request.query_params.get("saved"),
        },
        status_code=status_code,
    )


@router.get("/{case_id:int}")
def report_page(request: Request, case_id: int = CaseId, session: Session = Db, actor: Actor = Login):
    return _page(request, session, actor, case_id)


@router.post("/{case_id:int}/{action}")
def act(
    request: Request,
    case_id: int = CaseId,
    action: str = Path(max_length=40, pattern=r"^[a-z_]+$"),
    form: FormData = Depends(posted),
    session: Session = Db,
    actor: Actor = Login,
) -> Response:
    try:
        version = version_of(form)
        if action in ("submit", "resubmit"):
            service.submit(session, actor, case_id, expected_version=version)
        elif action == "accept":
            service.accept(session, actor, case_id, expected_version=version)
        elif action == "return_for_correction":
            service.return_for_correction(
                session, actor, case_id, str(form.get("reason", "")), expected_version=version
            )
        elif action == "close":
            service.close(session, actor, case_id, expected_version=version)
        else:
            raise ValidationFailed(
                "'{name}' must be one of: {allowed}.",
                field="action",
                params={"name": "action", "allowed": ", ".join(ACTION_LABELS)},
            )
    except DomainError as err:
        refused(session, err)
        return _page(
            request, session, actor, case_id, form_error(request, action, err, form), err.http_status
        )
    return see_other(f"/vigilance/{case_id}?done={action}")
