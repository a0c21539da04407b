"""From a report snapshot to scored pairs: the event level, the DuckDB count, the statistics (I/O).

``prepare_events`` writes the analysis table next to the snapshot (one row per report x device x
event, the event rolled up to the requested IMDRF level), ``score_events`` counts and scores it with
the same pipeline as ``medreg signals score``, and ``flagged_reports`` lists the reports behind each
pair that met the criteria.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from medreg.core.errors import ValidationFailed
from medreg.signals.counting import count_pairs
from medreg.signals.criteria import SignalCriteria
from medreg.signals.events import LEVELS, roll_up
from medreg.signals.scoring import COLUMNS, score
from medreg.signals.snapshot import Snapshot
from medreg.vigilance.aet import terminology

EVENT_ANNEXES = "AEF"  # device problem, clinical signs, health impact (the event hierarchies of issue 4)


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


def prepare_events(snap: Snapshot, level: int, annexes: str) -> Path:
    """Write ``v00000N.L{level}{annexes}.parquet``: report_id, device, event, registrant_org_id, year."""
    letters = check_settings(level, annexes)
    src = Path(snap.path)
    target = src.with_name(f"{src.stem}.L{level}{letters}.parquet")
    con = duckdb.connect()
    try:
        codes = [c for (c,) in con.execute(
            f"SELECT DISTINCT code FROM read_parquet({_lit(src)}) WHERE list_contains(?, annex)",
            [list(letters)]).fetchall()]
        con.register("rolled", {"code": np.asarray(codes, dtype=object),
                                "event": np.asarray(roll_up(codes, level, terminology()), dtype=object)})
        con.execute(
            f"COPY (SELECT DISTINCT s.report_id, s.device, r.event::VARCHAR AS event, s.registrant_org_id, "
            f"s.year FROM read_parquet({_lit(src)}) s JOIN rolled r ON r.code = s.code "
            f"ORDER BY 1, 2, 3) TO {_lit(target)} (FORMAT PARQUET)")
    finally:
        con.close()
    return target


def score_events(events: Path) -> Scored:
    """Count and score every (device, event) pair of the analysis table."""
    counts = count_pairs(events, report_col="report_id", device_col="device", event_col="event")
    try:
        scores = score(counts)
    except ValueError as err:
        raise ValidationFailed("The GPS prior could not be fitted: {reason}", field="prior",
                               params={"reason": str(err)}) from None
    cols = {"device": counts.devices[counts.pair_device], "event": counts.events[counts.pair_event]}
    cols.update({name: np.asarray(scores.columns[name]) for name in COLUMNS})
    p = scores.prior
    prior = {"alpha1": p.alpha1, "beta1": p.beta1, "alpha2": p.alpha2, "beta2": p.beta2, "p": p.p}
    if scores.fit is not None:
        prior.update(neg_log_lik=scores.fit.neg_log_lik, consistent=bool(scores.fit.consistent),
                     converged_inside_bounds=bool(scores.fit.inside))
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
