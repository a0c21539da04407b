"""Counting (device, event) pairs and their margins with DuckDB over a report-level table.

The input has one row per report x device x event (CSV or Parquet; extra columns are ignored). Counts are
**distinct reports** (openEBGM ``processRaw`` and pvda convention, see docs/signals.md). One aggregate
query gives, per stratum, the pair counts, the device and event margins and the
report total; rows with an empty report id, device or event are left out. Strata are the values of
``strata_cols`` taken together; a report is counted in each stratum its rows carry (normally one).

This module does I/O (it reads the file); the statistics stay in the pure modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
from numpy.typing import NDArray

from medreg.core.errors import ValidationFailed
from medreg.signals.scoring import PairCounts

IntArray = NDArray[np.int64]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _source(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    if not path.exists():
        raise ValidationFailed("File not found: {path}", field="reports", params={"path": str(path)})
    literal = "'" + str(path).replace("'", "''") + "'"
    if path.suffix.lower() in (".parquet", ".pq"):
        return f"read_parquet({literal})"
    return f"read_csv({literal}, header = true, all_varchar = true)"


_ROWS = """
CREATE TEMP TABLE raw AS
  SELECT CAST({r} AS VARCHAR) AS rid, CAST({d} AS VARCHAR) AS dev, CAST({e} AS VARCHAR) AS evt{s}
  FROM {src}
  WHERE {r} IS NOT NULL AND {d} IS NOT NULL AND {e} IS NOT NULL
    AND CAST({r} AS VARCHAR) <> '' AND CAST({d} AS VARCHAR) <> '' AND CAST({e} AS VARCHAR) <> '';
"""
# The input is read once (into ``raw``); the (few) device, event and stratum labels get their integer
# codes, in label order, before anything is counted, so that every hash aggregation over the rows keys
# on (report id, small integers) rather than on three strings.
_DICT = ("CREATE TEMP TABLE {t} AS SELECT {c}, CAST(row_number() OVER (ORDER BY {c}) - 1 AS INTEGER) "
         "AS {i} FROM (SELECT DISTINCT {c} FROM raw)")
_DISTINCT = """
CREATE TEMP TABLE t AS
  SELECT DISTINCT rid, di, ei, {si} AS si FROM raw JOIN devs USING (dev) JOIN evts USING (evt) {join};
