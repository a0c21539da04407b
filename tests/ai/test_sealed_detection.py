"""Detection runs inside the sealed service: lesions sealed like labels, marks scored by FROC with the stated
matching rule, and nothing a registrant can see (public facts, case ids, error messages, metrics) depends on
where the lesions are. The lesions and marks are made up (seeded generator), not patient data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import update

from medreg.ai import report, schemas, service, service_runs
from medreg.ai.detection import CentreDistance, ImageMarks, ImageTruth
from medreg.ai.models import EvalLesion
from medreg.core.audit import AuditEvent
from medreg.core.errors import DomainError, PermissionDenied, ValidationFailed
from tests.ai.world import build

RULE = {"rule": "centre", "dims": 2, "duplicates": "ignore"}


def detection_db(db, w, code, cases, matching=None):
    d = service.register_database(db, w.curator, {"code": code, "name": "Nodule detection (synthetic)",
                                                  "task": "detection", "modality": "CT"})
    v = service.add_version(db, w.curator, d.id, {"provenance": "synthetic, seeded generator (tests)",
                                                  "matching": matching or RULE, "cases": cases})
    return d, v


def lesion_cases(n: int = 30, seed: int = 0, shift: float = 0.0) -> list[dict]:
    """Images with 0-2 lesions [x, y, radius] in a 100 x 100 plane; ``shift`` moves every lesion."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        k = int(rng.integers(0, 3))
        les = [[float(rng.uniform(10, 90)) + shift, float(rng.uniform(10, 90)), 6.0] for _ in range(k)]
        out.append({"case_id": f"img-{i:03d}", "lesions": les})
    return out


def marks_for(cases: list[dict], seed: int = 1) -> list[dict]:
    """Marks near most lesions (score high) and a few false positives (score lower)."""
    rng = np.random.default_rng(seed)
    outputs = []
    for c in cases:
        marks = [{"location": [x + float(rng.normal(0, 2)), y + float(rng.normal(0, 2))],
                  "score": float(rng.uniform(0.5, 1))} for x, y, _r in c["lesions"] if rng.random() < 0.8]
        marks += [{"location": [float(rng.uniform(0, 100)), float(rng.uniform(0, 100))],
                   "score": float(rng.uniform(0, 0.7))} for _ in range(int(rng.integers(0, 3)))]
        outputs.append({"case_id": c["case_id"], "marks": marks})
    return outputs


def body(outputs: list[dict]) -> dict:
    return {"algorithm_name": "NoduleDet", "algorithm_version": "2.0",
            "platform": {"hardware": "x86", "os": "Linux", "accelerator": "GPU", "framework": "PyTorch"},
            "outputs": outputs}


def test_a_run_is_scored_as_by_hand(db):
    """Hand example: 4 images, 3 lesions (radius 5). Marks by score: a 0.9 hit, b 0.8 hit, b 0.7 miss,
    c 0.6 miss. FROC points (FP/image, sensitivity): (0, 1/3), (0, 2/3), (0.25, 2/3), (0.5, 2/3); at every
    LUNA16 rate the sensitivity is 2/3, so the CPM is 2/3."""
    w = build(db)
    cases = [{"case_id": "a", "lesions": [[10, 10, 5]]},
             {"case_id": "b", "lesions": [[50, 50, 5], [80, 80, 5]]},
             {"case_id": "c", "lesions": []}, {"case_id": "d", "lesions": []}]
    _d, v = detection_db(db, w, "DET-HAND", cases)
    outputs = [{"case_id": "a", "marks": [{"location": [11, 11], "score": 0.9}]},
               {"case_id": "b", "marks": [{"location": [50, 52], "score": 0.8},
                                          {"location": [20, 20], "score": 0.7}]},
               {"case_id": "c", "marks": [{"location": [5, 5], "score": 0.6}]},
               {"case_id": "d", "marks": []}]
    m = service_runs.submit_run(db, w.reg_a, v.id, body(outputs)).metrics
    assert (m["n_images"], m["n_lesions"]) == (4, 3)
    assert m["matching_rule"] == "centre distance <= lesion radius"
    assert [e["estimate"] for e in m["metrics"]] == pytest.approx([2 / 3] * 7, abs=1e-12)
    assert m["cpm"]["value"] == pytest.approx(2 / 3, abs=1e-12)
    curve = service_runs.run_roc(db, w.curator, service_runs.list_runs(db, w.reg_a, v.id)[0].id)
    assert curve["fp_per_image"] == pytest.approx([0, 0, 0, 0.25, 0.5])
    assert curve["sensitivity"] == pytest.approx([0, 1 / 3, 2 / 3, 2 / 3, 2 / 3])


