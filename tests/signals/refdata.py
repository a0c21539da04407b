"""Reading the signal reference data (tests/data/signals) and an independent NumPy pair counter.

The counter follows openEBGM ``processRaw``: N = distinct report ids per (var1, var2) pair, margins =
distinct ids per var1 / per var2, N_tot = distinct ids; with strata, each margin is counted inside each
stratum and E = sum over strata of N_v1,s * N_v2,s / N_tot,s.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "data" / "signals"


def read_rows(name: str) -> list[dict[str, str]]:
    path = DATA / name
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def reference(source_prefix: str, dataset: str, statistic: str, settings_contains: str = "") -> dict:
    """{row_key: (value, lower, upper)} of reference_values.csv rows matching the filter."""
    out = {}
    for r in read_rows("reference_values.csv"):
        if (r["source"].startswith(source_prefix) and r["dataset"] == dataset
                and r["statistic"] == statistic and settings_contains in r["settings"]):
            def num(x):
                if x in ("", None):
                    return None
                return x if ";" in x else float(x)
            out[r["row_key"]] = (num(r["value"]), num(r["lower"]), num(r["upper"]))
    return out


@dataclass
class Counts:
    pairs: list[tuple[str, str]]
    n11: np.ndarray
    n_device: np.ndarray
    n_event: np.ndarray
    n_total: float
    expected: np.ndarray

    def index(self) -> dict[tuple[str, str], int]:
        return {p: i for i, p in enumerate(self.pairs)}


def count(rows, id_col="id", d_col="var1", e_col="var2", strata=()) -> Counts:
    """Distinct-id counts per pair and margins (crude), and the stratified expected count."""
    pair_ids: dict[tuple[str, str], set] = {}
    for r in rows:
        pair_ids.setdefault((r[d_col], r[e_col]), set()).add(r[id_col])
    pairs = sorted(pair_ids)

    def margins(rs):
        dev, evt, ids = {}, {}, set()
        for r in rs:
            dev.setdefault(r[d_col], set()).add(r[id_col])
            evt.setdefault(r[e_col], set()).add(r[id_col])
            ids.add(r[id_col])
        return ({k: len(v) for k, v in dev.items()}, {k: len(v) for k, v in evt.items()}, len(ids))

    dev, evt, tot = margins(rows)
    n11 = np.array([len(pair_ids[p]) for p in pairs], dtype=float)
    nd = np.array([dev[p[0]] for p in pairs], dtype=float)
    ne = np.array([evt[p[1]] for p in pairs], dtype=float)
    if strata:
        groups: dict[tuple, list] = {}
        for r in rows:
            groups.setdefault(tuple(r[s] for s in strata), []).append(r)
        expected = np.zeros(len(pairs))
        for rs in groups.values():
            d_s, e_s, t_s = margins(rs)
            expected += np.array([d_s.get(p[0], 0) * e_s.get(p[1], 0) / t_s for p in pairs])
    else:
        expected = nd * ne / tot
    return Counts(pairs=pairs, n11=n11, n_device=nd, n_event=ne, n_total=float(tot), expected=expected)
