"""Data squashing for the GPS prior fit (DuMouchel et al. 2001; openEBGM ``squashData``/``autoSquash``).

Most pairs have a count of 1 or 2 and differ only in E. For one count value, the points are sorted by
E, the ``keep_pts`` largest E are kept as they are (their likelihood varies most) and the rest are
replaced by bins of ``bin_size`` consecutive points, each bin becoming one point at the bin's mean E
with weight = number of points in it (the last bin may be partial). The weighted likelihood of the
squashed points approximates that of the raw pairs at a fraction of the cost.

References: DuMouchel W, Pregibon D. Empirical Bayes screening for multi-item associations. KDD 2001.
openEBGM 0.9.1 ``squashData`` and ``autoSquash`` (same binning rules, reimplemented with NumPy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from medreg.signals.distinct import stable_order


@dataclass(frozen=True)
class Squashed:
    """Points for the prior fit: counts ``n``, expected counts ``e`` and ``weights``, sorted by ``n``."""

    n: NDArray[np.float64]
    e: NDArray[np.float64]
    weights: NDArray[np.float64]


def _bins(e_sel: NDArray[np.float64], bin_size: int, keep_pts: int):
    """(e, weights) of one count's points: sorted, the ``keep_pts`` largest kept, the rest binned."""
    e_sel = np.sort(e_sel)  # the sorted values do not depend on the algorithm (SIMD quicksort here)
    num_squash = e_sel.size - keep_pts
    if num_squash < bin_size:
        raise ValueError("too few points to squash: reduce bin_size or keep_pts")
    to_squash, keep = e_sel[:num_squash], e_sel[num_squash:]
    starts = np.arange(0, num_squash, bin_size)
    sizes = np.minimum(bin_size, num_squash - starts).astype(np.float64)
    means = np.add.reduceat(to_squash, starts) / sizes
    return np.concatenate([means, keep]), np.concatenate([sizes, np.ones(keep.size)])


def squash(n: ArrayLike, e: ArrayLike, weights: ArrayLike | None = None, *, count: int = 1,
           bin_size: int = 50, keep_pts: int = 100) -> Squashed:
    """Squash the points with ``n == count`` (openEBGM ``squashData`` with the same arguments).

    >>> s = squash([1, 1, 1, 1, 1, 2], [0.1, 0.2, 0.3, 0.4, 0.5, 0.9], count=1, bin_size=2, keep_pts=1)
    >>> s.n.tolist(), [round(x, 2) for x in s.e.tolist()], s.weights.tolist()
    ([1.0, 1.0, 1.0, 2.0], [0.15, 0.35, 0.5, 0.9], [2.0, 2.0, 1.0, 1.0])
    """
    n = np.asarray(n, dtype=np.float64)
    e = np.asarray(e, dtype=np.float64)
    w = np.ones_like(n) if weights is None else np.asarray(weights, dtype=np.float64)
    sel = n == count
    hold_n, hold_e, hold_w = n[~sel], e[~sel], w[~sel]
    new_e, new_w = _bins(e[sel], bin_size, keep_pts)
    out_n = np.concatenate([hold_n, np.full(new_e.size, float(count))])
    out_e = np.concatenate([hold_e, new_e])
    out_w = np.concatenate([hold_w, new_w])
    order = np.argsort(out_n, kind="stable")
    return Squashed(n=out_n[order], e=out_e[order], weights=out_w[order])


def auto_squash(n: ArrayLike, e: ArrayLike, *,
                keep_pts: tuple[int, ...] = (100, 75, 50, 25),
                cut_offs: tuple[float, ...] = (500, 1e3, 1e4, 1e5, 5e5, 1e6, 5e6),
                num_super_pts: tuple[int, ...] = (50, 75, 150, 500, 750, 1000, 2000, 5000)) -> Squashed:
    """Squash every count with enough points, with openEBGM ``autoSquash``'s schedule.

    Counts are taken in increasing order among those with more than ``max(keep_pts) + 1`` points; the
    i-th such count keeps ``keep_pts[i]`` (the last value thereafter) and is squashed into the number of
    super points that ``cut_offs``/``num_super_pts`` give for its size (bins of at least 2 points).

    The result is what applying ``squash`` to each such count in turn gives (points sorted by count,
    stably; a squashed count's bin means, then its kept points), built in one pass: the points are
    sorted by count once and each squashed count's block is replaced by its bins.
    """
    n = np.asarray(n, dtype=np.float64)
    e = np.asarray(e, dtype=np.float64)
    order = stable_order(n)
    n_s, e_s = n[order], e[order]
    values, starts, freq = np.unique(n_s, return_index=True, return_counts=True)
    big = np.flatnonzero(freq > max(keep_pts) + 1)
    parts_n, parts_e, parts_w, done = [], [], [], 0
    for i, j in enumerate(big):
        keep = keep_pts[min(i, len(keep_pts) - 1)]
        to_squash = freq[j] - keep
        cut = int(np.searchsorted(np.append(cut_offs, np.inf), to_squash, side="right"))
        bin_size = max(int(np.floor(to_squash / num_super_pts[cut])), 2)
        lo, hi = starts[j], starts[j] + freq[j]
        new_e, new_w = _bins(e_s[lo:hi], bin_size, keep)
        parts_n += [n_s[done:lo], np.full(new_e.size, values[j])]
        parts_e += [e_s[done:lo], new_e]
        parts_w += [np.ones(lo - done), new_w]
        done = hi
    parts_n.append(n_s[done:])
    parts_e.append(e_s[done:])
    parts_w.append(np.ones(n_s.size - done))
    return Squashed(n=np.concatenate(parts_n), e=np.concatenate(parts_e), weights=np.concatenate(parts_w))
