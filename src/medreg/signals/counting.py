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
from functools import partial
from pathlib import Path

import duckdb
import numpy as np

from medreg.core.errors import ValidationFailed
from medreg.signals.assembly import assemble
from medreg.signals.scoring import PairCounts


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
CREATE TEMP {kind} raw AS
  SELECT {rid} AS rid, CAST({d} AS VARCHAR) AS dev, CAST({e} AS VARCHAR) AS evt{s}
  FROM {src}
  WHERE {r} IS NOT NULL AND {d} IS NOT NULL AND {e} IS NOT NULL{r_empty}
    AND CAST({d} AS VARCHAR) <> '' AND CAST({e} AS VARCHAR) <> '';
"""
# Report ids that are integers (the snapshot's) key the aggregations as they are (not cast to text).
_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                  "UINTEGER", "UBIGINT", "UHUGEINT")
# The input is read once (into ``raw``); the (few) device, event and stratum labels get their integer
# codes, in label order, before anything is counted, so that every hash aggregation over the rows keys
# on (report id, small integers) rather than on three strings.
_DICT = ("CREATE TEMP TABLE {t} AS SELECT {c}, CAST(row_number() OVER (ORDER BY {c}) - 1 AS INTEGER) "
         "AS {i} FROM (SELECT DISTINCT {c} FROM {src})")
_DISTINCT = """
CREATE TEMP TABLE t AS
  SELECT DISTINCT rid, di, ei, {si} AS si
  FROM raw JOIN devs USING (dev) JOIN evts USING (evt) {join};
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


def _union(con: duckdb.DuckDBPyConnection, parts: dict[int, str]) -> dict[str, np.ndarray]:
    """The aggregate rows of ``parts`` (grouping -> query; columns di, ei, si, n, g). The cells (g = 0)
    come first, in (di, ei, si) order, then the pairs (g = 1) in (di, ei) order, then the rest: DuckDB
    sorts in parallel, and ``assemble`` then finds them in order (a NumPy sort of the 6.8 M cells of a
    stratified 10M-report table took 1.6-1.8 s, DuckDB's ORDER BY 0.5-0.6 s with the fetch)."""
    ordered = [f"SELECT * FROM ({parts[g]}) ORDER BY {keys}" for g, keys in ((0, "1, 2, 3"), (1, "1, 2"))
               if g in parts]
    rest = [q for g, q in parts.items() if g > 1]
    fetched = [con.execute(q).fetchnumpy() for q in ordered]
    if rest:
        fetched.append(con.execute("\nUNION ALL ".join(rest)).fetchnumpy())
    names = ("di", "ei", "si", "n", "g")
    return {name: np.concatenate([np.asarray(list(f.values())[i]) for f in fetched])
            for i, name in enumerate(names)}


# With first-occurrence flags (``count_pairs(flag_cols=...)``): one GROUP BY over the rows, no report id
# read. Each distinct (report, device, event) row is one row of the file; ``fd`` is 1 on exactly one row of
# each (report, device), ``fe`` on one row of each (report, event), ``fr`` on one row of each report. The
# sums of the flags over a pair's rows, summed again over the (small) pair table, are the margins.
_FLAGGED = """
CREATE TEMP TABLE raw AS
  SELECT CAST({d} AS VARCHAR) AS dev, CAST({e} AS VARCHAR) AS evt{s}, count(*) AS n,
         CAST(sum(CAST({fd} AS INTEGER)) AS BIGINT) AS nd, CAST(sum(CAST({fe} AS INTEGER)) AS BIGINT) AS ne,
         CAST(sum(CAST({fr} AS INTEGER)) AS BIGINT) AS nr
  FROM {src}
  WHERE {r} IS NOT NULL AND {d} IS NOT NULL AND {e} IS NOT NULL
    AND CAST({d} AS VARCHAR) <> '' AND CAST({e} AS VARCHAR) <> ''
  GROUP BY ALL;
"""
_FLAGGED_PARTS = {
    0: "SELECT di, ei, si, n, 0 AS g FROM c",
    1: "SELECT di, ei, -1 AS si, CAST(sum(n) AS BIGINT) AS n, 1 AS g FROM c GROUP BY di, ei",
    2: "SELECT di, -1, si, CAST(sum(nd) AS BIGINT), 2 FROM c GROUP BY di, si",
    4: "SELECT -1, ei, si, CAST(sum(ne) AS BIGINT), 4 FROM c GROUP BY ei, si",
    6: "SELECT -1, -1, si, CAST(sum(nr) AS BIGINT), 6 FROM c GROUP BY si",
    3: "SELECT di, -1, -1, CAST(sum(nd) AS BIGINT), 3 FROM c GROUP BY di",
    5: "SELECT -1, ei, -1, CAST(sum(ne) AS BIGINT), 5 FROM c GROUP BY ei",
    7: "SELECT -1, -1, -1, CAST(sum(nr) AS BIGINT), 7 FROM c",
}


