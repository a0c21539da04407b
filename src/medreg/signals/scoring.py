"""Scoring every pair: from the counts to PRR, ROR, IC, EBGM (and MH-stratified PRR/ROR). Pure.

``score`` takes the integer-coded counts of :class:`PairCounts` (produced by ``counting.count_pairs`` or
any other engine), computes the expected counts (stratified when the counts carry strata), fits the GPS
prior (openEBGM-style, on auto-squashed points unless told otherwise) and returns one array per output
column, in the order of ``COLUMNS``.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from medreg.signals.bcpnn import information_component
from medreg.signals.disproportionality import prr, ror
from medreg.signals.ebgm import GPSPrior, ebgm, scored_pairs
from medreg.signals.ebgm_fit import PriorFit, fit_prior
from medreg.signals.squashing import auto_squash
from medreg.signals.stratified import mh_prr, mh_ror

IntArray = NDArray[np.int64]
COLUMNS = ("n11", "expected", "prr", "prr_lower", "prr_upper", "ror", "ror_lower", "ror_upper",
           "ic", "ic025", "ic975", "ebgm", "eb05", "eb95")
MH_COLUMNS = ("prr_mh", "prr_mh_lower", "prr_mh_upper", "ror_mh", "ror_mh_lower", "ror_mh_upper")
CHUNK = 100_000
PARALLEL_PAIRS = 200_000  # from this many pairs PRR/ROR/IC run beside the prior fit and EBGM


@dataclass(frozen=True)
class PairCounts:
    """The counts that every statistic needs, as integer-coded arrays.

    ``devices``/``events``/``strata`` hold the labels; pairs refer to them by index. Per-stratum data:
    ``cell_pair``/``cell_stratum``/``cell_n11`` (the non-zero pair x stratum counts),
    ``device_margin`` (devices x strata), ``event_margin`` (events x strata), ``stratum_total``.
    Crude margins are distinct reports over all strata.
    """

    devices: NDArray[np.object_]
    events: NDArray[np.object_]
    strata: NDArray[np.object_]
    pair_device: IntArray
    pair_event: IntArray
    n11: IntArray
    n_device: IntArray
    n_event: IntArray
    n_total: int
    cell_pair: IntArray
    cell_stratum: IntArray
    cell_n11: IntArray
    device_margin: IntArray
    event_margin: IntArray
    stratum_total: IntArray

    @property
    def stratified(self) -> bool:
        return self.strata.size > 1


@dataclass(frozen=True)
class Scores:
    """One array per column (``COLUMNS``, plus ``MH_COLUMNS`` with strata) and the prior used."""

    columns: dict[str, np.ndarray]
    prior: GPSPrior
    fit: PriorFit | None
    squashed_points: int | None = field(default=None)


def _stratified(counts: PairCounts, chunk: int = CHUNK):
    """Yield (slice, n11 KxS, device margin KxS, event margin KxS) for chunks of pairs."""
    k = counts.n11.size
    order = np.argsort(counts.cell_pair, kind="stable")
    cp, cs, cn = counts.cell_pair[order], counts.cell_stratum[order], counts.cell_n11[order]
    for start in range(0, k, chunk):
        stop = min(start + chunk, k)
        lo, hi = np.searchsorted(cp, [start, stop])
        cells = np.zeros((stop - start, counts.strata.size))
        cells[cp[lo:hi] - start, cs[lo:hi]] = cn[lo:hi]
        yield (slice(start, stop), cells, counts.device_margin[counts.pair_device[start:stop]],
               counts.event_margin[counts.pair_event[start:stop]])


def expected_counts(counts: PairCounts) -> np.ndarray:
    """E per pair: crude n_device n_event / n_total, or the sum over strata when stratified."""
    if not counts.stratified:
        return counts.n_device * counts.n_event / float(counts.n_total)
    total = counts.stratum_total.astype(np.float64)
    inv = np.divide(1.0, total, out=np.zeros_like(total), where=total > 0)
    out = np.empty(counts.n11.size)
    for sl, _, dm, em in _stratified(counts):
        out[sl] = (dm * em * inv).sum(axis=1)
    return out


def score(counts: PairCounts, *, prior: GPSPrior | None = None, squash: bool = True, n_star: int = 1,
          level: float = 0.95) -> Scores:
    """All statistics for every pair. ``prior=None`` fits the GPS prior on the pairs themselves
    (auto-squashed when ``squash``); EB05/EB95 are the 5th/95th posterior percentiles."""
    n11 = counts.n11.astype(np.float64)
    args = (n11, counts.n_device, counts.n_event, counts.n_total)
    e = expected_counts(counts)

    def frequentist():
        return prr(*args, level=level), ror(*args, level=level), information_component(n11, e, level=level)

    # PRR, ROR and IC, and the distinct (n, E) that EBGM scores, do not depend on the prior: on a large
    # table they are found on a second thread while the prior is fitted, and PRR, ROR and IC while EBGM
    # is computed (NumPy and SciPy release the GIL; the values are the same)
    pool = ThreadPoolExecutor(1) if n11.size >= PARALLEL_PAIRS and (os.cpu_count() or 1) > 1 else None
    if pool is None:
        classic, pairs = frequentist, None
    else:
        pairs = pool.submit(scored_pairs, n11, e).result
        classic = pool.submit(frequentist).result
    try:
        return _with_ebgm(counts, n11, e, classic, pairs, prior=prior, squash=squash, n_star=n_star,
                          level=level)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


def _with_ebgm(counts: PairCounts, n11, e, classic, pairs, *, prior: GPSPrior | None, squash: bool,
               n_star: int, level: float) -> Scores:
    fit, points = None, None
    if prior is None:
        keep = n11 >= n_star
        if squash:
            sq = auto_squash(n11[keep], e[keep])
            fit = fit_prior(sq.n, sq.e, sq.weights, n_star=n_star, boundary_fallback=True)
            points = int(sq.n.size)
        else:
            fit = fit_prior(n11[keep], e[keep], n_star=n_star, boundary_fallback=True)
        prior = fit.prior
    eb = ebgm(prior, n11, e, quantiles=(0.05, 0.95), pairs=pairs() if pairs else None)
    p, r, ic = classic()
    cols = {"n11": counts.n11, "expected": e, "prr": p.estimate, "prr_lower": p.lower,
            "prr_upper": p.upper, "ror": r.estimate, "ror_lower": r.lower, "ror_upper": r.upper,
            "ic": ic.ic, "ic025": ic.lower, "ic975": ic.upper, "ebgm": eb.ebgm, "eb05": eb.lower,
            "eb95": eb.upper}
    if counts.stratified:
        for name in MH_COLUMNS:
            cols[name] = np.empty(n11.size)
        total = counts.stratum_total
        for sl, cells, dm, em in _stratified(counts):
            pm, rm = mh_prr(cells, dm, em, total, level=level), mh_ror(cells, dm, em, total, level=level)
            for prefix, res in (("prr_mh", pm), ("ror_mh", rm)):
                cols[prefix][sl] = res.estimate
                cols[prefix + "_lower"][sl] = res.lower
                cols[prefix + "_upper"][sl] = res.upper
    return Scores(columns=cols, prior=prior, fit=fit, squashed_points=points)
