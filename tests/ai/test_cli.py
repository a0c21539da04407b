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


def _lines(path, header, rows):
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


@pytest.fixture
def detection_files(tmp_path):
    # the worked example of tests/ai/test_detection.py as CSV files
    labels = _lines(tmp_path / "lesions.csv", "case_id,x,y,radius",
                    ["img1,10,10,5", "img1,50,50,5", "img2,20,20,3", "img3,,,"])
    marks = _lines(tmp_path / "marks.csv", "case_id,x,y,score",
                   ["img1,11,11,0.9", "img1,12,9,0.8", "img1,30,30,0.7", "img1,50,54,0.4", "img2,24,20,0.6",
                    "img2,20,21,0.3", "img3,5,5,0.5"])
    return tmp_path, labels, marks


def test_detection_metrics_from_csv(detection_files):
    tmp, labels, marks = detection_files
    det = ["metrics", "--task", "detection", "--labels", labels, "--outputs", marks]
    res = _run(*det, "--fp-rates", "0.5,1")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["n_images"], out["n_lesions"]) == (3, 3)
    assert [m["estimate"] for m in out["metrics"]] == pytest.approx([1 / 3, 1.0])
    assert out["matching_rule"] == "centre distance <= lesion radius"
    res = _run(*det, "--max-distance", 4.5, "--fp-rates", "0.5")
    assert json.loads(res.stdout)["matching_rule"] == "centre distance <= 4.5"
    boxes = _lines(tmp / "boxes.csv", "case_id,x0,y0,x1,y1", ["a,0,0,10,10", "b,,,,"])
    boxmarks = _lines(tmp / "boxmarks.csv", "case_id,x0,y0,x1,y1,score", ["a,0,0,10,5,0.9", "b,1,1,2,2,0.2"])
    res = _run("metrics", "--task", "detection", "--rule", "iou", "--iou", 0.5, "--labels", boxes,
               "--outputs", boxmarks, "--fp-rates", "0.5")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["metrics"][0]["estimate"] == 1.0


@pytest.mark.parametrize(("rows", "field"), [
    (["img9,1,1,0.5"], "case_id"),
    (["img1,1,1,7"], "score"),
    (["img1,abc,1,0.5"], "x"),
])
def test_bad_detection_outputs(detection_files, rows, field):
    tmp, labels, _marks = detection_files
    bad = _lines(tmp / "bad.csv", "case_id,x,y,score", rows)
    res = _run("metrics", "--task", "detection", "--labels", labels, "--outputs", bad)
    assert res.exit_code == 2 and f"[{field}]" in res.stderr


def test_bad_detection_options(detection_files):
    _tmp, labels, marks = detection_files
    for args, field in ((["--rule", "nearest"], "rule"), (["--fp-rates", "x"], "fp-rates"),
                        (["--duplicates", "maybe"], "duplicates")):
        res = _run("metrics", "--task", "detection", "--labels", labels, "--outputs", marks, *args)
        assert res.exit_code == 2 and f"[{field}]" in res.stderr


def test_detection_subgroups_and_comparison_from_csv(tmp_path):
    """Subgroups of images (first row of each image) and version B against A with the paired bootstrap; the
    JSON equals the pure functions on the same data."""
    from medreg.ai import report
    from medreg.ai.detection import CentreDistance
    from tests.ai.test_detection_compare import HAND_A, HAND_B, HAND_T

    site = {"a": "S1", "b": "S2", "c": "S1", "d": "S2"}
    rows = [f"{i},{x},{y},{r},{site[i]}" for i, t in HAND_T.items()
            for (x, y), r in zip(t.centres.tolist(), t.radii.tolist(), strict=True)]
    rows += [f"{i},,,,{site[i]}" for i, t in HAND_T.items() if t.count == 0]
    labels = _lines(tmp_path / "l.csv", "case_id,x,y,radius,site", rows)

    def marks_csv(name, marks):
        return _lines(tmp_path / name, "case_id,x,y,score",
                      [f"{i},{x},{y},{s}" for i, m in marks.items()
                       for (x, y), s in zip(m.locations.tolist(), m.scores.tolist(), strict=True)])

    a, b = marks_csv("a.csv", HAND_A), marks_csv("b.csv", HAND_B)
    res = _run("metrics", "--task", "detection", "--labels", labels, "--outputs", b,
               "--subgroup-cols", "site")
    assert res.exit_code == 0, res.output
    ref = report.detection_report(HAND_T, HAND_B, CentreDistance(), groups={"site": site})
    assert json.loads(res.stdout)["subgroups"] == json.loads(json.dumps(ref["subgroups"]))
    res = _run("compare-detection", "--labels", labels, "--outputs-a", a, "--outputs-b", b, "--fp-rate", 1,
               "--margin", 0.1, "--bootstrap", 200, "--seed", 3, "--subgroup-cols", "site")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    ref = report.detection_comparison_report(HAND_T, HAND_A, HAND_B, CentreDistance(), rate=1.0, margin=0.1,
                                             n_boot=200, seed=3, groups={"site": site}, min_subgroup=1)
    assert out == json.loads(json.dumps(ref))
    assert out["comparisons"][0]["difference"]["estimate"] == pytest.approx(1 / 3)
    bad = _run("compare-detection", "--labels", labels, "--outputs-a", a, "--outputs-b", b, "--rule", "x")
    assert bad.exit_code == 2 and "[rule]" in bad.stderr


def test_multiclass_subgroups_from_csv(tmp_path):
    from medreg.ai import report

    ref = ["R0", "R1", "R2", "R0", "R1", "R2"] * 5
    pred = ["R0", "R1", "R2", "R0", "R2", "R2"] * 5
    sites = ["A", "B"] * 15
    ids = [f"m{i}" for i in range(30)]
    labels = _write(tmp_path / "l.csv", ["case_id", "label", "site"], zip(ids, ref, sites, strict=True))
    outs = _write(tmp_path / "o.csv", ["case_id", "class"], zip(ids, pred, strict=True))
    res = _run("metrics", "--task", "multiclass", "--categories", "R0,R1,R2", "--ordinal", "--labels", labels,
               "--outputs", outs, "--subgroup-cols", "site")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    want = report.multiclass_report(ref, pred, ["R0", "R1", "R2"], ordinal=True, groups={"site": sites})
    assert out["subgroups"] == json.loads(json.dumps(want["subgroups"]))
    by = {s["value"]: {m["metric"]: m for m in s["metrics"]} for s in out["subgroups"]}
    # R1 sits at i % 6 == 1 (odd: site B, called R1) and i % 6 == 4 (even: site A, called R2)
    assert by["A"]["sensitivity[R1]"]["estimate"] == 0.0 and by["A"]["sensitivity[R1]"]["n"] == 5
    assert by["B"]["sensitivity[R1]"]["estimate"] == 1.0 and by["B"]["accuracy"]["estimate"] == 1.0
