"""DELTA monitors with overall alpha spending across looks (``group_sequential``) on the made-up demo
registry: each look stores its information fraction (pairs / planned pairs), the Lan-DeMets boundary
and nominal alpha, the cumulative alpha, and the repeated confidence interval RD +/- c_k SE; the
planted stent D alerts once (one alert case), stent A ends at the planned pairs with all the alpha
spent; a look with too few pairs spends nothing; planned pairs alone end a per-look-alpha monitor;
bad spending designs are refused naming the field."""

from __future__ import annotations

from datetime import date

import pytest
from scipy.stats import norm
from sqlalchemy import select

from medreg.core.actor import Actor
from medreg.core.audit import AuditEvent
from medreg.core.errors import Conflict, ValidationFailed
from medreg.surveillance import service_monitoring
from medreg.surveillance.demo import PLANTED_DI
from medreg.surveillance.demo_load import load_registry
from medreg.surveillance.group_sequential import boundaries, spending_function
from medreg.surveillance.models import AlertCase, Look
from medreg.surveillance.service_delta import delta_rule
from tests.surveillance.test_delta_monitor import STENT_A, _independent, delta_monitor

DAYS = (date(2025, 6, 1), date(2025, 9, 1), date(2025, 12, 1), date(2026, 3, 1), date(2026, 6, 30))


@pytest.fixture
def registry(db):
    actor = Actor.system()
    load_registry(db, actor, seed=2025, n_procedures=3000)
    return actor


def _run(db, actor, monitor):
    for day in DAYS:
        if monitor.status == "active":
            service_monitoring.run_monitor(db, actor, monitor, day)
    return db.scalars(select(Look).where(Look.monitor_id == monitor.id).order_by(Look.look_no)).all()


def test_planted_device_alerts_once_at_the_spent_boundary(db, registry):
    actor = registry
    m = delta_monitor(db, actor, PLANTED_DI, delta_min_pairs=20, delta_spending="pocock",
                      delta_planned_pairs=150, alpha=0.025)
    assert m.delta_spending == "pocock" and m.critical_value == pytest.approx(norm.isf(0.025))
    assert "repeated confidence interval" in delta_rule(m) and "150 planned pairs" in delta_rule(m)
    looks = _run(db, actor, m)
    assert m.status == "signalled"
    first = looks[0]  # no pair yet: not analysed, nothing spent, no interval, no alert
    assert first.pairs == 0 and first.nominal_alpha is None and first.alpha_spent == 0
    assert first.rd_lower is None
    analysed = [lk for lk in looks if lk.nominal_alpha is not None]
    # the stored boundaries are those of the pure recursion at the stored information fractions
    want = boundaries([lk.info_fraction for lk in analysed], 0.025, "pocock")
    for lk, b in zip(analysed, want, strict=True):
        assert lk.info_fraction == lk.pairs / 150
        assert (lk.critical_value, lk.nominal_alpha, lk.alpha_spent) == (
            pytest.approx(b.critical_value, abs=1e-12), pytest.approx(b.nominal_alpha, rel=1e-9),
            pytest.approx(b.alpha_spent, rel=1e-9))
        assert lk.alpha_target == pytest.approx(spending_function("pocock", 0.025, lk.info_fraction))
    last = looks[-1]
    assert last.signal and [lk.signal for lk in looks].count(True) == 1
    # the repeated CI equals an independent computation at z = c_k (two-sided level 2 (1 - Phi(c_k)))
    n, rd, lower, upper = _independent(db, m, last.as_of, 2 * norm.sf(last.critical_value))
    assert (last.pairs, last.risk_difference, last.rd_lower, last.rd_upper) == (
        n, pytest.approx(rd, abs=1e-12), pytest.approx(lower, abs=1e-12), pytest.approx(upper, abs=1e-12))
    assert last.rd_lower > 0 and all(lk.rd_lower is None or lk.rd_lower <= 0 for lk in looks[:-1])
    alert = db.scalars(select(AlertCase).where(AlertCase.monitor_id == m.id)).one()
    assert alert.look_id == last.id and "repeated CI at boundary" in alert.summary
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "surveillance.look",
                                                 AuditEvent.entity_id == str(m.id))
                        .order_by(AuditEvent.id)).all()
    assert len(events) == len(looks)
    assert events[-1].after["nominal_alpha"] == pytest.approx(last.nominal_alpha)
    with pytest.raises(Conflict):  # signalled: no further look, no second alert
        service_monitoring.run_monitor(db, actor, m, date(2026, 7, 1))
    assert db.scalars(select(AlertCase).where(AlertCase.monitor_id == m.id)).all() == [alert]


