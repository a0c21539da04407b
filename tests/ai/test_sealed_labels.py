"""A registrant can never obtain a label: everything a registrant can see, except the aggregate metrics of
its own runs, is the same whatever the labels are; aggregates carry no case id; small subgroups are
suppressed; the read shapes have no label field."""

from __future__ import annotations

import json

import pytest

from medreg.ai import schemas, service, service_runs
from medreg.core.errors import DomainError
from tests.ai.world import build, make_database, run_body, scores_for, synthetic_cases

N = 60


@pytest.fixture
def twin(db):
    """Two versions with the same cases and metadata, and complementary labels."""
    w = build(db)
    base = synthetic_cases(N, seed=11)
    flipped = [{**c, "label": "0" if c["label"] == "1" else "1"} for c in base]
    _d1, v1 = make_database(db, w, code="TWIN-1", cases=base)
    _d2, v2 = make_database(db, w, code="TWIN-2", cases=flipped)
    return w, base, v1, v2


def _public(v) -> dict:
    body = schemas.VersionRead.model_validate(v).model_dump()
    for key in ("id", "database_id", "merkle_root", "created_at"):
        body.pop(key)
    return body


def _refusal(db, actor, version_id, body) -> dict:
    try:
        with db.begin_nested():
            service_runs.submit_run(db, actor, version_id, body)
    except DomainError as err:
        return err.to_dict()
    raise AssertionError("the submission was accepted")


BAD = [
    lambda o: o[1:],
    lambda o: o + [{"case_id": "case-9999", "score": 0.5}],
    lambda o: [{**o[0], "score": 2.0}] + o[1:],
    lambda o: [{**o[3], "score": -1}] + o[:3] + o[4:],
    lambda o: [{"case_id": o[0]["case_id"], "class": "1"}] + o[1:],
    lambda o: o + [dict(o[5])],
]


def test_what_a_registrant_sees_does_not_depend_on_the_labels(db, twin):
    w, base, v1, v2 = twin
    assert _public(v1) == _public(v2)
    assert service.case_ids(db, v1.id) == service.case_ids(db, v2.id)
    good = run_body(scores_for(base))
    for bad in BAD:
        body = {**good, "outputs": bad(good["outputs"])}
        assert _refusal(db, w.reg_a, v1.id, body) == _refusal(db, w.reg_a, v2.id, body)
    assert service_runs.list_runs(db, w.reg_b, v1.id) == service_runs.list_runs(db, w.reg_b, v2.id) == []


def test_run_results_hold_aggregates_only(db, twin):
    w, base, v1, _v2 = twin
    run = service_runs.submit_run(db, w.reg_a, v1.id, run_body(scores_for(base)))
    text = json.dumps(schemas.RunRead.model_validate(run).model_dump(mode="json")["metrics"])
    assert not any(c["case_id"] in text for c in base)
    assert "label" not in text


def test_small_subgroups_are_suppressed(db):
    w = build(db)
    cases = synthetic_cases(60, seed=5)
    for c in cases[:5]:
        c["metadata"]["site"] = "tiny-site"
    _d, v = make_database(db, w, code="SMALL", cases=cases)
    run = service_runs.submit_run(db, w.reg_a, v.id, run_body(scores_for(cases)))
    tiny = [s for s in run.metrics["subgroups"] if s["value"] == "tiny-site"][0]
    assert tiny["metrics"] == [] and "suppressed" in tiny and tiny["n"] == 5


def test_read_shapes_have_no_label_or_salt_field():
    for shape in (schemas.VersionRead, schemas.RunRead, schemas.DatabaseRead):
        assert not {"label", "labels", "salt", "cases", "case_metadata"} & set(shape.model_fields)


def test_twin_versions_give_complementary_metrics(db, twin):
    """The scoring really uses the sealed labels (flipping them swaps sensitivity and specificity roles)."""
    w, base, v1, v2 = twin
    scores = scores_for(base)
    r1 = service_runs.submit_run(db, w.reg_a, v1.id, run_body(scores))
    r2 = service_runs.submit_run(db, w.reg_a, v2.id, run_body(scores))
    auc1 = next(m for m in r1.metrics["metrics"] if m["metric"] == "auc")["estimate"]
    auc2 = next(m for m in r2.metrics["metrics"] if m["metric"] == "auc")["estimate"]
    assert auc1 + auc2 == pytest.approx(1.0)
    c1, c2 = r1.metrics["confusion"], r2.metrics["confusion"]
    assert (c1["tp"], c1["fn"]) == (c2["fp"], c2["tn"])


def test_operating_point_thresholds_and_roc_points_are_withheld(db, twin):
    w, base, v1, _v2 = twin
    run = service_runs.submit_run(db, w.reg_a, v1.id, run_body(scores_for(base)))
    ops = run.metrics["operating_points"]
    assert ops and all(op["threshold"] is None for op in ops)
    assert not {"roc", "fpr", "tpr", "thresholds"} & set(run.metrics)
