"""HTML pages of the configured analyses (monitoring centre and administrators): the list with each
analysis' last run and its job's progress and when it runs, the create and edit forms (with the
analysis' own schedule), enable/disable, delete (an analysis that never ran), "run now" (on the next
snapshot or on an existing one), the snapshot schedule (its next run, its last job, the form that sets
it: ``scheduling.py``), and the page of one run's results. The same service calls as
``/api/signals/analyses``, ``/api/signals/schedule``, ``medreg signals analyses`` and ``medreg signals
schedule``; JSON twins: ``/api/signals/analyses/status``, ``/api/signals/schedule``,
``/api/signals/runs/{id}``.

Post/Redirect/Get: a change that succeeds redirects (303); one the service refuses rolls the request
back and re-renders the form (or the list) with the reason next to the field, with the error's status.
"""

from __future__ import annotations

import math

from fastapi import Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from medreg.core.actor import Actor
from medreg.core.deps import MAX_ID, get_session, pages_router, require_roles
from medreg.core.errors import DomainError, ValidationFailed
from medreg.core.i18n import _
from medreg.core.jobs import STATUS_LABELS as JOB_LABELS
from medreg.core.jobs import may_see
from medreg.core.settings import get_settings
from medreg.core.templating import register_nav, render
from medreg.premarket.innovation.pages_forms import form_error, refused, see_other, version_of
from medreg.signals import analyses, pipeline, scheduling
from medreg.signals.criteria import RULES
from medreg.signals.jobs import MAX_KEEP
from medreg.signals.pages import LEVEL_LABELS, STATUS_LABELS, posted
from medreg.signals.runs import get_run, run_cases
from medreg.signals.states import CENTRE

router = pages_router(prefix="/signals", tags=["signals pages"])
Db = Depends(get_session)
Centre = Depends(require_roles(*CENTRE))
AnalysisId = Path(ge=1, le=MAX_ID, description="signal analysis id")
RunId = Path(ge=1, le=MAX_ID, description="signal run id")

register_nav("/signals/analyses/", _("Signal analyses"), roles=sorted(CENTRE),
             description=_("The analyses run after each snapshot of the reports, and their runs"), order=46)

ANNEX_LABELS = {"A": _("Annex A: medical device problem"),
                "E": _("Annex E: clinical signs, symptoms or conditions"),
                "F": _("Annex F: health impact")}
STRATA_LABELS = {"year": _("Year"), "sex": _("Sex"), "age_band": _("Age band"),
                 "reporter_type": _("Reporter type")}
STATISTICS = {"prr": "PRR", "ror": "ROR", "ic": "IC (BCPNN)", "ebgm": "EBGM (GPS)"}
FLAGS = ("1", "on", "true")
DONE_LABELS = {"created": _("The analysis was created."), "changed": _("The analysis was changed."),
               "enable": _("The analysis will run after each snapshot."),
               "disable": _("The analysis will no longer run after each snapshot."),
               "delete": _("The analysis was deleted."), "run": _("A run of the analysis was queued."),
               "schedule": _("The snapshot schedule was saved."),
               "own-schedule": _("When the analysis runs was saved.")}
EVERY_LABELS = {"weekly": _("Weekly"), "daily": _("Daily"), "interval": _("Every N minutes"),
                "monthly": _("Monthly")}
OWN_EVERY_LABELS = {"snapshot": _("After each snapshot")} | EVERY_LABELS
WEEKDAY_LABELS = {1: _("Monday"), 2: _("Tuesday"), 3: _("Wednesday"), 4: _("Thursday"), 5: _("Friday"),
                  6: _("Saturday"), 7: _("Sunday")}
OUTCOME_LABELS = {"queued": _("A job was queued"), "skipped": _("Skipped: the previous run had not finished"),
                  "failed": _("Not started: the job was refused")}


def _whole(form: FormData, name: str, limit: int) -> int:
    raw = str(form.get(name) or "").strip()
    if not raw.isdigit() or len(raw) > 9 or not 1 <= int(raw) <= limit:
        raise ValidationFailed("'{name}' must be a whole number from 1 to {limit}.", field=name,
                               params={"name": name, "limit": limit})
    return int(raw)


def _threshold(form: FormData) -> float | None:
    raw = str(form.get("threshold") or "").strip()
    if not raw:
        return None  # the published threshold
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if len(raw) > 30 or not math.isfinite(value):
        raise ValidationFailed("The threshold must be a number.", field="threshold")
    return value