# With a first-of-report flag (``count_pairs(report_flag=...)``, the analysis tables of
# ``pipeline.prepare_events``): distinct (report, device, event) rows, one device and one stratum per
# report, the flag true on one row of each report. Then a report's rows are its events, so the event margin
# is the sum of the pair counts (``ne = n``) and the device margin the sum of the flags (``nd = nr``):
# one GROUP BY over the rows, no report id hashed. ``bad`` counts the rows that would make this wrong (a
# NULL flag: the table's own finding that a report breaks the layout; a row the plain count would leave
# out); any such row sends the table to the other counts.
_REPORT_FLAGGED = """
CREATE TEMP TABLE raw AS
  SELECT CAST({d} AS VARCHAR) AS dev, CAST({e} AS VARCHAR) AS evt{s}, count(*) AS n,
         CAST(count(*) FILTER ({f}) AS BIGINT) AS nr, count(*) AS ne,
         CAST(count(*) FILTER ({f}) AS BIGINT) AS nd,
         count(*) FILTER ({f} IS NULL OR {r} IS NULL{r_empty}) AS bad
  FROM {src}
  GROUP BY ALL;
"""
# (an empty device or event is a key of the grouped table: checked there, not on every row)
_REPORT_FLAGGED_BAD = ("SELECT coalesce(sum(bad), 0) + count(*) FILTER (dev IS NULL OR evt IS NULL "
                       "OR dev = '' OR evt = '') FROM raw")

# One device and one stratum per report (``count_pairs(one_device=True)``, the run pipeline's analysis
# tables). Two aggregations over the rows: the distinct-report count of each (device, event, stratum)
# (the floor query, by stratum), and one keyed on the report alone that gives each report's device and
# stratum and finds any report with two (min <> max). Every other part is a sum over small tables: a
# report counts once in its device's margin (the per-report table), the event margin is the sum over
# devices of the pair counts (a report has one device, so it is counted once for each of its events),
# the crude counts are the sums over strata (a report has one stratum), the totals the sums of the
# device margins. Repeated rows need no DISTINCT: the pair count is of distinct reports.
_ONE_DEVICE = """
CREATE TEMP TABLE c0 AS SELECT dev, evt{s}, count(DISTINCT rid) AS n FROM raw GROUP BY ALL;
CREATE TEMP TABLE r AS SELECT min(dev) AS dev{smin}, max(dev) <> min(dev){sbad} AS bad
  FROM raw GROUP BY rid;
"""
_ONE_DEVICE_CODED = """
CREATE TEMP TABLE c AS SELECT di, ei, {si} AS si, n
  FROM c0 JOIN devs USING (dev) JOIN evts USING (evt) {join};
CREATE TEMP TABLE rm AS SELECT di, {si} AS si, n FROM (SELECT dev{s}, count(*) AS n FROM r GROUP BY ALL)
  JOIN devs USING (dev) {join};
"""
_ONE_DEVICE_PARTS = {
    0: "SELECT di, ei, si, n, 0 AS g FROM c",
    1: "SELECT di, ei, -1 AS si, CAST(sum(n) AS BIGINT) AS n, 1 AS g FROM c GROUP BY di, ei",
    2: "SELECT di, -1, si, n, 2 FROM rm",
    4: "SELECT -1, ei, si, CAST(sum(n) AS BIGINT), 4 FROM c GROUP BY ei, si",
    6: "SELECT -1, -1, si, CAST(sum(n) AS BIGINT), 6 FROM rm GROUP BY si",
    3: "SELECT di, -1, -1, CAST(sum(n) AS BIGINT), 3 FROM rm GROUP BY di",
    5: "SELECT -1, ei, -1, CAST(sum(n) AS BIGINT), 5 FROM c GROUP BY ei",
    7: "SELECT -1, -1, -1, CAST(sum(n) AS BIGINT), 7 FROM rm",
}


