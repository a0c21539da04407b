"""The run pipeline's count for one device per report gives the plain count, field by field (made-up data).

``pipeline.count_events`` (DuckDB) counts an analysis table by its first-of-report flags
(``count_pairs(report_flag=...)``: one aggregation over the rows), and a table without them (written
before they existed) with ``count_pairs(one_device=True)``: the margins from one aggregation keyed on the
report and sums over the pair table. The tables are written by
``pipeline.prepare_events`` from a generated snapshot that has what the margins must handle: reports
without the level's key, reports whose codes are all in annexes the run leaves out (no counted row),
codes that roll up to the same term (A040101 and A040103 at level 1 or 2), codes unknown to the tree,
strata with missing values. Every device level, with and without strata, two event levels. The path
checks that each report has one device and one stratum, and counts a table that does not the plain way.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest
from bench.signals.generate import generate_coded

from medreg.signals import counting, pipeline
from medreg.signals.counting import count_pairs
from medreg.signals.snapshot import Snapshot

NAMES = {"report_col": "report_id", "device_col": "device", "event_col": "event"}
ALL_STRATA = tuple(pipeline.STRATA)
CODES = np.array(["A040101", "A040103", "A0401", "A04", "A070101", "A0502", "A0502", "A11", "E0101",
                  "E0102", "F01", "Z9999"], dtype=object)
ANNEX = np.array([c[0] if c[0] in "AEF" else "A" for c in CODES], dtype=object)


def make_snapshot(folder: Path, reports: int = 3_000, seed: int = 11) -> Snapshot:
    """A schema-3 snapshot as ``snapshot.export`` writes it: one row per (report, code), every device key
    and every stratum input a fact of the report (the same on all its rows), some of them missing."""
    rng = np.random.default_rng(seed)
    certs = np.array([f"国械注准2025{3 + i % 20:02d}{7 + i % 3}{i:04d}" for i in range(40)], dtype=object)
    cert = rng.integers(0, certs.size, reports)
    has_cert = rng.random(reports) > 0.1
    device = np.where(has_cert, certs[cert], None)
    registrant = np.where(rng.random(reports) > 0.05, (cert % 7) + 100, -1)
    category = np.where(has_cert, np.array([c[8:10] for c in certs], dtype=object)[cert], None)
    c1 = np.array([f"{i % 4 + 1:02d}-{i % 3 + 1:02d}" for i in range(40)], dtype=object)
    category1 = np.where(has_cert & (cert % 5 != 0), c1[cert], None)
    category2 = np.where(has_cert & (cert % 5 > 1), np.array([f"{c}-0{i % 2 + 1}" for i, c in enumerate(c1)],
                                                               dtype=object)[cert], None)
    fda = np.where(rng.random(reports) > 0.3, np.array(["FOZ", "LLZ", "DXY", "QAS", "MNH"])[cert % 5], None)
    year = np.where(rng.random(reports) > 0.05, rng.integers(2019, 2025, reports), -1)
    sex = np.where(rng.random(reports) > 0.1, rng.choice(np.array(["female", "male"]), reports), None)
    age = np.where(rng.random(reports) > 0.1, rng.integers(0, 95, reports).astype(float), np.nan)
    role = np.where(rng.random(reports) > 0.1, rng.choice(np.array(["doctor", "nurse", "patient"]), reports),
                    None)
    n_codes = rng.integers(1, 5, reports)  # some draws repeat a code: the snapshot keeps distinct rows
    rid = np.repeat(np.arange(1, reports + 1), n_codes)
    idx = np.repeat(np.arange(reports), n_codes)
    pick = rng.integers(0, CODES.size, rid.size)
    pick[np.isin(rid, np.arange(1, reports + 1, 97))] = 8  # some reports have E codes only
    table = {"report_id": rid, "device": device[idx], "registrant_org_id": registrant[idx],
             "annex": ANNEX[pick], "code": CODES[pick], "year": year[idx], "category": category[idx],
             "fda_product_code": fda[idx], "sex": sex[idx], "age_years": age[idx], "reporter_role": role[idx],
             "category1": category1[idx], "category2": category2[idx]}
    path = folder / "v000001.parquet"
    con = duckdb.connect()
    try:
        con.register("t", table)
        con.execute("COPY (SELECT DISTINCT report_id, device::VARCHAR AS device, "
                    "NULLIF(registrant_org_id, -1) AS registrant_org_id, annex::VARCHAR AS annex, "
                    "code::VARCHAR AS code, NULLIF(year, -1) AS year, category::VARCHAR AS category, "
                    "fda_product_code::VARCHAR AS fda_product_code, sex::VARCHAR AS sex, "
                    "CASE WHEN isnan(age_years) THEN NULL ELSE age_years END AS age_years, "
                    "reporter_role::VARCHAR AS reporter_role, category1::VARCHAR AS category1, "
                    "category2::VARCHAR AS category2 FROM t ORDER BY report_id, annex, code) "
                    f"TO '{path}' (FORMAT PARQUET)")
        n_rows, n_reports = con.execute(
            f"SELECT count(*), count(DISTINCT report_id) FROM '{path}'").fetchone()
    finally:
        con.close()
    return Snapshot(version=1, path=str(path), reports=n_reports, rows=n_rows,
                    exported_at="2026-11-30T00:00:00+00:00", base_version=None, changed_reports=None,
                    schema=3)


@pytest.fixture(scope="module")
def snap(tmp_path_factory):
    return make_snapshot(tmp_path_factory.mktemp("one-device"))


def same(a, b):
    for name in a.__dataclass_fields__:
        x, y = np.asarray(getattr(a, name)), np.asarray(getattr(b, name))
        assert x.shape == y.shape and np.array_equal(x, y), name


@pytest.mark.parametrize("strata", [(), ALL_STRATA])
@pytest.mark.parametrize("level,annexes", [(1, "A"), (2, "AEF")])
@pytest.mark.parametrize("device_level", list(pipeline.DEVICE_LEVELS))
def test_the_pipeline_count_equals_the_plain_count(snap, device_level, level, annexes, strata, monkeypatch):
    events = pipeline.prepare_events(snap, level, annexes, device_level, strata)
    plain = count_pairs(events, strata_cols=strata, **NAMES)
    with monkeypatch.context() as m:  # the run pipeline counts by the table's first-of-report flags
        m.setattr(counting, "_one_device_aggregate", lambda *a: pytest.fail("fell back to one-device"))
        m.setattr(counting, "_plain_aggregate", lambda *a: pytest.fail("fell back to the plain count"))
        got = pipeline.count_events(events, strata)
    same(got, plain)
    # a table written before the flags existed: the checked one-device count, the same counts
    old = events.with_name("old.parquet")
    duckdb.sql(f"COPY (SELECT * EXCLUDE (first_of_report) FROM '{events}') TO '{old}' (FORMAT PARQUET)")
    calls = []
    original = counting._one_device_aggregate
    monkeypatch.setattr(counting, "_one_device_aggregate",
                        lambda con, stratified: calls.append(1) or original(con, stratified))
    monkeypatch.setattr(counting, "_plain_aggregate", lambda *a: pytest.fail("fell back to the plain count"))
    same(pipeline.count_events(old, strata), plain)
    assert calls == [1]
    # the edge cases are there: reports left out (no key, or no counted code), roll-up merging codes
    con = duckdb.connect()
    try:
        keyed = con.execute(f"SELECT count(DISTINCT report_id) FROM '{events}'").fetchone()[0]
        key = pipeline.DEVICE_LEVELS[device_level]
        coded = con.execute(f"SELECT count(DISTINCT (report_id, code)) FROM '{snap.path}' WHERE "
                            f"list_contains(?, annex) AND {key} IS NOT NULL AND {key}::VARCHAR <> ''",
                            [list(annexes)]).fetchone()[0]
        rows = con.execute(f"SELECT count(*) FROM '{events}'").fetchone()[0]
    finally:
        con.close()
    assert got.n_total == keyed < snap.reports and rows < coded  # reports left out; codes merged
    assert np.all(got.n_device >= got.n11) and np.all(got.n_event >= got.n11)
    if strata:
        assert got.strata.size > 1 and int(got.stratum_total.sum()) == got.n_total


def test_a_report_without_counted_rows_is_in_no_margin(tmp_path, monkeypatch):
    """Hand-made: report 3 has an empty event only, report 4 an empty device only; repeated rows."""
    path = tmp_path / "t.parquet"
    duckdb.sql("COPY (SELECT * FROM (VALUES (1, 'D1', 'E1', 'x'), (1, 'D1', 'E1', 'x'), "
               "(1, 'D1', 'E2', 'x'), (2, 'D2', 'E1', 'y'), (3, 'D1', '', 'x'), (4, '', 'E1', 'y'), "
               "(5, 'D1', 'E2', 'y')) "
               f"v(report_id, device, event, s)) TO '{path}' (FORMAT PARQUET)")
    for strata in ((), ("s",)):
        plain = count_pairs(path, strata_cols=strata, **NAMES)
        with monkeypatch.context() as m:
            m.setattr(counting, "_plain_aggregate", lambda *a: pytest.fail("fell back to the plain count"))
            got = count_pairs(path, strata_cols=strata, one_device=True, **NAMES)
        same(got, plain)
        assert got.n_total == 3 and list(got.n11) == [1, 2, 1] and list(got.n_device) == [2, 2, 1]
        assert list(got.n_event) == [2, 2, 2]


@pytest.mark.parametrize("strata", [(), ("year", "sex", "age_band")])
def test_the_generated_bench_set_with_one_device_per_report(tmp_path, strata, monkeypatch):
    """The bench generator's reports, each keeping its first device only (repeated rows kept)."""
    cols, _, (rid, dv, _) = generate_coded(10_000, signals=10, seed=5)
    first = np.r_[True, rid[1:] != rid[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(rid.size), 0))
    keep = dv == dv[start]
    path = tmp_path / "one.parquet"
    con = duckdb.connect()
    try:
        con.register("t", {k: v[keep] for k, v in cols.items()})
        con.execute(f"COPY (SELECT CAST(substr(report_id, 2) AS BIGINT) AS report_id, * EXCLUDE (report_id) "
                    f"FROM t) TO '{path}' (FORMAT PARQUET)")
    finally:
        con.close()
    plain = count_pairs(path, strata_cols=strata, **NAMES)
    monkeypatch.setattr(counting, "_plain_aggregate", lambda *a: pytest.fail("fell back to the plain count"))
    got = count_pairs(path, strata_cols=strata, one_device=True, **NAMES)
    assert got.n_total == 10_000 and (got.strata.size > 1) == bool(strata)
    same(got, plain)


