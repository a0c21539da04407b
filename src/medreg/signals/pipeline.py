"""From a report snapshot to scored pairs: device and event level, strata, the count (DuckDB or Spark),
the statistics (I/O).

``prepare_events`` writes the analysis table next to the snapshot (one row per report x device x
event, the device keyed at the requested hierarchy level, the event rolled up to the requested IMDRF
level, the strata computed), ``score_events`` counts it with the chosen engine and scores it with the
same pipeline as ``medreg signals score``, and ``flagged_reports`` lists the reports behind each pair
that met the criteria.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from medreg.core.errors import ValidationFailed
from medreg.signals.counting import count_pairs
from medreg.signals.criteria import SignalCriteria
from medreg.signals.events import LEVELS, roll_up
from medreg.signals.scoring import COLUMNS, MH_COLUMNS, PairCounts, score
from medreg.signals.snapshot import Snapshot
from medreg.vigilance.aet import terminology

EVENT_ANNEXES = "AEF"  # device problem, clinical signs, health impact (the event hierarchies of issue 4)
# Device hierarchies: the snapshot column that keys the device at each level (queries_signals).
# category1 / category2: the 一级 / 二级 product category of the 医疗器械分类目录 on the certificate.
DEVICE_LEVELS = {"certificate": "device", "registrant": "CAST(registrant_org_id AS VARCHAR)",
                 "category": "category", "category1": "category1", "category2": "category2",
                 "fda-product-code": "fda_product_code"}
# The snapshot layout (snapshot.SCHEMA) that first carries a level's key.
LEVEL_SCHEMA = {"category": 2, "fda-product-code": 2, "category1": 3, "category2": 3}
# Levels whose device has one registrant, who may see the case (the others: the monitoring centre only).
OWNED_LEVELS = ("certificate", "registrant")
# Strata of a run, computed from the snapshot; a missing value is its own stratum 'unknown'. Age bands
# are an analysis convention (the bench generator's), not a legal category: 0-17, 18-44, 45-64, 65+.
STRATA = {
    "year": "coalesce(CAST(year AS VARCHAR), 'unknown')",
    "sex": "coalesce(sex, 'unknown')",
    "age_band": ("CASE WHEN age_years IS NULL THEN 'unknown' WHEN age_years < 18 THEN '0-17' "
                 "WHEN age_years < 45 THEN '18-44' WHEN age_years < 65 THEN '45-64' ELSE '65+' END"),
    "reporter_type": "coalesce(reporter_role, 'unknown')",
}
ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class Scored:
    columns: dict[str, np.ndarray]
    prior: dict
    pairs: int
    reports: int
    owners: dict[str, int]


def _lit(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def check_settings(level: int, annexes: str) -> str:
    letters = "".join(sorted(set(annexes.upper())))
    if level not in LEVELS:
        raise ValidationFailed("The event level must be 1, 2 or 3.", field="level")
    if not letters or any(a not in EVENT_ANNEXES for a in letters):
        raise ValidationFailed("Event annexes must be among {allowed}.", field="annexes",
                               params={"allowed": ", ".join(EVENT_ANNEXES)})
    return letters


def check_device_level(device_level: str) -> str:
    if device_level not in DEVICE_LEVELS:
        raise ValidationFailed("'{name}' must be one of: {allowed}.", field="device_level",
                               params={"name": "device_level", "allowed": ", ".join(DEVICE_LEVELS)})
    return device_level


def check_strata(strata: Sequence[str] | str) -> tuple[str, ...]:
    """The strata names in a fixed order (a comma-separated string or a list; no repeats)."""
    names = [n.strip() for n in (strata.split(",") if isinstance(strata, str) else strata) if n.strip()]
    bad = [n for n in names if n not in STRATA]
    if bad or len(set(names)) != len(names):
        raise ValidationFailed("'{name}' must be one of: {allowed}.", field="strata",
                               params={"name": "strata", "allowed": ", ".join(STRATA)})
    return tuple(n for n in STRATA if n in names)


def check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise ValidationFailed("Unknown engine '{engine}': use duckdb or spark.", field="engine",
                               params={"engine": engine})
    return engine


def events_path(snapshot_path: Path, level: int, annexes: str, device_level: str,
                strata: Sequence[str]) -> Path:
    """Where ``prepare_events`` writes the analysis table of these settings, next to the snapshot."""
    letters = check_settings(level, annexes)
    tag = "-".join(check_strata(strata)) or "crude"
    return snapshot_path.with_name(f"{snapshot_path.stem}.{device_level}.L{level}{letters}.{tag}.parquet")


def scores_path(events: Path, job_id: int) -> Path:
    """Where the ``signals.run`` job ``job_id`` keeps the scores of ``events`` (Parquet, and a JSON side
    file with the same stem, :func:`save_scored`)."""
    return events.with_name(f"{events.stem}.job{job_id}.scores.parquet")


def remove_scored(target: Path) -> list[str]:
    """Remove a kept score file, its side file and a temporary file of either; the names removed."""
    removed = []
    for path in (target, target.with_suffix(".json"), target.with_name(target.name + ".tmp"),
                 target.with_suffix(".json.tmp")):
        if path.exists():
            path.unlink()
            removed.append(path.name)
    return removed


# The layout of an analysis table, part of its fingerprint: raise it whenever what ``prepare_events``
# writes changes, so that kept tables are rebuilt. 2 added ``first_of_report``.
TABLE_FORMAT = 2


def first_of_report_sql(strata: Sequence[str]) -> str:
    """The ``first_of_report`` column of an analysis table, over its rows in (report, device, event)
    order: true on the first row of each report, false on its other rows, NULL on a row that shows the
    report breaks the one-device layout (a second device, a second stratum, or the same (device, event)
    twice, e.g. with two registrants). Comparing each row with the one before is enough: in that order a
    report's rows are adjacent, and equal neighbours all the way make the whole report equal."""
    w = "OVER (ORDER BY report_id, device, event)"
    same = "".join(f" AND {n} IS NOT DISTINCT FROM lag({n}) {w}" for n in strata)
    return (f"CASE WHEN report_id IS DISTINCT FROM lag(report_id) {w} THEN TRUE "
            f"WHEN device = lag(device) {w} AND event <> lag(event) {w}{same} THEN FALSE END")


