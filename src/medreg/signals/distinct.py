"""Distinct values and distinct (n, E) pairs of the scoring arrays, without a comparison sort when it
can be avoided. Pure.

A million pairs have a few hundred distinct counts and about half as many distinct (n, E) as pairs, so
the statistics that are functions of the count (gamma quantiles, log-gamma, digamma) or of (n, E) alone
are evaluated once per distinct value and gathered back. These helpers return exactly what
``np.unique(x, return_inverse=True)`` returns (sorted distinct values and the index of each element's
value); counts, which are small non-negative integers, take a counting pass instead of a sort.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]

# Above this the counting pass would allocate too much; np.unique sorts instead.
COUNT_LIMIT = 1 << 22


def distinct(x: NDArray) -> tuple[NDArray, IndexArray]:
    """``np.unique(x, return_inverse=True)`` with a flat index; a counting pass for small counts.

    >>> values, index = distinct(np.array([3.0, 1.0, 3.0, 0.0]))
    >>> values.tolist(), index.tolist()
    ([0.0, 1.0, 3.0], [2, 1, 2, 0])
    """
    flat = np.asarray(x).ravel()
    if flat.size and _small_counts(flat):
        whole = flat.astype(np.intp)
        present = np.bincount(whole) > 0
        values = np.flatnonzero(present)
        lookup = np.cumsum(present) - 1
        return values.astype(flat.dtype), lookup[whole]
    values, index = np.unique(flat, return_inverse=True)
    return values, index.ravel()


def _small_counts(x: NDArray) -> bool:
    if x.dtype.kind in "iu":
        return bool(x.min() >= 0 and x.max() < COUNT_LIMIT)
    if x.dtype.kind != "f":
        return False
    with np.errstate(invalid="ignore"):
        return bool(np.all((x >= 0) & (x < COUNT_LIMIT) & (x == np.floor(x))))


def stable_order(x: NDArray) -> IndexArray:
    """``np.argsort(x, kind="stable")``; counts are ranked first, so that NumPy's radix sort of small
    unsigned integers does the sorting (the stable order is the same whatever the algorithm)."""
    values, index = distinct(x)
    if values.size <= np.iinfo(np.uint16).max + 1:
        return np.argsort(index.astype(np.uint16), kind="stable")
    return np.argsort(np.asarray(x).ravel(), kind="stable")


def distinct_pairs(n: FloatArray, e: FloatArray) -> tuple[FloatArray, FloatArray, IndexArray]:
    """The distinct (n, e) pairs (sorted by e, then n) and, per input pair, the index of its pair.

    >>> un, ue, back = distinct_pairs(np.array([1.0, 2.0, 1.0]), np.array([0.5, 0.5, 0.5]))
    >>> un.tolist(), ue.tolist(), back.tolist()
    ([1.0, 2.0], [0.5, 0.5], [0, 1, 0])
    """
    un, i_n = distinct(n)
    ue, i_e = distinct(e)
    key = i_e.astype(np.int64) * un.size + i_n
    keys, back = distinct(key) if key.size else (key, key.astype(np.intp))
    return un[keys % un.size], ue[keys // un.size], back
