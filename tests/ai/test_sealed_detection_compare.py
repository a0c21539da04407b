"""Detection runs in the sealed service: metrics by subgroup, version comparison (paired image bootstrap)
with an evidence pack and triage, platform equivalence, sealing and submitting from the CLI and the pages,
and nothing of the lesions reaching a registrant through the API, the pages, the PDF exports, the CLI or
error messages. Lesions and marks are made up by a seeded generator (no patient data)."""

from __future__ import annotations

import io
import json
import re
from contextlib import contextmanager
from datetime import timedelta

import numpy as np
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from medreg.ai import detection_compare as dc
from medreg.ai import report, service_evidence, service_runs
from medreg.ai.detection import CentreDistance, ImageMarks, ImageTruth
from medreg.cli import app as cli_app
from medreg.core import cli_support
from medreg.core.clock import utcnow
from medreg.core.errors import DomainError
from tests.ai.test_api import _user
from tests.ai.test_sealed_detection import body, lesion_cases, marks_for
from tests.ai.world import build
from tests.web.innovation_helpers import browser
from tests.web.test_registration_support import bearer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def with_sites(cases: list[dict]) -> list[dict]:
    """site: 40 images at A, the rest at B (under 20: reported without numbers); vendor: halves."""
    return [{**c, "metadata": {"site": "A" if k < 40 else "B", "vendor": "V1" if k % 2 else "V2"}}
            for k, c in enumerate(cases)]


def detection_version(db, w, code, shift=0.0, n=52):
    cases = with_sites(lesion_cases(n, seed=21, shift=shift))
    from medreg.ai import service

    d = service.register_database(db, w.curator, {"code": code, "name": "Nodules (synthetic)",
                                                  "task": "detection", "modality": "CT"})
    v = service.add_version(db, w.curator, d.id, {"provenance": "synthetic, seeded generator (tests)",
                                                  "matching": {"rule": "centre", "dims": 2},
                                                  "metadata_fields": ["site", "vendor"], "cases": cases})
    return v, cases


def truths_marks(cases, outputs):
    truths = {c["case_id"]: ImageTruth(centres=np.array([x[:2] for x in c["lesions"]], float).reshape(-1, 2),
                                       radii=np.array([x[2] for x in c["lesions"]], float)) for c in cases}
    marks = {o["case_id"]: ImageMarks(np.array([k["location"] for k in o["marks"]], float).reshape(-1, 2),
                                      np.array([k["score"] for k in o["marks"]], float)) for o in outputs}
    return truths, marks


def groups(cases):
    return {f: {c["case_id"]: c["metadata"][f] for c in cases} for f in ("site", "vendor")}


def _two_runs(db, w, v, cases):
    out_a, out_b = marks_for(cases, seed=1), marks_for(cases, seed=2)
    ra = service_runs.submit_run(db, w.reg_a, v.id, body(out_a))
    rb = service_runs.submit_run(db, w.reg_a, v.id, {**body(out_b), "algorithm_version": "2.1"})
    return ra, rb, out_a, out_b


def test_detection_run_metrics_by_subgroup(db):
    w = build(db)
    v, cases = detection_version(db, w, "DSUB")
    outputs = marks_for(cases, seed=1)
    m = service_runs.submit_run(db, w.reg_a, v.id, body(outputs)).metrics
    truths, marks = truths_marks(cases, outputs)
    ref = report.detection_report(truths, marks, CentreDistance(), groups=groups(cases))
    by = {(s["field"], s["value"]): s for s in m["subgroups"]}
    assert set(by) == {("site", "A"), ("site", "B"), ("vendor", "V1"), ("vendor", "V2")}
    assert by[("site", "B")]["metrics"] == [] and by[("site", "B")]["suppressed"] == "fewer than 20 cases"
    for s in ref["subgroups"]:
        if s["n"] >= 20:
            got = by[(s["field"], s["value"])]["metrics"]
            want = [e["estimate"] for e in s["metrics"]]
            assert [e["estimate"] for e in got] == pytest.approx(want, abs=1e-12)
    assert "withheld" in m["froc"] and not any(c["case_id"] in json.dumps(m) for c in cases)


