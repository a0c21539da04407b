"""The same pair counting on Apache Spark (PySpark), for national-scale report tables.

Same input, same rules and the same :class:`~medreg.signals.scoring.PairCounts` as the DuckDB engine
(``counting.count_pairs``): distinct (report, device, event, stratum) rows, then the pair x stratum
counts, crude pair counts, device and event margins per stratum and overall, and report totals, each as
a ``groupBy().count()`` over a ``distinct()`` projection. Only these aggregates travel to the driver;
the scoring stays in NumPy. A run pipeline's analysis table (first-of-report flags) is counted by one
``groupBy`` over its rows instead (``report_flag``). ``master="local[*]"`` runs in-process (tests, one
machine); on a cluster pass the cluster's master URL or submit with ``spark-submit`` (see
docs/signals.md).

PySpark is imported lazily so that the rest of medreg does not need it (``pip install medreg[spark]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from medreg.core.errors import ValidationFailed
from medreg.signals.assembly import assemble
from medreg.signals.counting import count_flagged_cells
from medreg.signals.scoring import PairCounts


def _session(master: str):
    """The Spark session on ``master``. ``getOrCreate`` would return an active session on another master
    (a worker that ran a job on ``local[*]`` and then one for a cluster): that one is stopped first."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and active.sparkContext.master != master:
        active.stop()
    return (SparkSession.builder.master(master).appName("medreg-signals")
            .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "8")
            .getOrCreate())


def _flagged(df, stratum, report_col: str, device_col: str, event_col: str, flag: str,
             stratified: bool) -> PairCounts | None:
    """The counts of a table with a first-of-report flag (``count_pairs(report_flag=...)``): one
    ``groupBy(device, event, stratum)`` over the rows; the cells are brought to the driver and their
    margins summed by DuckDB (``counting.count_flagged_cells``). None when a row breaks the table's
    layout (a NULL flag, an empty key), which is then counted the plain way."""
    from pyspark.sql import functions as F

    rid = F.col(report_col)
    bad = F.col(flag).isNull() | rid.isNull() | (rid.cast("string") == "")
    keys = (F.col(device_col).cast("string").alias("dev"), F.col(event_col).cast("string").alias("evt"),
            stratum.alias("stratum"))
    cells = (df.groupBy(*keys)
             .agg(F.count(F.lit(1)).alias("n"), F.sum(F.when(F.col(flag), 1).otherwise(0)).alias("nr"),
                  F.sum(F.when(bad, 1).otherwise(0)).alias("bad")))
    return count_flagged_cells(_gather(cells, ("dev", "evt", "stratum", "n", "nr", "bad")),
                               stratified=stratified)


def _gather(frame, names: Sequence[str]):
    """A (small) result on the driver: an Arrow table when pyarrow is there and Spark has ``toArrow``
    (4.0+), otherwise a dict of arrays from Row objects (slower: a Python object per value)."""
    if _arrow_available() and hasattr(frame, "toArrow"):
        return frame.toArrow()
    rows = frame.collect()
    return {n: np.asarray([r[n] for r in rows], dtype=object if n in ("dev", "evt", "stratum") else np.int64)
            for n in names}


def _arrow_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def count_pairs_spark(reports: str | Path, *, report_col: str, device_col: str, event_col: str,
                      strata_cols: Sequence[str] = (), master: str = "local[*]",
                      report_flag: str | None = None) -> PairCounts:
    """Count every (device, event) pair of a CSV or Parquet file with Spark; same result as DuckDB.

    ``report_flag`` as in ``counting.count_pairs``: on a table of the run pipeline (first-of-report
    flags), one aggregation over the rows; a table whose flags do not hold is counted the plain way."""
    from pyspark.sql import functions as F

    path = Path(reports)
    if not path.exists():
        raise ValidationFailed("File not found: {path}", field="reports", params={"path": str(path)})
    spark = _session(master)
    if path.suffix.lower() in (".parquet", ".pq"):
        df = spark.read.parquet(str(path))
    else:
        df = spark.read.option("header", True).option("inferSchema", False).csv(str(path))
    for option, col in [("report-col", report_col), ("device-col", device_col),
                        ("event-col", event_col)] + [("strata-cols", c) for c in strata_cols]:
        if col not in df.columns:
            raise ValidationFailed("Column '{column}' is not in the file (columns: {columns}).",
                                   field=option, params={"column": col, "columns": ", ".join(df.columns)})
    stratum = (F.concat_ws(chr(31), *[F.coalesce(F.col(c).cast("string"), F.lit("")) for c in strata_cols])
               if strata_cols else F.lit(""))
    if report_flag:
        if report_flag not in df.columns:
            raise ValidationFailed("Column '{column}' is not in the file (columns: {columns}).",
                                   field="report-flag",
                                   params={"column": report_flag, "columns": ", ".join(df.columns)})
        got = _flagged(df, stratum, report_col, device_col, event_col, report_flag, bool(strata_cols))
        if got is not None:
            return got
    t = (df.select(F.col(report_col).cast("string").alias("rid"),
                   F.col(device_col).cast("string").alias("dev"),
                   F.col(event_col).cast("string").alias("evt"), stratum.alias("stratum"))
         .where("rid IS NOT NULL AND dev IS NOT NULL AND evt IS NOT NULL AND rid <> '' AND dev <> '' "
                "AND evt <> ''")
         .distinct().cache())
    try:
        devices = sorted(r[0] for r in t.select("dev").distinct().collect())
        if not devices:
            raise ValidationFailed("No row has a report id, a device and an event.", field="reports")
        events = sorted(r[0] for r in t.select("evt").distinct().collect())
        strata = sorted(r[0] for r in t.select("stratum").distinct().collect())
        di = {v: i for i, v in enumerate(devices)}
        ei = {v: i for i, v in enumerate(events)}
        si = {v: i for i, v in enumerate(strata)}
        parts = {1: ["dev", "evt"], 3: ["dev"], 5: ["evt"], 7: []}
        if strata_cols:
            parts.update({0: ["dev", "evt", "stratum"], 2: ["dev", "stratum"], 4: ["evt", "stratum"],
                          6: ["stratum"]})
        cols: dict[str, list] = {"di": [], "ei": [], "si": [], "n": [], "g": []}
        for g, keys in parts.items():
            sub = t.select("rid", *keys).distinct() if g else t
            rows = sub.groupBy(*keys).count().collect()
            for row in rows:
                cols["di"].append(di[row["dev"]] if "dev" in keys else -1)
                cols["ei"].append(ei[row["evt"]] if "evt" in keys else -1)
                cols["si"].append(si[row["stratum"]] if "stratum" in keys else (-1 if strata_cols else 0))
                cols["n"].append(row["count"])
                cols["g"].append(g)
    finally:
        t.unpersist()
    agg = {k: np.asarray(v, dtype=np.int64) for k, v in cols.items()}
    return assemble(agg, np.asarray(devices, dtype=object), np.asarray(events, dtype=object),
                    np.asarray(strata, dtype=object))