def test_sealed_scoring_equals_the_froc_functions(db):
    w = build(db)
    cases = lesion_cases(30, seed=3)
    _d, v = detection_db(db, w, "DET-SYN", cases)
    outputs = marks_for(cases)
    m = service_runs.submit_run(db, w.reg_a, v.id, body(outputs)).metrics
    truths = {c["case_id"]: ImageTruth(centres=np.array([x[:2] for x in c["lesions"]]).reshape(-1, 2),
                                       radii=np.array([x[2] for x in c["lesions"]])) for c in cases}
    marks = {o["case_id"]: ImageMarks(np.array([k["location"] for k in o["marks"]]).reshape(-1, 2),
                                      np.array([k["score"] for k in o["marks"]])) for o in outputs}
    ref = report.detection_report(truths, marks, CentreDistance())
    assert [e["estimate"] for e in m["metrics"]] == pytest.approx([e["estimate"] for e in ref["metrics"]])
    assert [e["ci_lower"] for e in m["metrics"]] == pytest.approx([e["ci_lower"] for e in ref["metrics"]])
    assert m["cpm"]["value"] == pytest.approx(ref["cpm"]["value"])
    assert 0 < m["cpm"]["value"] < 1
    assert service.verify_version(db, w.curator, v.id)["intact"]


def test_iou_rule_and_max_distance(db):
    w = build(db)
    boxes = [{"case_id": f"i{k}", "lesions": [[0, 0, 10, 10]] if k % 2 else []} for k in range(4)]
    _d, v = detection_db(db, w, "DET-BOX", boxes, {"rule": "iou", "iou": 0.5})
    outs = [{"case_id": f"i{k}", "marks": [{"location": [1, 1, 10, 10], "score": 0.9}] if k == 1 else
             ([{"location": [5, 5, 15, 15], "score": 0.8}] if k == 3 else [])} for k in range(4)]
    m = service_runs.submit_run(db, w.reg_a, v.id, body(outs)).metrics
    # i1: IoU 81/100 hit; i3: IoU 25/175 miss -> 1 of 2 lesions, one FP over 4 images
    assert m["matching_rule"] == "IoU >= 0.5" and m["metrics"][-1]["estimate"] == pytest.approx(0.5)
    _d, v2 = detection_db(db, w, "DET-FAR", [{"case_id": f"j{k}", "lesions": [[0, 0, 1]]} for k in range(4)],
                          {"rule": "centre", "dims": 2, "max_distance": 5})
    outs = [{"case_id": f"j{k}", "marks": [{"location": [3, 4], "score": 0.5}]} for k in range(4)]
    m = service_runs.submit_run(db, w.reg_a, v2.id, body(outs)).metrics
    assert m["matching_rule"] == "centre distance <= 5" and m["metrics"][0]["estimate"] == pytest.approx(1.0)


@pytest.fixture
def twin(db):
    return _twin(db)


def _twin(db):
    """Two versions with the same images and rule and lesions at different places (shifted by 30)."""
    w = build(db)
    base = lesion_cases(24, seed=7)
    moved = lesion_cases(24, seed=7, shift=30.0)
    _d1, v1 = detection_db(db, w, "DTWIN-1", base)
    _d2, v2 = detection_db(db, w, "DTWIN-2", moved)
    return w, base, v1, v2


def _refusal(db, actor, version_id, data) -> dict:
    try:
        with db.begin_nested():
            service_runs.submit_run(db, actor, version_id, data)
    except DomainError as err:
        return err.to_dict()
    raise AssertionError("the submission was accepted")


BAD = [
    lambda o: o[1:],
    lambda o: o + [{"case_id": "img-999", "marks": []}],
    lambda o: [{"case_id": o[0]["case_id"], "marks": [{"location": [1, 2, 3], "score": 0.5}]}] + o[1:],
    lambda o: [{"case_id": o[0]["case_id"], "marks": [{"location": [1, 2], "score": 1.5}]}] + o[1:],
    lambda o: [{"case_id": o[0]["case_id"], "score": 0.5}] + o[1:],
    lambda o: o + [dict(o[2])],
    lambda o: [{"case_id": o[0]["case_id"], "marks": [{"location": [1, 2], "score": 0.5}] * 101}] + o[1:],
]


def test_what_a_registrant_sees_does_not_depend_on_the_lesions(db, twin):
    w, base, v1, v2 = twin
    pub = [schemas.VersionRead.model_validate(v).model_dump(exclude={"id", "database_id", "merkle_root",
                                                                     "created_at"}) for v in (v1, v2)]
    assert pub[0] == pub[1] and "lesions" not in json.dumps(pub[0])
    assert service.case_ids(db, v1.id) == service.case_ids(db, v2.id)
    good = body(marks_for(base))
    for bad in BAD:
        data = {**good, "outputs": bad(good["outputs"])}
        assert _refusal(db, w.reg_a, v1.id, data) == _refusal(db, w.reg_a, v2.id, data)


def test_results_hold_aggregates_only_and_the_curve_is_for_curators(db, twin):
    w, base, v1, _v2 = twin
    run = service_runs.submit_run(db, w.reg_a, v1.id, body(marks_for(base)))
    text = json.dumps(schemas.RunRead.model_validate(run).model_dump(mode="json")["metrics"])
    assert not any(c["case_id"] in text for c in base)
    assert "sensitivity\": [" not in text and "withheld" in text
    with pytest.raises(PermissionDenied):
        service_runs.run_roc(db, w.reg_a, run.id)
    events = db.query(AuditEvent).filter(AuditEvent.entity_type.in_(["ai_eval_run", "ai_eval_version"])).all()
    assert events and not any("lesion" in json.dumps(e.after or {}) for e in events)
    assert service_runs.verify_run(db, w.reg_a, run.id)["intact"]


