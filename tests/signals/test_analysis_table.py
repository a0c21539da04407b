"""The analysis table of a run: its first-of-report flags and its reuse (made-up data).

``pipeline.prepare_events`` writes ``first_of_report`` (true on the first row of each report, NULL where
a report breaks the one-device layout) and keeps the table with a fingerprint of what it was built from;
a run of the same settings on the same snapshot reuses it, anything else rebuilds it.
"""

from __future__ import annotations

import dataclasses
import json

import duckdb
import numpy as np
import pytest

from medreg.signals import counting, pipeline
from medreg.signals.counting import count_pairs
from tests.signals.test_one_device_count import ALL_STRATA, NAMES, make_snapshot, same


@pytest.fixture()
def snap(tmp_path):
    return make_snapshot(tmp_path, reports=800, seed=3)


def _one(sql):
    con = duckdb.connect()
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


def _flags(events):
    return _one(f"SELECT count(*) FILTER (first_of_report), count(*) FILTER (first_of_report IS NULL), "
                      f"count(DISTINCT report_id) FROM '{events}'")


@pytest.mark.parametrize("strata", [(), ALL_STRATA])
def test_one_flag_per_report(snap, strata):
    events = pipeline.prepare_events(snap, 2, "AEF", "category", strata)
    first, broken, reports = _flags(events)
    assert (first, broken) == (reports, 0) and reports > 0
    # the flagged row is the report's first in (device, event) order
    firsts = duckdb.sql(f"SELECT report_id, min(event) FILTER (first_of_report), min(event) FROM '{events}' "
                        "GROUP BY report_id").fetchall()
    assert all(f == m for _, f, m in firsts)


@pytest.mark.parametrize("case", ["second device", "second registrant", "second stratum"])
@pytest.mark.parametrize("strata", [(), ("sex",)])
def test_a_report_that_breaks_the_layout_is_marked_and_counted_right(snap, case, strata, monkeypatch):
    """Rows a snapshot never has, added to one report: a second certificate, the same category with a
    second registrant, a second sex. The table marks the report (NULL flag) when it matters to the count,
    and the count falls back to a path that gives the plain count."""
    change = {"second device": "device || 'X' AS device",
              "second registrant": "registrant_org_id + 1 AS registrant_org_id",
              "second stratum": "CASE WHEN sex = 'male' THEN 'female' ELSE 'male' END AS sex"}[case]
    path = snap.path.replace(".parquet", "-edited.parquet")
    con = duckdb.connect()
    try:
        con.execute(f"CREATE TABLE s AS SELECT * FROM '{snap.path}'")
        rid = con.execute("SELECT min(report_id) FROM s WHERE device IS NOT NULL AND category IS NOT NULL "
                          "AND registrant_org_id IS NOT NULL AND annex IN ('A', 'E', 'F')").fetchone()[0]
        con.execute(f"INSERT INTO s SELECT * REPLACE ({change}) FROM s WHERE report_id = {rid} "
                    "AND annex IN ('A', 'E', 'F') LIMIT 1")
        con.execute(f"COPY s TO '{path}' (FORMAT PARQUET)")
    finally:
        con.close()
    edited = dataclasses.replace(snap, path=path)
    device_level = "category" if case == "second registrant" else "certificate"
    events = pipeline.prepare_events(edited, 2, "AEF", device_level, strata)
    _, broken, _ = _flags(events)
    breaks = case != "second stratum" or bool(strata)  # another sex matters only when sex is a stratum
    assert (broken > 0) == breaks
    plain = count_pairs(events, strata_cols=strata, **NAMES)
    if not breaks:
        monkeypatch.setattr(counting, "_one_device_aggregate", lambda *a: pytest.fail("not flagged"))
    same(pipeline.count_events(events, strata), plain)


