"""Side-by-side benchmark: medreg vs vigipy 3.5.1 (and mddc 1.1.0) on the same generated table, one run.

    make bench-signals    # or: .venv-bench/bin/python -m bench.signals.compare --reports 100000 1000000 \
                          #         --big 10000000

Each (tool, stage) runs in its own child process so that its peak resident memory (``ru_maxrss`` from
``os.wait4``) is its own; the child times its stages (wall and CPU time, imports excluded) and writes
its values for the agreement check. Stages:

* ``count``: read the CSV and count pairs and margins in distinct reports. medreg: DuckDB, the input
  read once, device and event labels coded as integers, then the distinct-row aggregates. vigipy has
  no distinct-report counter (its ``convert()`` sums rows), so its side uses pandas
  ``groupby().nunique()`` exactly as the shared reference script did, then a DataContainer.
* ``prr``, ``ror``, ``ic``, ``ebgm``: the statistic over every pair (``min_events=1``), after counting.
  medreg's ``ebgm`` includes the prior fit on auto-squashed points; vigipy's ``gps()`` fits its own prior
  on all pairs (its default Nelder-Mead). ``ic``: medreg's WHO-UMC IC with IC025/IC975; vigipy's
  ``bcpnn(MC=False)`` (a different definition, so its values are not compared).
* ``all``: counting + the four statistics in one process (medreg: ``scoring.score``).
* ``ebgm_fixed`` (vigipy only): ``gps(prior_param=<medreg's fitted prior>)`` for the value agreement.
* ``floor`` (DuckDB only): the bare ``SELECT device, event, count(DISTINCT report_id) FROM read_csv(...)
  GROUP BY device, event`` fetched into NumPy, the least any exact pair count over the CSV costs.
* ``e2e`` (medreg only): ``all`` plus the four signal criteria (``SignalCriteria``), then (untimed) the
  scores are written and the generator's planted-signal check is run on them.
* ``expected`` (mddc and medreg): the expected counts n_i. n_.j / n.. of the AE x device contingency table
  (margins = sums of the table, as mddc defines them), the one quantity that mddc computes and medreg
  does too (mddc's own method flags cells by standardised Pearson residuals, not PRR/ROR/IC/EBGM).

* ``e2e_flags`` and ``floor_flags`` (``--flags``, ``--big`` sizes): the same generated rows as an export
  with first-occurrence flags writes them (distinct (report, device, event) rows and three 0/1 columns,
  ``generate.first_flags``), counted with ``count_pairs(flag_cols=...)`` and by the same floor query; the
  cost of computing the flags and the bytes they add are recorded under ``export:flags``.

``--reports`` sizes run every stage for every tool; ``--big`` sizes run only medreg ``e2e`` and the floor
(vigipy with ``--vigipy-big``: its pandas read and ``gps()`` need tens of GB at 10M). The load average
before and after each child is recorded: the machine is shared.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
STAGES = ("count", "prr", "ror", "ic", "ebgm", "all")
BIG_STAGES = ("floor", "e2e")


# ---------------------------------------------------------------- children
def _start() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _stop(timings: dict, key: str, t: tuple[float, float]) -> None:
    """Wall time under ``key`` and CPU time of the process (all its threads) under ``key_cpu``: on a
    shared machine the wall time depends on the others' load, the CPU time much less."""
    timings[key] = time.perf_counter() - t[0]
    timings[key + "_cpu"] = time.process_time() - t[1]