def test_lesions_are_immutable_and_the_root_detects_changes(db, twin):
    row = db.query(EvalLesion).first()
    row.lesions = [[1.0, 1.0, 1.0]]
    with pytest.raises(PermissionError):
        db.flush()
    db.rollback()
    w, _base, v1, _v2 = _twin(db)
    assert service.verify_version(db, w.curator, v1.id)["intact"]
    pk = db.query(EvalLesion).first().case_pk
    db.execute(update(EvalLesion.__table__).where(EvalLesion.case_pk == pk).values(lesions=[[1.0, 1.0, 9.0]]))
    assert not service.verify_version(db, w.curator, v1.id)["intact"]


@pytest.mark.parametrize("case, matching, field", [
    ({"case_id": "x", "label": "1"}, RULE, "cases.0.lesions"),
    ({"case_id": "x", "lesions": [[1, 2]]}, RULE, "cases.0.lesions.0"),
    ({"case_id": "x", "lesions": [[1, 2, -1]]}, RULE, "cases.0.lesions.0"),
    ({"case_id": "x", "lesions": [[5, 5, 1, 1]]}, {"rule": "iou"}, "cases.0.lesions.0"),
    ({"case_id": "x", "lesions": [[1, 2, 3]]}, None, "matching"),
])
def test_bad_detection_versions_are_refused(db, case, matching, field):
    w = build(db)
    d = service.register_database(db, w.curator, {"code": "DET-BAD", "name": "n", "task": "detection",
                                                  "modality": "CT"})
    cases = [case] + [{"case_id": f"y{k}", "lesions": [[1, 1, 1]] if matching and matching["rule"] == "centre"
                       else [[0, 0, 1, 1]]} for k in range(3)]
    data = {"provenance": "p", "cases": cases}
    if matching:
        data["matching"] = matching
    with pytest.raises(ValidationFailed) as err:
        service.add_version(db, w.curator, d.id, data)
    assert err.value.field == field


def test_marks_and_lesions_belong_to_detection_tasks_only(db):
    from tests.ai.world import make_database, run_body, scores_for, synthetic_cases

    w = build(db)
    cases = synthetic_cases(20, seed=2)
    _d, v = make_database(db, w, code="BIN-1", cases=cases)
    data = run_body(scores_for(cases))
    data["outputs"][0]["marks"] = []
    with pytest.raises(ValidationFailed) as err:
        service_runs.submit_run(db, w.reg_a, v.id, data)
    assert err.value.field == "outputs.0.marks"
    d2 = service.register_database(db, w.curator, {"code": "BIN-2", "name": "n", "task": "binary",
                                                   "modality": "CT"})
    with pytest.raises(ValidationFailed) as err:
        service.add_version(db, w.curator, d2.id, {"provenance": "p", "matching": RULE, "cases": cases})
    assert err.value.field == "matching"


def test_detection_over_http_shows_no_lesion(client, db):
    from tests.ai.test_api import _user
    from tests.web.test_registration_support import bearer

    w = build(db)
    db.commit()
    cur, reg = bearer(client, _user(db, w.curator)), bearer(client, _user(db, w.reg_a))
    r = client.post("/api/ai/databases", headers=cur, json={"code": "DET-HTTP", "name": "n",
                                                           "task": "detection", "modality": "CT"})
    cases = lesion_cases(20, seed=5)
    r = client.post(f"/api/ai/databases/{r.json()['id']}/versions", headers=cur,
                    json={"provenance": "synthetic (tests)", "matching": RULE, "cases": cases})
    assert r.status_code == 201, r.text
    vid = r.json()["id"]
    bad = body(marks_for(cases))
    bad["outputs"][0]["marks"] = [{"location": [1, 2, 3], "score": 0.5}]
    r = client.post(f"/api/ai/versions/{vid}/runs", headers=reg, json=bad)
    assert r.status_code == 422 and "outputs.0.marks.0.location" in r.text
    r = client.post(f"/api/ai/versions/{vid}/runs", headers=reg, json=body(marks_for(cases)))
    assert r.status_code == 201, r.text
    seen = "".join(client.get(u, headers=reg).text for u in (
        f"/api/ai/versions/{vid}", f"/api/ai/versions/{vid}/cases", "/api/ai/runs",
        f"/api/ai/runs/{r.json()['id']}", f"/ai/runs/{r.json()['id']}", f"/ai/versions/{vid}"))
    coords = {f"{x:.6g}" for c in cases for les in c["lesions"] for x in les[:2]}
    assert not [c for c in coords if c in seen]
    assert client.get(f"/ai/runs/{r.json()['id']}", headers=cur).text.count('id="froc"') == 1
