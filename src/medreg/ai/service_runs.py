"""Use cases of evaluation runs: a registrant submits one output per case, the platform scores it against
the sealed labels and returns only aggregate metrics, signed and hashed; comparisons of two runs.

Fishing: a registrant who could re-run at will could learn a case's label by changing one output and
watching the counts move. Runs are therefore rate-limited per organisation and version
(``RUN_LIMIT`` runs per ``RUN_WINDOW``; a medreg policy, no legal text sets it) and every run is kept
(runs are immutable; nothing deletes them). Subgroups smaller than ``MIN_SUBGROUP`` cases are reported
without metrics; no ROC curve is returned (its steps at the registrant's own scores would spell out the
labels) and the threshold of an operating point at a fixed specificity is withheld (the score just below
it would be known to be a negative case).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import medreg
from medreg.ai import report, service_detection
from medreg.ai.comparison import difference_reason
from medreg.ai.metric_names import metric_name
from medreg.ai.metrics_roc import roc_curve
from medreg.ai.models import EvalDatabase, EvalRun, EvalVersion
from medreg.ai.schemas import RunSubmit
from medreg.ai.service import get_version, is_curator, need_curator, parse, sealed_cases
from medreg.ai.triage import triage
from medreg.ai.triage_data import default_rules
from medreg.core import audit
from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.errors import NotFound, PermissionDenied, RateLimited, ValidationFailed
from medreg.core.said import _, english, said
from medreg.core.settings import get_settings

RUN = "ai_eval_run"
RUN_LIMIT = 3
RUN_WINDOW = timedelta(hours=24)
MIN_SUBGROUP = 20


def sign(result_sha256: str) -> str:
    return hmac.new(get_settings().secret_key.encode(), result_sha256.encode(), hashlib.sha256).hexdigest()


def _outputs(db: EvalDatabase, version: EvalVersion, d: RunSubmit, ids: list[str]) -> dict:
    """One valid output per case of the version, all or nothing."""
    known, out = set(ids), {}
    for i, o in enumerate(d.outputs):
        if o.case_id not in known:
            raise ValidationFailed("Case '{case_id}' of the outputs is not in the evaluation set.",
                                   field=f"outputs.{i}.case_id", params={"case_id": o.case_id})
        if o.case_id in out:
            raise ValidationFailed("Case '{case_id}' appears twice.", field=f"outputs.{i}.case_id",
                                   params={"case_id": o.case_id})
        if o.marks is not None:
            raise ValidationFailed("Only a detection task has marks.", field=f"outputs.{i}.marks")
        if db.task == "binary":
            if o.score is None or not (0.0 <= o.score <= 1.0):
                raise ValidationFailed("The score of case '{case_id}' must be a number within [0, 1].",
                                       field=f"outputs.{i}.score", params={"case_id": o.case_id})
            out[o.case_id] = float(o.score)
        else:
            if o.output_class not in (version.categories or []):
                raise ValidationFailed("The class of case '{case_id}' must be one of: {allowed}.",
                                       field=f"outputs.{i}.class",
                                       params={"case_id": o.case_id,
                                               "allowed": ", ".join(version.categories)})
            out[o.case_id] = o.output_class
    missing = [c for c in ids if c not in out]
    if missing:
        raise ValidationFailed("{count} case(s) have no output in {source}, first '{case_id}'.",
                               field="outputs", params={"count": len(missing), "case_id": missing[0],
                                                        "source": "the outputs"})
    return out


def _score(db: EvalDatabase, version: EvalVersion, cases: list, outputs: dict, threshold: float) -> dict:
    labels = [c[1] for c in cases]
    groups = {f: [c[2].get(f, "") for c in cases] for f in version.metadata_fields}
    if db.task != "binary":
        body = report.multiclass_report(labels, [outputs[c[0]] for c in cases], version.categories,
                                        ordinal=True, groups=groups or None)
        return _suppress_small(body)
    y = np.array([int(v) for v in labels], dtype=np.int8)
    s = np.array([outputs[c[0]] for c in cases], dtype=float)
    body = report.binary_report(y, s, threshold=threshold, specificities=(0.9, 0.95), groups=groups or None)
    for op in body.get("operating_points", []):
        # the lowest qualifying threshold is one of the registrant's own scores, and the score just below
        # it would then be known to belong to a negative case: the threshold is not returned
        op["threshold"] = None
    return _suppress_small(body)


def _suppress_small(body: dict) -> dict:
    for sub in body.get("subgroups", []):
        if sub["n"] < MIN_SUBGROUP:
            sub["metrics"], sub["flagged"], sub["suppressed"] = [], [], f"fewer than {MIN_SUBGROUP} cases"
    return body


def _result_record(version: EvalVersion, db: EvalDatabase, run: EvalRun) -> dict:
    return {"database": db.code, "version": version.number, "merkle_root": version.merkle_root,
            "algorithm": [run.algorithm_name, run.algorithm_version], "platform": run.platform,
            "threshold": run.threshold, "outputs_sha256": run.outputs_sha256, "metrics": run.metrics,
            "code_version": run.code_version}


def submit_run(session: Session, actor: Actor, version_id: int, data: RunSubmit | dict,
               *, now: datetime | None = None) -> EvalRun:
    """Score a registrant's outputs against the sealed labels; store and sign the aggregate result."""
    if not actor.has(Role.REGISTRANT) or actor.organisation_id is None:
        raise PermissionDenied("Only a registrant may submit an evaluation run.", field="actor")
    version = get_version(session, version_id)
    db = session.get(EvalDatabase, version.database_id)
    d = parse(RunSubmit, data)
    now = now or utcnow()
    recent = session.scalar(select(func.count()).select_from(EvalRun).where(
        EvalRun.version_id == version.id, EvalRun.organisation_id == actor.organisation_id,
        EvalRun.created_at > now - RUN_WINDOW))
    if recent >= RUN_LIMIT:
        raise RateLimited("At most {limit} runs per evaluation database version in {hours} hours.",
                          field="version_id",
                          params={"limit": RUN_LIMIT, "hours": int(RUN_WINDOW.total_seconds() // 3600)})
    cases = sealed_cases(session, version)
    if db.task == "detection":
        outputs = service_detection.check_outputs(version, d.outputs, [c[0] for c in cases])
        lesions = service_detection.sealed_lesions(session, version)
        metrics = service_detection.score(version, lesions, outputs,
                                          service_detection.groups_of(version, cases), MIN_SUBGROUP)
    else:
        outputs = _outputs(db, version, d, [c[0] for c in cases])
        metrics = _score(db, version, cases, outputs, d.threshold)
    metrics = audit.jsonable(metrics)
    run = EvalRun(version_id=version.id, organisation_id=actor.organisation_id,
                  submitted_by_user_id=actor.user_id, algorithm_name=d.algorithm_name,
                  algorithm_version=d.algorithm_version, platform=d.platform.model_dump(),
                  threshold=d.threshold, outputs=outputs, outputs_sha256=audit.sha256_of(outputs),
                  metrics=metrics, code_version=f"medreg {medreg.__version__}", created_at=now)
    run.result_sha256 = audit.sha256_of(_result_record(version, db, run))
    run.signature = sign(run.result_sha256)
    session.add(run)
    session.flush()
    audit.record(session, actor, "ai.run.submit", RUN, run.id,
                 after={"version_id": version.id,
                        "algorithm": f"{run.algorithm_name} {run.algorithm_version}",
                        "outputs_sha256": run.outputs_sha256, "result_sha256": run.result_sha256})
    return run


def get_run(session: Session, actor: Actor, run_id: int) -> EvalRun:
    """A run its organisation or a curator may see; anyone else is told it does not exist."""
    run = session.get(EvalRun, run_id)
    if run is None or not (is_curator(actor) or (actor.organisation_id is not None
                                                  and run.organisation_id == actor.organisation_id)):
        raise NotFound("Evaluation run {id} not found.", field="run_id", params={"id": run_id})
    return run


def list_runs(session: Session, actor: Actor, version_id: int | None = None) -> list[EvalRun]:
    q = select(EvalRun).order_by(EvalRun.id.desc())
    if not is_curator(actor):
        if actor.organisation_id is None:
            return []
        q = q.where(EvalRun.organisation_id == actor.organisation_id)
    if version_id is not None:
        q = q.where(EvalRun.version_id == version_id)
    return list(session.scalars(q.limit(500)))


def verify_run(session: Session, actor: Actor, run_id: int) -> dict:
    """Recompute the outputs hash, the result hash and the signature of a run (tamper evidence)."""
    run = get_run(session, actor, run_id)
    version = session.get(EvalVersion, run.version_id)
    db = session.get(EvalDatabase, version.database_id)
    result = audit.sha256_of(_result_record(version, db, run))
    checks = {"outputs_sha256": audit.sha256_of(run.outputs) == run.outputs_sha256,
              "result_sha256": result == run.result_sha256,
              "signature": hmac.compare_digest(sign(run.result_sha256), run.signature)}
    return {"run_id": run.id, "checks": checks, "intact": all(checks.values())}


def _pair(session: Session, actor: Actor, run_a: int, run_b: int):
    """Two runs the actor may see, on the same version, with the sealed cases (scoring code only: never
    returned)."""
    a, b = get_run(session, actor, run_a), get_run(session, actor, run_b)
    if a.version_id != b.version_id:
        raise ValidationFailed("Both runs must be on the same evaluation database version.", field="run_b")
    version = session.get(EvalVersion, a.version_id)
    db = session.get(EvalDatabase, version.database_id)
    return a, b, version, db, sealed_cases(session, version)


def _binary(a: EvalRun, b: EvalRun, cases: list):
    y = np.array([int(c[1]) for c in cases], dtype=np.int8)
    sa = np.array([a.outputs[c[0]] for c in cases], dtype=float)
    sb = np.array([b.outputs[c[0]] for c in cases], dtype=float)
    return y, sa, sb


def _groups(version: EvalVersion, cases: list) -> dict[str, list[str]]:
    return {f: [str(c[2].get(f, "")) for c in cases] for f in version.metadata_fields}


def _check_fp_rate(fp_rate: float) -> None:
    if not (math.isfinite(fp_rate) and 0 < fp_rate <= 100):
        raise ValidationFailed("'{name}' must lie within (0, 100].", field="fp_rate",
                               params={"name": "fp_rate"})


def _significant(row: dict) -> bool:
    p = row.get("p_value")
    return isinstance(p, float) and p < 0.05


def compare_runs(session: Session, actor: Actor, run_a: int, run_b: int, margin: float = 0.05,
                 fp_rate: float = 1.0) -> dict:
    """Version B (run_b) against version A (run_a) on the same sealed cases, on the whole set and on every
    subgroup (under MIN_SUBGROUP cases: no numbers), with triage evidence. Binary: McNemar, paired Wald,
    DeLong. Detection: lesion sensitivity at ``fp_rate`` FP/image and the CPM, paired image bootstrap."""
    if not 0 < margin < 1:
        raise ValidationFailed("'{name}' must lie within (0, 1).", field="margin", params={"name": "margin"})
    _check_fp_rate(fp_rate)
    a, b, version, db, cases = _pair(session, actor, run_a, run_b)
    if db.task == "detection":
        lesions = service_detection.sealed_lesions(session, version)
        body = service_detection.compare(version, lesions, a.outputs, b.outputs,
                                         service_detection.groups_of(version, cases), rate=fp_rate,
                                         margin=margin, min_subgroup=MIN_SUBGROUP)
    elif db.task == "multiclass":
        body = report.multiclass_comparison_report(
            [c[1] for c in cases], [a.outputs[c[0]] for c in cases], [b.outputs[c[0]] for c in cases],
            version.categories, margin=margin, groups=_groups(version, cases) or None,
            min_subgroup=MIN_SUBGROUP)
    else:
        y, sa, sb = _binary(a, b, cases)
        body = report.comparison_report(y, sa, sb, threshold=a.threshold, margin=margin,
                                        groups=_groups(version, cases) or None, min_subgroup=MIN_SUBGROUP)
    sig = [r for r in body["comparisons"] if _significant(r)]
    body["evidence"] = ({"significant_difference": False} if not sig else
                        {"significant_difference": True,
                         "direction": "worse" if any(r["b"] < r["a"] for r in sig) else "better"})
    body["runs"] = {"a": a.id, "b": b.id}
    return body


def _detection_equivalence(body: dict, agree: dict, metric_margin: float) -> dict:
    """Detection: equivalent when TOST shows the mean score difference of the marks detecting the same
    lesion on both platforms within +/-score_margin and every paired-bootstrap difference interval lies
    within +/-metric_margin; the per-lesion agreement (exact, kappa) is reported with the reasons."""
    a, k = agree["call_agreement"], agree["call_kappa"]
    fmt = lambda x: said(_("undefined")) if x is None else f"{x:.4f}"  # noqa: E731
    reasons = [said(_("lesions detected or not at {fp_rate} FP/image: exact agreement {agreement} [{lower}, "
                      "{upper}], kappa {kappa} [{kappa_lower}, {kappa_upper}] ({lesion_count} lesions)"),
                    fp_rate=f"{agree['fp_rate']:g}", agreement=fmt(a["estimate"]), lower=fmt(a["ci_lower"]),
                    upper=fmt(a["ci_upper"]), kappa=fmt(k["estimate"]), kappa_lower=fmt(k["ci_lower"]),
                    kappa_upper=fmt(k["ci_upper"]), lesion_count=agree["n_lesions"])]
    t, margin = agree["tost"], agree["score_margin"]
    ok = t is not None and t["equivalent"]
    both = agree["n_detected_both"]
    if t is None:
        reasons.append(said(_("TOST: fewer than 2 lesions detected on both platforms ({lesion_count}), "
                              "equivalence of the mark scores not shown"), lesion_count=both))
    else:
        msgid = (_("TOST: mean mark score difference {difference} over {lesion_count} lesions detected on "
                   "both platforms within +/-{margin} (p = {p})") if ok else
                 _("TOST: mean mark score difference {difference} over {lesion_count} lesions detected on "
                   "both platforms not shown within +/-{margin} (p = {p})"))
        reasons.append(said(msgid, difference=f"{t['mean_difference']:.4f}", lesion_count=both,
                            margin=f"{margin:g}", p=f"{t['p_value']:.4g}"))
    for r in body["comparisons"]:
        d = r["difference"]
        lo, hi = d["ci_lower"], d["ci_upper"]
        if lo is None or hi is None:
            ok = False
            reasons.append(said(_("{metric}: difference undefined"), metric=metric_name(r["metric"])))
            continue
        inside = -metric_margin < lo and hi < metric_margin
        ok = ok and inside
        reasons.append(difference_reason(r["metric"], d["estimate"], lo, hi, inside, metric_margin))
    return {"task": "detection", "n": body["n"], "fp_rate": body["fp_rate"], "difference": "B - A",
            "verdict": "equivalent" if ok else "not shown", "reasons": [english(r) for r in reasons],
            "reasons_i18n": reasons, "n_lesions": agree["n_lesions"],
            "n_detected_both": agree["n_detected_both"],
            "call_agreement": a, "call_kappa": k, "bland_altman": agree["bland_altman"], "tost": t,
            "metric_differences": [r["difference"] for r in body["comparisons"]],
            "score_margin": margin, "metric_margin": metric_margin}


def equivalence_runs(session: Session, actor: Actor, run_a: int, run_b: int, score_margin: float = 0.05,
                     metric_margin: float = 0.02, fp_rate: float = 1.0) -> dict:
    """The same algorithm version on two platforms (run_a registered, run_b new): agreement and verdict."""
    for name, value in (("score_margin", score_margin), ("metric_margin", metric_margin)):
        if not 0 < value < 1:
            raise ValidationFailed("'{name}' must lie within (0, 1).", field=name, params={"name": name})
    _check_fp_rate(fp_rate)
    a, b, version, db, cases = _pair(session, actor, run_a, run_b)
    if (a.algorithm_name, a.algorithm_version) != (b.algorithm_name, b.algorithm_version):
        raise ValidationFailed("Platform equivalence compares the same algorithm version on two platforms.",
                               field="run_b")
    if db.task == "detection":
        lesions = service_detection.sealed_lesions(session, version)
        body = _detection_equivalence(
            service_detection.compare(version, lesions, a.outputs, b.outputs, None, rate=fp_rate,
                                      margin=metric_margin),
            service_detection.agreement(version, lesions, a.outputs, b.outputs, rate=fp_rate,
                                        score_margin=score_margin), metric_margin)
    elif db.task == "multiclass":
        body = report.multiclass_equivalence_report(
            [a.outputs[c[0]] for c in cases], [b.outputs[c[0]] for c in cases], version.categories,
            reference=[c[1] for c in cases], metric_margin=metric_margin)
    else:
        y, sa, sb = _binary(a, b, cases)
        body = report.equivalence_report(sa, sb, labels=y, threshold=a.threshold, score_margin=score_margin,
                                         metric_margin=metric_margin)
    body["runs"] = {"a": a.id, "b": b.id}
    body["platforms"] = {"a": a.platform, "b": b.platform}
    return body


def triage_change(changes: list[str], evidence: dict | None = None) -> dict:
    """Decide the registration route of a described change (pure rules; see medreg.ai.triage)."""
    try:
        return triage(changes, evidence or {}, default_rules()).to_dict()
    except ValueError as err:
        raise ValidationFailed("The change description is not valid: {reason}", field="changes",
                               params={"reason": str(err)}) from None


def run_roc(session: Session, actor: Actor, run_id: int, max_points: int = 200) -> dict:
    """The ROC curve of a binary run, for curators and reviewers only: its steps at the registrant's own
    scores would reveal the labels, so it is never shown to a registrant."""
    need_curator(actor)
    run = get_run(session, actor, run_id)
    version = session.get(EvalVersion, run.version_id)
    task = session.get(EvalDatabase, version.database_id).task
    if task == "detection":
        return service_detection.froc_curve(version, service_detection.sealed_lesions(session, version),
                                            run.outputs, max_points)
    if task != "binary":
        return {"fpr": [], "tpr": []}
    cases = sealed_cases(session, version)
    curve = roc_curve([int(c[1]) for c in cases], [run.outputs[c[0]] for c in cases])
    step = max(1, len(curve.fpr) // max_points)
    idx = sorted(set(range(0, len(curve.fpr), step)) | {len(curve.fpr) - 1})
    return {"fpr": [curve.fpr[i] for i in idx], "tpr": [curve.tpr[i] for i in idx]}
