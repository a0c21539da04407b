"""Side-by-side benchmark: medreg vs vigipy 3.5.1 on the same generated report table, in one run.

    make bench-signals            # or: .venv-bench/bin/python -m bench.signals.compare --reports 100000

Each (tool, stage) runs in its own child process so that its peak resident memory (``ru_maxrss`` from
``os.wait4``) is its own; the child times its stages with ``perf_counter`` (imports excluded) and writes
its values for the agreement check. Stages:

* ``count``: read the CSV and count pairs and margins in distinct reports. medreg: DuckDB, one
  GROUPING SETS query. vigipy has no distinct-report counter (its ``convert()`` sums rows), so its side
  uses pandas ``groupby().nunique()`` exactly as the shared reference script did, then a DataContainer.
* ``prr``, ``ror``, ``ic``, ``ebgm``: the statistic over every pair (``min_events=1``), after counting.
  medreg's ``ebgm`` includes the prior fit on auto-squashed points; vigipy's ``gps()`` fits its own prior
  on all pairs (its default Nelder-Mead). ``ic``: medreg's WHO-UMC IC with IC025/IC975; vigipy's
  ``bcpnn(MC=False)`` (a different definition, so its values are not compared).
* ``all``: counting + the four statistics in one process (medreg: ``scoring.score``).
* ``ebgm_fixed`` (vigipy only): ``gps(prior_param=<medreg's fitted prior>)`` for the value agreement.
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


# ---------------------------------------------------------------- children
def _medreg(stage: str, src: Path, out: Path, timings: dict) -> None:
    from medreg.signals.bcpnn import information_component
    from medreg.signals.counting import count_pairs
    from medreg.signals.disproportionality import prr, ror
    from medreg.signals.ebgm import ebgm
    from medreg.signals.ebgm_fit import fit_prior
    from medreg.signals.scoring import expected_counts, score
    from medreg.signals.squashing import auto_squash

    t = time.perf_counter()
    c = count_pairs(src, report_col="report_id", device_col="device", event_col="event")
    timings["count"] = time.perf_counter() - t
    args = (c.n11, c.n_device, c.n_event, c.n_total)
    t = time.perf_counter()
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
    timings["stage"] = time.perf_counter() - t
    if cols and stage != "all":
        _write(out, c.devices[c.pair_device], c.events[c.pair_event], c.n11, cols)


def _vigipy(stage: str, src: Path, out: Path, timings: dict, prior: list[float] | None) -> None:
    import warnings

    import pandas as pd
    from vigipy import bcpnn, gps, prr, ror
    from vigipy.utils.Container import DataContainer

    warnings.filterwarnings("ignore")
    t = time.perf_counter()
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
    timings["count"] = time.perf_counter() - t
    t = time.perf_counter()
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
    timings["stage"] = time.perf_counter() - t
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
    else:
        _vigipy(stage, src, out, timings, json.loads(prior) if prior else None)
    out.with_suffix(".json").write_text(json.dumps(timings), encoding="utf-8")


# ---------------------------------------------------------------- parent
def run_child(tool: str, stage: str, src: Path, workdir: Path, prior=None) -> dict:
    out = workdir / f"{tool}_{stage}.csv"
    cmd = [sys.executable, "-m", "bench.signals.compare", "--child", tool, stage, str(src), str(out)]
    if prior is not None:
        cmd += ["--prior", json.dumps(prior)]
    proc = subprocess.Popen(cmd, cwd=HERE.parents[1])
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{tool} {stage} failed ({status})")
    timings = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    timings["peak_mb"] = usage.ru_maxrss / 1024
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


def main() -> None:
    ap = argparse.ArgumentParser(description="medreg vs vigipy, same input, one run")
    ap.add_argument("--reports", type=int, nargs="+", default=[100_000])
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--child", nargs=4, metavar=("TOOL", "STAGE", "SRC", "OUT"))
    ap.add_argument("--prior")
    a = ap.parse_args()
    if a.child:
        tool, stage, src, out = a.child
        child(tool, stage, Path(src), Path(out), a.prior)
        return
    from bench.signals.generate import generate, write

    a.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for n in a.reports:
        src = a.out / f"reports_{n}.csv"
        if not src.exists():
            cols, planted = generate(n)
            write(cols, planted, src)
        runs = {}
        for stage in STAGES:
            for tool in ("medreg", "vigipy"):
                runs[(tool, stage)] = run_child(tool, stage, src, a.out)
                shown = {k: v for k, v in runs[(tool, stage)].items() if k != "out"}
                print(n, tool, stage, shown, flush=True)
        prior = runs[("medreg", "ebgm")]["prior"]
        runs[("vigipy", "ebgm_fixed")] = run_child("vigipy", "ebgm_fixed", src, a.out, prior)
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
        }
        results[n] = {"runs": {f"{t}:{s}": {k: v for k, v in r.items() if k != "out"}
                               for (t, s), r in runs.items()}, "agreement": agree}
        print(json.dumps(agree, indent=1), flush=True)
    (a.out / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(table(results))


def table(results: dict) -> str:
    lines = ["| reports | stage | medreg s (count + stage) | vigipy s | speed-up "
             "| stage only, medreg / vigipy s | medreg peak MB | vigipy peak MB |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for n, res in results.items():
        r = res["runs"]
        for stage in STAGES:
            m, v = r[f"medreg:{stage}"], r[f"vigipy:{stage}"]
            tm = m["count"] if stage == "count" else m["count"] + m["stage"]
            tv = v["count"] if stage == "count" else v["count"] + v["stage"]
            sm, sv = m["stage"], v["stage"]
            lines.append(f"| {int(n):,} | {stage} | {tm:.2f} | {tv:.2f} | {tv / tm:.1f}x | "
                         + ("" if stage == "count" else f"{sm:.3f} / {sv:.3f} = {sv / sm:.0f}x")
                         + f" | {m['peak_mb']:.0f} | {v['peak_mb']:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