def _dictionaries(con: duckdb.DuckDBPyConnection, source: str, stratified: bool) -> str:
    """The label codes (devs, evts, strs) of the labels of ``source``; the join clause of the strata."""
    con.execute(_DICT.format(t="devs", c="dev", i="di", src=source))
    con.execute(_DICT.format(t="evts", c="evt", i="ei", src=source))
    if stratified:
        con.execute(_DICT.format(t="strs", c="stratum", i="si", src=source))
        return "JOIN strs USING (stratum)"
    con.execute("CREATE TEMP TABLE strs AS SELECT '' AS stratum, 0 AS si")
    return ""


def _one_device_aggregate(con: duckdb.DuckDBPyConnection, stratified: bool):
    """The aggregate rows (as ``_union``) of ``raw`` when every report has one device and one
    stratum, with the label codes made; None when some report has two (nothing else made then)."""
    con.execute(_ONE_DEVICE.format(s=", stratum" if stratified else "",
                                   smin=", min(stratum) AS stratum" if stratified else "",
                                   sbad=" OR max(stratum) <> min(stratum)" if stratified else ""))
    if con.execute("SELECT bool_or(bad) FROM r").fetchone()[0]:
        con.execute("DROP TABLE c0; DROP TABLE r")
        return None
    join = _dictionaries(con, "c0", stratified)
    con.execute(_ONE_DEVICE_CODED.format(si="si" if stratified else "0", join=join,
                                         s=", stratum" if stratified else ""))
    chosen = _ONE_DEVICE_PARTS if stratified else {g: q for g, q in _ONE_DEVICE_PARTS.items() if g & 1}
    return _union(con, chosen)


def _plain_aggregate(con: duckdb.DuckDBPyConnection, stratified: bool):
    if stratified:
        return _union(con, _PARTS)
    # without strata every (rid, di, ei) row of t is distinct; td: the (report, device) rows
    con.execute("CREATE TEMP TABLE td AS SELECT DISTINCT rid, di FROM t")
    return _union(con, _CRUDE)