def test_version_comparison_evidence_pack_and_equivalence(db):
    w = build(db)
    v, cases = detection_version(db, w, "DCMP")
    ra, rb, out_a, out_b = _two_runs(db, w, v, cases)
    res = service_runs.compare_runs(db, w.reg_a, ra.id, rb.id, margin=0.1, fp_rate=0.5)
    truths, ma = truths_marks(cases, out_a)
    _t, mb = truths_marks(cases, out_b)
    ref = report.detection_comparison_report(truths, ma, mb, CentreDistance(), rate=0.5, margin=0.1,
                                             groups=groups(cases))
    assert res["comparisons"] == ref["comparisons"]
    assert [r["metric"] for r in res["comparisons"]] == ["lesion_sensitivity@0.5fp", "cpm"]
    assert all(r["margin"] == 0.1 and r["verdict"] in ("superior", "non-inferior", "inferior", "inconclusive")
               for r in res["comparisons"])
    subs = {(g["field"], g["value"]): g for g in res["subgroup_comparisons"]}
    assert subs[("site", "B")]["comparisons"] == [] and len(subs[("site", "A")]["comparisons"]) == 2
    assert res["evidence"]["significant_difference"] in (True, False)
    pack = service_evidence.create_pack(db, w.reg_a, kind="version_change", run_a=ra.id, run_b=rb.id,
                                        changes=["training_data_added"], fp_rate=0.5, margin=0.1)
    assert pack.report["comparisons"][0]["metric"] == "lesion_sensitivity@0.5fp"
    assert pack.decision["outcome"] in ("qms_control", "simplified_change", "change_registration")
    assert service_evidence.verify_pack(db, w.reg_a, pack.id)["intact"]
    # platform equivalence: the same algorithm version on another platform, identical marks
    rc = service_runs.submit_run(db, w.reg_a, v.id, {**body(out_a), "platform": {
        "hardware": "ARM edge", "os": "Linux", "accelerator": "NPU", "framework": "ONNX"}})
    eq = service_runs.equivalence_runs(db, w.reg_a, ra.id, rc.id, metric_margin=0.02)
    assert eq["verdict"] == "equivalent" and all(d["estimate"] == 0 for d in eq["metric_differences"])
    assert eq["call_agreement"]["estimate"] == 1.0 and eq["bland_altman"]["bias"]["estimate"] == 0
    assert eq["tost"]["equivalent"] and eq["reasons"][1].startswith("TOST: mean mark score difference")
    # another platform with other marks: per-lesion agreement equals the pure function on the same lesions
    rd = service_runs.submit_run(db, w.reg_a, v.id, {**body(out_b), "platform": {
        "hardware": "ARM edge", "os": "Linux", "accelerator": "NPU", "framework": "ONNX"}},
        now=utcnow() + timedelta(days=2))  # past the re-run limit's window
    eq = service_runs.equivalence_runs(db, w.reg_a, ra.id, rd.id, score_margin=0.05, fp_rate=0.5)
    ref = dc.lesion_agreement(truths, ma, mb, CentreDistance(), rate=0.5, score_margin=0.05)
    for key in ("n_lesions", "n_detected_both", "call_agreement", "call_kappa", "bland_altman", "tost"):
        assert eq[key] == ref[key], key
    assert eq["call_agreement"]["estimate"] < 1 and eq["reasons"][0].startswith("lesions detected or not")
    if not ref["tost"]["equivalent"]:
        assert eq["verdict"] == "not shown"
    with pytest.raises(DomainError) as err:  # different algorithm versions are not a platform question
        service_runs.equivalence_runs(db, w.reg_a, ra.id, rb.id)
    assert err.value.field == "run_b"
    with pytest.raises(DomainError) as err:
        service_runs.compare_runs(db, w.reg_a, ra.id, rb.id, fp_rate=0)
    assert err.value.field == "fp_rate"


