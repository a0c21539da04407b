"""The benchmark generator (bench/signals/generate.py) is seeded and its planted signals are found."""

from __future__ import annotations

import numpy as np
from bench.signals.generate import check, generate, write
from typer.testing import CliRunner

from medreg.cli import app


def test_generator_is_seeded_and_plants_what_it_says(tmp_path):
    a, planted_a = generate(20_000, signals=20, seed=7)
    b, planted_b = generate(20_000, signals=20, seed=7)
    assert planted_a == planted_b and all(np.array_equal(a[k], b[k]) for k in a)
    c, _ = generate(20_000, signals=20, seed=8)
    assert not np.array_equal(a["event"], c["event"])
    assert len(set(a["report_id"])) == 20_000
    assert {p.rr for p in planted_a} <= {2.0, 3.0, 5.0, 10.0}
    # Zipf-like: the most frequent device is on far more reports than the median one
    _, freq = np.unique(a["device"], return_counts=True)
    assert freq.max() > 20 * np.median(freq)


def test_planted_signals_are_found_by_every_statistic(tmp_path):
    cols, planted = generate(60_000, signals=30, seed=11)
    path = tmp_path / "reports.csv"
    write(cols, planted, path)
    out = tmp_path / "scores.csv"
    result = CliRunner().invoke(app, ["signals", "score", str(path), "--report-col", "report_id",
                                      "--device-col", "device", "--event-col", "event",
                                      "--strata-cols", "age_band", "--out", str(out)])
    assert result.exit_code == 0, result.output
    res = check(out, path.with_suffix(".planted.json"))
    assert res.planted == 30
    for stat in ("prr", "ror", "ic", "ebgm"):
        assert res.recall_by_rr[stat][10.0] == 1.0, (stat, res)
        assert res.found[stat] >= 0.6 * res.planted, (stat, res)
    # the Bayesian measures shrink: they flag fewer pairs in all than PRR does
    assert res.flagged["ebgm"] < res.flagged["prr"] and res.flagged["ic"] < res.flagged["prr"]
