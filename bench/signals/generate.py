"""A seeded generator of synthetic adverse-event report sets with planted signals (made-up data).

Every label and number here is invented for benchmarking; nothing describes a real device.

* Devices and events have Zipf-like frequencies (weight of rank r is r**-s): a few devices and terms
  dominate, most are rare, as in MAUDE or a national AE database.
* Each report names one device (15 % name a second, unrelated one) and 1 + Poisson(0.6) event draws
  (at most 5; a term drawn twice is one row after de-duplication by the counting).
* Strata: year (2019-2024), sex (F/M/U), age band (0-17, 18-44, 45-64, 65+). The event distribution
  shifts with the age band (older patients report the later-ranked events more), so strata matter.
* Planted signals: ``signals`` (device, event) pairs whose count without a signal would be 2 to 20
  reports, each with a relative reporting rate ``rr`` drawn from ``RATES``: in reports of that device
  the event's weight is multiplied by ``rr``.

``python -m bench.signals.generate --reports 100000 --out reports.csv`` writes the table and
``reports.planted.json`` (the truth). ``check(scores_csv, planted_json)`` is the generator's own check.
"""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

RATES = (2.0, 3.0, 5.0, 10.0)
YEARS = np.arange(2019, 2025)
SEXES = np.array(["F", "M", "U"])
AGE_BANDS = np.array(["0-17", "18-44", "45-64", "65+"])


@dataclass(frozen=True)
class Planted:
    device: str
    event: str
    rr: float


def _zipf(n: int, s: float) -> np.ndarray:
    w = np.arange(1, n + 1, dtype=np.float64) ** -s
    return w / w.sum()


def _labels(prefix: str, n: int) -> np.ndarray:
    return np.array([f"{prefix}{i:05d}" for i in range(n)], dtype=object)


def generate(reports: int, *, devices: int | None = None, events: int | None = None, signals: int = 40,
             seed: int = 20251130) -> tuple[dict[str, np.ndarray], list[Planted]]:
    """Return the report-level columns (one entry per report x device x event) and the planted truth."""
    cols, planted, _ = generate_coded(reports, devices=devices, events=events, signals=signals, seed=seed)
    return cols, planted


def generate_coded(reports: int, *, devices: int | None = None, events: int | None = None,
                   signals: int = 40, seed: int = 20251130):
    """``generate`` and the integer codes (report, device, event) of its rows, in report order."""
    rng = np.random.default_rng(seed)
    devices = devices or max(200, int(reports ** 0.6))
    events = events or max(300, min(2000, int(reports ** 0.5) * 2))
    dev_w, evt_w = _zipf(devices, 1.1), _zipf(events, 1.0)
    dev_names, evt_names = _labels("DEV", devices), _labels("EVT", events)
    # planted pairs: among (device, event) cells whose count without a signal would be 2 to 20 reports
    # (detectable but not trivial), excluding the 10 most frequent events; distinct events
    null = reports * 1.6 * np.outer(dev_w, evt_w)
    null[:, :10] = 0
    cand = np.argwhere((null >= 2) & (null <= 20))
    pick = rng.permutation(cand.shape[0])
    chosen, used = [], set()
    for i in pick:
        d, e = (int(x) for x in cand[i])
        if e not in used:
            chosen.append((d, e))
            used.add(e)
        if len(chosen) == signals:
            break
    p_dev = np.array([c[0] for c in chosen], dtype=np.int64)
    p_evt = np.array([c[1] for c in chosen], dtype=np.int64)
    p_rr = rng.choice(RATES, size=p_dev.size)
    planted = [Planted(str(dev_names[d]), str(evt_names[e]), float(r))
               for d, e, r in zip(p_dev, p_evt, p_rr, strict=True)]
    # report attributes
    primary = rng.choice(devices, size=reports, p=dev_w)
    age = rng.choice(4, size=reports, p=[0.1, 0.3, 0.35, 0.25])
    sex = rng.choice(3, size=reports, p=[0.52, 0.45, 0.03])
    year = rng.choice(YEARS, size=reports)
    k = np.minimum(1 + rng.poisson(0.6, size=reports), 5)
    # age band tilts the event distribution (the stratification confounder); each device has its own
    # deviation from the common event profile: for 95 % of the (device, event) cells a mild Gamma(3, 1/3)
    # factor (mean 1), for 5 % a heavy-tailed Gamma(1, 3) one (mean 3), so that pair-level rates are
    # over-dispersed with a long upper tail, as in real databases
    tilt = np.linspace(-0.5, 0.5, events)
    age_w = [evt_w * np.exp(tilt * (a - 1.5)) for a in range(4)]
    boost: dict[int, list[tuple[int, float]]] = {}
    for d, e, r in zip(p_dev, p_evt, p_rr, strict=True):
        boost.setdefault(int(d), []).append((int(e), float(r)))
    slots = np.repeat(np.arange(reports), k)  # one slot per (report, event draw)
    order_g = np.lexsort((age[slots], primary[slots]))
    slots = slots[order_g]
    keys = primary[slots] * 4 + age[slots]
    bounds = np.flatnonzero(np.diff(keys)) + 1
    ev = np.empty(slots.size, dtype=np.int64)
    u = rng.random(slots.size)
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, slots.size], strict=True):
        d, a = divmod(int(keys[lo]), 4)
        drng = np.random.default_rng([seed, d])
        factor = np.where(drng.random(events) < 0.05, drng.gamma(1.0, 3.0, size=events),
                          drng.gamma(3.0, 1 / 3.0, size=events))
        for e, r in boost.get(d, ()):
            factor[e] = r  # a planted cell has exactly its relative rate, no random factor
        w = age_w[a] * factor
        cum = np.cumsum(w)
        ev[lo:hi] = np.minimum(np.searchsorted(cum, u[lo:hi] * cum[-1]), events - 1)
    rid = slots
    dv = primary[rid]
    # a second, unrelated device on 15 % of the reports, with the same events
    second = rng.random(reports) < 0.15
    other = rng.choice(devices, size=reports, p=dev_w)
    mask = second[rid] & (other[rid] != primary[rid])
    rid, ev, dv = (np.concatenate([rid, rid[mask]]), np.concatenate([ev, ev[mask]]),
                   np.concatenate([dv, other[rid[mask]]]))
    order = np.argsort(rid, kind="stable")
    rid, ev, dv = rid[order], ev[order], dv[order]
    cols = {"report_id": np.array([f"R{i:08d}" for i in rid], dtype=object), "device": dev_names[dv],
            "event": evt_names[ev], "year": year[rid], "sex": SEXES[sex[rid]],
            "age_band": AGE_BANDS[age[rid]]}
    return cols, planted, (rid, dv, ev)


