"""The ways of counting a report table give the same counts, field by field (generated set, made-up data).

* integer report ids (a snapshot's) vs the same ids as text;
* first-occurrence flags written with the rows (``flag_cols``) vs the plain report table;
each with and without strata, and the plain count against the independent NumPy counter.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pytest
from bench.signals.generate import FLAG_COLS, first_flags, generate_coded, write

from medreg.core.errors import ValidationFailed
from medreg.signals import assembly
from medreg.signals.assembly import assemble
from medreg.signals.counting import count_pairs
from tests.signals.refdata import count

NAMES = {"report_col": "report_id", "device_col": "device", "event_col": "event"}
STRATA = ("year", "sex", "age_band")


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """The same 10k generated reports as a plain CSV (repeated rows included), as Parquet with integer
    report ids, and as a flagged CSV (distinct rows plus the three flags)."""
    folder = tmp_path_factory.mktemp("paths")
    cols, planted, (rid, dv, ev) = generate_coded(10_000, signals=10, seed=7)
    plain = folder / "plain.csv"
    write(cols, planted, plain)
    keep, flags = first_flags(rid, dv, ev)
    flagged = folder / "flagged.csv"
    write({**{k: v[keep] for k, v in cols.items()}, **flags}, planted, flagged)
    ints = folder / "ints.parquet"
    duckdb.sql(f"COPY (SELECT CAST(substr(report_id, 2) AS BIGINT) AS report_id, * EXCLUDE (report_id) "
               f"FROM read_csv('{plain}', all_varchar = true)) TO '{ints}' (FORMAT parquet)")
    return {"plain": plain, "flagged": flagged, "ints": ints, "repeated_rows": int(rid.size - keep.size)}


def _same(a, b):
    for name in a.__dataclass_fields__:
        x, y = np.asarray(getattr(a, name)), np.asarray(getattr(b, name))
        assert x.shape == y.shape and np.array_equal(x, y), name


def test_the_generated_set_has_what_the_margins_must_handle(tables):
    assert tables["repeated_rows"] > 0  # a term drawn twice: repeated (report, device, event) rows
    _, _, (rid, dv, _) = generate_coded(10_000, signals=10, seed=7)
    two = np.unique(rid[np.r_[False, (rid[1:] == rid[:-1]) & (dv[1:] != dv[:-1])]])
    assert two.size > 500  # reports naming two devices: per-device margins differ from summed rows


@pytest.mark.parametrize("strata", [(), STRATA])
def test_integer_ids_count_as_text_ids(tables, strata):
    _same(count_pairs(tables["ints"], strata_cols=strata, **NAMES),
          count_pairs(tables["plain"], strata_cols=strata, **NAMES))


@pytest.mark.parametrize("strata", [(), STRATA])
def test_flagged_rows_count_as_the_plain_table(tables, strata):
    _same(count_pairs(tables["flagged"], strata_cols=strata, flag_cols=FLAG_COLS, **NAMES),
          count_pairs(tables["plain"], strata_cols=strata, **NAMES))


def test_plain_count_equals_the_numpy_counter(tables):
    import csv

    with tables["plain"].open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    got = count_pairs(tables["plain"], **NAMES)
    ref = count(rows, id_col="report_id", d_col="device", e_col="event")
    idx = {(got.devices[d], got.events[e]): i for i, (d, e) in enumerate(zip(got.pair_device, got.pair_event,
                                                                             strict=True))}
    order = np.array([idx[p] for p in ref.pairs])
    assert got.n_total == ref.n_total == 10_000 and got.n11.size == len(ref.pairs)
    assert np.array_equal(got.n11[order], ref.n11)
    assert np.array_equal(got.n_device[order], ref.n_device)
    assert np.array_equal(got.n_event[order], ref.n_event)


def test_flag_columns_are_checked(tables):
    with pytest.raises(ValidationFailed) as err:
        count_pairs(tables["flagged"], flag_cols=FLAG_COLS[:2], **NAMES)
    assert err.value.field == "flag-cols"
    with pytest.raises(ValidationFailed) as err:
        count_pairs(tables["plain"], flag_cols=FLAG_COLS, **NAMES)
    assert err.value.field == "flag-cols"


def test_score_command_with_flag_cols_writes_the_same_file(tables, tmp_path):
    from typer.testing import CliRunner

    from medreg.cli import app

    outs = []
    for path, extra in ((tables["plain"], []), (tables["flagged"], ["--flag-cols", ",".join(FLAG_COLS)])):
        out = tmp_path / f"{path.stem}.scores.csv"
        result = CliRunner().invoke(app, ["signals", "score", str(path), "--report-col", "report_id",
                                          "--device-col", "device", "--event-col", "event",
                                          "--strata-cols", "age_band", "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def _aggregate_rows(c) -> dict[str, np.ndarray]:
    """The aggregate rows (di, ei, si, n, g) that ``assemble`` turns into ``c``."""
    dev_pairs, first = np.unique(c.pair_device, return_index=True)
    evt_pairs, first_e = np.unique(c.pair_event, return_index=True)
    dm, em = np.nonzero(c.device_margin), np.nonzero(c.event_margin)
    none = np.full
    parts = [  # (di, ei, si, n, g)
        (c.pair_device[c.cell_pair], c.pair_event[c.cell_pair], c.cell_stratum, c.cell_n11, 0),
        (c.pair_device, c.pair_event, none(c.n11.size, -1), c.n11, 1),
        (dm[0], none(dm[0].size, -1), dm[1], c.device_margin[dm], 2),
        (none(em[0].size, -1), em[0], em[1], c.event_margin[em], 4),
        (none(c.strata.size, -1), none(c.strata.size, -1), np.arange(c.strata.size), c.stratum_total, 6),
        (dev_pairs, none(dev_pairs.size, -1), none(dev_pairs.size, -1), c.n_device[first], 3),
        (none(evt_pairs.size, -1), evt_pairs, none(evt_pairs.size, -1), c.n_event[first_e], 5),
        ([-1], [-1], [-1], [c.n_total], 7)]
    return {name: np.concatenate([np.asarray(part[i], dtype=np.int64) if i < 4 else
                                  np.full(len(part[0]), part[4]) for part in parts])
            for i, name in enumerate(("di", "ei", "si", "n", "g"))}


@pytest.mark.parametrize("one_key", [True, False])
def test_assemble_does_not_depend_on_the_order_of_the_rows(tables, monkeypatch, one_key):
    """Spark returns the aggregate rows in any order, DuckDB's ``_union`` sorted: the same counts, by the
    one-key sort or (tables too large for one int64 key) the two-key lexsort."""
    c = count_pairs(tables["plain"], strata_cols=STRATA, **NAMES)
    assert c.cell_n11.size > c.n11.size  # pairs in several strata
    rows = _aggregate_rows(c)
    _same(assemble(rows, c.devices, c.events, c.strata), c)
    if not one_key:
        monkeypatch.setattr(assembly, "ONE_KEY_LIMIT", 0)
    shuffled = np.random.default_rng(4).permutation(rows["g"].size)
    _same(assemble({k: v[shuffled] for k, v in rows.items()}, c.devices, c.events, c.strata), c)
