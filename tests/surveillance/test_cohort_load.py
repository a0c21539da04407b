"""The columnar readers give the same cohort slices and the same risk model as the row-by-row reader
on the same stored registry, and a look (the database's sums, ``device_totals``) the same counts
(exact) and expected events (to 1e-12: the same terms summed in another order)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import insert

from medreg.core.accounts import OrgKind
from medreg.core.actor import Actor
from medreg.surveillance import service_monitoring
from medreg.surveillance.cohort_load import device_totals, load_cohort, load_device_window, load_reference
from medreg.surveillance.demo import DEVICES
from medreg.surveillance.models import Monitor, Outcome, Procedure, SentinelHospital
from medreg.surveillance.monitoring import cumulative_counts, day_number, fit_reference_model
from tests.factories import make_org

START = date(2024, 1, 1)
WINDOW = 90


def _store(db, n: int, seed: int) -> Monitor:
    """A made-up registry: n stents (device 20 %), a few valves (other group), outcomes of two kinds."""
    rng = np.random.default_rng(seed)
    org = make_org(db, OrgKind.HOSPITAL)
    hosp = SentinelHospital(organisation_id=org.id, code=f"T{org.id}", device_groups=["coronary_stent"],
                            enrolled_on=START)
    db.add(hosp)
    db.flush()
    dev, other = DEVICES[3][1], DEVICES[0][1]
    rows, outcomes = [], []
    for i in range(n):
        day = START + timedelta(days=int(rng.integers(0, 700)))
        group = "tavr_valve" if i % 50 == 0 else "coronary_stent"
        rows.append(dict(
            hospital_id=hosp.id, patient_pseudonym=f"P{seed}-{i}", procedure_date=day, device_group=group,
            udi_raw="-", udi_di=dev if rng.random() < 0.2 else other, age=int(rng.integers(40, 90)),
            sex="M" if rng.random() < 0.65 else "F", diabetes=bool(rng.random() < 0.3),
            renal_failure=bool(rng.random() < 0.1), prior_mi=bool(rng.random() < 0.25),
            ejection_fraction=None if rng.random() < 0.1 else float(rng.integers(20, 75)),
            follow_up_end=day + timedelta(days=int(rng.integers(20, 400)))))
    db.execute(insert(Procedure), rows)
    ids = sorted(db.scalars(Procedure.__table__.select().with_only_columns(Procedure.id)
                            .where(Procedure.hospital_id == hosp.id)).all())
    for pid, r in zip(ids, rows, strict=True):
        for kind, p in (("target_lesion_failure", 0.12), ("death", 0.05)):
            if rng.random() < p:
                outcomes.append(dict(procedure_id=pid, kind=kind,
                                     event_date=r["procedure_date"]
                                     + timedelta(days=int(rng.integers(1, 200)))))
    db.execute(insert(Outcome), outcomes)
    m = Monitor(name="t", device_group="coronary_stent", udi_di=dev, outcome="target_lesion_failure",
                window_days=WINDOW, reference_start=START, reference_end=date(2024, 9, 30), alpha=0.05,
                sample_size=1e9, min_events=4, critical_value=1e9)
    db.add(m)
    db.flush()
    return m


def _same(a, b):
    for name in ("day", "is_device", "covariates", "outcome_day", "followed_to"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_columnar_slices_equal_the_row_reader(db):
    m = _store(db, 1500, seed=7)
    full = load_cohort(db, m)
    ref = load_reference(db, m)
    sel = ((~full.is_device) & (full.day >= day_number(m.reference_start))
           & (full.day <= day_number(m.reference_end)))
    _same(ref, type(full)(full.day[sel], full.is_device[sel], full.covariates[sel], full.outcome_day[sel],
                          full.followed_to[sel]))
    assert np.isnan(full.covariates[:, 5]).sum() == 0 and len(ref.day) > 100
    as_of = date(2025, 6, 1)
    win = load_device_window(db, m, as_of)
    sel = (full.is_device & (full.day > day_number(m.reference_end))
           & (full.day + WINDOW <= day_number(as_of)))
    _same(win, type(full)(full.day[sel], full.is_device[sel], full.covariates[sel], full.outcome_day[sel],
                          full.followed_to[sel]))


def test_look_through_the_database_equals_the_full_cohort_computation(db):
    m = _store(db, 1500, seed=11)
    full = load_cohort(db, m)
    ref_end = day_number(m.reference_end)
    model = fit_reference_model(full, day_number(m.reference_start), ref_end, WINDOW)
    looks = [date(2025, 3, 1), date(2025, 7, 1)]
    want = cumulative_counts(full, model, ref_end, WINDOW, [day_number(d) for d in looks])
    got = [service_monitoring.run_monitor(db, Actor.system(), m, d) for d in looks]
    assert m.risk_model["coefficients"] == list(model.coefficients)
    assert [lk.procedures for lk in got] == list(want.procedures)
    assert [lk.observed for lk in got] == list(want.observed)
    # the database sums the logistic risks (device_totals): same terms, another order and exp()
    assert got[0].expected == pytest.approx(want.expected[0], rel=1e-12)
    assert got[1].expected == pytest.approx(want.expected[1], rel=1e-12)
    assert want.observed[-1] > 0


def test_device_totals_equal_the_numpy_counts_on_every_edge(db):
    """The SQL sums (evaluability, risk) equal ``cumulative_counts`` over the row reader's cohort,
    also for outcomes on the last day of the window, follow-up ending on it, and missing EF."""
    m = _store(db, 1200, seed=5)
    edge = db.scalars(Procedure.__table__.select().with_only_columns(Procedure.id)
                      .where(Procedure.udi_di == m.udi_di, Procedure.procedure_date > date(2024, 10, 31))
                      .order_by(Procedure.id).limit(3)).all()
    p0, p1, p2 = (db.get(Procedure, i) for i in edge)
    db.query(Outcome).filter(Outcome.procedure_id.in_(edge)).delete()
    db.add(Outcome(procedure_id=p0.id, kind=m.outcome, event_date=p0.procedure_date + timedelta(WINDOW)))
    db.add(Outcome(procedure_id=p1.id, kind=m.outcome, event_date=p1.procedure_date + timedelta(WINDOW + 1)))
    p1.follow_up_end = p1.procedure_date + timedelta(WINDOW + 5)
    p2.follow_up_end, p2.ejection_fraction = p2.procedure_date + timedelta(WINDOW), None
    db.flush()
    full = load_cohort(db, m)
    ref_end = day_number(m.reference_end)
    model = fit_reference_model(full, day_number(m.reference_start), ref_end, WINDOW)
    for as_of, after in ((date(2025, 6, 1), None), (date(2025, 9, 1), date(2025, 6, 1)),
                         (date(2024, 11, 1), None)):
        got = device_totals(db, m, model, as_of, after)
        want = cumulative_counts(full, model, ref_end, WINDOW, [day_number(as_of)])
        if after is not None:
            before = cumulative_counts(full, model, ref_end, WINDOW, [day_number(after)])
            want = type(want)(want.as_of, (want.procedures[0] - before.procedures[0],),
                              (want.observed[0] - before.observed[0],),
                              (want.expected[0] - before.expected[0],))
        assert got[:2] == (want.procedures[0], want.observed[0])
        assert got[2] == pytest.approx(want.expected[0], rel=1e-11, abs=1e-12)