def _medreg(stage: str, src: Path, out: Path, timings: dict) -> None:
    from bench.signals.generate import FLAG_COLS
    from medreg.signals.bcpnn import information_component
    from medreg.signals.counting import count_pairs
    from medreg.signals.disproportionality import prr, ror
    from medreg.signals.ebgm import ebgm
    from medreg.signals.ebgm_fit import fit_prior
    from medreg.signals.scoring import expected_counts, score
    from medreg.signals.squashing import auto_squash

    t = _start()
    flags = {"flag_cols": FLAG_COLS} if stage.endswith("_flags") else {}
    c = count_pairs(src, report_col="report_id", device_col="device", event_col="event", **flags)
    _stop(timings, "count", t)
    args = (c.n11, c.n_device, c.n_event, c.n_total)
    t = _start()
    cols: dict[str, np.ndarray] = {}
    if stage == "prr":
        r = prr(*args)
        cols = {"prr": r.estimate, "prr_lower": r.lower, "prr_upper": r.upper}
    elif stage == "ror":
        r = ror(*args)
        cols = {"ror": r.estimate, "ror_lower": r.lower, "ror_upper": r.upper}
    elif stage == "ic":
        r = information_component(c.n11, expected_counts(c))
        cols = {"ic": r.ic, "ic025": r.lower}
    elif stage == "ebgm":
        e = expected_counts(c)
        sq = auto_squash(c.n11.astype(float), e)
        fit = fit_prior(sq.n, sq.e, sq.weights, boundary_fallback=True)
        r = ebgm(fit.prior, c.n11, e)
        cols = {"ebgm": r.ebgm, "eb05": r.lower, "eb95": r.upper}
        timings["prior"] = list(fit.prior.as_array())
    elif stage == "all":
        s = score(c)
        cols = {k: s.columns[k] for k in ("prr", "ror", "ic025", "ebgm", "eb05")}
        timings["prior"] = list(s.prior.as_array())
    elif stage in ("e2e", "e2e_flags"):
        from medreg.signals.criteria import RULES, SignalCriteria

        s = score(c)
        flags = {k: int(SignalCriteria(k).flags(s.columns).sum()) for k in RULES}
        _stop(timings, "stage", t)
        timings["flagged"] = flags
        timings["pairs"], timings["reports"] = int(c.n11.size), int(c.n_total)
        timings["prior"] = list(s.prior.as_array())
        timings["squashed_points"] = s.squashed_points
        from bench.signals.generate import check
        from medreg.signals.cli import write_scores

        write_scores(c, s, out)
        chk = check(out, src.with_suffix(".planted.json"))
        timings["planted_check"] = {"planted": chk.planted, "found": chk.found, "flagged": chk.flagged,
                                    "recall_by_rr": {k: {str(r): v for r, v in d.items()}
                                                     for k, d in chk.recall_by_rr.items()}}
        return
    elif stage == "expected":
        from dataclasses import replace

        dev_sum = np.bincount(c.pair_device, weights=c.n11, minlength=c.devices.size)
        evt_sum = np.bincount(c.pair_event, weights=c.n11, minlength=c.events.size)
        summed = replace(c, n_device=dev_sum[c.pair_device], n_event=evt_sum[c.pair_event],
                         n_total=int(c.n11.sum()))
        cols = {"expected": expected_counts(summed)}
    _stop(timings, "stage", t)
    if cols and stage != "all":
        _write(out, c.devices[c.pair_device], c.events[c.pair_event], c.n11, cols)


def _floor(src: Path, timings: dict) -> None:
    import duckdb

    literal = "'" + str(src).replace("'", "''") + "'"
    con = duckdb.connect()
    t = _start()
    r = con.execute(f"SELECT device, event, count(DISTINCT report_id) AS n FROM read_csv({literal}) "
                    "GROUP BY device, event").fetchnumpy()
    _stop(timings, "count", t)
    timings["stage"] = timings["stage_cpu"] = 0.0
    timings["pairs"] = int(r["n"].size)
    con.close()


