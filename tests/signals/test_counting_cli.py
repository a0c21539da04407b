"""DuckDB counting against an independent NumPy counter and openEBGM's counts; the ``score`` command."""

from __future__ import annotations

import csv
import gzip
import json
import shutil

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from medreg.cli import app
from medreg.core.errors import ValidationFailed
from medreg.signals.counting import count_pairs
from medreg.signals.scoring import COLUMNS, MH_COLUMNS, expected_counts
from tests.signals.refdata import DATA, count, read_rows, reference

runner = CliRunner()


@pytest.fixture(scope="module")
def caers_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("signals") / "caers.csv"
    with gzip.open(DATA / "caers.csv.gz", "rb") as src, path.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return path


def _by_pair(c):
    return {(c.devices[d], c.events[e]): i for i, (d, e) in enumerate(zip(c.pair_device, c.pair_event,
                                                                             strict=True))}


@pytest.mark.parametrize("strata", [(), ("strat1",)])
def test_duckdb_counts_equal_the_numpy_counter_on_caers(caers_csv, strata):
    got = count_pairs(caers_csv, report_col="id", device_col="var1", event_col="var2", strata_cols=strata)
    ref = count(read_rows("caers.csv.gz"), strata=strata)
    assert got.n_total == ref.n_total == 3356 and got.n11.size == len(ref.pairs) == 17189
    idx = _by_pair(got)
    order = np.array([idx[p] for p in ref.pairs])
    assert np.array_equal(got.n11[order], ref.n11)
    assert np.array_equal(got.n_device[order], ref.n_device)
    assert np.array_equal(got.n_event[order], ref.n_event)
    assert expected_counts(got)[order] == pytest.approx(ref.expected, rel=1e-12)


def test_stratified_expected_counts_match_openebgm_testA(tmp_path):
    path = DATA / "testA_dat2.csv"
    got = count_pairs(path, report_col="id", device_col="var1", event_col="var2",
                      strata_cols=["strat1", "strat2"])
    idx, e = _by_pair(got), expected_counts(got)
    rows = reference("openEBGM 0.9.1", "openEBGM testA dat2 (stratified)", "E")
    checked = 0
    for key, (value, _, _) in rows.items():
        pair = tuple(key.split("|"))
        if pair in idx:
            assert e[idx[pair]] == pytest.approx(value, rel=1e-7)
            checked += 1
    assert checked == 7  # the two zero pairs have no row in a report table


def test_parquet_input_duplicates_and_empty_rows(tmp_path):
    src = tmp_path / "r.csv"
    src.write_text("rid,dev,evt\n1,A,x\n1,A,x\n1,A,y\n2,A,x\n3,B,x\n4,,x\n5,B,\n", encoding="utf-8")
    pq = tmp_path / "r.parquet"
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{src}', all_varchar=true)) TO '{pq}' (FORMAT parquet)")
    for path in (src, pq):
        c = count_pairs(path, report_col="rid", device_col="dev", event_col="evt")
        idx = _by_pair(c)
        assert c.n_total == 3  # reports 4 and 5 lack a device or an event
        assert c.n11[idx[("A", "x")]] == 2 and c.n11[idx[("A", "y")]] == 1 and c.n11[idx[("B", "x")]] == 1
        assert c.n_device[idx[("A", "x")]] == 2 and c.n_event[idx[("A", "x")]] == 3


def test_counting_names_the_bad_option(tmp_path):
    with pytest.raises(ValidationFailed) as err:
        count_pairs(DATA / "testA_dat2.csv", report_col="id", device_col="var1", event_col="nope")
    assert err.value.field == "event-col"
    with pytest.raises(ValidationFailed) as err:
        count_pairs(tmp_path / "missing.csv", report_col="id", device_col="var1", event_col="var2")
    assert err.value.field == "reports"


def test_score_command_writes_every_column_and_the_prior(caers_csv, tmp_path):
    out = tmp_path / "scores.csv"
    theta = "3.25379356,0.39988854,2.02612692,1.90807970,0.06534557"  # openEBGM vignette04
    result = runner.invoke(app, ["signals", "score", str(caers_csv), "--report-col", "id", "--device-col",
                                 "var1", "--event-col", "var2", "--out", str(out), "--prior", theta])
    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["device", "event", *COLUMNS]
    assert len(rows) == 17189
    by = {(r["device"], r["event"]): r for r in rows}
    r = by[("REUMOFAN PLUS", "WEIGHT INCREASED")]  # openEBGM vignette04: 23.26 (15.68, 33.48)
    assert int(r["n11"]) == 16 and float(r["expected"]) == pytest.approx(0.40643623, rel=1e-7)
    assert (float(r["ebgm"]), float(r["eb05"]), float(r["eb95"])) == pytest.approx((23.26, 15.68, 33.48),
                                                                                    abs=0.01)
    assert by[("11 UNSPECIFIED VITAMINS", "CARDIAC FUNCTION TEST")]["prr"] == "inf"
    side = json.loads((tmp_path / "scores.prior.json").read_text(encoding="utf-8"))
    assert side["prior"]["alpha1"] == pytest.approx(3.25379356) and side["fitted"] is False


def test_score_command_fits_the_prior_with_strata(tmp_path):
    out, prior = tmp_path / "s.csv", tmp_path / "prior.json"
    result = runner.invoke(app, ["signals", "score", str(DATA / "drug_event_df.csv"), "--report-col",
                                 "report_id", "--device-col", "drug", "--event-col", "event",
                                 "--strata-cols", "group", "--out", str(out), "--prior-out", str(prior)])
    assert result.exit_code == 0, result.output
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == ["device", "event", *COLUMNS, *MH_COLUMNS]
    doc = json.loads(prior.read_text(encoding="utf-8"))
    assert doc["reports"] == 1000 and len(doc["strata"]) == 2 and doc["neg_log_lik"] > 0


@pytest.mark.parametrize("args,field", [
    (["--device-col", "nope"], "device-col"),
    (["--prior", "1,2,3"], "prior"),
])
def test_score_command_bad_input_exits_2_naming_the_option(tmp_path, args, field):
    base = {"--report-col": "id", "--device-col": "var1", "--event-col": "var2"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = ["signals", "score", str(DATA / "testA_dat2.csv"), "--out", str(tmp_path / "o.csv")]
    for flag, value in base.items():
        argv += [flag, value]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert f"[{field}]" in result.output
