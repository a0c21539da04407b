"""Pages for sentinel hospitals entering the registry one patient at a time: the site's procedures,
enrolling a procedure (the same checks as a row of an imported extract), one procedure with its
outcomes and the follow-up form. Thin: the services in ``service_followup`` do the work."""

from __future__ import annotations

from datetime import date

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from medreg.core import clock
from medreg.core.actor import Actor
from medreg.core.db import MAX_ID
from medreg.core.deps import get_session, pages_router, require_login
from medreg.core.errors import DomainError, ValidationFailed
from medreg.core.i18n import _, translate
from medreg.core.templating import register_nav, render, request_locale
from medreg.premarket.innovation.pages_forms import form_error, refused, see_other
from medreg.surveillance import queries, service_followup
from medreg.surveillance.importer import COLUMNS
from medreg.surveillance.vocab import DeviceGroup, OutcomeKind

router = pages_router(prefix="/surveillance/procedures", tags=["surveillance pages"])
Db = Depends(get_session)
ProcedureId = Path(ge=1, le=MAX_ID)

register_nav(
    "/surveillance/procedures",
    _("Sentinel-hospital procedures"),
    roles=["hospital", "monitoring_centre"],
    description=_("Enrol procedures and record follow-up outcomes"),
    order=42,
)


GROUP_LABELS = {
    "coronary_stent": _("Coronary stents"),
    "tavr_valve": _("TAVR valves"),
    "occluder": _("Occluders"),
    "pacemaker_icd": _("Pacemakers and ICDs"),
    "vascular_graft": _("Vascular grafts"),
    "niti_endovascular": _("NiTi endovascular implants"),
}
OUTCOME_LABELS = {
    "death": _("Death"),
    "target_lesion_failure": _("Target-lesion failure"),
    "stent_thrombosis": _("Stent thrombosis"),
    "valve_dysfunction": _("Valve dysfunction"),
    "reintervention": _("Reintervention"),
    "major_bleeding": _("Major bleeding"),
}
assert set(GROUP_LABELS) == {g.value for g in DeviceGroup} and set(OUTCOME_LABELS) == {
    k.value for k in OutcomeKind
}


def _context(**extra) -> dict:
    return {"group_labels": GROUP_LABELS, "outcome_labels": OUTCOME_LABELS, **extra}


def _error(request: Request, form_name: str, err: DomainError, form):
    """The form's error, with each row problem's reason in the page's language."""
    fe = form_error(request, form_name, err, form)
    locale = request_locale(request)
    fe.details = {
        "errors": [
            dict(e, reason=translate(e["msgid"], locale, **e["params"]))
            for e in err.details.get("errors", [])
        ]
    }
    return fe


@router.get("")
def procedure_list(request: Request, session: Session = Db, actor: Actor = Depends(require_login)):
    total, rows = queries.list_procedures(session, actor, limit=200)
    return render(request, "surveillance/procedures.html", {"total": total, "rows": rows})


@router.get("/new")
def new_form(request: Request, actor: Actor = Depends(require_login)):
    return render(request, "surveillance/procedure_new.html", _context(values={}))


@router.post("/new")
async def enrol(request: Request, session: Session = Db, actor: Actor = Depends(require_login)):
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in COLUMNS}
    try:
        proc = service_followup.enrol_procedure(
            session,
            actor,
            values,
            today=clock.today_shanghai(),
            hospital_code=str(form.get("hospital", "")).strip() or None,
        )
    except DomainError as err:
        refused(session, err)
        return render(
            request,
            "surveillance/procedure_new.html",
            _context(values=values, error=_error(request, "enrol", err, form)),
            status_code=err.http_status,
        )
    return see_other(f"/surveillance/procedures/{proc.id}?done=enrol")


def _detail(request: Request, session: Session, actor: Actor, procedure_id: int, error=None, status_code=200):
    proc, outcomes = service_followup.get_procedure(session, actor, procedure_id)
    return render(
        request,
        "surveillance/procedure.html",
        _context(p=proc, outcomes=outcomes, error=error, done=request.query_params.get("done"),
                 cert=queries.device_certificate(session, actor, proc.udi_di)),
        status_code=status_code,
    )


@router.get("/{procedure_id}")
def procedure_page(
    request: Request,
    procedure_id: int = ProcedureId,
    session: Session = Db,
    actor: Actor = Depends(require_login),
):
    return _detail(request, session, actor, procedure_id)


def _date(form, name: str) -> date | None:
    raw = str(form.get(name, "")).strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed("Enter a date as YYYY-MM-DD.", field=name) from None


@router.post("/{procedure_id}/follow-up")
async def follow_up(
    request: Request,
    procedure_id: int = ProcedureId,
    session: Session = Db,
    actor: Actor = Depends(require_login),
):
    form = await request.form()
    try:
        service_followup.record_follow_up(
            session,
            actor,
            procedure_id,
            today=clock.today_shanghai(),
            follow_up_end=_date(form, "follow_up_end"),
            outcome=str(form.get("outcome", "")).strip() or None,
            event_date=_date(form, "event_date"),
        )
    except DomainError as err:
        refused(session, err)
        return _detail(
            request, session, actor, procedure_id, _error(request, "follow-up", err, form), err.http_status
        )
    return see_other(f"/surveillance/procedures/{procedure_id}?done=follow-up")