def _mddc(src: Path, out: Path, timings: dict) -> None:
    """mddc's expected counts on the AE x device table of distinct-report pair counts (pandas crosstab)."""
    import pandas as pd
    from MDDC.utils import get_expected_count

    t = _start()
    df = pd.read_csv(src, dtype=str, usecols=["report_id", "device", "event"]).drop_duplicates()
    table = pd.crosstab(df["event"], df["device"])
    _stop(timings, "count", t)
    t = _start()
    e = get_expected_count(table)
    _stop(timings, "stage", t)
    e = np.asarray(e, dtype=np.float64)
    timings["cells"] = int(e.size)
    n = table.to_numpy()
    ei, di = np.nonzero(n)
    _write(out, table.columns.to_numpy()[di], table.index.to_numpy()[ei], n[ei, di], {"expected": e[ei, di]})


def _vigipy(stage: str, src: Path, out: Path, timings: dict, prior: list[float] | None) -> None:
    import warnings

    import pandas as pd
    from vigipy import bcpnn, gps, prr, ror
    from vigipy.utils.Container import DataContainer

    warnings.filterwarnings("ignore")
    t = _start()
    df = pd.read_csv(src, dtype=str)
    n = df.groupby(["device", "event"])["report_id"].nunique().rename("N").reset_index()
    nd = df.groupby("device")["report_id"].nunique().rename("nd")
    ne = df.groupby("event")["report_id"].nunique().rename("ne")
    tot = df["report_id"].nunique()
    n = n.join(nd, on="device").join(ne, on="event")
    cont = DataContainer(data=pd.DataFrame({
        "events": n["N"].astype(float).values, "product_aes": n["nd"].astype(float).values,
        "count_across_brands": n["ne"].astype(float).values, "ae_name": n["event"].values,
        "product_name": n["device"].values}), N=int(tot), type="contingency")
    _stop(timings, "count", t)
    t = _start()
    res = None
    if stage == "prr":
        res = prr(cont, min_events=1, decision_metric="rank", continuity_correction=False).all_signals
        cols = {"prr": "PRR", "prr_lower": "CI Lower", "prr_upper": "CI Upper"}
    elif stage == "ror":
        res = ror(cont, min_events=1, decision_metric="rank", continuity_correction=False).all_signals
        cols = {"ror": "ROR", "ror_lower": "CI Lower", "ror_upper": "CI Upper"}
    elif stage == "ic":
        res = bcpnn(cont, min_events=1, decision_metric="rank", ranking_statistic="quantile").all_signals
        cols = {}
    elif stage in ("ebgm", "ebgm_fixed"):
        g = gps(cont, min_events=1, decision_metric="rank", ranking_statistic="log2",
                prior_param=prior if stage == "ebgm_fixed" else None)
        res = g.all_signals
        cols = {"ebgm": "EBGM", "eb05": "LowerBound", "eb95": "UpperBound"}
        timings["prior"] = [float(x) for x in np.asarray(g.params["prior_param"])]
    elif stage == "all":
        prr(cont, min_events=1, decision_metric="rank", continuity_correction=False)
        ror(cont, min_events=1, decision_metric="rank", continuity_correction=False)
        bcpnn(cont, min_events=1, decision_metric="rank", ranking_statistic="quantile")
        gps(cont, min_events=1, decision_metric="rank", ranking_statistic="log2")
    _stop(timings, "stage", t)
    if res is not None and cols:
        _write(out, res["Product"].to_numpy(), res["Adverse Event"].to_numpy(), res["Count"].to_numpy(),
               {k: res[v].to_numpy(dtype=float) for k, v in cols.items()})


def _write(out: Path, dev, evt, n11, cols: dict) -> None:
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["device", "event", "n11", *cols])
        w.writerows(zip(dev, evt, n11, *cols.values(), strict=True))


def child(tool: str, stage: str, src: Path, out: Path, prior: str | None) -> None:
    timings: dict = {}
    if tool == "medreg":
        _medreg(stage, src, out, timings)
    elif tool == "duckdb":
        _floor(src, timings)
    elif tool == "mddc":
        _mddc(src, out, timings)
    else:
        _vigipy(stage, src, out, timings, json.loads(prior) if prior else None)
    out.with_suffix(".json").write_text(json.dumps(timings), encoding="utf-8")


