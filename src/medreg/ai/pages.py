"""HTML pages of the AI domain over the same services as ``api``: the evaluation databases (test centre
and registrants), a version page with the run form (registrants upload ``case_id,score`` CSV), runs and
their metrics, the comparison of two runs, and the change-triage form (reviewers and registrants).
Each data page has a JSON twin under ``/api/ai``.
"""

from __future__ import annotations

import csv
import io

from fastapi import Depends, Path, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from medreg.ai import inputs_detection, queries, service, service_citations, service_evidence, service_runs
from medreg.ai.metric_names import metric_name
from medreg.ai.triage_data import default_rules
from medreg.core.actor import Actor
from medreg.core.db import MAX_ID
from medreg.core.deps import get_session, pages_router, require_login
from medreg.core.errors import DomainError, NotFound, ValidationFailed
from medreg.core.i18n import _, translate_error
from medreg.core.related import register_related
from medreg.core.templating import register_global, register_nav, render, request_locale

router = pages_router(prefix="/ai", tags=["ai pages"])
register_global("ai_metric_name", metric_name)
Db = Depends(get_session)
Who = Depends(require_login)
MAX_CSV = 20 * 1024 * 1024
# The verdicts the comparison pages show through _() (paired.VERDICTS, equivalence), marked for extraction.
VERDICT_MSGIDS = (_("superior"), _("non-inferior"), _("inferior"), _("inconclusive"), _("equivalent"),
                  _("not shown"))
VersionId = Path(ge=1, le=MAX_ID)
RunId = Path(ge=1, le=MAX_ID)
PackId = Path(ge=1, le=MAX_ID)

register_related(service_citations.APPLICATION, "ai-evidence", service_citations.evidence_links)
register_nav("/ai/", _("AI evaluation"), roles=["reviewer", "admin", "registrant"],
             description=_("Sealed evaluation databases, runs, comparisons and change triage"), order=40)


async def posted(request: Request) -> FormData:
    return await request.form()


Form = Depends(posted)


def _error(request: Request, err: DomainError) -> dict:
    return {"message": translate_error(err, request_locale(request)), "field": err.field}


@router.get("/")
def index(request: Request, session: Session = Db, actor: Actor = Who):
    dbs = [(d, queries.list_versions(session, d.id)) for d in queries.list_databases(session)]
    return render(request, "ai/index.html", {"databases": dbs, "curator": service.is_curator(actor)})


def _version_page(request: Request, session: Session, actor: Actor, version_id: int, error=None,
                  values=None, status_code: int = 200):
    v = service.get_version(session, version_id)
    return render(request, "ai/version.html", {
        "v": v, "db": service.get_database(session, v.database_id), "curator": service.is_curator(actor),
        "verify": service.verify_version(session, actor, v.id) if service.is_curator(actor) else None,
        "runs": service_runs.list_runs(session, actor, v.id),
        "n_case_ids": len(service.case_ids(session, v.id)),
        "error": error, "values": values or {}}, status_code=status_code)


@router.get("/versions/{version_id:int}")
def version(request: Request, version_id: int = VersionId, session: Session = Db, actor: Actor = Who):
    return _version_page(request, session, actor, version_id)


def _outputs_from(upload, matching: dict | None = None) -> list[dict]:
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValidationFailed(_("Choose the outputs CSV file."), field="outputs")
    raw = upload.file.read(MAX_CSV + 1)
    if len(raw) > MAX_CSV:
        raise ValidationFailed(_("The outputs file is too large."), field="outputs")
    try:
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error):
        raise ValidationFailed(_("The outputs file must be a UTF-8 CSV file."), field="outputs") from None
    if matching:  # detection: one row per mark
        return inputs_detection.marks_from_rows(rows, rule=matching["rule"], dims=matching.get("dims", 2))
    out = []
    for r in rows:
        item: dict = {"case_id": (r.get("case_id") or "").strip()}
        if "class" in r:
            item["class"] = (r.get("class") or "").strip()
        else:
            try:
                item["score"] = float(r.get("score") or "nan")
            except ValueError:
                item["score"] = None
            if item["score"] != item["score"]:
                item["score"] = None
        out.append(item)
    return out