FLAG_COLS = ("first_report_device", "first_report_event", "first_report")


def first_flags(rid: np.ndarray, dv: np.ndarray, ev: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """What an export that writes a report's rows together can add at little cost: the rows of each
    distinct (report, device, event), in (report, device, event) order, and three 0/1 flags: first row
    of its (report, device), of its (report, event), of its report (``counting.count_pairs(flag_cols=...)``).

    Returns the row indices to keep (in output order) and the flag columns for those rows. Integer codes,
    rows grouped by report (as the generator and an export produce them)."""
    n_dev, n_evt = int(dv.max()) + 1, int(ev.max()) + 1
    key = (rid.astype(np.int64) * n_dev + dv) * n_evt + ev
    order = np.argsort(key, kind="stable")  # nearly sorted already: the rows come report by report
    key = key[order]
    keep = np.r_[True, key[1:] != key[:-1]]
    order, key = order[keep], key[keep]
    r, d, e = rid[order], dv[order], ev[order]
    rd = r.astype(np.int64) * n_dev + d
    first_rd = np.r_[True, rd[1:] != rd[:-1]]
    first_r = np.r_[True, r[1:] != r[:-1]]
    re = r.astype(np.int64) * n_evt + e
    by_re = np.argsort(re, kind="stable")
    sorted_re = re[by_re]
    first_re = np.zeros(re.size, dtype=bool)
    first_re[by_re[np.r_[True, sorted_re[1:] != sorted_re[:-1]]]] = True
    flags = {FLAG_COLS[0]: first_rd.astype(np.int8), FLAG_COLS[1]: first_re.astype(np.int8),
             FLAG_COLS[2]: first_r.astype(np.int8)}
    return order, flags


def write(cols: dict[str, np.ndarray], planted: list[Planted], out: Path) -> None:
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(list(cols))
        w.writerows(zip(*cols.values(), strict=True))
    out.with_suffix(".planted.json").write_text(json.dumps([asdict(p) for p in planted], indent=1) + "\n",
                                                encoding="utf-8")


@dataclass(frozen=True)
class CheckResult:
    planted: int
    found: dict[str, int]  # statistic -> planted pairs it flags
    flagged: dict[str, int]  # statistic -> all pairs it flags
    recall_by_rr: dict[str, dict[float, float]]  # statistic -> planted rr -> share of those flagged


RULES = {
    "prr": lambda r: float(r["prr_lower"] or "nan") > 1 and int(r["n11"]) >= 3,
    "ror": lambda r: float(r["ror_lower"] or "nan") > 1 and int(r["n11"]) >= 3,
    "ic": lambda r: float(r["ic025"]) > 0,
    "ebgm": lambda r: float(r["eb05"]) > 1,
}


def check(scores_csv: Path, planted_json: Path) -> CheckResult:
    """How many planted pairs each statistic flags (PRR025 > 1 & n >= 3, ROR025 > 1 & n >= 3,
    IC025 > 0, EB05 > 1), and how many pairs it flags in all."""
    truth = {(p["device"], p["event"]): p["rr"] for p in json.loads(planted_json.read_text("utf-8"))}
    found = dict.fromkeys(RULES, 0)
    by_rr = {name: dict.fromkeys(sorted(set(truth.values())), 0) for name in RULES}
    flagged = dict.fromkeys(RULES, 0)
    with scores_csv.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            pair = (row["device"], row["event"])
            for name, rule in RULES.items():
                if rule(row):
                    flagged[name] += 1
                    if pair in truth:
                        found[name] += 1
                        by_rr[name][truth[pair]] += 1
    per_rr = {rr: sum(1 for v in truth.values() if v == rr) for rr in set(truth.values())}
    return CheckResult(planted=len(truth), found=found, flagged=flagged,
                       recall_by_rr={name: {rr: n / per_rr[rr] for rr, n in counts.items()}
                                     for name, counts in by_rr.items()})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=100_000)
    ap.add_argument("--signals", type=int, default=40)
    ap.add_argument("--seed", type=int, default=20251130)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    cols, planted = generate(a.reports, signals=a.signals, seed=a.seed)
    write(cols, planted, a.out)
    print(f"{a.out}: {len(cols['report_id'])} rows, {a.reports} reports, {len(planted)} planted signals")


if __name__ == "__main__":
    main()