def _refusal(fn) -> dict:
    try:
        fn()
    except DomainError as err:
        return err.to_dict()
    raise AssertionError("accepted")


def test_what_a_registrant_reads_of_comparisons_does_not_carry_the_lesions(client, db):
    w = build(db)
    v1, cases = detection_version(db, w, "DLEAK-1")
    v2, moved = detection_version(db, w, "DLEAK-2", shift=30.0)
    ra, rb, _a, _b = _two_runs(db, w, v1, cases)
    rc = service_runs.submit_run(db, w.reg_a, v2.id, body(marks_for(cases, seed=1)))
    # errors of a comparison name the same things whatever the lesions are
    for bad in (lambda: service_runs.compare_runs(db, w.reg_a, ra.id, rc.id),
                lambda: service_runs.compare_runs(db, w.reg_b, ra.id, rb.id)):
        assert "lesion" not in json.dumps(_refusal(bad))
    pack = service_evidence.create_pack(db, w.reg_a, kind="version_change", run_a=ra.id, run_b=rb.id,
                                        changes=["training_data_added"])
    # the same version on another platform
    rp = service_runs.submit_run(db, w.reg_a, v1.id, {**body(_b), "platform": {
        "hardware": "ARM edge", "os": "Linux", "accelerator": "NPU", "framework": "ONNX"}})
    db.commit()
    reg = bearer(client, _user(db, w.reg_a))
    coords = {f"{x:.4f}" for c in cases for les in c["lesions"] for x in les[:2]}
    reads = [client.post("/api/ai/compare", headers=reg, json={"run_a": ra.id, "run_b": rb.id}).text,
             client.get(f"/api/ai/runs/{ra.id}", headers=reg).text,
             client.get(f"/api/ai/evidence/{pack.id}", headers=reg).text,
             client.get(f"/ai/compare?run_a={ra.id}&run_b={rb.id}", headers=reg).text,
             client.get(f"/ai/runs/{ra.id}", headers=reg).text,
             client.get(f"/ai/evidence/{pack.id}", headers=reg).text,
             client.post("/api/ai/equivalence", headers=reg, json={"run_a": ra.id, "run_b": rp.id}).text,
             client.get(f"/ai/compare?mode=platforms&run_a={ra.id}&run_b={rp.id}", headers=reg).text]
    for pdf in (f"/ai/runs/{ra.id}/report.pdf", f"/ai/compare/report.pdf?run_a={ra.id}&run_b={rb.id}",
                f"/ai/evidence/{pack.id}/report.pdf",
                f"/ai/compare/report.pdf?mode=platforms&run_a={ra.id}&run_b={rp.id}"):
        r = client.get(pdf, headers=reg)
        assert r.status_code == 200
        reads.append(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages))
    for text in reads:
        assert not any(c["case_id"] in text for c in cases)
        assert '"lesions"' not in text and 'id="froc"' not in text
        assert not any(re.search(rf"\b{re.escape(x)}\b", text) for x in coords)
    assert 'data-testid="subgroup-comparison"' in reads[3] and "lesion_sensitivity@1fp" in reads[3]
    # platform equivalence: the per-lesion agreement leaves as aggregates only (API, page, PDF)
    assert '"lesion_detection_kappa"' in reads[6] and '"n_detected_both"' in reads[6]
    assert 'data-metric="lesion_detection_agreement"' in reads[7] and 'data-metric="bias"' in reads[7]
    assert "病灶检出 kappa 系数" in reads[-1] and "lesion_detection_kappa" not in reads[-1]  # the name, in zh
    for text in reads[6:8] + reads[-1:]:
        assert "case_id" not in text and '"detected"' not in text and '"scores"' not in text
    assert client.post("/api/ai/compare", headers=bearer(client, _user(db, w.reg_b)),
                       json={"run_a": ra.id, "run_b": rb.id}).status_code == 404
    bad = client.post("/api/ai/compare", headers=reg, json={"run_a": ra.id, "run_b": rb.id, "fp_rate": -1})
    assert bad.status_code == 422


