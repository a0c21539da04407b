"""The count step of a run on an analysis table with one device per report: plain count, the one-device
count, the flagged count (the run pipeline's) and the floor (made-up data).

``python -m bench.signals.one_device --reports 1000000`` generates the bench set (``generate_coded``),
keeps each report's first device only (the analysis tables of ``pipeline.prepare_events`` name one device
per report), writes it as Parquet with integer report ids, the strata year, sex, age band and the
``first_of_report`` flags (as ``prepare_events`` writes its analysis tables), and measures the CPU time
of the process (all DuckDB threads; ``time.process_time``) and the wall time, best of ``--repeat`` runs
alternated between the variants, crude and stratified:

* ``plain``: ``count_pairs`` (a distinct projection per margin);
* ``one_device``: ``count_pairs(one_device=True)`` (the pipeline's count of a table without flags);
* ``flagged``: ``count_pairs(report_flag="first_of_report")``, the pipeline's count since the flags;
* ``floor``: ``SELECT device, event, count(DISTINCT report_id) ... GROUP BY device, event`` fetched into
  NumPy (the floor of the README's benchmarks, on the same Parquet file);
* with ``--end-to-end``: ``plain_end_to_end``, ``one_device_end_to_end`` and ``flagged_end_to_end``,
  the count then the four statistics (``scoring.score``, prior fitted) and the four criteria (issue 4's
  "end to end");
* ``build`` and ``build_flagged``: writing the analysis table from the generated rows without and with
  the flags (DISTINCT, sort, Parquet; what the flags add to a run that builds its table, once per
  snapshot and settings: later runs reuse it).

The counts of the two paths are compared field by field before timing. Prints JSON with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np

from bench.signals.generate import generate_coded

NAMES = {"report_col": "report_id", "device_col": "device", "event_col": "event"}
STRATA = ("year", "sex", "age_band")


def write_rows(reports: int, out: Path, seed: int = 20251130) -> None:
    """The generated rows, each report keeping its first device (repeated rows kept), as Parquet."""
    cols, _, (rid, dv, _) = generate_coded(reports, seed=seed)
    first = np.r_[True, rid[1:] != rid[:-1]]
    keep = dv == dv[np.maximum.accumulate(np.where(first, np.arange(rid.size), 0))]
    con = duckdb.connect()
    try:
        con.register("t", {**{k: v[keep] for k, v in cols.items() if k != "report_id"},
                           "report_id": rid[keep].astype(np.int64)})
        con.execute(f"COPY (SELECT report_id, device::VARCHAR AS device, event::VARCHAR AS event, year, "
                    f"sex::VARCHAR AS sex, age_band::VARCHAR AS age_band FROM t) TO '{out}' (FORMAT PARQUET)")
    finally:
        con.close()


def build(rows: Path, out: Path, *, flags: bool) -> int:
    """The analysis table of ``rows``: distinct rows in (report, device, event) order, and with ``flags``
    the ``first_of_report`` column, by the SQL of ``pipeline.prepare_events``."""
    from medreg.signals.pipeline import first_of_report_sql

    flag = f", {first_of_report_sql(STRATA)} AS first_of_report" if flags else ""
    con = duckdb.connect()
    try:
        con.execute(f"COPY (SELECT *{flag} FROM (SELECT DISTINCT * FROM '{rows}') ORDER BY 1, 2, 3) "
                    f"TO '{out}' (FORMAT PARQUET)")
        return con.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0]
    finally:
        con.close()


def floor(path: Path) -> None:
    con = duckdb.connect()
    try:
        con.execute(f"SELECT device, event, count(DISTINCT report_id) AS n FROM read_parquet('{path}') "
                    "GROUP BY device, event").fetchnumpy()
    finally:
        con.close()


def end_to_end(path: Path, *, one_device: bool, flag: str | None = None) -> dict[str, int]:
    """Count, the four statistics (prior fitted) and the four criteria, as a run does before recording."""
    from medreg.signals.counting import count_pairs
    from medreg.signals.criteria import RULES, SignalCriteria
    from medreg.signals.scoring import score

    s = score(count_pairs(path, one_device=one_device, report_flag=flag, **NAMES))
    return {k: int(SignalCriteria(k).flags(s.columns).sum()) for k in RULES}


def main() -> None:
    from medreg.signals.counting import count_pairs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--end-to-end", action="store_true",
                        help="also time count + the four statistics + the four criteria, each path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source, path, scratch = (Path(tmp) / n for n in ("rows.parquet", "one_device.parquet", "x.parquet"))
        write_rows(args.reports, source)
        rows = build(source, path, flags=True)
        for strata in ((), STRATA):  # identical counts before timing
            a = count_pairs(path, strata_cols=strata, **NAMES)
            for other in ({"one_device": True}, {"report_flag": "first_of_report"}):
                b = count_pairs(path, strata_cols=strata, **other, **NAMES)
                for name in a.__dataclass_fields__:
                    assert np.array_equal(np.asarray(getattr(a, name)), np.asarray(getattr(b, name))), name
        variants = {
            "plain": lambda: count_pairs(path, **NAMES),
            "one_device": lambda: count_pairs(path, one_device=True, **NAMES),
            "plain_strata": lambda: count_pairs(path, strata_cols=STRATA, **NAMES),
            "one_device_strata": lambda: count_pairs(path, strata_cols=STRATA, one_device=True, **NAMES),
            "flagged": lambda: count_pairs(path, report_flag="first_of_report", **NAMES),
            "flagged_strata": lambda: count_pairs(path, strata_cols=STRATA, report_flag="first_of_report",
                                                  **NAMES),
            "floor": lambda: floor(path),
            "build": lambda: build(source, scratch, flags=False),
            "build_flagged": lambda: build(source, scratch, flags=True),
        }
        if args.end_to_end:
            expected = end_to_end(path, one_device=False)
            assert expected == end_to_end(path, one_device=True) == end_to_end(
                path, one_device=False, flag="first_of_report")
            variants["plain_end_to_end"] = lambda: end_to_end(path, one_device=False)
            variants["one_device_end_to_end"] = lambda: end_to_end(path, one_device=True)
            variants["flagged_end_to_end"] = lambda: end_to_end(path, one_device=False,
                                                                flag="first_of_report")
        best = {k: (float("inf"), float("inf")) for k in variants}
        load = [os.getloadavg()]
        for _ in range(args.repeat):
            for name, run in variants.items():
                t0, c0 = time.perf_counter(), time.process_time()
                run()
                cpu, wall = time.process_time() - c0, time.perf_counter() - t0
                best[name] = (min(best[name][0], cpu), min(best[name][1], wall))
        load.append(os.getloadavg())
    print(json.dumps({"reports": args.reports, "rows": rows, "repeat": args.repeat,
                      "cpu_s": {k: round(v[0], 3) for k, v in best.items()},
                      "wall_s": {k: round(v[1], 3) for k, v in best.items()},
                      "load_before_after": load}, indent=1))


if __name__ == "__main__":
    main()