def count_pairs(reports: str | Path, *, report_col: str, device_col: str, event_col: str,
                strata_cols: Sequence[str] = (), threads: int | None = None,
                flag_cols: Sequence[str] | None = None, one_device: bool = False,
                report_flag: str | None = None) -> PairCounts:
    """Count every (device, event) pair of a report-level CSV or Parquet file, with margins.

    ``flag_cols`` (first of report x device, first of report x event, first of report: 0/1 columns)
    declares that the file holds distinct (report, device, event) rows with first-occurrence flags, as
    an export writes them report by report (``bench.signals.generate.first_flags``); the counts are then
    one aggregation over the rows, without reading the report ids. The flags are trusted, not checked:
    they must have been set on this very table (same device and event keys, no row left out), and with
    strata each report must carry one stratum. Otherwise the counts are wrong; leave ``flag_cols`` out.

    ``one_device`` chooses the count for tables whose reports name one device and carry one stratum (the
    run pipeline's analysis tables, ``pipeline.prepare_events``): the margins and totals come from one
    aggregation keyed on the report and sums over the pair table instead of a distinct projection per
    margin. It is checked, not trusted: that same aggregation finds any report with two devices or two
    strata, and the table is then counted the plain way. The counts are identical either way. Ignored
    with ``flag_cols``. Meant for Parquet (a CSV would be parsed once per aggregation).

    ``report_flag`` names a boolean column true on the first row of each report, false on its other rows,
    on a table of distinct (report, device, event) rows whose reports name one device and carry one
    stratum (``pipeline.prepare_events`` writes it, NULL on any row where it finds a report that does not):
    the counts are then one aggregation over the rows, without hashing the report ids. A NULL flag or a
    row with an empty key sends the table to the ``one_device`` count (if asked) or the plain one; a flag
    set wrongly otherwise is not detected, so give it only for tables written that way. Ignored with
    ``flag_cols``.

    Raises ``ValidationFailed`` (field names the option) when the file or a column is missing or the
    table has no usable row.
    """
    path = Path(reports)
    flags = tuple(flag_cols or ())
    if flags and len(flags) != 3:
        raise ValidationFailed("Give three flag columns: first of report x device, of report x event, "
                               "of report.", field="flag-cols")
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        src = _source(con, path)
        described = {row[0]: str(row[1]) for row in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
        columns = list(described)
        for option, col in [("report-col", report_col), ("device-col", device_col),
                            ("event-col", event_col)] + [("strata-cols", c) for c in strata_cols] + [
                                ("flag-cols", c) for c in flags] + [
                                ("report-flag", c) for c in (report_flag,) if c and not flags]:
            if col not in columns:
                raise ValidationFailed("Column '{column}' is not in the file (columns: {columns}).",
                                       field=option, params={"column": col, "columns": ", ".join(columns)})
        parts = ", ".join(f"coalesce(CAST({_ident(c)} AS VARCHAR), '')" for c in strata_cols)
        stratum = f", concat_ws(chr(31), {parts}) AS stratum" if strata_cols else ""
        r, d, e = _ident(report_col), _ident(device_col), _ident(event_col)
        agg = None
        integer_ids = described[report_col] in _INTEGER_TYPES
        flagged = bool(flags)
        if flags:
            fd, fe, fr = (_ident(c) for c in flags)
            con.execute(_FLAGGED.format(d=d, e=e, r=r, s=stratum, fd=fd, fe=fe, fr=fr, src=src))
        elif report_flag:
            empty_id = "" if integer_ids else f" OR CAST({r} AS VARCHAR) = ''"
            con.execute(_REPORT_FLAGGED.format(d=d, e=e, r=r, s=stratum, f=_ident(report_flag), src=src,
                                               r_empty=empty_id))
            flagged = not con.execute(_REPORT_FLAGGED_BAD).fetchone()[0]
            if not flagged:
                con.execute("DROP TABLE raw")
        if not flagged:
            rows = partial(_ROWS.format, rid=r if integer_ids else f"CAST({r} AS VARCHAR)",
                           r=r, r_empty="" if integer_ids else f" AND CAST({r} AS VARCHAR) <> ''",
                           d=d, e=e, s=stratum, src=src)
            if one_device:  # its two aggregations read the file directly (a view: not materialised)
                con.execute(rows(kind="VIEW"))
                agg = _one_device_aggregate(con, bool(strata_cols))
                if agg is None:
                    con.execute("DROP VIEW raw")
            if agg is None:
                con.execute(rows(kind="TABLE"))
        if agg is None and flagged:
            agg = _flagged_aggregate(con, bool(strata_cols))
        elif agg is None:
            join = _dictionaries(con, "raw", bool(strata_cols))
            con.execute(_DISTINCT.format(si="si" if strata_cols else "0", join=join))
            agg = _plain_aggregate(con, bool(strata_cols))
        return _assembled(con, agg)
    finally:
        con.close()


def _flagged_aggregate(con: duckdb.DuckDBPyConnection, stratified: bool):
    """The aggregate rows (as ``_union``) from the flagged cells in ``raw`` (dev, evt, [stratum], n,
    nd, ne, nr), with the label codes made."""
    join = _dictionaries(con, "raw", stratified)
    con.execute(f"CREATE TEMP TABLE c AS SELECT di, ei, {'si' if stratified else '0 AS si'}, n, "
                f"nd, ne, nr FROM raw JOIN devs USING (dev) JOIN evts USING (evt) {join}")
    chosen = _FLAGGED_PARTS if stratified else {g: q for g, q in _FLAGGED_PARTS.items() if g & 1}
    return _union(con, chosen)


def _assembled(con: duckdb.DuckDBPyConnection, agg) -> PairCounts:
    devices = con.execute("SELECT dev FROM devs ORDER BY di").fetchnumpy()["dev"]
    events = con.execute("SELECT evt FROM evts ORDER BY ei").fetchnumpy()["evt"]
    strata = con.execute("SELECT stratum FROM strs ORDER BY si").fetchnumpy()["stratum"]
    if devices.size == 0:
        raise ValidationFailed("No row has a report id, a device and an event.", field="reports")
    return assemble(agg, np.asarray(devices, dtype=object), np.asarray(events, dtype=object),
                    np.asarray(strata, dtype=object))


def count_flagged_cells(cells, *, stratified: bool) -> PairCounts | None:
    """The counts of a first-of-report flagged table (``count_pairs(report_flag=...)``) from its
    (device, event, stratum) cells computed elsewhere (Spark): ``cells`` is an Arrow table or a dict of
    arrays with columns dev, evt, stratum (with ``stratified``), n (rows), nr (flagged rows) and bad
    (rows that break the layout). The margins are summed here by the same SQL as the DuckDB count. None
    when a cell has bad rows or an empty key (count the table the plain way then)."""
    con = duckdb.connect()
    try:
        con.register("cells", cells)
        s = ", stratum" if stratified else ""
        con.execute(f"CREATE TEMP TABLE raw AS SELECT dev, evt{s}, n, nr AS nd, n AS ne, nr, bad FROM cells")
        if con.execute(_REPORT_FLAGGED_BAD).fetchone()[0]:
            return None
        return _assembled(con, _flagged_aggregate(con, stratified))
    finally:
        con.close()