# --- sealing and submitting detection from the CLI and the pages ------------------------------------------

runner = CliRunner()


def _lesion_csv(cases) -> str:
    lines = ["case_id,x,y,radius,site,vendor\n"]
    for c in cases:
        meta = f"{c['metadata']['site']},{c['metadata']['vendor']}"
        lines += [f"{c['case_id']},{x},{y},{r},{meta}\n" for x, y, r in c["lesions"]] or \
            [f"{c['case_id']},,,,{meta}\n"]
    return "".join(lines)


def _marks_csv(outputs) -> str:
    lines = ["case_id,x,y,score\n"]
    for o in outputs:
        lines += [f"{o['case_id']},{m['location'][0]},{m['location'][1]},{m['score']}\n"
                  for m in o["marks"]] or [f"{o['case_id']},,,\n"]
    return "".join(lines)


@pytest.fixture
def cli_world(db, monkeypatch):
    @contextmanager
    def scope():
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    return build(db)


def test_seal_and_submit_detection_from_the_cli(db, cli_world, tmp_path):
    w = cli_world
    cur, reg = _user(db, w.curator), _user(db, w.reg_a)
    cli = lambda *a: runner.invoke(cli_app, ["ai", *map(str, a)])  # noqa: E731
    assert cli("db", "register", "--user", cur, "--code", "CLI-DET", "--name", "n", "--modality", "CT",
               "--task", "detection").exit_code == 0
    cases = with_sites(lesion_cases(44, seed=5))
    (tmp_path / "lesions.csv").write_text(_lesion_csv(cases))
    r = cli("db", "seal", "--user", cur, "--code", "CLI-DET", "--cases", tmp_path / "lesions.csv",
            "--provenance", "synthetic", "--metadata-cols", "site,vendor", "--rule", "centre")
    assert r.exit_code == 0, r.output
    version = json.loads(r.stdout)
    assert version["matching"]["rule"] == "centre" and version["n_cases"] == 44
    assert "lesion" not in r.stdout.replace('"matching"', "")
    outputs = marks_for(cases, seed=3)
    (tmp_path / "marks.csv").write_text(_marks_csv(outputs))
    submit = ["run", "submit", "--user", reg, "--code", "CLI-DET", "--outputs", tmp_path / "marks.csv",
              "--algorithm", "Det", "--algorithm-version", "1", "--hardware", "x86", "--os", "Linux",
              "--framework", "ONNX"]
    r = cli(*submit)
    assert r.exit_code == 0, r.output
    metrics = json.loads(r.stdout)["metrics"]
    truths, marks = truths_marks(cases, outputs)
    ref = report.detection_report(truths, marks, CentreDistance())
    assert metrics["cpm"]["value"] == pytest.approx(ref["cpm"]["value"], abs=1e-9)
    assert {s["value"] for s in metrics["subgroups"]} == {"A", "B", "V1", "V2"}
    assert not any(c["case_id"] in r.stdout for c in cases)
    (tmp_path / "short.csv").write_text(_marks_csv(outputs[1:]))
    r = cli(*submit[:6], tmp_path / "short.csv", *submit[7:])
    assert r.exit_code == 2 and "outputs" in r.output
    assert cli("db", "seal", "--user", reg, "--code", "CLI-DET", "--cases", tmp_path / "lesions.csv",
               "--provenance", "x").exit_code == 3