DROP TABLE raw;
"""

# The one aggregate query: over the distinct (report, device, event, stratum) rows, the pair x stratum
# counts (g=0), crude pair counts (1), device (2) and event (4) margins per stratum, stratum totals (6),
# crude device (3) and event (5) margins and the report total (7). Each part counts the rows of a
# DISTINCT projection, which is a distinct-report count without a COUNT(DISTINCT) per group.
_PARTS = {
    0: "SELECT di, ei, si, count(*) AS n, 0 AS g FROM t GROUP BY di, ei, si",
    1: "SELECT di, ei, -1 AS si, count(*) AS n, 1 AS g FROM (SELECT DISTINCT rid, di, ei FROM t) "
       "GROUP BY di, ei",
    2: "SELECT di, -1, si, count(*), 2 FROM (SELECT DISTINCT rid, di, si FROM t) GROUP BY di, si",
    4: "SELECT -1, ei, si, count(*), 4 FROM (SELECT DISTINCT rid, ei, si FROM t) GROUP BY ei, si",
    6: "SELECT -1, -1, si, count(*), 6 FROM (SELECT DISTINCT rid, si FROM t) GROUP BY si",
    3: "SELECT di, -1, -1, count(*), 3 FROM (SELECT DISTINCT rid, di FROM t) GROUP BY di",
    5: "SELECT -1, ei, -1, count(*), 5 FROM (SELECT DISTINCT rid, ei FROM t) GROUP BY ei",
    7: "SELECT -1, -1, -1, count(DISTINCT rid), 7 FROM t",
}
# Without strata every (rid, di, ei) row of t is already distinct, the per-stratum parts equal the
# crude ones (not computed twice), and the report total is taken from the (report, device) rows.
_CRUDE = {
    1: "SELECT di, ei, -1 AS si, count(*) AS n, 1 AS g FROM t GROUP BY di, ei",
    3: "SELECT di, -1, -1, count(*), 3 FROM td GROUP BY di",
    5: _PARTS[5],
    7: "SELECT -1, -1, -1, count(DISTINCT rid), 7 FROM td",
}
_ALIAS = {0: 1, 2: 3, 4: 5, 6: 7}


def _aggregate(stratified: bool) -> str:
    if stratified:
        return "\nUNION ALL ".join(_PARTS.values())
    return ("CREATE TEMP TABLE td AS SELECT DISTINCT rid, di FROM t;\n"
            + "\nUNION ALL ".join(_CRUDE.values()))


def count_pairs(reports: str | Path, *, report_col: str, device_col: str, event_col: str,
                strata_cols: Sequence[str] = (), threads: int | None = None) -> PairCounts:
    """Count every (device, event) pair of a report-level CSV or Parquet file, with margins.

    Raises ``ValidationFailed`` (field names the option) when the file or a column is missing or the
    table has no usable row.
    """
    path = Path(reports)
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        src = _source(con, path)
        columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
        for option, col in [("report-col", report_col), ("device-col", device_col),
                            ("event-col", event_col)] + [("strata-cols", c) for c in strata_cols]:
            if col not in columns:
                raise ValidationFailed("Column '{column}' is not in the file (columns: {columns}).",
                                       field=option, params={"column": col, "columns": ", ".join(columns)})
        parts = ", ".join(f"coalesce(CAST({_ident(c)} AS VARCHAR), '')" for c in strata_cols)
        stratum = f", concat_ws(chr(31), {parts}) AS stratum" if strata_cols else ""
        con.execute(_ROWS.format(r=_ident(report_col), d=_ident(device_col), e=_ident(event_col),
                                 s=stratum, src=src))
        con.execute(_DICT.format(t="devs", c="dev", i="di"))
        con.execute(_DICT.format(t="evts", c="evt", i="ei"))
        if strata_cols:
            con.execute(_DICT.format(t="strs", c="stratum", i="si"))
        else:
            con.execute("CREATE TEMP TABLE strs AS SELECT '' AS stratum, 0 AS si")
        con.execute(_DISTINCT.format(si="si" if strata_cols else "0",
                                     join="JOIN strs USING (stratum)" if strata_cols else ""))
        agg = con.execute(_aggregate(bool(strata_cols))).fetchnumpy()
        devices = con.execute("SELECT dev FROM devs ORDER BY di").fetchnumpy()["dev"]
        events = con.execute("SELECT evt FROM evts ORDER BY ei").fetchnumpy()["evt"]
        strata = con.execute("SELECT stratum FROM strs ORDER BY si").fetchnumpy()["stratum"]
    finally:
        con.close()
    if devices.size == 0:
        raise ValidationFailed("No row has a report id, a device and an event.", field="reports")
    return assemble(agg, np.asarray(devices, dtype=object), np.asarray(events, dtype=object),
                     np.asarray(strata, dtype=object))


def _col(agg, name: str, mask) -> IntArray:
    return np.asarray(agg[name][mask], dtype=np.int64)


def assemble(agg, devices, events, strata) -> PairCounts:
    """PairCounts from the aggregate rows (columns di, ei, si, n, g; g as in the query above)."""
    g, n = np.asarray(agg["g"]), np.asarray(agg["n"], dtype=np.int64)
    if strata.size == 1 and not np.any(g == 0):  # unstratified: one stratum, equal to the crude parts
        extra = [(agg_g, g == crude) for agg_g, crude in _ALIAS.items()]
        agg = {k: np.concatenate([np.asarray(agg[k])] + [np.asarray(agg[k])[m] for _, m in extra])
               for k in ("di", "ei", "si", "n")}
        agg["g"] = np.concatenate([g] + [np.full(int(m.sum()), a) for a, m in extra])
        agg["si"] = np.where(agg["si"] < 0, 0, agg["si"])
        g, n = agg["g"], np.asarray(agg["n"], dtype=np.int64)
    # GROUPING(di, ei, si) bits: 4 = di rolled up, 2 = ei rolled up, 1 = si rolled up
    cells = g == 0
    cell_pair_dev, cell_ev, cell_s, cell_n = (_col(agg, "di", cells), _col(agg, "ei", cells),
                                              _col(agg, "si", cells), n[cells])
    n_dev, n_evt, n_str = devices.size, events.size, strata.size
    device_margin = np.zeros((n_dev, n_str), dtype=np.int64)
    m = g == 2
    device_margin[_col(agg, "di", m), _col(agg, "si", m)] = n[m]
    event_margin = np.zeros((n_evt, n_str), dtype=np.int64)
    m = g == 4
    event_margin[_col(agg, "ei", m), _col(agg, "si", m)] = n[m]
    stratum_total = np.zeros(n_str, dtype=np.int64)
    m = g == 6
    stratum_total[_col(agg, "si", m)] = n[m]
    crude_dev = np.zeros(n_dev, dtype=np.int64)
    m = g == 3
    crude_dev[_col(agg, "di", m)] = n[m]
    crude_evt = np.zeros(n_evt, dtype=np.int64)
    m = g == 5
    crude_evt[_col(agg, "ei", m)] = n[m]
    n_total = int(n[g == 7][0])
    m = g == 1  # crude pair counts: distinct reports over all strata
    pair_key = _col(agg, "di", m) * n_evt + _col(agg, "ei", m)
    order = np.argsort(pair_key, kind="stable")
    pair_key, pair_n11 = pair_key[order], n[m][order]
    cell_pair = np.searchsorted(pair_key, cell_pair_dev * n_evt + cell_ev)
    canon = np.lexsort((cell_s, cell_pair))  # cells in (pair, stratum) order, whatever the engine
    cell_pair, cell_s, cell_n = cell_pair[canon], cell_s[canon], cell_n[canon]
    pair_device, pair_event = pair_key // n_evt, pair_key % n_evt
    return PairCounts(devices=devices, events=events, strata=strata, pair_device=pair_device,
                      pair_event=pair_event, n11=pair_n11, n_device=crude_dev[pair_device],
                      n_event=crude_evt[pair_event], n_total=n_total, cell_pair=cell_pair,
                      cell_stratum=cell_s, cell_n11=cell_n, device_margin=device_margin,
                      event_margin=event_margin, stratum_total=stratum_total)
