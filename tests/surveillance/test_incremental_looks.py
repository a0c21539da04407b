"""Incremental looks: a look adds the procedures whose window closed since the last look to the last
look's counts, and recounts from scratch when the registry changed in what was already counted. Either
way the look equals the computation over the whole stored group (the row reader)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from medreg.core.actor import Actor
from medreg.surveillance import cohort_load, service_followup, service_monitoring
from medreg.surveillance.cohort_load import load_cohort
from medreg.surveillance.models import Outcome, Procedure
from medreg.surveillance.monitoring import cumulative_counts, day_number, fit_reference_model
from tests.surveillance.test_cohort_load import WINDOW, _store


def _full(db, m, as_of: date):
    """The look computed from scratch over every stored procedure of the group."""
    full = load_cohort(db, m)
    model = fit_reference_model(full, day_number(m.reference_start), day_number(m.reference_end), WINDOW)
    c = cumulative_counts(full, model, day_number(m.reference_end), WINDOW, [day_number(as_of)])
    return c.procedures[0], c.observed[0], c.expected[0]


def _same(look, want):
    assert (look.procedures, look.observed) == want[:2]
    assert look.expected == pytest.approx(want[2], rel=1e-12)


@pytest.fixture
def reads(monkeypatch):
    """The ``after`` argument of every device-window read (None: from scratch)."""
    seen = []
    real = cohort_load.device_totals

    def spy(session, monitor, model, as_of, after=None):
        seen.append(after)
        return real(session, monitor, model, as_of, after)

    monkeypatch.setattr(service_monitoring, "device_totals", spy)
    return seen


def test_monthly_incremental_looks_equal_full_recounts(db, reads):
    m = _store(db, 1500, seed=11)
    days = [date(2025, 1, 1) + timedelta(days=30 * k) for k in range(1, 13)]
    for d in days:
        _same(service_monitoring.run_monitor(db, Actor.system(), m, d), _full(db, m, d))
    assert reads == [None, *days[:-1]]  # the first look from scratch, then only what each adds


def _counted_device_procedure(db, m, before: date) -> Procedure:
    """A procedure of the monitored device counted by a look at ``before``, without the outcome."""
    with_outcome = select(Outcome.procedure_id).where(Outcome.kind == m.outcome)
    return db.scalars(
        select(Procedure).where(
            Procedure.udi_di == m.udi_di, Procedure.device_group == m.device_group,
            Procedure.procedure_date > m.reference_end,
            Procedure.procedure_date <= before - timedelta(days=WINDOW),
            Procedure.follow_up_end >= Procedure.procedure_date + timedelta(days=WINDOW),
            Procedure.id.not_in(with_outcome),
        ).order_by(Procedure.id)
    ).first()


def test_a_follow_up_in_the_counted_range_makes_the_next_look_recount(db, reads):
    m = _store(db, 1500, seed=7)
    first = service_monitoring.run_monitor(db, Actor.system(), m, date(2025, 5, 1))
    proc = _counted_device_procedure(db, m, date(2025, 5, 1))
    assert proc is not None and m.changed_from is None
    # an outcome within the window, reported late for a procedure the first look already counted
    service_followup.record_follow_up(db, Actor.system(), proc.id, today=date(2025, 6, 1),
                                      outcome=m.outcome, event_date=proc.procedure_date + timedelta(days=5))
    assert m.changed_from == proc.procedure_date
    second = service_monitoring.run_monitor(db, Actor.system(), m, date(2025, 6, 1))
    assert reads == [None, None]  # recounted from scratch
    assert m.changed_from is None
    want = _full(db, m, date(2025, 6, 1))
    _same(second, want)
    # the incremental sum would have missed the late outcome: the recount has one more than that
    incremental = first.observed + cumulative_counts(
        cohort_load.load_device_window(db, m, date(2025, 6, 1), after=date(2025, 5, 1)),
        service_monitoring._model(db, Actor.system(), m), day_number(m.reference_end), WINDOW,
        [day_number(date(2025, 6, 1))]).observed[0]
    assert second.observed == incremental + 1


def test_a_backdated_import_row_makes_the_next_look_recount(db, reads):
    m = _store(db, 1500, seed=11)
    service_monitoring.run_monitor(db, Actor.system(), m, date(2025, 5, 1))
    proc = _counted_device_procedure(db, m, date(2025, 5, 1))
    late = Procedure(**{c: getattr(proc, c) for c in (
        "hospital_id", "device_group", "udi_raw", "udi_di", "age", "sex", "diabetes", "renal_failure",
        "prior_mi", "ejection_fraction", "follow_up_end", "procedure_date")}, patient_pseudonym="LATE-1")
    db.add(late)
    db.flush()
    db.add(Outcome(procedure_id=late.id, kind=m.outcome, event_date=late.procedure_date + timedelta(days=3)))
    service_monitoring.registry_changed(db, {(late.device_group, late.udi_di): late.procedure_date})
    look = service_monitoring.run_monitor(db, Actor.system(), m, date(2025, 6, 1))
    assert reads == [None, None]
    _same(look, _full(db, m, date(2025, 6, 1)))


def test_a_change_not_yet_counted_keeps_the_look_incremental(db, reads):
    m = _store(db, 1000, seed=3)
    service_monitoring.run_monitor(db, Actor.system(), m, date(2025, 5, 1))
    # a procedure whose window is still open at the last look: the next look reads it anyway
    service_monitoring.registry_changed(db, {(m.device_group, m.udi_di): date(2025, 3, 15)})
    service_monitoring.registry_changed(db, {("tavr_valve", m.udi_di): date(2024, 1, 1)})  # other group
    assert m.changed_from == date(2025, 3, 15)
    look = service_monitoring.run_monitor(db, Actor.system(), m, date(2025, 6, 1))
    assert reads == [None, date(2025, 5, 1)]
    _same(look, _full(db, m, date(2025, 6, 1)))