@router.post("/versions/{version_id:int}/runs")
def submit(request: Request, version_id: int = VersionId, form: FormData = Form, session: Session = Db,
           actor: Actor = Who):
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        try:
            threshold = float(values.get("threshold") or 0.5)
        except ValueError:
            raise ValidationFailed(_("The threshold must be a number."), field="threshold") from None
        body = {"algorithm_name": values.get("algorithm_name", ""),
                "algorithm_version": values.get("algorithm_version", ""),
                "platform": {k: values.get(k, "") for k in ("hardware", "os", "accelerator", "framework")},
                "threshold": threshold}
        matching = service.get_version(session, version_id).matching
        body["outputs"] = _outputs_from(form.get("outputs"), matching)
        run = service_runs.submit_run(session, actor, version_id, body)
    except DomainError as err:
        session.rollback()
        if isinstance(err, NotFound):
            raise
        return _version_page(request, session, actor, version_id, _error(request, err), values,
                             err.http_status)
    return RedirectResponse(f"/ai/runs/{run.id}", status_code=303)


@router.get("/runs")
def runs(request: Request, session: Session = Db, actor: Actor = Who):
    return render(request, "ai/runs.html", {"runs": service_runs.list_runs(session, actor)})


@router.get("/runs/{run_id:int}")
def run_page(request: Request, run_id: int = RunId, session: Session = Db, actor: Actor = Who):
    run = service_runs.get_run(session, actor, run_id)
    roc = service_runs.run_roc(session, actor, run_id) if service.is_curator(actor) else None
    points = froc_points = ""
    if roc and "fpr" in roc:
        points = " ".join(f"{20 + 260 * x:.1f},{280 - 260 * y:.1f}" for x, y in zip(roc["fpr"], roc["tpr"],
                                                                                   strict=True))
    elif roc:  # detection: FROC, false positives per image on 0..8
        froc_points = " ".join(f"{20 + 260 * min(x, 8) / 8:.1f},{280 - 260 * y:.1f}"
                               for x, y in zip(roc["fp_per_image"], roc["sensitivity"], strict=True))
    return render(request, "ai/run.html", {"run": run, "m": run.metrics, "roc_points": points,
                                           "froc_points": froc_points,
                                           "verify": service_runs.verify_run(session, actor, run_id)})


@router.get("/compare")
def compare(request: Request, run_a: int | None = Query(None, ge=1, le=MAX_ID),
            run_b: int | None = Query(None, ge=1, le=MAX_ID), margin: float = Query(0.05, gt=0, lt=1),
            fp_rate: float = Query(1.0, gt=0, le=100),
            mode: str = Query("versions", pattern="^(versions|platforms)$"), session: Session = Db,
            actor: Actor = Who):
    result, error = None, None
    if run_a and run_b:
        try:
            if mode == "platforms":
                result = service_runs.equivalence_runs(session, actor, run_a, run_b, fp_rate=fp_rate)
            else:
                result = service_runs.compare_runs(session, actor, run_a, run_b, margin, fp_rate)
        except DomainError as err:
            error = _error(request, err)
    return render(request, "ai/compare.html", {"result": result, "error": error, "mode": mode,
                                               "change_kinds": list(default_rules().change_kinds),
                                               "runs": service_runs.list_runs(session, actor),
                                               "run_a": run_a, "run_b": run_b, "margin": margin,
                                               "fp_rate": fp_rate},
                  status_code=400 if error else 200)


def _triage_context(request: Request) -> dict:
    rules = default_rules()
    zh = request_locale(request).startswith("zh")
    kinds = [(k, v["zh"] if zh else v["en"]) for k, v in rules.change_kinds.items()]
    return {"kinds": kinds, "zh": zh}


@router.get("/triage")
def triage_form(request: Request, actor: Actor = Who):
    return render(request, "ai/triage.html", {**_triage_context(request), "decision": None, "chosen": [],
                                              "evidence": {}})


_EVIDENCE = {"": None, "true": True, "false": False, "better": "better", "worse": "worse"}