def test_seal_and_submit_detection_from_the_pages(app, db):
    w = build(db)
    db.commit()
    cur, token = browser(app, w.curator)
    assert 'value="detection"' in cur.get("/ai/").text
    r = cur.post("/ai/databases", data={"csrf_token": token, "code": "PAGE-DET", "name": "Nodules",
                                        "task": "detection", "modality": "CT"})
    assert r.status_code == 303
    db_id = re.search(r'<option value="(\d+)"[^>]*>PAGE-DET</option>', cur.get("/ai/").text).group(1)
    cases = with_sites(lesion_cases(40, seed=6))
    form = {"csrf_token": token, "database_id": db_id, "provenance": "synthetic",
            "metadata_fields": "site,vendor", "rule": "centre", "dims": "2", "duplicates": "ignore"}
    upload = {"cases": ("l.csv", _lesion_csv(cases).encode(), "text/csv")}
    r = cur.post("/ai/versions", data=form, files=upload)
    assert r.status_code == 303, r.text
    page = cur.get(r.headers["location"]).text
    assert 'data-testid="n-cases">40<' in page and 'data-intact="true"' in page
    bad = cur.post("/ai/versions?lang=en", data={**form, "iou": "wide"},
                   files={"cases": ("l.csv", _lesion_csv(cases).encode(), "text/csv")})
    assert bad.status_code == 422 and 'data-field="matching.iou"' in bad.text
    version_id = int(r.headers["location"].rsplit("/", 1)[1])
    reg, rtoken = browser(app, w.reg_a)
    outputs = marks_for(cases, seed=4)
    run_form = {"csrf_token": rtoken, "algorithm_name": "Det", "algorithm_version": "1.0", "hardware": "x86",
                "os": "Linux", "accelerator": "none", "framework": "ONNX"}
    r = reg.post(f"/ai/versions/{version_id}/runs", data=run_form,
                 files={"outputs": ("m.csv", _marks_csv(outputs).encode(), "text/csv")})
    assert r.status_code == 303, r.text
    run_page = reg.get(r.headers["location"]).text
    assert 'id="detection"' in run_page and 'data-testid="subgroup"' in run_page
    assert 'id="froc"' not in run_page
    assert not any(c["case_id"] in run_page for c in cases)
    short = reg.post(f"/ai/versions/{version_id}/runs?lang=en", data=run_form,
                     files={"outputs": ("m.csv", _marks_csv(outputs[1:]).encode(), "text/csv")})
    assert short.status_code == 422 and 'data-field="outputs"' in short.text


def test_upload_errors_are_the_same_whatever_the_lesions(app, db, tmp_path, monkeypatch):
    """Twin versions (same images, lesions moved by 30): every refused marks CSV gets the same message on the
    upload page, and nothing is kept."""
    w = build(db)
    v1, cases = detection_version(db, w, "DERR-1")
    v2, _moved = detection_version(db, w, "DERR-2", shift=30.0)
    db.commit()
    good = marks_for(cases, seed=1)
    bad_files = [_marks_csv(good[1:]),  # a case missing
                 _marks_csv(good) + "img-999,1,1,0.5\n",  # an unknown case
                 _marks_csv(good).replace("case_id,x,y,score", "case_id,x,y,prob"),  # no score column
                 _marks_csv(good) + f"{cases[0]['case_id']},1,1,1.5\n",  # a score outside [0, 1]
                 _marks_csv(good) + f"{cases[0]['case_id']},abc,1,0.5\n"]  # a coordinate that is no number
    reg, rtoken = browser(app, w.reg_a)
    form = {"csrf_token": rtoken, "algorithm_name": "Det", "algorithm_version": "1.0", "hardware": "x86",
            "os": "Linux", "accelerator": "none", "framework": "ONNX"}

    def page_error(version_id, text):
        r = reg.post(f"/ai/versions/{version_id}/runs?lang=en", data=form,
                     files={"outputs": ("m.csv", text.encode(), "text/csv")})
        assert r.status_code == 422, r.text[:300]
        return re.search(r'id="form-error" data-field="([^"]*)">([^<]*)<', r.text).groups()

    for text in bad_files:
        assert page_error(v1.id, text) == page_error(v2.id, text)
    assert service_runs.list_runs(db, w.reg_a) == []  # all or nothing: nothing was kept
