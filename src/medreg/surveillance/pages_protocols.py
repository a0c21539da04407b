"""Registering a real-world evidence study protocol from the pages, before any data are analysed: the
form (question, device(s), comparator, cohort criteria on the registry fields, outcomes, analysis plan),
and the registered protocol shown read-only with its SHA-256, its registration time and the canonical
JSON the hash is computed on. Same calls as ``POST /api/surveillance/studies/protocols``:
``protocol_form.build_protocol`` then ``evidence.service.register_protocol`` (audited
``evidence.protocol.register``; the monitoring centre, administrators and reviewers only)."""

from __future__ import annotations

import json

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.db import MAX_ID
from medreg.core.deps import get_session, pages_router, require_login
from medreg.core.errors import DomainError, PermissionDenied
from medreg.core.i18n import _
from medreg.core.templating import render
from medreg.evidence import service as evidence
from medreg.evidence.protocol import ANALYSES
from medreg.evidence.queries import can_read_all
from medreg.premarket.innovation.pages_forms import form_error, refused, see_other
from medreg.surveillance import queries_studies
from medreg.surveillance.pages_registry import GROUP_LABELS, OUTCOME_LABELS
from medreg.surveillance.protocol_form import (
    COVARIATES,
    CRITERION_FIELDS,
    MAX_CRITERIA,
    OPERATORS,
    build_protocol,
    form_data,
    form_rows_count,
)

router = pages_router(prefix="/surveillance/studies/protocols", tags=["surveillance pages"])
Db = Depends(get_session)
Who = Depends(require_login)
ROWS = 3  # criteria rows of each kind on a new form (blank rows are ignored); "add" adds one, up to
# MAX_CRITERIA (the API's limit) - a plain round-trip of the form, nothing registered
FORM = "protocol"

ANALYSIS_LABELS = {
    "kaplan_meier": _("Kaplan-Meier survival"),
    "logrank": _("Log-rank test"),
    "cox_ph": _("Cox proportional hazards"),
    "cumulative_incidence": _("Cumulative incidence (death as a competing risk)"),
    "matched_comparison": _("Propensity-matched comparison"),
}
FIELD_LABELS = {
    "age": _("Age"),
    "male": _("Male"),
    "sex": _("Sex"),
    "diabetes": _("Diabetes"),
    "renal_failure": _("Renal failure"),
    "prior_mi": _("Prior myocardial infarction"),
    "ejection_fraction": _("Left-ventricular ejection fraction"),
    "procedure_date": _("Procedure date"),
    "days_followed": _("Days of follow-up (to the end of follow-up or the data cut-off)"),
    "days_followed_or_event": _("Days of follow-up, a follow-up ended by the outcome or death counting "
                                "as complete"),
}
assert set(ANALYSIS_LABELS) == set(ANALYSES) and set(CRITERION_FIELDS) | set(COVARIATES) == set(FIELD_LABELS)


def _require_registrar(actor: Actor) -> None:
    """The roles ``evidence.service.register_protocol`` accepts (the form is not shown to others)."""
    if not can_read_all(actor):
        raise PermissionDenied(
            "Only the monitoring centre and reviewers may run real-world evidence studies."
        )


def _labels() -> dict:
    return {
        "group_labels": GROUP_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "analysis_labels": ANALYSIS_LABELS,
        "field_labels": FIELD_LABELS,
        "criterion_fields": list(CRITERION_FIELDS),
        "operators": OPERATORS,
        "covariates": COVARIATES,
    }


def _form_page(request: Request, values: dict, error=None, status_code: int = 200, rows=None):
    rows = rows or {w: max(ROWS, len(values.get(w) or [])) for w in ("inclusion", "exclusion")}
    return render(request, "surveillance/protocol_new.html",
                  {**_labels(), "v": values, "rows": rows, "max_rows": MAX_CRITERIA, "error": error,
                   "form": FORM}, status_code=status_code)


BLANK = {
    "outcomes": [],
    "analyses": ["kaplan_meier", "logrank", "cox_ph", "cumulative_incidence"],
    "covariates": list(COVARIATES),
    "follow_up_days": "365",
    "inclusion": [{"field": "age", "op": ">=", "value": "18"}],
    "exclusion": [],
}


@router.get("/new")
def new_protocol(request: Request, actor: Actor = Who):
    _require_registrar(actor)
    return _form_page(request, BLANK)


@router.post("/new")
async def register(request: Request, session: Session = Db, actor: Actor = Who):
    """Register the protocol (timestamped and hashed by the service), then show it read-only."""
    _require_registrar(actor)
    form = await request.form()
    rows = {w: form_rows_count(form, w, ROWS) for w in ("inclusion", "exclusion")}
    values = form_data(form, rows)
    add = str(form.get("add") or "")
    if add in rows:  # "add a criterion": the same form with one more row of that kind, nothing written
        rows[add] = min(rows[add] + 1, MAX_CRITERIA)
        return _form_page(request, _shown(values, form), rows=rows)
    try:
        row = evidence.register_protocol(session, actor, build_protocol(values))
    except DomainError as err:
        refused(session, err)
        return _form_page(request, _shown(values, form), form_error(request, FORM, err, form),
                          err.http_status, rows=rows)
    return see_other(f"/surveillance/studies/protocols/{row.id}?done=register")


def _shown(values: dict, form) -> dict:
    """The form's values shown again, every choice kept."""
    values["primary_outcome"] = primary = str(form.get("primary_outcome") or "")
    values["outcomes"] = [primary, *form.getlist("outcomes")]
    return values


@router.get("/{protocol_id}")
def protocol_page(request: Request, protocol_id: int = Path(ge=1, le=MAX_ID), session: Session = Db,
                  actor: Actor = Who):
    """A registered protocol, read-only (tenancy of studies: ``queries_studies``)."""
    p = queries_studies.read_protocol(session, actor, protocol_id)
    canonical = json.dumps(p.content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return render(request, "surveillance/protocol.html",
                  {**_labels(), "p": p, "c": p.content, "canonical": canonical,
                   "done": request.query_params.get("done"), "can_run": can_read_all(actor)})
