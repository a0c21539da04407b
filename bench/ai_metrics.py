"""Side-by-side timings of medreg.ai metrics against their peers on the same input, in one run.

    nice .venv/bin/python bench/ai_metrics.py [--n 20000] [--repeat 3]

Peers: a direct O(m n) DeLong (the 1988 definition, as in pROC's "delong" without the mid-rank speed-up)
and scikit-learn's roc_auc_score for the AUC; a loop of scikit-learn roc_auc_score over the same bootstrap
draws; statsmodels cohens_kappa and proportion_confint; statsmodels ttost_paired. Prints the median time
of each and the ratio peer / medreg (> 1: medreg faster). Results equal to the peer are asserted first.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from sklearn.metrics import roc_auc_score
from statsmodels.stats.inter_rater import cohens_kappa
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import ttost_paired

from medreg.ai.agreement import tost_paired
from medreg.ai.metrics_common import proportion_ci
from medreg.ai.metrics_multiclass import cohen_kappa_table, contingency
from medreg.ai.metrics_roc import auc_bootstrap, auc_delong


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def delong_direct(y, s):
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    auc = v10.mean()
    se = np.sqrt(v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size)
    return auc, auc - 1.959963984540054 * se


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n = args.n
    y = rng.integers(0, 2, n)
    s = np.round(np.clip(0.25 * y + rng.random(n) * 0.75, 0, 1), 3)
    rows = []

    t_ours, ours = timed(lambda: auc_delong(y, s), args.repeat)
    t_peer, peer = timed(lambda: delong_direct(y, s), args.repeat)
    assert abs(ours.value - peer[0]) < 1e-12 and abs(ours.lower - peer[1]) < 1e-9
    rows.append(("AUC + DeLong CI vs direct O(mn) DeLong", t_ours, t_peer))
    t_sk, sk = timed(lambda: roc_auc_score(y, s), args.repeat)
    assert abs(ours.value - sk) < 1e-12
    rows.append(("AUC + DeLong CI vs sklearn roc_auc_score (AUC only)", t_ours, t_sk))

    nb, ysmall, ssmall = 500, y[:2000], s[:2000]
    t_ours, ours = timed(lambda: auc_bootstrap(ysmall, ssmall, n_boot=nb, seed=1), 1)
    pos, neg = ssmall[ysmall == 1], ssmall[ysmall == 0]

    def loop():
        r = np.random.default_rng(1)
        ip = r.integers(0, pos.size, size=(nb, pos.size))
        ineg = r.integers(0, neg.size, size=(nb, neg.size))
        lab = np.r_[np.ones(pos.size), np.zeros(neg.size)]
        return np.quantile([roc_auc_score(lab, np.r_[pos[ip[b]], neg[ineg[b]]]) for b in range(nb)],
                           [0.025, 0.975])

    t_peer, peer = timed(loop, 1)
    assert abs(ours.lower - peer[0]) < 1e-12
    rows.append((f"bootstrap AUC CI ({nb} replicates, 2000 cases) vs sklearn loop", t_ours, t_peer))

    a = rng.integers(0, 5, n)
    b = np.clip(a + rng.integers(-1, 2, n), 0, 4)
    table = contingency(a, b, [0, 1, 2, 3, 4])
    t_ours, ours = timed(lambda: cohen_kappa_table(table, "quadratic"), args.repeat)
    t_peer, peer = timed(lambda: cohens_kappa(table, wt="quadratic"), args.repeat)
    assert abs(ours.lower - peer.kappa_low) < 1e-10
    rows.append(("weighted kappa + CI vs statsmodels cohens_kappa", t_ours, t_peer))

    counts = rng.integers(0, 200, 2000)
    t_ours, _ = timed(lambda: [proportion_ci(int(x), 200, 0.05, "clopper-pearson") for x in counts], 1)
    t_peer, _ = timed(lambda: [proportion_confint(int(x), 200, method="beta") for x in counts], 1)
    rows.append(("2000 Clopper-Pearson intervals vs statsmodels proportion_confint", t_ours, t_peer))

    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t_ours, ours = timed(lambda: tost_paired(x1, x2, -0.1, 0.1), args.repeat)
    t_peer, peer = timed(lambda: ttost_paired(x1, x2, -0.1, 0.1), args.repeat)
    assert abs(ours.p_value - peer[0]) < 1e-10
    rows.append(("TOST paired vs statsmodels ttost_paired", t_ours, t_peer))

    print(f"n = {n} cases, median of {args.repeat} runs (bootstrap and intervals: 1 run)")
    print(f"{'comparison':<66} {'medreg s':>10} {'peer s':>10} {'peer/medreg':>12}")
    for name, t_m, t_p in rows:
        print(f"{name:<66} {t_m:>10.4f} {t_p:>10.4f} {t_p / t_m:>12.1f}")


if __name__ == "__main__":
    main()
