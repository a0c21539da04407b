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
    """The distinct (n, e) pairs, sorted by n then e, and, per input pair, the index of its pair.

    One sort by e and a radix sort of the count codes (stable, so e stays sorted within a count).

    >>> un, ue, back = distinct_pairs(np.array([2.0, 1.0, 1.0, 1.0]), np.array([0.5, 0.7, 0.5, 0.7]))
    >>> un.tolist(), ue.tolist(), back.tolist()
    ([1.0, 1.0, 2.0], [0.5, 0.7, 0.5], [2, 1, 0, 1])
    """
    un, i_n = distinct(n)
    e = np.asarray(e).ravel()
    if e.size == 0:
        return un, e.copy(), i_n
    order = np.argsort(e)
    order = order[stable_order(i_n[order])]
    ns, es = i_n[order], e[order]
    new = np.empty(order.size, dtype=bool)
    new[0] = True
    new[1:] = (ns[1:] != ns[:-1]) | (es[1:] != es[:-1])
    back = np.empty(order.size, dtype=np.intp)
    back[order] = np.cumsum(new) - 1
    return un[ns[new]], es[new], back


def sorted_by_count_then_e(code: NDArray, e: FloatArray) -> bool:
    """True when the pairs are already in (count code, e) order, as ``distinct_pairs`` returns them."""
    dc, de = np.diff(code), np.diff(e)
    return bool(np.all((dc > 0) | ((dc == 0) & (de >= 0))))