def test_the_flagged_count_falls_back_on_a_null_flag(tmp_path):
    path = tmp_path / "t.parquet"
    duckdb.sql("COPY (SELECT * FROM (VALUES (1, 'D1', 'E1', true), (1, 'D2', 'E1', NULL), "
               "(2, 'D1', 'E2', true)) v(report_id, device, event, f)) "
               f"TO '{path}' (FORMAT PARQUET)")
    got = count_pairs(path, report_flag="f", one_device=True, **NAMES)
    same(got, count_pairs(path, **NAMES))
    assert got.n_total == 2 and list(got.n_event) == [1, 1, 1]
    # a flagged row the count leaves out (an empty event): its report's flag would be lost
    duckdb.sql("COPY (SELECT * FROM (VALUES (1, 'D1', '', true), (1, 'D1', 'E1', false), "
               "(2, 'D1', 'E2', true)) v(report_id, device, event, f)) "
               f"TO '{path}' (FORMAT PARQUET)")
    got = count_pairs(path, report_flag="f", **NAMES)
    same(got, count_pairs(path, **NAMES))
    assert got.n_total == 2 and list(got.n_device) == [2, 2]


def test_a_missing_flag_column_is_a_clear_error(tmp_path):
    path = tmp_path / "t.parquet"
    duckdb.sql(f"COPY (SELECT 1 AS report_id, 'D' AS device, 'E' AS event) TO '{path}' (FORMAT PARQUET)")
    with pytest.raises(counting.ValidationFailed) as err:
        count_pairs(path, report_flag="first_of_report", **NAMES)
    assert err.value.field == "report-flag"


def test_the_table_is_reused_and_rebuilt_when_its_inputs_change(snap):
    events = pipeline.prepare_events(snap, 1, "A", "certificate", ("year",))
    side = events.with_suffix(".json")
    first = (events.stat().st_ino, events.stat().st_mtime_ns)
    assert json.loads(side.read_text())["format"] == pipeline.TABLE_FORMAT
    assert pipeline.prepare_events(snap, 1, "A", "certificate", ("year",)) == events
    assert (events.stat().st_ino, events.stat().st_mtime_ns) == first  # reused, not rewritten
    # another export of the same version number (a different snapshot): rebuilt
    other = dataclasses.replace(snap, exported_at="2026-12-01T00:00:00+00:00")
    pipeline.prepare_events(other, 1, "A", "certificate", ("year",))
    second = (events.stat().st_ino, events.stat().st_mtime_ns)
    assert second != first
    # an interrupted build (no side file) or an unreadable side file: rebuilt
    side.unlink()
    pipeline.prepare_events(other, 1, "A", "certificate", ("year",))
    third = (events.stat().st_ino, events.stat().st_mtime_ns)
    assert third != second and side.exists()
    side.write_text("{not json")
    pipeline.prepare_events(other, 1, "A", "certificate", ("year",))
    assert (events.stat().st_ino, events.stat().st_mtime_ns) != third
    assert not list(events.parent.glob("*.tmp"))
    # other settings are other tables
    assert pipeline.prepare_events(other, 2, "A", "certificate", ("year",)) != events


def test_a_roll_up_change_rebuilds_the_table(snap, monkeypatch):
    events = pipeline.prepare_events(snap, 1, "A", "certificate", ())
    before = events.stat().st_mtime_ns, events.stat().st_ino
    real = pipeline.roll_up
    monkeypatch.setattr(pipeline, "roll_up", lambda codes, level, tree: [
        "A11" if c == "A070101" else r for c, r in zip(codes, real(codes, level, tree), strict=True)])
    events = pipeline.prepare_events(snap, 1, "A", "certificate", ())
    assert (events.stat().st_mtime_ns, events.stat().st_ino) != before
    assert _one(f"SELECT count(*) FROM '{events}' WHERE event = 'A07'")[0] == 0
    assert np.isfinite(pipeline.score_events(events).columns["prr"]).any()


def test_a_build_that_fails_leaves_nothing(snap, monkeypatch):
    """The COPY fails half way (an error raised on a late row): no table, no side file, no temporary file
    is left; the next build writes the table."""
    monkeypatch.setattr(pipeline, "first_of_report_sql",
                        lambda strata: "CASE WHEN report_id > 700 THEN error('disk full') ELSE TRUE END")
    with pytest.raises(duckdb.Error):
        pipeline.prepare_events(snap, 1, "A", "certificate", ())
    assert sorted(p.name for p in snap_folder(snap).iterdir()) == ["v000001.parquet"]
    monkeypatch.undo()
    events = pipeline.prepare_events(snap, 1, "A", "certificate", ())
    assert _flags(events)[1] == 0 and events.with_suffix(".json").exists()


def snap_folder(snap):
    from pathlib import Path

    return Path(snap.path).parent
