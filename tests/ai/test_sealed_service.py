"""Sealed evaluation databases through the services: curation, immutability, scoring, tenancy,
rate limiting, signatures and tamper evidence."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select, update

from medreg.ai import merkle, report, service, service_evidence, service_runs
from medreg.ai.models import EvalCase, EvalLabel, EvalRun, EvalVersion
from medreg.core import audit
from medreg.core.clock import utcnow
from medreg.core.errors import Conflict, NotFound, PermissionDenied, RateLimited, ValidationFailed
from tests.ai.world import build, make_database, run_body, scores_for, synthetic_cases

NEW = {"name": "x", "task": "binary", "modality": "CT"}


@pytest.fixture
def w(db):
    return build(db)


def test_only_curators_register_and_codes_are_unique(db, w):
    with pytest.raises(PermissionDenied):
        service.register_database(db, w.reg_a, {**NEW, "code": "X1"})
    make_database(db, w, code="DUP")
    with pytest.raises(Conflict) as e:
        service.register_database(db, w.curator, {**NEW, "code": "DUP"})
    assert e.value.field == "code"


def test_version_root_is_the_merkle_root_of_the_cases_and_versions_count_up(db, w):
    cases = synthetic_cases(40)
    d, v1 = make_database(db, w, cases=cases)
    assert v1.number == 1 and v1.n_cases == 40
    assert service.verify_version(db, w.curator, v1.id)["intact"]
    v2 = service.add_version(db, w.curator, d.id, {"provenance": "v2", "metadata_fields": ["site", "sex"],
                                                   "cases": cases})
    assert v2.number == 2
    assert v2.merkle_root != v1.merkle_root  # fresh salts
    rows = service.sealed_cases(db, v1)
    assert [r[0] for r in rows] == sorted(c["case_id"] for c in cases)
    assert merkle.merkle_root([merkle.leaf_data(*r) for r in rows]) == v1.merkle_root


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda cs: cs + [dict(cs[0])], "cases.40.case_id"),
    (lambda cs: [{**cs[0], "label": "2"}] + cs[1:], "cases.0.label"),
    (lambda cs: [{**cs[0], "metadata": {"site": "x"}}] + cs[1:], "cases.0.metadata"),
    (lambda cs: [{**c, "label": "1"} for c in cs], "cases"),
])
def test_bad_versions_are_refused_and_nothing_is_written(db, w, mutate, field):
    d, _ = make_database(db, w)
    before = db.scalar(select(func.count()).select_from(EvalCase))
    with pytest.raises(ValidationFailed) as e:
        service.add_version(db, w.curator, d.id, {"provenance": "p", "metadata_fields": ["site", "sex"],
                                                  "cases": mutate(synthetic_cases(40))})
    assert e.value.field == field
    assert db.scalar(select(func.count()).select_from(EvalCase)) == before


def test_versions_cases_labels_and_runs_are_immutable(db, w):
    _d, v = make_database(db, w)
    v.provenance = "rewritten"
    with pytest.raises(PermissionError):
        db.flush()
    db.rollback()


def test_label_rows_cannot_be_deleted_through_the_orm(db, w):
    _d, v = make_database(db, w)
    label = db.scalars(select(EvalLabel).limit(1)).one()
    db.delete(label)
    with pytest.raises(PermissionError):
        db.flush()
    db.rollback()


def test_a_run_is_scored_against_the_sealed_labels(db, w):
    cases = synthetic_cases(80)
    _d, v = make_database(db, w, cases=cases)
    scores = scores_for(cases)
    run = service_runs.submit_run(db, w.reg_a, v.id, run_body(scores))
    order = sorted(cases, key=lambda c: c["case_id"])
    y = np.array([int(c["label"]) for c in order])
    s = np.array([scores[c["case_id"]] for c in order])
    groups = {f: [c["metadata"][f] for c in order] for f in ("site", "sex")}
    expected = audit.jsonable(report.binary_report(y, s, threshold=0.5, specificities=(0.9, 0.95),
                                                   groups=groups))
    assert run.metrics["metrics"] == expected["metrics"]
    assert run.metrics["confusion"] == expected["confusion"]
    assert len(run.signature) == 64 and service_runs.verify_run(db, w.reg_a, run.id)["intact"]
    events = audit.history(db, service_runs.RUN, run.id)
    assert [e.action for e in events] == ["ai.run.submit"]


@pytest.mark.parametrize(("change", "field"), [
    (lambda o: o[1:], "outputs"),                                          # a case missing
    (lambda o: o + [{"case_id": "case-9999", "score": 0.5}], "outputs.80.case_id"),  # unknown case
    (lambda o: [{**o[0], "score": 1.5}] + o[1:], "outputs.0.score"),       # out of range
    (lambda o: [{**o[0], "score": None}] + o[1:], "outputs.0.score"),      # no score
    (lambda o: o + [dict(o[0])], "outputs.80.case_id"),                    # duplicate
])
def test_a_bad_run_is_refused_whole_and_writes_nothing(db, w, change, field):
    cases = synthetic_cases(80)
    _d, v = make_database(db, w, cases=cases)
    body = run_body(scores_for(cases))
    body["outputs"] = change(body["outputs"])
    with pytest.raises(ValidationFailed) as e:
        service_runs.submit_run(db, w.reg_a, v.id, body)
    assert e.value.field == field
    assert db.scalar(select(func.count()).select_from(EvalRun)) == 0


def test_runs_are_rate_limited_per_organisation_and_version(db, w):
    cases = synthetic_cases(40)
    _d, v = make_database(db, w, cases=cases)
    body = run_body(scores_for(cases))
    t0 = utcnow()
    for i in range(service_runs.RUN_LIMIT):
        service_runs.submit_run(db, w.reg_a, v.id, body, now=t0 + timedelta(minutes=i))
    with pytest.raises(RateLimited):
        service_runs.submit_run(db, w.reg_a, v.id, body, now=t0 + timedelta(hours=1))
    service_runs.submit_run(db, w.reg_b, v.id, body, now=t0 + timedelta(hours=1))  # another organisation
    service_runs.submit_run(db, w.reg_a, v.id, body, now=t0 + timedelta(hours=25))  # the window has passed
    assert len(service_runs.list_runs(db, w.curator, v.id)) == service_runs.RUN_LIMIT + 2


def test_runs_are_seen_by_their_organisation_and_curators_only(db, w):
    cases = synthetic_cases(40)
    _d, v = make_database(db, w, cases=cases)
    run = service_runs.submit_run(db, w.reg_a, v.id, run_body(scores_for(cases)))
    assert service_runs.get_run(db, w.curator, run.id).id == run.id
    for other in (w.reg_b, w.outsider):
        with pytest.raises(NotFound):
            service_runs.get_run(db, other, run.id)
        assert service_runs.list_runs(db, other) == []
    with pytest.raises(PermissionDenied):
        service_runs.submit_run(db, w.outsider, v.id, run_body(scores_for(cases)))


def test_tampering_is_detected(db, w):
    cases = synthetic_cases(40)
    _d, v = make_database(db, w, cases=cases)
    run = service_runs.submit_run(db, w.reg_a, v.id, run_body(scores_for(cases)))
    db.execute(update(EvalRun).where(EvalRun.id == run.id).values(metrics={"auc": 0.99}))
    db.expire_all()
    checks = service_runs.verify_run(db, w.reg_a, run.id)
    assert not checks["intact"] and checks["checks"]["result_sha256"] is False
    case_pk = db.scalar(select(EvalCase.id).where(EvalCase.version_id == v.id).limit(1))
    old = db.scalar(select(EvalLabel.label).where(EvalLabel.case_pk == case_pk))
    db.execute(update(EvalLabel).where(EvalLabel.case_pk == case_pk).values(label="0" if old == "1" else "1"))
    db.expire_all()
    assert service.verify_version(db, w.curator, v.id)["intact"] is False
    assert db.get(EvalVersion, v.id).merkle_root  # the stored root is unchanged


def test_compare_and_equivalence_of_two_runs(db, w):
    cases = synthetic_cases(120, seed=3)
    _d, v = make_database(db, w, cases=cases)
    s1 = scores_for(cases, seed=1)
    s2 = {k: min(1.0, x + 0.001) for k, x in s1.items()}
    r1 = service_runs.submit_run(db, w.reg_a, v.id, run_body(s1))
    r2 = service_runs.submit_run(db, w.reg_a, v.id, run_body(s2, hardware="ARM edge box"))
    eq = service_runs.equivalence_runs(db, w.reg_a, r1.id, r2.id, score_margin=0.01)
    assert eq["verdict"] == "equivalent" and eq["platforms"]["b"]["hardware"] == "ARM edge box"
    r3 = service_runs.submit_run(db, w.reg_a, v.id, run_body(scores_for(cases, seed=9, noise=0.1), "2.0"))
    cmp = service_runs.compare_runs(db, w.reg_a, r1.id, r3.id, margin=0.05)
    assert {c["metric"] for c in cmp["comparisons"]} == {"sensitivity", "specificity", "auc"}
    assert "significant_difference" in cmp["evidence"]
    with pytest.raises(ValidationFailed):
        service_runs.equivalence_runs(db, w.reg_a, r1.id, r3.id)  # different algorithm versions
    with pytest.raises(NotFound):
        service_runs.compare_runs(db, w.reg_b, r1.id, r3.id)


def test_triage_through_the_service():
    out = service_runs.triage_change(["training_data_added"], {"significant_difference": True,
                                                               "direction": "better"})
    assert out["outcome"] == "simplified_change" and out["decided_by"] == ["R09"]
    with pytest.raises(ValidationFailed) as e:
        service_runs.triage_change(["warp_drive"])
    assert e.value.field == "changes"


def test_a_multiclass_run_is_scored_per_class(db, w):
    grades = ["R0", "R1", "R2", "R3"]
    rng = np.random.default_rng(4)
    truth = rng.choice(grades, 60)
    cases = [{"case_id": f"eye-{i:03d}", "label": str(g), "metadata": {}} for i, g in enumerate(truth)]
    d = service.register_database(db, w.curator, {"code": "DR-GRADE", "name": "DR grading (synthetic)",
                                                  "task": "multiclass", "modality": "fundus photograph"})
    v = service.add_version(db, w.curator, d.id, {"provenance": "synthetic", "categories": grades,
                                                  "cases": cases})
    predicted = [g if rng.random() < 0.7 else grades[(grades.index(g) + 1) % 4] for g in truth]
    body = {**run_body({}), "outputs": [{"case_id": c["case_id"], "class": p}
                                        for c, p in zip(cases, predicted, strict=True)]}
    run = service_runs.submit_run(db, w.reg_a, v.id, body)
    order = sorted(range(60), key=lambda i: cases[i]["case_id"])
    ref = report.multiclass_report([str(truth[i]) for i in order], [predicted[i] for i in order], grades,
                                   ordinal=True)
    assert run.metrics["metrics"] == audit.jsonable(ref["metrics"])
    bad = {**body, "outputs": [{**body["outputs"][0], "class": "R9"}] + body["outputs"][1:]}
    with pytest.raises(ValidationFailed) as e:
        service_runs.submit_run(db, w.reg_b, v.id, bad)
    assert e.value.field == "outputs.0.class"


def test_the_roc_curve_is_for_curators_only(db, w):
    cases = synthetic_cases(40)
    _d, v = make_database(db, w, cases=cases)
    run = service_runs.submit_run(db, w.reg_a, v.id, run_body(scores_for(cases)))
    with pytest.raises(PermissionDenied):
        service_runs.run_roc(db, w.reg_a, run.id)
    roc = service_runs.run_roc(db, w.curator, run.id)
    assert roc["fpr"][0] == 0 and roc["fpr"][-1] == 1 and roc["tpr"][-1] == 1


def test_multiclass_version_comparison_and_platform_equivalence(db, w):
    """Accuracy and per-class sensitivity of B against A (McNemar, paired Wald, verdict), by subgroup; two
    platforms' classes: exact agreement and kappa (equal to the pure functions on the same cases)."""
    from medreg.ai.agreement import exact_agreement
    from medreg.ai.comparison import compare_multiclass
    from medreg.ai.metrics_multiclass import cohen_kappa

    grades = ["R0", "R1", "R2"]
    rng = np.random.default_rng(8)
    truth = [str(g) for g in rng.choice(grades, 90)]
    cases = [{"case_id": f"eye-{i:03d}", "label": g, "metadata": {"site": "S1" if i < 75 else "S2"}}
             for i, g in enumerate(truth)]
    d = service.register_database(db, w.curator, {"code": "DR-CMP", "name": "DR grading (synthetic)",
                                                  "task": "multiclass", "modality": "fundus photograph"})
    v = service.add_version(db, w.curator, d.id, {"provenance": "synthetic", "categories": grades,
                                                  "metadata_fields": ["site"], "cases": cases})

    def preds(p):
        return [g if rng.random() < p else grades[(grades.index(g) + 1) % 3] for g in truth]

    pa, pb = preds(0.6), preds(0.9)
    pc = [x if rng.random() < 0.97 else grades[(grades.index(x) + 1) % 3] for x in pa]

    def run(pred, version="1.0", hardware="x86"):
        body = {**run_body({}, version, hardware),
                "outputs": [{"case_id": c["case_id"], "class": p} for c, p in zip(cases, pred, strict=True)]}
        return service_runs.submit_run(db, w.reg_a, v.id, body)

    ra, rb, rc = run(pa), run(pb, "2.0"), run(pc, "1.0", "ARM")
    res = service_runs.compare_runs(db, w.reg_a, ra.id, rb.id, margin=0.05)
    ref = compare_multiclass(truth, pa, pb, grades, 0.05)
    assert res["comparisons"] == [c.to_dict() for c in ref]
    acc = res["comparisons"][0]
    assert acc["metric"] == "accuracy" and acc["verdict"] == "superior" and acc["p_value"] < 0.001
    assert res["evidence"] == {"significant_difference": True, "direction": "better"}
    subs = {s["value"]: s for s in res["subgroup_comparisons"]}
    assert subs["S2"]["comparisons"] == [] and len(subs["S1"]["comparisons"]) == 4
    eq = service_runs.equivalence_runs(db, w.reg_a, ra.id, rc.id, metric_margin=0.1)
    assert eq["call_agreement"]["estimate"] == pytest.approx(exact_agreement(pa, pc).value, abs=1e-12)
    assert eq["call_kappa"]["estimate"] == pytest.approx(cohen_kappa(pa, pc, grades).value, abs=1e-12)
    assert eq["verdict"] in ("equivalent", "not shown") and len(eq["metric_differences"]) == 4
    strict = service_runs.equivalence_runs(db, w.reg_a, ra.id, rc.id, metric_margin=0.001)
    assert strict["verdict"] == "not shown"
    pack = service_evidence.create_pack(db, w.reg_a, kind="version_change", run_a=ra.id, run_b=rb.id,
                                        changes=["training_data_added"])
    assert pack.decision["outcome"] == "simplified_change"
