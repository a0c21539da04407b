"""Duplicate search: medreg's blocked candidate generation vs all pairs, same scorer, same input, one run.

Synthetic, made-up reports (no real data): N reports over 40 devices and a year; 5 % are re-reports of
another report (next day, reworded narrative). Both sides score pairs with ``duplicates.score_pair`` and
keep those >= 0.8; the all-pairs side compares every pair (the naive peer), the blocked side only pairs
with the same device key within 30 days. Prints the time of each, the ratio, and whether the blocked side
found every duplicate the all-pairs side found that lies within its blocking criteria.

    nice .venv/bin/python bench/bench_duplicates.py 2000
"""

from __future__ import annotations

import random
import sys
import time
from datetime import date, timedelta

from medreg.vigilance.duplicates import ReportRow, block_key, find_duplicates, score_pair

WORDS = [
    "catheter",
    "tip",
    "fractured",
    "during",
    "insertion",
    "fragment",
    "retrieved",
    "pump",
    "stopped",
    "alarm",
    "failed",
    "display",
    "blank",
    "image",
    "artefact",
    "dose",
    "high",
    "patient",
    "bleeding",
    "infection",
    "leak",
    "balloon",
    "burst",
]


def make(n: int, seed: int = 1) -> list[ReportRow]:
    rng = random.Random(seed)
    rows: list[ReportRow] = []
    for i in range(n):
        if rows and rng.random() < 0.05:
            src = rng.choice(rows)
            words = src.narrative.split()
            rng.shuffle(words)
            rows.append(
                ReportRow(
                    i,
                    src.event_date + timedelta(days=1),
                    src.registration_number,
                    model=src.model,
                    lot=src.lot,
                    age=src.age,
                    sex=src.sex,
                    outcome=src.outcome,
                    narrative=" ".join(words),
                )
            )
            continue
        dev = rng.randrange(40)
        rows.append(
            ReportRow(
                i,
                date(2025, 1, 1) + timedelta(days=rng.randrange(365)),
                f"REG{dev:03d}",
                model=f"M{dev}",
                lot=f"L{rng.randrange(20)}",
                age=rng.randrange(18, 90),
                sex=rng.choice(("female", "male")),
                outcome=rng.choice(("serious_injury", "other")),
                narrative=" ".join(rng.choice(WORDS) for _ in range(8)),
            )
        )
    return rows


def all_pairs(rows: list[ReportRow], threshold: float = 0.8):
    out = []
    for i, x in enumerate(rows):
        for y in rows[i + 1 :]:
            p = score_pair(x, y)
            if p.score >= threshold:
                out.append(p)
    return out


def main(n: int) -> None:
    rows = make(n)
    t0 = time.perf_counter()
    blocked = find_duplicates(rows)
    t1 = time.perf_counter()
    naive = all_pairs(rows)
    t2 = time.perf_counter()
    by_id = {r.id: r for r in rows}
    within = {
        (p.a, p.b)
        for p in naive
        if block_key(by_id[p.a]) == block_key(by_id[p.b])
        and abs((by_id[p.a].event_date - by_id[p.b].event_date).days) <= 30
    }
    found = {(p.a, p.b) for p in blocked}
    print(
        f"n={n} blocked={t1 - t0:.3f}s all_pairs={t2 - t1:.3f}s ratio={(t2 - t1) / (t1 - t0):.1f}x "
        f"pairs blocked={len(found)} all_pairs={len(naive)} within_criteria={len(within)} "
        f"same={found == within}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