def test_null_device_ends_at_the_planned_pairs_with_all_alpha_spent(db, registry):
    """Stent A: the look past the planned 200 pairs (information > 1) spends all the alpha left and
    ends the monitor; the O'Brien-Fleming boundaries fall from look to look."""
    actor = registry
    m = delta_monitor(db, actor, STENT_A, delta_min_pairs=20, delta_spending="obf", delta_planned_pairs=200,
                      alpha=0.025)
    looks = _run(db, actor, m)
    assert m.status == "ended" and not any(lk.signal for lk in looks)
    last = looks[-1]
    assert last.info_fraction > 1 and last.alpha_spent == pytest.approx(0.025, rel=1e-9)
    assert last.alpha_target == 0.025
    analysed = [lk for lk in looks if lk.nominal_alpha is not None]
    assert len(analysed) >= 3
    assert all(a.critical_value > b.critical_value for a, b in zip(analysed, analysed[1:], strict=False))
    n, rd, lower, upper = _independent(db, m, last.as_of, 2 * norm.sf(last.critical_value))
    assert last.rd_lower == pytest.approx(lower, abs=1e-12)
    assert last.rd_upper == pytest.approx(upper, abs=1e-12)
    with pytest.raises(Conflict):
        service_monitoring.run_monitor(db, actor, m, date(2026, 7, 1))


def test_planned_pairs_without_spending_end_a_per_look_monitor(db, registry):
    """Spending None keeps the per-look two-sided interval; the planned pairs only end the monitor."""
    actor = registry
    m = delta_monitor(db, actor, STENT_A, delta_min_pairs=20, delta_planned_pairs=100)
    looks = _run(db, actor, m)
    assert m.status == "ended" and looks[-1].pairs >= 100 and all(lk.pairs < 100 for lk in looks[:-1])
    z = norm.ppf(0.975)
    for lk in looks:
        assert lk.nominal_alpha is None and lk.critical_value == pytest.approx(z)
        if lk.pairs:
            assert lk.info_fraction == lk.pairs / 100
    n, rd, lower, upper = _independent(db, m, looks[-1].as_of, 0.05)
    assert looks[-1].rd_lower == pytest.approx(lower, abs=1e-12)
    assert "ends at 100 matched pairs" in delta_rule(m)


@pytest.mark.parametrize(("design", "field"), [
    ({"delta_spending": "obf"}, "delta_planned_pairs"),
    ({"delta_spending": "obf", "delta_planned_pairs": 10, "delta_min_pairs": 20}, "delta_planned_pairs"),
    ({"delta_spending": "obf", "delta_planned_pairs": 100, "alpha": 0.5}, "alpha"),
    ({"delta_spending": "hsd", "delta_planned_pairs": 100, "delta_hsd_gamma": 41}, "delta_hsd_gamma"),
    ({"delta_spending": "linear", "delta_planned_pairs": 100}, "delta_spending"),
])
def test_bad_spending_design_names_the_field(db, design, field):
    with pytest.raises(ValidationFailed) as exc:
        delta_monitor(db, Actor.system(), PLANTED_DI, **design)
    assert exc.value.field == field
