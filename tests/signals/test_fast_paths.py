"""The faster paths of the scoring give what the plain ones give, on generated report sets.

Each test compares a fast path with the straightforward computation it replaces (kept here as the
reference): distinct values by counting instead of sorting, scoring each distinct (n, E) once, the
one-pass data squashing, the seeded EB05/EB95 solver, the integer-coded DuckDB count. They would fail
if a fast path drifted from the plain one.
"""

from __future__ import annotations

import numpy as np
import pytest
from bench.signals.generate import generate, write
from scipy import optimize, special

from medreg.signals import ebgm as ebgm_module
from medreg.signals import scoring
from medreg.signals.counting import count_pairs
from medreg.signals.distinct import distinct, distinct_pairs, stable_order
from medreg.signals.ebgm import GPSPrior, ebgm, posterior_quantile, posterior_weight
from medreg.signals.scoring import expected_counts, score
from medreg.signals.squashing import auto_squash, squash
from tests.signals.refdata import count

PRIOR = GPSPrior(0.9888267, 0.4569972, 4.2805710, 4.6367439, 0.0750938)  # fitted on the bench's 1M set


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A generated report table (30k reports, strata) and its crude counts."""
    cols, planted = generate(30_000, signals=20, seed=5)
    path = tmp_path_factory.mktemp("fast") / "reports.csv"
    write(cols, planted, path)
    return path, count_pairs(path, report_col="report_id", device_col="device", event_col="event")


@pytest.mark.parametrize("x", [
    np.array([3, 0, 3, 7, 1]), np.array([2.0, 0.0, 5.0, 2.0]), np.array([1.5, 0.5, 1.5]),
    np.array([np.nan, 1.0, np.nan, 0.0]), np.array([-1.0, 2.0, 2.0]), np.array([1e9, 3.0, 1e9]),
    np.array([], dtype=float)])
def test_distinct_is_numpy_unique(x):
    values, index = distinct(x)
    ref_values, ref_index = np.unique(x, return_inverse=True)
    assert np.array_equal(values, ref_values, equal_nan=True) and values.dtype == ref_values.dtype
    assert np.array_equal(index, ref_index.ravel())
    assert np.array_equal(stable_order(x), np.argsort(x, kind="stable"))


def test_distinct_pairs_rebuild_every_pair(generated):
    _, c = generated
    n, e = c.n11.astype(float), expected_counts(c)
    un, ue, back = distinct_pairs(n, e)
    assert np.array_equal(un[back], n) and np.array_equal(ue[back], e)
    assert un.size == len(set(zip(n.tolist(), e.tolist(), strict=True))) < n.size


def _auto_squash_by_steps(n, e):
    """openEBGM autoSquash as a sequence of squashData calls (the plain path)."""
    values, freq = np.unique(n, return_counts=True)
    keep_pts, cut_offs = (100, 75, 50, 25), np.array([500, 1e3, 1e4, 1e5, 5e5, 1e6, 5e6, np.inf])
    supers = (50, 75, 150, 500, 750, 1000, 2000, 5000)
    out = (n, e, np.ones_like(n))
    for i, (value, num) in enumerate(zip(values[freq > 101], freq[freq > 101], strict=True)):
        keep = keep_pts[min(i, 3)]
        bin_size = max(int((num - keep) // supers[int(np.searchsorted(cut_offs, num - keep, "right"))]), 2)
        s = squash(*out, count=int(value), bin_size=bin_size, keep_pts=keep)
        out = (s.n, s.e, s.weights)
    return out


def test_one_pass_auto_squash_equals_squashing_count_by_count(generated):
    _, c = generated
    n, e = c.n11.astype(float), expected_counts(c)
    fast = auto_squash(n, e)
    for got, ref in zip((fast.n, fast.e, fast.weights), _auto_squash_by_steps(n, e), strict=True):
        assert np.array_equal(got, ref)


def test_ebgm_on_distinct_pairs_equals_pair_by_pair(generated, monkeypatch):
    _, c = generated
    n, e = c.n11.astype(float), expected_counts(c)
    n, e = np.append(n, [2.0, 1.0, np.nan]), np.append(e, [0.0, np.inf, 1.0])  # degenerate inputs: nan
    got = ebgm(PRIOR, n, e)
    monkeypatch.setattr(ebgm_module, "ANCHOR_EVERY", 10**9)  # every pair solved from the mixture start
    e = np.where(np.isfinite(e) & (e > 0), e, np.nan)  # ebgm's rule: E <= 0 or not finite scores nan
    qn = posterior_weight(PRIOR, n, e)
    for q, value in ((0.05, got.lower), (0.95, got.upper)):
        ref = posterior_quantile(PRIOR, n, e, q, qn)
        ok = np.isfinite(ref)
        assert np.array_equal(ok, np.isfinite(value)) and ok[:-3].all() and not ok[-3:].any()
        np.testing.assert_allclose(value[ok], ref[ok], rtol=1e-11, atol=0)
    np.testing.assert_array_equal(got.qn, qn)


def test_seeded_quantiles_solve_the_posterior_cdf(generated):
    """EB05/EB95 against a bracketing root finder (brentq to 1e-14) on a sample of pairs."""
    _, c = generated
    n, e = c.n11.astype(float), expected_counts(c)
    got = ebgm(PRIOR, n, e)
    a1, b1, a2, b2, _ = PRIOR.as_array()
    for i in np.random.default_rng(2).choice(n.size, 60, replace=False):
        def cdf(x, i=i):
            return (got.qn[i] * special.gammainc(a1 + n[i], x * (b1 + e[i]))
                    + (1 - got.qn[i]) * special.gammainc(a2 + n[i], x * (b2 + e[i])))
        for q, value in ((0.05, got.lower[i]), (0.95, got.upper[i])):
            root = optimize.brentq(lambda x, q=q: cdf(x) - q, 1e-12, 1e6, xtol=1e-300, rtol=1e-14)
            assert value == pytest.approx(root, rel=1e-10)


def test_integer_coded_count_equals_the_numpy_counter_with_strata(generated):
    path, _ = generated
    import csv

    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    strata = ("sex", "age_band")
    got = count_pairs(path, report_col="report_id", device_col="device", event_col="event",
                      strata_cols=strata)
    ref = count(rows, id_col="report_id", d_col="device", e_col="event", strata=strata)
    idx = {(got.devices[d], got.events[ev]): i for i, (d, ev) in enumerate(zip(got.pair_device,
                                                                               got.pair_event, strict=True))}
    order = np.array([idx[p] for p in ref.pairs])
    assert got.n_total == ref.n_total and got.n11.size == len(ref.pairs)
    assert np.array_equal(got.n11[order], ref.n11)
    assert np.array_equal(got.n_device[order], ref.n_device)
    assert np.array_equal(got.n_event[order], ref.n_event)
    np.testing.assert_allclose(expected_counts(got)[order], ref.expected, rtol=1e-12)
    assert got.strata.size == 12 and got.stratified


def test_score_is_unchanged_by_the_thread_count(generated, monkeypatch):
    _, c = generated
    two = score(c).columns
    monkeypatch.setattr(ebgm_module, "WORKERS", 1)
    monkeypatch.setattr(ebgm_module, "BLOCK", 1000)
    one = score(c).columns
    for name, values in two.items():
        np.testing.assert_array_equal(values, one[name])


@pytest.mark.parametrize("strata", [False, True])
def test_prr_ror_ic_beside_the_prior_fit_give_the_same_scores(generated, monkeypatch, strata):
    """On a large table PRR, ROR and IC run on a second thread while the prior is fitted (the
    generated table is made "large" here); every column, the prior and the fit are the same."""
    path, c = generated
    if strata:
        c = count_pairs(path, report_col="report_id", device_col="device", event_col="event",
                        strata_cols=("sex", "age_band"))
    serial = score(c)
    monkeypatch.setattr(scoring, "PARALLEL_PAIRS", 0)
    threads = []
    real = scoring.ThreadPoolExecutor
    monkeypatch.setattr(scoring, "ThreadPoolExecutor", lambda n: threads.append(n) or real(n))
    side = score(c)
    assert threads == [1] and serial.prior == side.prior and serial.fit == side.fit
    assert serial.columns.keys() == side.columns.keys()
    for name, values in serial.columns.items():
        np.testing.assert_array_equal(values, side.columns[name])
    with pytest.raises(ValueError):  # an error on the side thread reaches the caller
        monkeypatch.setattr(scoring, "prr", lambda *a, **k: (_ for _ in ()).throw(ValueError("boom")))
        score(c)