@pytest.mark.parametrize("table", ["two devices", "two strata"])
@pytest.mark.parametrize("strata", [(), ("s",)])
def test_a_table_that_breaks_the_rule_is_counted_the_plain_way(tmp_path, table, strata, monkeypatch):
    rows = ("(1, 'D1', 'E1', 'x'), (1, 'D2', 'E1', 'x'), (2, 'D1', 'E2', 'y')" if table == "two devices"
            else "(1, 'D1', 'E1', 'x'), (1, 'D1', 'E2', 'y'), (2, 'D2', 'E2', 'y')")
    path = tmp_path / "t.parquet"
    duckdb.sql(f"COPY (SELECT * FROM (VALUES {rows}) v(report_id, device, event, s)) TO '{path}' "
               "(FORMAT PARQUET)")
    calls = []
    original = counting._plain_aggregate
    monkeypatch.setattr(counting, "_plain_aggregate", lambda con, s: calls.append(1) or original(con, s))
    got = count_pairs(path, strata_cols=strata, one_device=True, **NAMES)
    # two strata on one report matter only when the count is stratified
    assert calls == ([1] if table == "two devices" or strata else [])
    same(got, count_pairs(path, strata_cols=strata, **NAMES))
    if table == "two devices":
        assert got.n_total == 2 and list(got.n_event) == [1, 1, 1]  # not the sum over devices (2)