def values_from(form: FormData) -> dict:
    """The analysis fields of a posted form (the service checks the rest: names, levels, criteria)."""
    return {"name": str(form.get("name") or "").strip(),
            "active": str(form.get("active") or "") in FLAGS,
            "event_level": _whole(form, "event_level", 3),
            "annexes": "".join(a for a in ANNEX_LABELS if a in form.getlist("annexes")),
            "device_level": str(form.get("device_level") or ""),
            "strata": ",".join(n for n in form.getlist("strata") if isinstance(n, str)),
            "statistic": str(form.get("statistic") or ""),
            "threshold": _threshold(form),
            "min_n": _whole(form, "min_n", 1_000_000),
            "engine": str(form.get("engine") or "")}


def _shown(a, form: FormData | None = None) -> dict:
    """The values the form shows: what was posted (after a refusal), else the analysis or the defaults."""
    if form is not None:
        text = {k: str(form.get(k) or "") for k in ("name", "event_level", "device_level", "statistic",
                                                      "threshold", "min_n", "engine")}
        return text | {"active": str(form.get("active") or "") in FLAGS, "annexes": form.getlist("annexes"),
                       "strata": form.getlist("strata")}
    src = {f: getattr(a, f) for f in analyses.FIELDS} if a is not None else analyses.DEFAULTS | {"name": ""}
    return src | {"annexes": list(src["annexes"]), "strata": [n for n in src["strata"].split(",") if n],
                  "threshold": "" if src["threshold"] is None else f"{src['threshold']:.15g}"}


def _choices() -> dict:
    return {"annex_labels": ANNEX_LABELS, "strata_labels": {n: STRATA_LABELS[n] for n in pipeline.STRATA},
            "level_labels": LEVEL_LABELS, "statistics": STATISTICS, "engines": pipeline.ENGINES,
            "defaults": {k: rule[1] for k, rule in RULES.items()}}


def recurrence_values(form: FormData) -> dict:
    """The recurrence of a posted schedule form (the service checks it)."""
    every = str(form.get("every") or "")
    return {"every": every,
            "at": str(form.get("at") or "").strip() if every in ("daily", "weekly", "monthly") else None,
            "weekday": _whole(form, "weekday", 7) if every == "weekly" else None,
            "day_of_month": _whole(form, "day_of_month", 31) if every == "monthly" else None,
            "interval_minutes": _whole(form, "interval_minutes", 44640) if every == "interval" else None}


def schedule_values(form: FormData) -> dict:
    """The snapshot schedule of a posted form (the service checks the recurrence)."""
    keep = _whole(form, "keep", MAX_KEEP) if str(form.get("keep") or "").strip() else None
    return recurrence_values(form) | {"enabled": str(form.get("enabled") or "") in FLAGS, "keep": keep}


def _snapshot_version(form: FormData) -> int | None:
    """Run now's snapshot: empty for the next one (exported first), else an existing version."""
    raw = str(form.get("snapshot_version") or "").strip()
    return _whole(form, "snapshot_version", 999_999) if raw else None


def _list(request: Request, session: Session, actor: Actor, error=None, status_code: int = 200) -> Response:
    rows = analyses.overview(session, actor)
    context = {"rows": rows, "error": error, "job_labels": JOB_LABELS, **_choices(),
               "done_labels": DONE_LABELS, "polling": any(r.pending for r in rows),
               "may_see_job": lambda job: may_see(actor, job), "snap": scheduling.current(session, actor),
               "keep_setting": get_settings().signals_keep_snapshots,
               "every_labels": EVERY_LABELS, "weekday_labels": WEEKDAY_LABELS,
               "outcome_labels": OUTCOME_LABELS,
               "snapshots": analyses.snapshots(get_settings().signals_snapshot_dir, limit=20)}
    if request.headers.get("HX-Request") and error is None:
        return render(request, "signals/_analysis_rows.html", context)
    return render(request, "signals/analyses.html", context, status_code=status_code)


def _form(request: Request, analysis, error=None, form: FormData | None = None,
          status_code: int = 200, session: Session | None = None, actor: Actor | None = None) -> Response:
    own = (scheduling.analysis_schedule(session, actor, analysis.id)
           if analysis is not None and session is not None else None)
    return render(request, "signals/analysis_form.html", {
        "a": analysis, "v": _shown(analysis, form), "error": error, "own": own,
        "own_every_labels": OWN_EVERY_LABELS,
        "weekday_labels": WEEKDAY_LABELS, "outcome_labels": OUTCOME_LABELS, **_choices()},
        status_code=status_code)