@router.post("/triage")
def triage_post(request: Request, form: FormData = Form, actor: Actor = Who):
    chosen = [str(v) for v in form.getlist("changes")]
    evidence = {k: _EVIDENCE.get(str(form.get(k, "")), "invalid")
                for k in ("significant_difference", "direction", "platform_equivalent")}
    ctx = {**_triage_context(request), "chosen": chosen, "evidence": evidence, "decision": None,
           "error": None}
    try:
        ctx["decision"] = service_runs.triage_change(chosen, evidence)
    except DomainError as err:
        ctx["error"] = _error(request, err)
        return render(request, "ai/triage.html", ctx, status_code=err.http_status)
    return render(request, "ai/triage.html", ctx)


def _number(values: dict, name: str, default: float) -> float:
    raw = (values.get(name) or "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValidationFailed(_("'{name}' must be a number."), field=name, params={"name": name}) from None


@router.post("/evidence")
def create_evidence(request: Request, form: FormData = Form, session: Session = Db, actor: Actor = Who):
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        try:
            run_a, run_b = int(values.get("run_a", "")), int(values.get("run_b", ""))
        except ValueError:
            raise ValidationFailed(_("Choose two runs."), field="run_a") from None
        if not (1 <= run_a <= MAX_ID and 1 <= run_b <= MAX_ID):
            raise ValidationFailed(_("Choose two runs."), field="run_a")
        kind = "platform_equivalence" if values.get("mode") == "platforms" else "version_change"
        pack = service_evidence.create_pack(session, actor, kind=kind, run_a=run_a, run_b=run_b,
                                            changes=[str(c) for c in form.getlist("changes")],
                                            registration_reference=values.get("registration_reference"),
                                            margin=_number(values, "margin", 0.05),
                                            fp_rate=_number(values, "fp_rate", 1.0))
    except DomainError as err:
        session.rollback()
        if isinstance(err, NotFound):
            raise
        return render(request, "ai/evidence.html", {"pack": None, "error": _error(request, err)},
                      status_code=err.http_status)
    return RedirectResponse(f"/ai/evidence/{pack.id}", status_code=303)


@router.get("/evidence/{pack_id:int}")
def evidence(request: Request, pack_id: int = PackId, session: Session = Db, actor: Actor = Who):
    pack = service_evidence.get_pack(session, actor, pack_id)
    verify = service_evidence.verify_pack(session, actor, pack_id)
    return render(request, "ai/evidence.html", {"pack": pack, "error": None, "verify": verify,
                                                **_citation_context(session, actor, pack_id),
                                                **_triage_context(request)})


def _citation_context(session: Session, actor: Actor, pack_id: int) -> dict:
    return {"citations": service_citations.citations_of_pack(session, actor, pack_id),
            "citable": service_citations.citable_applications(session, actor)}


@router.post("/evidence/{pack_id:int}/cite")
def cite_evidence(request: Request, pack_id: int = PackId, form: FormData = Form, session: Session = Db,
                  actor: Actor = Who):
    raw = str(form.get("application_id", ""))
    try:
        app_id = int(raw) if raw.isdigit() and len(raw) <= 18 else 0
        if not 1 <= app_id <= MAX_ID:
            raise ValidationFailed(_("Choose a change registration application."), field="application_id")
        service_citations.cite_pack(session, actor, pack_id, app_id)
    except DomainError as err:
        session.rollback()
        pack = service_evidence.get_pack(session, actor, pack_id)
        return render(request, "ai/evidence.html",
                      {"pack": pack, "error": _error(request, err),
                       "verify": service_evidence.verify_pack(session, actor, pack_id),
                       **_citation_context(session, actor, pack_id), **_triage_context(request)},
                      status_code=err.http_status)
    return RedirectResponse(f"/ai/evidence/{pack_id}", status_code=303)


@router.get("/applications/{application_id:int}/evidence")
def application_evidence(request: Request, application_id: int = Path(ge=1, le=MAX_ID), session: Session = Db,
                         actor: Actor = Who):
    packs = service_citations.packs_of_application(session, actor, application_id)
    return render(request, "ai/application_evidence.html", {"packs": packs, "application_id": application_id})