def _fingerprint(snap: Snapshot, key: str, level: int, letters: str, strata: Sequence[str],
                 codes: Sequence[str], rolled: Sequence[str]) -> str:
    """What an analysis table was built from: the snapshot, the settings, the code roll-up (it follows the
    packaged IMDRF terminology) and the table layout. A table is reused only when this is unchanged."""
    import hashlib
    import json

    blob = json.dumps({"format": TABLE_FORMAT, "snapshot": [snap.version, snap.exported_at, snap.rows,
                                                            snap.reports, snap.schema],
                       "key": key, "level": level, "annexes": letters, "strata": list(strata),
                       "roll_up": sorted(zip(codes, rolled, strict=True))}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def prepare_events(snap: Snapshot, level: int, annexes: str, device_level: str = "certificate",
                   strata: Sequence[str] = ()) -> Path:
    """Write the analysis table next to the snapshot: report_id, device (the key at ``device_level``),
    event (rolled up to ``level``), registrant_org_id, one column per stratum and ``first_of_report``
    (:func:`first_of_report_sql`), in (report, device, event) order.

    The table is kept: a later run of the same settings on the same snapshot reuses it when its side
    file (``<table>.json``, written last) records the same fingerprint (:func:`_fingerprint`); otherwise
    it is rebuilt. Both files are written under a temporary name and renamed, so an interrupted build
    leaves no table that looks finished."""
    import json
    import os

    letters = check_settings(level, annexes)
    key = DEVICE_LEVELS[check_device_level(device_level)]
    strata = check_strata(strata)
    if snap.schema < max(LEVEL_SCHEMA.get(device_level, 1), 2 if set(strata) - {"year"} else 1):
        raise ValidationFailed("Snapshot v{version} predates the device categories, FDA product codes and "
                               "strata: run with a new export.", field="snapshot_version",
                               params={"version": snap.version})
    src = Path(snap.path)
    target = events_path(src, level, letters, device_level, strata)
    side = target.with_suffix(".json")
    extra = "".join(f", {STRATA[n]} AS {n}" for n in strata)
    con = duckdb.connect()
    try:
        codes = [c for (c,) in con.execute(
            f"SELECT DISTINCT code FROM read_parquet({_lit(src)}) WHERE list_contains(?, annex) ORDER BY 1",
            [list(letters)]).fetchall()]
        rolled = roll_up(codes, level, terminology())
        fingerprint = _fingerprint(snap, key, level, letters, strata, codes, rolled)
        if target.exists() and side.exists():
            try:
                if json.loads(side.read_text(encoding="utf-8")).get("fingerprint") == fingerprint:
                    return target
            except ValueError:
                pass  # an unreadable side file: rebuild
        side.unlink(missing_ok=True)
        con.register("rolled", {"code": np.asarray(codes, dtype=object),
                                "event": np.asarray(rolled, dtype=object)})
        # (a COPY that fails leaves no file: test_a_build_that_fails_leaves_nothing; a killed
        # process leaves the temporary file, which ``retention`` removes once it is an hour old)
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        con.execute(
            f"COPY (SELECT *, {first_of_report_sql(strata)} AS first_of_report FROM ("
            f"SELECT DISTINCT s.report_id, {key}::VARCHAR AS device, r.event::VARCHAR AS event, "
            f"s.registrant_org_id{extra} FROM read_parquet({_lit(src)}) s "
            f"JOIN rolled r ON r.code = s.code WHERE {key} IS NOT NULL AND {key}::VARCHAR <> '') "
            f"ORDER BY report_id, device, event) TO {_lit(tmp)} (FORMAT PARQUET)")
    finally:
        con.close()
    tmp.replace(target)
    side_tmp = side.with_name(f"{side.name}.{os.getpid()}.tmp")
    side_tmp.write_text(json.dumps({"fingerprint": fingerprint, "format": TABLE_FORMAT}) + "\n",
                        encoding="utf-8")
    side_tmp.replace(side)
    return target


def count_events(events: Path, strata: Sequence[str] = (), engine: str = "duckdb",
                 master: str = "local[*]") -> PairCounts:
    """The pair counts of an analysis table with the chosen engine (the same PairCounts either way)."""
    names = {"report_col": "report_id", "device_col": "device", "event_col": "event",
             "strata_cols": tuple(strata)}
    spark = check_engine(engine) == "spark"
    flag = "first_of_report" if "first_of_report" in _columns(events) else None
    if spark:
        from medreg.signals.counting_spark import count_pairs_spark

        return count_pairs_spark(events, master=master, report_flag=flag, **names)
    # An analysis table names one device per report and carries one stratum per report, by construction:
    # each row of a snapshot carries its report's device keys and strata (``queries_signals.report_rows``
    # reads them once per report; an incremental export replaces a changed report's rows whole; the
    # catalogue categories are joined on by certificate number, one per number), and ``prepare_events``
    # keys the device of every row of a report by the same column, leaving out the whole report when its
    # key is empty. Its ``first_of_report`` column marks each report's first row (NULL where a report breaks
    # that), so the count is one aggregation over the rows; a table that breaks it, or one written before
    # the column existed, is counted by the checked one-device count, and failing that the plain way.
    return count_pairs(events, one_device=True, report_flag=flag, **names)


def _columns(path: Path) -> list[str]:
    con = duckdb.connect()
    try:
        return [row[0] for row in
                con.execute(f"DESCRIBE SELECT * FROM read_parquet({_lit(path)})").fetchall()]
    finally:
        con.close()


def score_events(events: Path, strata: Sequence[str] = (), engine: str = "duckdb",
                 device_level: str = "certificate", master: str = "local[*]") -> Scored:
    """Count and score every (device, event) pair of the analysis table (stratified expected counts
    when ``strata`` are given, as ``medreg signals score --strata-cols`` does)."""
    counts = count_events(events, strata, engine, master)
    try:
        scores = score(counts)
    except ValueError as err:
        raise ValidationFailed("The GPS prior could not be fitted: {reason}", field="prior",
                               params={"reason": str(err)}) from None
    cols = {"device": counts.devices[counts.pair_device], "event": counts.events[counts.pair_event]}
    cols.update({name: np.asarray(scores.columns[name]) for name in COLUMNS})
    cols.update({name: np.asarray(v) for name, v in scores.columns.items() if name in MH_COLUMNS})
    p = scores.prior
    prior = {"alpha1": p.alpha1, "beta1": p.beta1, "alpha2": p.alpha2, "beta2": p.beta2, "p": p.p}
    if scores.fit is not None:
        prior.update(neg_log_lik=scores.fit.neg_log_lik, consistent=bool(scores.fit.consistent),
                     converged_inside_bounds=bool(scores.fit.inside))
    owners: dict = {}
    if device_level == "registrant":
        owners = {str(d): int(d) for d in counts.devices}
    elif device_level in OWNED_LEVELS:
        con = duckdb.connect()
        try:
            owners = dict(con.execute(
                f"SELECT device, mode(registrant_org_id) FROM read_parquet({_lit(events)}) "
                "WHERE registrant_org_id IS NOT NULL GROUP BY device").fetchall())
        finally:
            con.close()
    return Scored(columns=cols, prior=prior, pairs=int(counts.n11.size), reports=int(counts.n_total),
                  owners={str(k): int(v) for k, v in owners.items()})


def flagged_reports(events: Path, scored: Scored,
                    criteria: SignalCriteria) -> dict[tuple[str, str], list[int]]:
    """The report ids behind each pair that meets ``criteria``."""
    idx = np.flatnonzero(criteria.flags(scored.columns))
    if idx.size == 0:
        return {}
    con = duckdb.connect()
    try:
        con.register("pairs", {"device": scored.columns["device"][idx].astype(object),
                               "event": scored.columns["event"][idx].astype(object)})
        rows = con.execute(
            f"SELECT e.device, e.event, list(DISTINCT e.report_id ORDER BY e.report_id) "
            f"FROM read_parquet({_lit(events)}) e JOIN pairs p ON p.device = e.device AND p.event = e.event "
            "GROUP BY 1, 2").fetchall()
    finally:
        con.close()
    return {(d, e): [int(r) for r in ids] for d, e, ids in rows}


def save_scored(scored: Scored, target: Path) -> None:
    """Keep a scored run on disk (Parquet plus a JSON side file) so that a resumed job can record it."""
    import json

    con = duckdb.connect()
    try:
        con.register("scores", {k: (v.astype(object) if v.dtype == object else v)
                                for k, v in scored.columns.items()})
        con.execute(f"COPY (SELECT * FROM scores) TO {_lit(target)} (FORMAT PARQUET)")
    finally:
        con.close()
    side = {"prior": scored.prior, "pairs": scored.pairs, "reports": scored.reports, "owners": scored.owners}
    target.with_suffix(".json").write_text(json.dumps(side), encoding="utf-8")


def load_scored(target: Path) -> Scored:
    import json

    side = json.loads(target.with_suffix(".json").read_text(encoding="utf-8"))
    con = duckdb.connect()
    try:
        table = con.execute(f"SELECT * FROM read_parquet({_lit(target)})").fetchnumpy()
    finally:
        con.close()
    cols = {k: (np.asarray(v, dtype=object) if k in ("device", "event") else np.asarray(v, dtype=np.float64))
            for k, v in table.items()}
    cols["n11"] = cols["n11"].astype(np.int64)
    return Scored(columns=cols, prior=side["prior"], pairs=side["pairs"], reports=side["reports"],
                  owners=side["owners"])