@router.get("/analyses/")
def analysis_list(request: Request, session: Session = Db, actor: Actor = Centre) -> Response:
    return _list(request, session, actor)


@router.post("/analyses/schedule")
def schedule_set(request: Request, form: FormData = Depends(posted), session: Session = Db,
                 actor: Actor = Centre) -> Response:
    """Set the snapshot schedule; a refusal re-renders the list with the reason next to the field."""
    try:
        version = version_of(form) if form.get("expected_version") is not None else None
        scheduling.set_schedule(session, actor, schedule_values(form), expected_version=version)
    except DomainError as err:
        refused(session, err)
        return _list(request, session, actor, form_error(request, "schedule", err, form), err.http_status)
    return see_other("/signals/analyses/?done=schedule")


@router.get("/analyses/new")
def analysis_new(request: Request, actor: Actor = Centre) -> Response:
    return _form(request, None)


@router.post("/analyses/")
def analysis_create(request: Request, form: FormData = Depends(posted), session: Session = Db,
                    actor: Actor = Centre) -> Response:
    try:
        a = analyses.create_analysis(session, actor, values_from(form))
    except DomainError as err:
        refused(session, err)
        return _form(request, None, form_error(request, "analysis", err, form), form, err.http_status)
    return see_other(f"/signals/analyses/?done=created&id={a.id}")


@router.get("/analyses/{analysis_id:int}")
def analysis_edit(request: Request, analysis_id: int = AnalysisId, session: Session = Db,
                  actor: Actor = Centre) -> Response:
    a = analyses.get_analysis(session, actor, analysis_id)
    return _form(request, a, session=session, actor=actor)


@router.post("/analyses/{analysis_id:int}")
def analysis_update(request: Request, analysis_id: int = AnalysisId, form: FormData = Depends(posted),
                    session: Session = Db, actor: Actor = Centre) -> Response:
    try:
        analyses.update_analysis(session, actor, analysis_id, values_from(form),
                                 expected_version=version_of(form))
    except DomainError as err:
        refused(session, err)
        a = analyses.get_analysis(session, actor, analysis_id)
        return _form(request, a, form_error(request, "analysis", err, form), form, err.http_status, session,
                     actor)
    return see_other(f"/signals/analyses/?done=changed&id={analysis_id}")


@router.post("/analyses/{analysis_id:int}/schedule")
def analysis_schedule(request: Request, analysis_id: int = AnalysisId, form: FormData = Depends(posted),
                      session: Session = Db, actor: Actor = Centre) -> Response:
    """When the analysis runs: after each snapshot, or its own schedule; a refusal re-renders the form."""
    try:
        scheduling.set_analysis_schedule(session, actor, analysis_id, recurrence_values(form),
                                         expected_version=version_of(form))
    except DomainError as err:
        refused(session, err)
        a = analyses.get_analysis(session, actor, analysis_id)
        return _form(request, a, form_error(request, "own-schedule", err, form), None, err.http_status,
                     session, actor)
    return see_other(f"/signals/analyses/?done=own-schedule&id={analysis_id}")


@router.post("/analyses/{analysis_id:int}/{action}")
def analysis_act(request: Request, analysis_id: int = AnalysisId,
                 action: str = Path(pattern="^(enable|disable|delete|run)$"),
                 form: FormData = Depends(posted), session: Session = Db, actor: Actor = Centre) -> Response:
    """Enable or disable, delete, or run now; a refusal re-renders the list with the reason."""
    query = f"done={action}&id={analysis_id}"
    try:
        if action in ("enable", "disable"):
            analyses.update_analysis(session, actor, analysis_id, {"active": action == "enable"},
                                     expected_version=version_of(form))
        elif action == "delete":
            analyses.delete_analysis(session, actor, analysis_id, expected_version=version_of(form))
        else:
            job = analyses.run_now(session, actor, analysis_id, get_settings().signals_snapshot_dir,
                                   _snapshot_version(form))
            query += f"&queued={job.id}"
    except DomainError as err:
        refused(session, err)
        error = form_error(request, f"{action}-{analysis_id}", err, form)
        return _list(request, session, actor, error, err.http_status)
    return see_other(f"/signals/analyses/?{query}")


@router.get("/runs/{run_id:int}")
def run_page(request: Request, run_id: int = RunId, session: Session = Db, actor: Actor = Centre) -> Response:
    return render(request, "signals/run.html", {
        "run": get_run(session, actor, run_id), "cases": run_cases(session, actor, run_id),
        "status_labels": STATUS_LABELS, "level_labels": LEVEL_LABELS})
