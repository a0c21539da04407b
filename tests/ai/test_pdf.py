"""PDF reports (WeasyPrint): the run report, the comparison report and the evidence pack are produced,
carry the key figures (read back with pypdf), and draw curves only where the sealing rules allow."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from medreg.ai import plots, service_evidence, service_runs
from tests.ai.test_api import _user
from tests.ai.test_evidence import runs  # noqa: F401  (fixture)
from tests.ai.test_sealed_detection import body, detection_db, lesion_cases, marks_for
from tests.ai.world import build
from tests.web.test_registration_support import bearer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _text(response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf" and response.content[:5] == b"%PDF-"
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_run_comparison_and_evidence_reports(client, db, runs):  # noqa: F811
    w, r1, r2, _r3 = runs
    pack = service_evidence.create_pack(db, w.reg_a, kind="version_change", run_a=r1.id, run_b=r2.id,
                                        changes=["training_data_added"], registration_reference="REF-PDF-1")
    cmp = service_runs.compare_runs(db, w.reg_a, r1.id, r2.id)
    db.commit()
    reg, cur = bearer(client, _user(db, w.reg_a)), bearer(client, _user(db, w.curator))
    auc = next(e for e in r1.metrics["metrics"] if e["metric"] == "auc")
    text = _flat(_text(client.get(f"/ai/runs/{r1.id}/report.pdf?lang=en", headers=reg)))
    assert f"Evaluation run #{r1.id}" in text and f"{auc['estimate']:.4f}" in text
    assert f"{auc['ci_lower']:.4f} – {auc['ci_upper']:.4f}" in text and r1.result_sha256[:32] in text
    assert "verified" in text and "ROC curve" not in text  # no curve for a registrant
    cur_text = _flat(_text(client.get(f"/ai/runs/{r1.id}/report.pdf?lang=en", headers=cur)))
    assert "ROC curve (reviewers only)" in cur_text
    text = _flat(_text(client.get(f"/ai/compare/report.pdf?run_a={r1.id}&run_b={r2.id}&lang=en",
                                  headers=reg)))
    for row in cmp["comparisons"]:
        assert f"{row['a']:.4f}" in text and f"{row['b']:.4f}" in text and row["verdict"] in text
    text = _flat(_text(client.get(f"/ai/evidence/{pack.id}/report.pdf?lang=en", headers=reg)))
    assert f"Evidence pack #{pack.id}" in text and "REF-PDF-1" in text and pack.pack_sha256[:32] in text
    assert pack.decision["decided_by"][0] in text
    zh = _flat(_text(client.get(f"/ai/evidence/{pack.id}/report.pdf?lang=zh_CN", headers=cur)))
    assert "证据" in zh or "审评" in zh
    other = bearer(client, _user(db, w.reg_b))
    assert client.get(f"/ai/runs/{r1.id}/report.pdf", headers=other).status_code == 404
    assert client.get(f"/ai/evidence/{pack.id}/report.pdf", headers=other).status_code == 404


def test_detection_run_report_plots_the_froc(client, db):
    w = build(db)
    cases = lesion_cases(20, seed=4)
    _d, v = detection_db(db, w, "DET-PDF", cases)
    run = service_runs.submit_run(db, w.reg_a, v.id, body(marks_for(cases)))
    db.commit()
    reg, cur = bearer(client, _user(db, w.reg_a)), bearer(client, _user(db, w.curator))
    text = _flat(_text(client.get(f"/ai/runs/{run.id}/report.pdf?lang=en", headers=reg)))
    assert f"CPM: {run.metrics['cpm']['value']:.4f}" in text
    assert "Lesion sensitivity at the stated false-positive rates" in text and "1/8" in text  # SVG axis
    text = _flat(_text(client.get(f"/ai/runs/{run.id}/report.pdf?lang=en", headers=cur)))
    assert "FROC curve (reviewers only)" in text


def test_svg_plots_place_points_on_their_axes():
    svg = plots.roc_svg([([0, 0.5, 1], [0, 0.8, 1])], "FPR", "TPR")
    lo, hi = plots.PAD, plots.PAD + plots.PLOT
    mid = f"{lo + plots.PLOT / 2:.1f},{hi - 0.8 * plots.PLOT:.1f}"
    assert f'points="{lo:.1f},{hi:.1f} {mid} {hi:.1f},{lo:.1f}"' in svg
    froc = plots.froc_svg([0.125, 1, 8, 16], [0.5, 0.7, 0.9, 1.0], "FP/image", "Sensitivity")
    # 1/8 on the left edge, 1 at half-way on the log2 axis, 8 on the right edge; 16 is cut
    assert f'points="{lo:.1f},{hi - 0.5 * plots.PLOT:.1f} {lo + plots.PLOT / 2:.1f},' in froc
    assert f"{hi:.1f},{hi - 0.9 * plots.PLOT:.1f}\"" in froc and froc.count("<polyline") == 1
