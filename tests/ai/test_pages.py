"""AI pages: the databases, the version page with the run upload form (errors next to the field, nothing
written), the run page, comparisons, the triage form, tenancy, both languages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from medreg.ai import service_runs
from medreg.ai.models import EvalRun
from tests.ai.world import build, make_database, run_body, scores_for, synthetic_cases
from tests.web.innovation_helpers import browser


@pytest.fixture
def setup(db):
    w = build(db)
    cases = synthetic_cases(80, seed=2)
    _d, v = make_database(db, w, code="ECG-AF", cases=cases)
    db.commit()
    return w, cases, v


def _csv(scores: dict[str, float]) -> bytes:
    return ("case_id,score\n" + "".join(f"{k},{s}\n" for k, s in scores.items())).encode()


def _form(token: str, **over) -> dict:
    return {"csrf_token": token, "algorithm_name": "AFib-Net", "algorithm_version": "1.0",
            "hardware": "x86", "os": "Linux", "accelerator": "none", "framework": "ONNX", "threshold": "0.5",
            **over}


def test_databases_and_version_pages(app, setup):
    w, _cases, v = setup
    reg, _ = browser(app, w.reg_a)
    index = reg.get("/ai/?lang=en")
    assert index.status_code == 200 and 'data-code="ECG-AF"' in index.text
    assert "封存的测评数据库" in reg.get("/ai/?lang=zh_CN").text
    page = reg.get(f"/ai/versions/{v.id}").text
    assert 'id="run-form"' in page and v.merkle_root in page and 'id="verify"' not in page
    cur, _ = browser(app, w.curator)
    assert 'data-intact="true"' in cur.get(f"/ai/versions/{v.id}").text
    assert 'href="/ai/"' in reg.get("/").text


def test_a_run_through_the_upload_form(app, db, setup):
    w, cases, v = setup
    reg, token = browser(app, w.reg_a)
    r = reg.post(f"/ai/versions/{v.id}/runs", data=_form(token),
                 files={"outputs": ("outputs.csv", _csv(scores_for(cases)), "text/csv")})
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    page = reg.get(url + "?lang=en").text
    assert 'data-intact="true"' in page and 'data-metric="auc"' in page and 'data-testid="subgroup"' in page
    assert '"label"' not in page
    assert 'id="roc"' not in page  # the ROC steps would spell out the labels to the registrant
    cur, _ = browser(app, w.curator)
    assert 'id="roc"' in cur.get(url).text and "<polyline" in cur.get(url).text
    other, _ = browser(app, w.reg_b)
    assert other.get(url).status_code == 404
    assert re.search(r'data-run="\d+"', reg.get("/ai/runs").text)
    assert 'id="no-runs"' in other.get("/ai/runs").text


@pytest.mark.parametrize(("rows", "field"), [
    (lambda s: dict(list(s.items())[1:]), "outputs"),
    (lambda s: {**s, "case-0000": 3.0}, "outputs.0.score"),
    (lambda s: {**s, "ghost": 0.2}, "outputs.80.case_id"),
])
def test_bad_uploads_show_the_field_and_write_nothing(app, db, setup, rows, field):
    w, cases, v = setup
    reg, token = browser(app, w.reg_a)
    r = reg.post(f"/ai/versions/{v.id}/runs?lang=en", data=_form(token),
                 files={"outputs": ("o.csv", _csv(rows(scores_for(cases))), "text/csv")})
    assert r.status_code == 422
    assert f'data-field="{field}"' in r.text and 'id="run-form"' in r.text
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(EvalRun)) == 0


def test_missing_file_and_bad_threshold(app, setup):
    w, _cases, v = setup
    reg, token = browser(app, w.reg_a)
    r = reg.post(f"/ai/versions/{v.id}/runs", data=_form(token))
    assert r.status_code == 422 and 'data-field="outputs"' in r.text
    r = reg.post(f"/ai/versions/{v.id}/runs", data=_form(token, threshold="abc"),
                 files={"outputs": ("o.csv", b"case_id,score\n", "text/csv")})
    assert r.status_code == 422 and 'data-field="threshold"' in r.text


def test_compare_pages(app, db, setup):
    w, cases, v = setup
    s1 = scores_for(cases, seed=1)
    r1 = service_runs.submit_run(db, w.reg_a, v.id, run_body(s1))
    r2 = service_runs.submit_run(db, w.reg_a, v.id, run_body({k: min(1.0, x + 0.001) for k, x in s1.items()},
                                                             hardware="ARM"))
    r3 = service_runs.submit_run(db, w.reg_a, v.id, run_body(scores_for(cases, seed=5, noise=0.1), "2.0"))
    db.commit()
    reg, _ = browser(app, w.reg_a)
    page = reg.get(f"/ai/compare?run_a={r1.id}&run_b={r3.id}&margin=0.05").text
    assert 'data-metric="auc"' in page and 'id="evidence"' in page
    page = reg.get(f"/ai/compare?mode=platforms&run_a={r1.id}&run_b={r2.id}").text
    assert 'data-verdict="equivalent"' in page or 'data-verdict="not shown"' in page
    bad = reg.get(f"/ai/compare?mode=platforms&run_a={r1.id}&run_b={r3.id}")
    assert bad.status_code == 400 and 'data-field="run_b"' in bad.text
    other, _ = browser(app, w.reg_b)
    assert other.get(f"/ai/compare?run_a={r1.id}&run_b={r3.id}").status_code == 400


def test_triage_form(app, setup):
    w, _cases, _v = setup
    reg, token = browser(app, w.reg_a)
    assert 'id="triage-form"' in reg.get("/ai/triage").text
    r = reg.post("/ai/triage?lang=en", data={"csrf_token": token, "changes": ["training_data_added"],
                                             "significant_difference": "true", "direction": "better"})
    assert r.status_code == 200
    assert 'data-outcome="simplified_change"' in r.text and 'data-rule="R09"' in r.text
    r = reg.post("/ai/triage?lang=zh_CN", data={"csrf_token": token, "changes": ["management_class"]})
    assert 'data-outcome="new_registration"' in r.text and "重新注册" in r.text
    r = reg.post("/ai/triage", data={"csrf_token": token})
    assert r.status_code == 422 and 'data-field="changes"' in r.text
    assert reg.post("/ai/triage", data={"changes": ["defect_fix"]}).status_code == 403  # no CSRF token


def _cases_csv(cases) -> bytes:
    lines = [f"{c['case_id']},{c['label']},{c['metadata']['site']},{c['metadata']['sex']}\n" for c in cases]
    return ("case_id,label,site,sex\n" + "".join(lines)).encode()


def test_the_test_centre_registers_a_database_and_seals_a_version(app, db, setup):
    w, _cases, _v = setup
    cur, token = browser(app, w.curator)
    assert 'id="database-form"' in cur.get("/ai/").text
    r = cur.post("/ai/databases", data={"csrf_token": token, "code": "CXR-PNEU", "name": "Chest X-ray",
                                        "task": "binary", "modality": "X-ray"})
    assert r.status_code == 303
    page = cur.get("/ai/").text
    db_id = re.search(r'<option value="(\d+)"[^>]*>CXR-PNEU</option>', page).group(1)
    cases = synthetic_cases(30, seed=8)
    r = cur.post("/ai/versions", data={"csrf_token": token, "database_id": db_id, "provenance": "synthetic",
                                       "metadata_fields": "site, sex"},
                 files={"cases": ("cases.csv", _cases_csv(cases), "text/csv")})
    assert r.status_code == 303, r.text
    version_page = cur.get(r.headers["location"]).text
    assert 'data-testid="n-cases">30<' in version_page and 'data-intact="true"' in version_page
    wrong = [{**cases[0], "label": "7"}] + cases[1:]
    bad = cur.post("/ai/versions?lang=en", data={"csrf_token": token, "database_id": db_id, "provenance": "x",
                                                 "metadata_fields": "site, sex"},
                   files={"cases": ("cases.csv", _cases_csv(wrong), "text/csv")})
    assert bad.status_code == 422 and 'id="version-error" data-field="cases.0.label"' in bad.text
    assert "'7'" not in bad.text  # the refused label is not echoed
    dup = cur.post("/ai/databases?lang=en", data={"csrf_token": token, "code": "CXR-PNEU", "name": "again",
                                                  "task": "binary", "modality": "X-ray"})
    assert dup.status_code == 409 and 'id="database-error" data-field="code"' in dup.text
    reg, rtoken = browser(app, w.reg_a)
    assert 'id="database-form"' not in reg.get("/ai/").text
    denied = reg.post("/ai/databases", data={"csrf_token": rtoken, "code": "MINE", "name": "x",
                                             "task": "binary", "modality": "CT"})
    assert denied.status_code == 403
    denied = reg.post("/ai/versions", data={"csrf_token": rtoken, "database_id": db_id, "provenance": "x"})
    assert denied.status_code == 403


def test_a_multiclass_run_page_lists_each_class(app, db, setup):
    from medreg.ai import service

    w, _cases, _v = setup
    grades = ["R0", "R1", "R2"]
    cases = [{"case_id": f"eye-{i:02d}", "label": grades[i % 3], "metadata": {}} for i in range(30)]
    d = service.register_database(db, w.curator, {"code": "DR-3", "name": "DR", "task": "multiclass",
                                                  "modality": "fundus"})
    v = service.add_version(db, w.curator, d.id, {"provenance": "synthetic", "categories": grades,
                                                  "cases": cases})
    body = {**run_body({}), "outputs": [{"case_id": c["case_id"], "class": c["label"]} for c in cases]}
    run = service_runs.submit_run(db, w.reg_a, v.id, body)
    db.commit()
    reg, _ = browser(app, w.reg_a)
    page = reg.get(f"/ai/runs/{run.id}").text
    assert all(f'data-class="{g}"' in page for g in grades)


def test_an_evidence_pack_from_the_compare_page(app, db, setup):
    w, cases, v = setup
    s1 = scores_for(cases, seed=1)
    r1 = service_runs.submit_run(db, w.reg_a, v.id, run_body(s1))
    r3 = service_runs.submit_run(db, w.reg_a, v.id, run_body(scores_for(cases, seed=5, noise=0.1), "2.0"))
    db.commit()
    reg, token = browser(app, w.reg_a)
    page = reg.get(f"/ai/compare?run_a={r1.id}&run_b={r3.id}").text
    assert 'id="evidence-form"' in page
    r = reg.post("/ai/evidence", data={"csrf_token": token, "run_a": str(r1.id), "run_b": str(r3.id),
                                       "mode": "versions", "changes": ["training_data_added"],
                                       "registration_reference": "CSZ2026-0001"})
    assert r.status_code == 303, r.text
    pack = reg.get(r.headers["location"] + "?lang=en").text
    assert 'id="pack"' in pack and 'data-intact="true"' in pack and "CSZ2026-0001" in pack
    other, _ = browser(app, w.reg_b)
    assert other.get(r.headers["location"]).status_code == 404
    bad = reg.post("/ai/evidence", data={"csrf_token": token, "run_a": "x", "run_b": str(r3.id)})
    assert bad.status_code == 422 and 'data-field="run_a"' in bad.text
    empty = reg.post("/ai/evidence", data={"csrf_token": token, "run_a": str(r1.id), "run_b": str(r3.id)})
    assert empty.status_code == 422 and 'data-field="changes"' in empty.text
