"""From the aggregate rows of a count (any engine) to the arrays of :class:`PairCounts`. Pure.

The rows are (di, ei, si, n, g): the label codes of device, event and stratum (-1 where rolled up), the
count, and g, the grouping (as ``GROUPING(di, ei, si)``: 0 the pair x stratum cells, 1 the crude pair
counts, 2 and 4 the device and event margins per stratum, 6 the stratum totals, 3 and 5 the crude
device and event margins, 7 the report total). ``counting`` (DuckDB) and ``counting_spark`` produce them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from medreg.signals.scoring import PairCounts

IntArray = NDArray[np.int64]


def _col(agg, name: str, mask) -> IntArray:
    return np.asarray(agg[name][mask], dtype=np.int64)


ONE_KEY_LIMIT = 1 << 62  # devices x events x strata below this: a cell's (pair, stratum) fits one int64


def assemble(agg, devices, events, strata) -> PairCounts:
    """PairCounts from the aggregate rows (columns di, ei, si, n, g; see the module).

    Unstratified aggregates (no g = 0 rows, one stratum) carry only the crude parts: the one stratum's
    cells, margins and total are those. The pairs are put in (device, event) order and the cells in
    (pair, stratum) order, whatever order the engine returned them in; the cells' pairs are found by a
    search of sorted keys (a search in random order would miss the cache on every row)."""
    g, n = np.asarray(agg["g"]), np.asarray(agg["n"], dtype=np.int64)
    crude = strata.size == 1 and not np.any(g == 0)
    n_dev, n_evt, n_str = devices.size, events.size, strata.size

    def part(grouping: int, *cols: str):
        # GROUPING(di, ei, si) bits: 4 = di rolled up, 2 = ei rolled up, 1 = si rolled up
        m = g == (grouping | 1 if crude else grouping)
        size = int(np.count_nonzero(m))
        first, last = int(m.argmax()), m.size - 1 - int(m[::-1].argmax())
        if size and last - first + 1 == size:  # one block (``_union`` returns them so): a slice, no copy
            m = slice(first, last + 1)
        return [np.zeros(size, dtype=np.int64) if crude and c == "si" else _col(agg, c, m)
                for c in cols] + [n[m]]

    device_margin = np.zeros((n_dev, n_str), dtype=np.int64)
    di, si, v = part(2, "di", "si")
    device_margin[di, si] = v
    event_margin = np.zeros((n_evt, n_str), dtype=np.int64)
    ei, si, v = part(4, "ei", "si")
    event_margin[ei, si] = v
    stratum_total = np.zeros(n_str, dtype=np.int64)
    si, v = part(6, "si")
    stratum_total[si] = v
    crude_dev = np.zeros(n_dev, dtype=np.int64)
    di, v = part(3, "di")
    crude_dev[di] = v
    crude_evt = np.zeros(n_evt, dtype=np.int64)
    ei, v = part(5, "ei")
    crude_evt[ei] = v
    n_total = int(n[g == 7][0])
    di, ei, pair_n11 = part(1, "di", "ei")  # crude pair counts: distinct reports over all strata
    pair_key = di * n_evt + ei
    if pair_key.size > 1 and not np.all(pair_key[1:] > pair_key[:-1]):
        order = np.argsort(pair_key, kind="stable")
        pair_key, pair_n11 = pair_key[order], pair_n11[order]
    if crude:  # one cell per pair, in the one stratum
        cell_pair, cell_s, cell_n = (np.arange(pair_key.size, dtype=np.int64),
                                     np.zeros(pair_key.size, dtype=np.int64), pair_n11.copy())
    else:
        di, ei, cell_s, cell_n = part(0, "di", "ei", "si")
        cell_key = di * n_evt + ei
        if n_dev * n_evt * n_str < ONE_KEY_LIMIT:  # one key per cell: a single sort, not a two-key lexsort
            key = cell_key * n_str + cell_s
            if key.size > 1 and not np.all(key[1:] > key[:-1]):
                canon = np.argsort(key)  # the keys are distinct: any sort gives the (pair, stratum) order
                cell_key, cell_s = np.divmod(key[canon], n_str)
                cell_n = cell_n[canon]
        else:
            canon = np.lexsort((cell_s, cell_key))  # cells in (pair, stratum) order
            cell_key, cell_s, cell_n = cell_key[canon], cell_s[canon], cell_n[canon]
        cell_pair = np.searchsorted(pair_key, cell_key)
    pair_device, pair_event = pair_key // n_evt, pair_key % n_evt
    return PairCounts(devices=devices, events=events, strata=strata, pair_device=pair_device,
                      pair_event=pair_event, n11=pair_n11, n_device=crude_dev[pair_device],
                      n_event=crude_evt[pair_event], n_total=n_total, cell_pair=cell_pair,
                      cell_stratum=cell_s, cell_n11=cell_n, device_margin=device_margin,
                      event_margin=event_margin, stratum_total=stratum_total)