# ---------------------------------------------------------------- parent
def run_child(tool: str, stage: str, src: Path, workdir: Path, prior=None) -> dict:
    out = workdir / f"{tool}_{stage}.csv"
    cmd = [sys.executable, "-m", "bench.signals.compare", "--child", tool, stage, str(src), str(out)]
    if prior is not None:
        cmd += ["--prior", json.dumps(prior)]
    load = os.getloadavg()[0]
    wall = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=HERE.parents[1])
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{tool} {stage} failed ({status})")
    timings = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    timings["peak_mb"] = usage.ru_maxrss / 1024
    timings["cpu_s"] = usage.ru_utime + usage.ru_stime  # whole child, imports included
    timings["child_wall_s"] = time.perf_counter() - wall
    timings["load_before_after"] = [load, os.getloadavg()[0]]
    timings["out"] = str(out)
    return timings


def _read(path: str, names: list[str]) -> dict:
    with open(path, newline="", encoding="utf-8") as fh:
        return {(r["device"], r["event"]): [float(r[c]) if r[c] not in ("", "nan") else np.nan for c in names]
                for r in csv.DictReader(fh)}


def agreement(mine: str, theirs: str, names: list[str]) -> dict:
    """Max relative difference over pairs where both values are finite and positive; pair coverage."""
    a, b = _read(mine, names), _read(theirs, names)
    common = a.keys() & b.keys()
    x = np.array([a[k] for k in common])
    y = np.array([b[k] for k in common])
    ok = np.all(np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0) & (y < 1e6), axis=1)
    rel = np.abs(x[ok] - y[ok]) / np.abs(y[ok])
    return {"pairs_mine": len(a), "pairs_theirs": len(b), "compared": int(ok.sum()),
            "max_rel_diff": float(rel.max()) if rel.size else None,
            "median_rel_diff": float(np.median(rel)) if rel.size else None}


def _dataset(out: Path, n: int) -> Path:
    from bench.signals.generate import generate, write

    src = out / f"reports_{n}.csv"
    if not src.exists():
        cols, planted = generate(n)
        write(cols, planted, src)
    return src


def _flagged_dataset(out: Path, n: int) -> tuple[Path, dict]:
    """The same generated rows as an export with first-occurrence flags would write them: distinct
    (report, device, event) rows, in that order, plus the three flags. Returns the file and the cost of
    the flags (computing them over the whole table at once; an incremental export pays it only for the
    reports it re-reads), and the extra bytes."""
    import shutil

    import duckdb

    from bench.signals.generate import first_flags, generate_coded

    src = out / f"reports_{n}.flags.csv"
    cost_file = src.with_suffix(".cost.json")
    if src.exists() and cost_file.exists():
        return src, json.loads(cost_file.read_text(encoding="utf-8"))
    cols, _, (rid, dv, ev) = generate_coded(n)
    t = _start()
    keep, flags = first_flags(rid, dv, ev)
    cost: dict = {}
    _stop(cost, "flags", t)
    table = {k: v[keep] for k, v in cols.items()} | flags
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.register("t", table)
    con.execute(f"COPY t TO '{src}' (HEADER, DELIMITER ',')")
    plain = out / f"reports_{n}.distinct.csv"  # the same distinct rows without the flags: the bytes they add
    con.execute(f"COPY (SELECT * EXCLUDE ({', '.join(flags)}) FROM t) TO '{plain}' (HEADER, DELIMITER ',')")
    con.close()
    cost.update(rows=int(keep.size), rows_plain=int(rid.size), bytes=src.stat().st_size,
                bytes_without_flags=plain.stat().st_size)
    plain.unlink()
    shutil.copy(_dataset(out, n).with_suffix(".planted.json"), src.with_suffix(".planted.json"))
    cost_file.write_text(json.dumps(cost), encoding="utf-8")
    return src, cost


