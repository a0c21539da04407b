"""Reports as PDF (WeasyPrint): the run report, the comparison report and the evidence pack, with ROC and
FROC plots as SVG.

Curves follow the sealing rules of the services: the full ROC or FROC curve (whose steps sit at the
registrant's own scores and would reveal labels or lesion locations) is drawn for curators only; a
registrant's detection report plots the lesion sensitivities at the stated FP rates it is given anyway.
"""

from __future__ import annotations

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from medreg.ai import plots, service, service_evidence, service_runs
from medreg.ai.metric_names import metric_name
from medreg.ai.models import EvalDatabase, EvalVersion
from medreg.core import i18n
from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.db import MAX_ID
from medreg.core.deps import get_session, pages_router, require_login
from medreg.core.i18n import _
from medreg.core.templating import env, register_global, request_locale

T = i18n.gettext  # translate in the locale set for the report (``_`` only marks msgids)
router = pages_router(prefix="/ai", tags=["ai reports (PDF)"])
register_global("ai_metric_name", metric_name)  # the PDF templates name metrics as the pages do
Db = Depends(get_session)
Who = Depends(require_login)


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported on use: it loads Pango

    return HTML(string=html).write_pdf()


def _pdf(request: Request, template: str, context: dict, filename: str) -> Response:
    locale = request_locale(request)
    token = i18n.current_locale.set(locale)
    try:
        html = env.get_template(template).render({"locale": locale, "now": utcnow(), **context})
    finally:
        i18n.current_locale.reset(token)
    return Response(html_to_pdf(html), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


def _roc_plot(session: Session, actor: Actor, runs: list[int]) -> tuple[str, str]:
    """Overlaid curves of ``runs`` for curators; nothing for anyone else."""
    if not service.is_curator(actor):
        return "", ""
    curves = [service_runs.run_roc(session, actor, r) for r in runs]
    if curves and "fp_per_image" in curves[0]:
        c = curves[0]
        return (plots.froc_svg(c["fp_per_image"], c["sensitivity"], T(_("False positives per image")),
                               T(_("Sensitivity"))), T(_("FROC curve (reviewers only)")))
    if not curves or not curves[0]["fpr"]:
        return "", ""
    svg = plots.roc_svg([(c["fpr"], c["tpr"]) for c in curves], "1 − " + T(_("Specificity")),
                        T(_("Sensitivity")))
    return svg, T(_("ROC curve (reviewers only)"))


@router.get("/runs/{run_id:int}/report.pdf")
def run_pdf(request: Request, run_id: int = Path(ge=1, le=MAX_ID), session: Session = Db, actor: Actor = Who):
    run = service_runs.get_run(session, actor, run_id)
    version = session.get(EvalVersion, run.version_id)
    token = i18n.current_locale.set(request_locale(request))
    try:
        plot, caption = _roc_plot(session, actor, [run.id])
        m = run.metrics
        if not plot and m.get("task") == "detection":
            rates = m["cpm"]["rates"]
            plot = plots.froc_svg(rates, [e["estimate"] for e in m["metrics"]],
                                  T(_("False positives per image")), T(_("Sensitivity")))
            caption = T(_("Lesion sensitivity at the stated false-positive rates"))
    finally:
        i18n.current_locale.reset(token)
    return _pdf(request, "ai/pdf/run.html",
                {"run": run, "m": run.metrics, "version": version,
                 "database": session.get(EvalDatabase, version.database_id), "plot": plot,
                 "plot_caption": caption, "verify": service_runs.verify_run(session, actor, run_id)},
                f"ai-run-{run.id}.pdf")


@router.get("/compare/report.pdf")
def compare_pdf(request: Request, run_a: int = Query(ge=1, le=MAX_ID), run_b: int = Query(ge=1, le=MAX_ID),
                margin: float = Query(0.05, gt=0, lt=1), fp_rate: float = Query(1.0, gt=0, le=100),
                mode: str = Query("versions", pattern="^(versions|platforms)$"), session: Session = Db,
                actor: Actor = Who):
    if mode == "platforms":
        result = service_runs.equivalence_runs(session, actor, run_a, run_b, fp_rate=fp_rate)
    else:
        result = service_runs.compare_runs(session, actor, run_a, run_b, margin, fp_rate)
    token = i18n.current_locale.set(request_locale(request))
    try:
        plot, caption = _roc_plot(session, actor, [run_a, run_b])
    finally:
        i18n.current_locale.reset(token)
    return _pdf(request, "ai/pdf/compare.html",
                {"result": result, "run_a": service_runs.get_run(session, actor, run_a),
                 "run_b": service_runs.get_run(session, actor, run_b), "plot": plot, "plot_caption": caption},
                f"ai-compare-{run_a}-{run_b}.pdf")


@router.get("/evidence/{pack_id:int}/report.pdf")
def evidence_pdf(request: Request, pack_id: int = Path(ge=1, le=MAX_ID), session: Session = Db,
                 actor: Actor = Who):
    pack = service_evidence.get_pack(session, actor, pack_id)
    token = i18n.current_locale.set(request_locale(request))
    try:
        plot, caption = _roc_plot(session, actor, [pack.run_a_id, pack.run_b_id])
    finally:
        i18n.current_locale.reset(token)
    return _pdf(request, "ai/pdf/evidence.html",
                {"pack": pack, "plot": plot, "plot_caption": caption,
                 "verify": service_evidence.verify_pack(session, actor, pack_id)},
                f"ai-evidence-{pack.id}.pdf")
