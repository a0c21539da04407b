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


@dataclass(frozen=True)
class Squashed:
    """Points for the prior fit: counts ``n``, expected counts ``e`` and ``weights``, sorted by ``n``."""

    n: NDArray[np.float64]
    e: NDArray[np.float64]
    weights: NDArray[np.float64]


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
    e_sel = np.sort(e[sel], kind="stable")
    num_squash = e_sel.size - keep_pts
    if num_squash < bin_size:
        raise ValueError("too few points to squash: reduce bin_size or keep_pts")
    to_squash, keep = e_sel[:num_squash], e_sel[num_squash:]
    starts = np.arange(0, num_squash, bin_size)
    sizes = np.minimum(bin_size, num_squash - starts).astype(np.float64)
    means = np.add.reduceat(to_squash, starts) / sizes
    out_n = np.concatenate([hold_n, np.full(means.size + keep.size, float(count))])
    out_e = np.concatenate([hold_e, means, keep])
    out_w = np.concatenate([hold_w, sizes, np.ones(keep.size)])
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
    """
    n = np.asarray(n, dtype=np.float64)
    e = np.asarray(e, dtype=np.float64)
    values, freq = np.unique(n, return_counts=True)
    values = values[freq > max(keep_pts) + 1]
    freq = freq[freq > max(keep_pts) + 1]
    result = Squashed(n=n, e=e, weights=np.ones_like(n))
    for i, (value, num_pts) in enumerate(zip(values, freq, strict=True)):
        keep = keep_pts[min(i, len(keep_pts) - 1)]
        to_squash = num_pts - keep
        cut = int(np.searchsorted(np.append(cut_offs, np.inf), to_squash, side="right"))
        supers = num_super_pts[cut]
        bin_size = max(int(np.floor(to_squash / supers)), 2)
        result = squash(result.n, result.e, result.weights, count=int(value), bin_size=bin_size,
                        keep_pts=keep)
    return result