def _show(n, tool, stage, r) -> None:
    print(n, tool, stage, {k: v for k, v in r.items() if k not in ("out", "planted_check")}, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description="medreg vs vigipy (and mddc), same input, one run")
    ap.add_argument("--reports", type=int, nargs="*", default=[100_000])
    ap.add_argument("--big", type=int, nargs="*", default=[])
    ap.add_argument("--vigipy-big", action="store_true", help="also run vigipy on the --big sizes")
    ap.add_argument("--flags", action="store_true",
                    help="also the --big sizes with first-occurrence flags (floor and medreg e2e)")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--results", type=Path, default=None, help="default OUT/results.json")
    ap.add_argument("--child", nargs=4, metavar=("TOOL", "STAGE", "SRC", "OUT"))
    ap.add_argument("--prior")
    a = ap.parse_args()
    if a.child:
        tool, stage, src, out = a.child
        child(tool, stage, Path(src), Path(out), a.prior)
        return
    a.out.mkdir(parents=True, exist_ok=True)
    results: dict = {"machine": {"cpus": os.cpu_count(), "load_at_start": list(os.getloadavg()),
                                 "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}
    for n in a.reports:
        src = _dataset(a.out, n)
        runs = {}
        for stage in STAGES:
            for tool in ("medreg", "vigipy"):
                runs[(tool, stage)] = run_child(tool, stage, src, a.out)
                _show(n, tool, stage, runs[(tool, stage)])
        prior = runs[("medreg", "ebgm")]["prior"]
        runs[("vigipy", "ebgm_fixed")] = run_child("vigipy", "ebgm_fixed", src, a.out, prior)
        for tool, stage in (("medreg", "e2e"), ("duckdb", "floor"), ("medreg", "expected"),
                            ("mddc", "expected")):
            runs[(tool, stage)] = run_child(tool, stage, src, a.out)
            _show(n, tool, stage, runs[(tool, stage)])
        agree = {
            "prr": agreement(runs[("medreg", "prr")]["out"], runs[("vigipy", "prr")]["out"],
                             ["prr", "prr_lower", "prr_upper"]),
            "ror": agreement(runs[("medreg", "ror")]["out"], runs[("vigipy", "ror")]["out"],
                             ["ror", "ror_lower", "ror_upper"]),
            "ebgm_same_prior": agreement(runs[("medreg", "ebgm")]["out"],
                                         runs[("vigipy", "ebgm_fixed")]["out"], ["ebgm"]),
            "eb05_same_prior": agreement(runs[("medreg", "ebgm")]["out"],
                                         runs[("vigipy", "ebgm_fixed")]["out"], ["eb05", "eb95"]),
            "ebgm_own_priors": agreement(runs[("medreg", "ebgm")]["out"], runs[("vigipy", "ebgm")]["out"],
                                         ["ebgm"]),
            "expected_vs_mddc": agreement(runs[("medreg", "expected")]["out"],
                                          runs[("mddc", "expected")]["out"], ["expected"]),
        }
        results[str(n)] = {"runs": {f"{t}:{s}": {k: v for k, v in r.items() if k != "out"}
                                    for (t, s), r in runs.items()}, "agreement": agree}
        print(json.dumps(agree, indent=1), flush=True)
        _save(a, results)
    for n in a.big:
        src = _dataset(a.out, n)
        runs = {("duckdb", "floor"): run_child("duckdb", "floor", src, a.out)}
        _show(n, "duckdb", "floor", runs[("duckdb", "floor")])
        runs[("medreg", "e2e")] = run_child("medreg", "e2e", src, a.out)
        _show(n, "medreg", "e2e", runs[("medreg", "e2e")])
        if a.flags:
            flagged, cost = _flagged_dataset(a.out, n)
            print(n, "flags at export", cost, flush=True)
            for tool, stage in (("duckdb", "floor_flags"), ("medreg", "e2e_flags")):
                runs[(tool, stage)] = run_child(tool, stage, flagged, a.out)
                _show(n, tool, stage, runs[(tool, stage)])
            runs[("export", "flags")] = cost
        if a.vigipy_big:
            runs[("vigipy", "all")] = run_child("vigipy", "all", src, a.out)
            _show(n, "vigipy", "all", runs[("vigipy", "all")])
        results[str(n)] = {"runs": {f"{t}:{s}": {k: v for k, v in r.items() if k != "out"}
                                    for (t, s), r in runs.items()}}
        _save(a, results)
    results["machine"]["load_at_end"] = list(os.getloadavg())
    _save(a, results)
    print(table(results))


def _save(a, results: dict) -> None:
    target = a.results or a.out / "results.json"
    target.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


def _total(r: dict, cpu: bool = False) -> float:
    sfx = "_cpu" if cpu else ""
    return r["count" + sfx] + r["stage" + sfx]


def _pair(m: dict, v: dict, stage_only: bool = False) -> str:
    """'wall (cpu)' for both and the two ratios v/m."""
    def get(r, cpu):
        if stage_only:
            return r["stage_cpu" if cpu else "stage"]
        return _total(r, cpu)
    mw, mc, vw, vc = get(m, False), get(m, True), get(v, False), get(v, True)
    return f"{mw:.2f} ({mc:.2f}) | {vw:.2f} ({vc:.2f}) | {vw / mw:.1f}x ({vc / mc:.1f}x)"


def table(results: dict) -> str:
    """Markdown rows: seconds as wall (CPU), ratios as wall (CPU)."""
    lines = ["| reports | stage | medreg s | peer s | peer / medreg | stage only: medreg s, peer s, ratio "
             "| peak MB medreg / peer |", "|---:|---|---:|---:|---:|---|---:|"]
    for n, res in results.items():
        if n == "machine":
            continue
        r = res["runs"]
        for stage in STAGES:
            if f"vigipy:{stage}" not in r or f"medreg:{stage}" not in r:
                continue
            m, v = r[f"medreg:{stage}"], r[f"vigipy:{stage}"]
            if stage == "count":
                m, v = dict(m, stage=0.0, stage_cpu=0.0), dict(v, stage=0.0, stage_cpu=0.0)
            only = "" if stage == "count" else _pair(m, v, stage_only=True).replace(" | ", ", ")
            lines.append(f"| {int(n):,} | {stage} (vigipy) | {_pair(m, v)} | {only} "
                         f"| {m['peak_mb']:.0f} / {v['peak_mb']:.0f} |")
        if "duckdb:floor" in r and "medreg:e2e" in r:
            f, e = r["duckdb:floor"], r["medreg:e2e"]
            lines.append(f"| {int(n):,} | end to end + criteria vs DuckDB GROUP BY floor | {_pair(f, e)} "
                         f"| count {e['count']:.2f} ({e['count_cpu']:.2f}) + scores {e['stage']:.2f} "
                         f"({e['stage_cpu']:.2f}) | {e['peak_mb']:.0f} / {f['peak_mb']:.0f} |")
        if "duckdb:floor" in r and "medreg:e2e_flags" in r:
            f, e = r["duckdb:floor"], r["medreg:e2e_flags"]
            ff = r["duckdb:floor_flags"]
            lines.append(f"| {int(n):,} | end to end with export flags vs the same floor | {_pair(f, e)} "
                         f"| count {e['count']:.2f} ({e['count_cpu']:.2f}) + scores {e['stage']:.2f} "
                         f"({e['stage_cpu']:.2f}); floor on the flagged file {ff['count']:.2f} "
                         f"({ff['count_cpu']:.2f}) | {e['peak_mb']:.0f} / {f['peak_mb']:.0f} |")
        if "mddc:expected" in r:
            m, d = r["medreg:expected"], r["mddc:expected"]
            lines.append(f"| {int(n):,} | expected counts (mddc) | {_pair(m, d)} "
                         f"| {_pair(m, d, stage_only=True).replace(' | ', ', ')} "
                         f"| {m['peak_mb']:.0f} / {d['peak_mb']:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
