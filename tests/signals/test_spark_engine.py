"""The PySpark counting engine gives exactly the DuckDB engine's counts and scores (local[*])."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from bench.signals.generate import generate, write
from typer.testing import CliRunner

from medreg.cli import app
from medreg.signals.counting import count_pairs
from tests.signals.refdata import DATA

# No database is involved: run once, in the SQLite pass of `make test`, not again on PostgreSQL.
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.environ.get("MEDREG_TEST_DB") == "postgresql",
                                 reason="database-independent; runs in the SQLite pass")]
pytest.importorskip("pyspark")
if shutil.which("java") is None:  # pragma: no cover - the Makefile installs default-jre-headless
    pytest.fail("PySpark needs a Java runtime: run `make java`")

from medreg.signals.counting_spark import count_pairs_spark  # noqa: E402


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    cols, planted = generate(5_000, signals=10, seed=3)
    path = tmp_path_factory.mktemp("spark") / "reports.csv"
    write(cols, planted, path)
    return path


def _same(a, b):
    for name in a.__dataclass_fields__:
        x, y = np.asarray(getattr(a, name)), np.asarray(getattr(b, name))
        assert x.shape == y.shape and np.array_equal(x, y), name


@pytest.mark.parametrize("strata", [(), ("year", "sex", "age_band")])
def test_spark_counts_equal_duckdb_counts(generated, strata):
    names = {"report_col": "report_id", "device_col": "device", "event_col": "event", "strata_cols": strata}
    _same(count_pairs_spark(generated, **names), count_pairs(generated, **names))


def test_spark_counts_equal_duckdb_on_openebgm_test_data():
    names = {"report_col": "id", "device_col": "var1", "event_col": "var2",
             "strata_cols": ("strat1", "strat2")}
    _same(count_pairs_spark(DATA / "testA_dat2.csv", **names), count_pairs(DATA / "testA_dat2.csv", **names))


def test_score_command_with_spark_writes_the_same_file(generated, tmp_path):
    outs = {}
    for engine in ("duckdb", "spark"):
        out = tmp_path / f"{engine}.csv"
        result = CliRunner().invoke(app, ["signals", "score", str(generated), "--report-col", "report_id",
                                          "--device-col", "device", "--event-col", "event",
                                          "--strata-cols", "age_band", "--engine", engine, "--out", str(out)])
        assert result.exit_code == 0, result.output
        outs[engine] = out.read_text(encoding="utf-8")
    assert outs["spark"] == outs["duckdb"]


def test_unknown_engine_is_refused(tmp_path):
    result = CliRunner().invoke(app, ["signals", "score", str(DATA / "testA_dat2.csv"), "--report-col", "id",
                                      "--device-col", "var1", "--event-col", "var2", "--engine", "hive",
                                      "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 2 and "[engine]" in result.output


def test_run_pipeline_on_spark_equals_duckdb_on_the_generated_set(generated, tmp_path):
    """`signals run --engine spark` scores the analysis table exactly as DuckDB does (strata included)."""
    import duckdb

    from medreg.signals import pipeline

    events = tmp_path / "events.parquet"
    duckdb.sql(f"COPY (SELECT substr(report_id, 2)::BIGINT AS report_id, device, event, "
               f"NULL::BIGINT AS registrant_org_id, "
               f"year, sex, age_band FROM read_csv('{generated}', header = true, all_varchar = true)) "
               f"TO '{events}' (FORMAT PARQUET)")
    strata = ("year", "sex", "age_band")
    a = pipeline.score_events(events, strata, "duckdb")
    b = pipeline.score_events(events, strata, "spark")
    assert a.pairs == b.pairs > 100 and a.reports == b.reports == 5_000 and a.prior == b.prior
    assert a.columns.keys() == b.columns.keys() and "ror_mh" in a.columns
    for name, col in a.columns.items():
        assert np.array_equal(col, b.columns[name], equal_nan=col.dtype != object), name


@pytest.mark.parametrize("strata", [(), ("year", "sex", "age_band", "reporter_type")])
def test_spark_counts_an_analysis_table_by_its_flags(tmp_path, strata, monkeypatch):
    """On a table of the run pipeline (first-of-report flags) both engines count by the flags (one
    aggregation over the rows): identical counts, and identical to Spark's plain count."""
    from medreg.signals import counting_spark, pipeline
    from tests.signals.test_one_device_count import make_snapshot, same

    events = pipeline.prepare_events(make_snapshot(tmp_path), 2, "AE", "category1", strata)
    calls = []
    real = counting_spark._flagged
    monkeypatch.setattr(counting_spark, "_flagged", lambda *a: calls.append(1) or real(*a))
    spark = pipeline.count_events(events, strata, "spark")
    assert calls == [1]
    same(spark, pipeline.count_events(events, strata, "duckdb"))
    names = {"report_col": "report_id", "device_col": "device", "event_col": "event", "strata_cols": strata}
    same(spark, count_pairs_spark(events, **names))


def test_spark_gathers_the_cells_without_arrow_too(tmp_path, monkeypatch):
    """Without pyarrow (or Spark < 4) the cells come back as Row objects: the same counts."""
    from pyspark.sql import DataFrame

    from medreg.signals import counting_spark, pipeline
    from tests.signals.test_one_device_count import make_snapshot, same

    assert counting_spark._arrow_available() and hasattr(DataFrame, "toArrow")  # the Arrow path first
    events = pipeline.prepare_events(make_snapshot(tmp_path, reports=800), 2, "AE", "certificate", ("sex",))
    arrow = pipeline.count_events(events, ("sex",), "spark")
    monkeypatch.setattr(counting_spark, "_arrow_available", lambda: False)
    same(pipeline.count_events(events, ("sex",), "spark"), arrow)
    same(arrow, pipeline.count_events(events, ("sex",), "duckdb"))


def test_spark_counts_a_table_whose_flags_do_not_hold_the_plain_way(tmp_path):
    import duckdb

    from tests.signals.test_one_device_count import same

    path = tmp_path / "t.parquet"
    duckdb.sql("COPY (SELECT * FROM (VALUES (1, 'D1', 'E1', true), (1, 'D2', 'E1', NULL), "
               "(2, 'D1', 'E2', true), (3, '', 'E2', true)) v(report_id, device, event, f)) "
               f"TO '{path}' (FORMAT PARQUET)")
    names = {"report_col": "report_id", "device_col": "device", "event_col": "event"}
    got = count_pairs_spark(path, report_flag="f", **names)
    same(got, count_pairs(path, **names))
    assert got.n_total == 2 and list(got.n_event) == [1, 1, 1]


def test_a_session_on_another_master_is_replaced(generated):
    """A process that counted on one master and then asks for another gets the one it asked for."""
    from pyspark.sql import SparkSession

    names = {"report_col": "report_id", "device_col": "device", "event_col": "event"}
    first = count_pairs_spark(generated, master="local[1]", **names)
    assert SparkSession.getActiveSession().sparkContext.master == "local[1]"
    second = count_pairs_spark(generated, master="local[2]", **names)
    assert SparkSession.getActiveSession().sparkContext.master == "local[2]"
    _same(first, second)
    count_pairs_spark(generated, master="local[*]", **names)  # as the other tests expect it
