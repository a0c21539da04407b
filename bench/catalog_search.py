"""Benchmark: medreg's catalogue search against RapidFuzz (the peer), same input, one run.

Input: the 178 shipped catalogue rows; queries: (a) the 800 品名举例 as written, (b) the same names with
their first character dropped (a partial word), (c) the names with their two halves swapped (words out of
order). Both sides search the same texts (二级 name, 一级 name, each 品名举例) and return the best rows;
we report wall time per query and top-1 / top-3 accuracy of the row's 二级 category.
Peer: rapidfuzz.process.extract with fuzz.WRatio (its default general scorer), best score per row.

Run: nice .venv/bin/python bench/catalog_search.py
"""

from __future__ import annotations

import time

from rapidfuzz import fuzz, process

from medreg.catalog import catalogue, search


def query_sets(entries):
    names = [(x, e.category2_code) for e in entries for x in e.examples]
    return {
        "as written": names,
        "first character dropped": [(n[1:], c) for n, c in names if len(n) > 2],
        "halves swapped": [(n[len(n) // 2:] + n[: len(n) // 2], c) for n, c in names if len(n) > 3],
    }


def medreg_top(index, q):
    return [h.entry.category2_code for h in search.search(index, q, limit=10)]


def rapidfuzz_top(choices, owners, q):
    best: dict[str, float] = {}
    for _text, score, i in process.extract(q, choices, scorer=fuzz.WRatio, limit=30):
        code = owners[i]
        best[code] = max(best.get(code, 0), score)
    return sorted(best, key=lambda c: -best[c])


def distinct(codes):
    out = []
    for c in codes:
        if c not in out:
            out.append(c)
    return out


def run():
    entries = catalogue.shipped_entries()
    t0 = time.perf_counter()
    index = search.Index(entries)
    build = time.perf_counter() - t0
    choices, owners = [], []
    for e in entries:
        for t in (e.category2_name, e.category1_name, *e.examples):
            choices.append(t)
            owners.append(e.category2_code)
    print(f"medreg index build: {build * 1000:.0f} ms (pinyin of every text); {len(choices)} texts")
    print(f"{'queries':<26}{'n':>5} | {'medreg ms/q':>11} {'top1':>6} {'top3':>6} | "
          f"{'rapidfuzz ms/q':>14} {'top1':>6} {'top3':>6} | {'time ratio':>10}")
    for label, queries in query_sets(entries).items():
        results = {}
        for side, fn in (("medreg", lambda q: medreg_top(index, q)),
                         ("rapidfuzz", lambda q: rapidfuzz_top(choices, owners, q))):
            t0 = time.perf_counter()
            tops = [distinct(fn(q)) for q, _ in queries]
            elapsed = (time.perf_counter() - t0) / len(queries) * 1000
            top1 = sum(bool(t) and t[0] == c for t, (_, c) in zip(tops, queries, strict=True)) / len(queries)
            top3 = sum(c in t[:3] for t, (_, c) in zip(tops, queries, strict=True)) / len(queries)
            results[side] = (elapsed, top1, top3)
        m, r = results["medreg"], results["rapidfuzz"]
        print(f"{label:<26}{len(queries):>5} | {m[0]:>11.2f} {m[1]:>6.1%} {m[2]:>6.1%} | "
              f"{r[0]:>14.2f} {r[1]:>6.1%} {r[2]:>6.1%} | {m[0] / r[0]:>9.1f}x")


if __name__ == "__main__":
    run()
