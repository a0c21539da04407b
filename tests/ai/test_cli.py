"""``medreg ai metrics | compare | equivalence``: JSON output equal to the pure functions, and bad input
refused with exit code 2 and the field named."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from medreg.ai.metrics_roc import auc_delong, delong_paired
from medreg.cli import app

runner = CliRunner()


def _write(path, header, rows):
    path.write_text("\n".join([",".join(header), *(",".join(map(str, r)) for r in rows)]) + "\n")
    return path


@pytest.fixture
def files(tmp_path, asah):
    y = asah["y"]
    a = np.minimum(asah["s100b"], 1.0)
    b = (asah["wfns"] - 1) / 4
    sex = np.where(asah["female"], "F", "M")
    ids = [f"c{i}" for i in range(y.size)]
    return {
        "y": y, "a": a, "b": b,
        "labels": _write(tmp_path / "labels.csv", ["case_id", "label", "sex"], zip(ids, y, sex, strict=True)),
        "a_csv": _write(tmp_path / "a.csv", ["case_id", "score"], zip(ids, a, strict=True)),
        "b_csv": _write(tmp_path / "b.csv", ["case_id", "score"], zip(ids[::-1], b[::-1], strict=True)),
        "tmp": tmp_path, "ids": ids,
    }


def _run(*args):
    return runner.invoke(app, ["ai", *map(str, args)])


def test_metrics_json(files):
    res = _run("metrics", "--labels", files["labels"], "--outputs", files["a_csv"], "--threshold", 0.2,
               "--subgroup-cols", "sex", "--specificity", 0.9, "--ci", "clopper-pearson")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    by = {m["metric"]: m for m in out["metrics"]}
    ref = auc_delong(files["y"], files["a"])
    assert by["auc"]["estimate"] == pytest.approx(ref.value) and by["auc"]["method"] == "delong"
    assert by["auc"]["ci_lower"] == pytest.approx(ref.lower)
    y, called = files["y"], files["a"] >= 0.2
    assert by["sensitivity"]["count"] == int(np.sum(called & (y == 1)))
    assert by["sensitivity"]["method"] == "clopper-pearson"
    assert {s["value"] for s in out["subgroups"]} == {"F", "M"}
    assert out["operating_points"][0]["specificity"]["estimate"] >= 0.9
    assert "label" not in json.dumps(out["subgroups"])  # aggregates only


def test_compare_json_matches_delong(files):
    res = _run("compare", "--labels", files["labels"], "--outputs-a", files["a_csv"], "--outputs-b",
               files["b_csv"], "--margin", 0.05)
    assert res.exit_code == 0, res.output
    rows = {r["metric"]: r for r in json.loads(res.stdout)["comparisons"]}
    ref = delong_paired(files["y"], files["a"], files["b"])  # rows of b.csv are reversed: aligned by id
    assert rows["auc"]["p_value"] == pytest.approx(ref.p_value)
    assert rows["auc"]["difference"]["ci_lower"] == pytest.approx(ref.difference.lower)


def test_equivalence_json(files):
    res = _run("equivalence", "--outputs-a", files["a_csv"], "--outputs-b", files["a_csv"],
               "--labels", files["labels"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["verdict"] == "equivalent" and out["call_agreement"]["estimate"] == 1.0


def test_multiclass(tmp_path):
    ids = ["a", "b", "c", "d"]
    labels = _write(tmp_path / "l.csv", ["case_id", "label"], zip(ids, ["R0", "R1", "R2", "R1"], strict=True))
    preds = ["R0", "R1", "R1", "R1"]
    outputs = _write(tmp_path / "o.csv", ["case_id", "class"], zip(ids, preds, strict=True))
    res = _run("metrics", "--task", "multiclass", "--categories", "R0,R1,R2", "--ordinal",
               "--labels", labels, "--outputs", outputs)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["metrics"][0]["estimate"] == 0.75
    assert [m["metric"] for m in out["metrics"]] == ["accuracy", "kappa", "kappa_linear", "kappa_quadratic"]


@pytest.mark.parametrize(("rows", "field", "words"), [
    ([("c0", 0.1), ("zzz", 0.2)], "case_id", "'zzz'"),          # unknown case id
    ([("c0", 0.1)], "case_id", "have no output"),               # missing cases
    ([("c0", 1.5)], "score", "within [0, 1]"),                  # out-of-range score
    ([("c0", "abc")], "score", "within [0, 1]"),                # not a number
    ([("c0", 0.1), ("c0", 0.2)], "case_id", "appears twice"),   # duplicate
])
def test_bad_outputs_are_refused_with_the_field(files, rows, field, words):
    bad = _write(files["tmp"] / "bad.csv", ["case_id", "score"], rows)
    res = _run("metrics", "--labels", files["labels"], "--outputs", bad)
    assert res.exit_code == 2
    assert f"[{field}]" in res.stderr and words in res.stderr
    assert "Traceback" not in res.output


def test_missing_column_and_bad_label(files):
    no_score = _write(files["tmp"] / "ns.csv", ["case_id", "prob"], [("c0", 0.1)])
    res = _run("metrics", "--labels", files["labels"], "--outputs", no_score)
    assert res.exit_code == 2 and "[score]" in res.stderr and "Column 'score' is missing" in res.stderr
    bad_labels = _write(files["tmp"] / "bl.csv", ["case_id", "label"], [("c0", 2), ("c1", 0)])
    res = _run("metrics", "--labels", bad_labels, "--outputs", files["a_csv"])
    assert res.exit_code == 2 and "[label]" in res.stderr
    res = _run("metrics", "--labels", files["labels"], "--outputs", files["a_csv"], "--subgroup-cols", "site")
    assert res.exit_code == 2 and "[site]" in res.stderr
    res = _run("metrics", "--labels", files["tmp"] / "nope.csv", "--outputs", files["a_csv"])
    assert res.exit_code == 2 and "[labels]" in res.stderr
