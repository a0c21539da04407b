"""Group-sequential matched binomial MaxSPRT monitors (kind ``maxsprt_binomial`` with planned looks) on
the made-up demo registry: the design's critical value is the group design's (``CV.G.Binomial`` of R
``Sequential``, checked in test_maxsprt_binomial), the plan is in whole events, and each monthly look
stores the critical value re-spent at its actual number of events. The stored thresholds, target
and spent alpha equal ``binomial_spending_looks`` on the stored event counts, and the spent alpha
equals an enumeration of the cases written here (scipy's binomial pmf and dictionaries, not the
module's chain) within 1e-12; the signal is "cases >= events to signal"; bad plans name the field."""

from __future__ import annotations

from datetime import date

import pytest
from scipy.stats import binom
from sqlalchemy import select

from medreg.core.actor import Actor
from medreg.core.audit import AuditEvent
from medreg.core.errors import ValidationFailed
from medreg.surveillance import service_monitoring
from medreg.surveillance.demo import DEVICES, PLANTED_DI
from medreg.surveillance.demo_load import load_registry
from medreg.surveillance.maxsprt_binomial import binomial_critical_value, binomial_llr
from medreg.surveillance.maxsprt_spending import binomial_spending_looks
from medreg.surveillance.models import Look
from medreg.surveillance.service_binomial import MAX_EVENTS, binomial_design

STENT_A = DEVICES[0][1]
MONTHS = ([date(2025, m, 1) for m in range(7, 13)] + [date(2026, m, 1) for m in range(1, 7)]
          + [date(2026, 6, 30)])
COMMON = dict(device_group="coronary_stent", outcome="target_lesion_failure", window_days=180,
              reference_start=date(2024, 1, 1), reference_end=date(2024, 12, 31),
              kind="maxsprt_binomial", binomial_z=2, sample_size=150, min_events=4)


@pytest.fixture
def registry(db):
    actor = Actor.system()
    load_registry(db, actor, seed=2025, n_procedures=3000)
    return actor


def _enumerate(events, thresholds, z: float) -> list[float]:
    """Cumulative P(cases >= threshold at some look so far | H0), enumerating the cases per look."""
    alive, spent, out, before = {0: 1.0}, 0.0, [], 0
    for n, c_min in zip(events, thresholds, strict=True):
        step, before = n - before, n
        nxt: dict[int, float] = {}
        for c, p in alive.items():
            for k in range(step + 1):
                nxt[c + k] = nxt.get(c + k, 0.0) + p * binom.pmf(k, step, 1 / (1 + z))
        spent += sum(p for c, p in nxt.items() if c >= c_min)
        alive = {c: p for c, p in nxt.items() if c < c_min}
        out.append(spent)
    return out


def test_group_binomial_monitor_respends_alpha_at_its_actual_looks(db, registry):
    actor = registry
    planted = service_monitoring.create_monitor(db, actor, name="D", udi_di=PLANTED_DI,
                                                look_at=[0.25, 0.5, 1], **COMMON)
    null = service_monitoring.create_monitor(db, actor, name="A", udi_di=STENT_A, planned_looks=3, **COMMON)
    assert planted.look_plan == [38.0, 75.0, 150.0] and planted.planned_looks == 3  # 37.5 rounds half up
    assert null.look_plan == [50.0, 100.0, 150.0]
    assert planted.critical_value == binomial_critical_value(150, 2.0, 0.05, min_events=4,
                                                             looks=[38, 37, 75]).critical_value
    assert null.critical_value == binomial_critical_value(150, 2.0, 0.05, min_events=4,
                                                          looks=50).critical_value
    for day in MONTHS:
        for m in (planted, null):
            if m.status == "active":
                service_monitoring.run_monitor(db, actor, m, day)
    assert planted.status == "signalled" and null.status in ("active", "ended")
    # stent D signals at the look of 2026-03-01 (13 cases of 21 events), as the continuous monitor does
    for m in (planted, null):
        looks = db.scalars(select(Look).where(Look.monitor_id == m.id).order_by(Look.look_no)).all()
        counted = [lk for lk in looks if lk.expected > 0]
        assert len(counted) >= 3
        want = binomial_spending_looks(m.critical_value, [int(x) for x in m.look_plan],
                                       [int(lk.expected) for lk in counted], 2.0, min_events=4)
        for lk, w in zip(counted, want, strict=False):  # the H0 sequence goes on past a signal
            assert (lk.events_to_signal, lk.critical_value) == (w.events_to_signal, w.critical_value)
            assert (lk.alpha_target, lk.alpha_spent) == pytest.approx((w.target, w.spent), abs=1e-15)
            assert lk.signal == (lk.observed >= lk.events_to_signal)
            assert lk.llr == pytest.approx(float(binomial_llr(lk.observed, lk.expected, 2.0)))
            assert lk.events_to_signal >= 4 and lk.alpha_spent <= lk.alpha_target + 1e-12
            # the look's CV on the LLR scale decides as its count does
            if lk.events_to_signal <= lk.expected:
                assert float(binomial_llr(lk.events_to_signal, lk.expected, 2.0)) >= lk.critical_value - 1e-12
            if lk.events_to_signal - 1 >= 4:
                assert float(binomial_llr(lk.events_to_signal - 1, lk.expected, 2.0)) < lk.critical_value
        exact = _enumerate([int(lk.expected) for lk in counted], [lk.events_to_signal for lk in counted], 2.0)
        assert [lk.alpha_spent for lk in counted] == pytest.approx(exact, abs=1e-12)
        assert all(lk.events_to_signal is None for lk in looks if lk.expected == 0)
    signal = db.scalars(select(Look).where(Look.monitor_id == planted.id, Look.signal)).one()
    assert (signal.as_of, signal.observed, signal.expected) == (date(2026, 3, 1), 13.0, 21.0)
    assert signal.alpha_spent <= 0.05
    audited = db.scalars(select(AuditEvent).where(AuditEvent.action == "surveillance.look",
                                                  AuditEvent.entity_id == str(planted.id))
                         .order_by(AuditEvent.id)).all()
    assert audited[-1].after["alpha_spent"] == pytest.approx(signal.alpha_spent)
    created = db.scalars(select(AuditEvent).where(AuditEvent.action == "surveillance.monitor.create")
                         .order_by(AuditEvent.id)).first()
    assert created.after["look_plan"] == [38.0, 75.0, 150.0]


def test_looks_on_the_plan_keep_the_design():
    """When the actual looks are the planned ones, the looks' critical values are the design's (the
    rule of the monitor is then exactly CV.G.Binomial's); a look where no count may signal gets a
    finite critical value above every attainable LLR."""
    design = binomial_design(0.05, 150, 4, 2, None, [0.25, 0.5, 1])
    looks = binomial_spending_looks(design["critical_value"], [38, 75, 150], [38, 75, 150], 2.0, min_events=4)
    assert [lk.critical_value for lk in looks] == [design["critical_value"]] * 3
    early = binomial_spending_looks(design["critical_value"], [38, 75, 150], [4], 2.0, min_events=4)[0]
    assert early.events_to_signal == 5  # P(4 of 4 cases) = 1/81 exceeds the alpha of 4/38 of the plan
    assert early.critical_value > float(binomial_llr(4, 4, 2.0)) and early.critical_value < 1e3


@pytest.mark.parametrize(("design", "field"), [
    ({"sample_size": MAX_EVENTS + 1}, "sample_size"),
    ({"sample_size": 10.5}, "sample_size"),
    ({"planned_looks": 121}, "planned_looks"),
    ({"sample_size": 20, "planned_looks": 30}, "planned_looks"),  # 30 looks cannot fall on 20 events
    ({"sample_size": 20, "look_at": [0.5, 0.52, 1]}, "look_at"),  # 10 and 10.4 both round to 10
    ({"look_at": [0.5, 0.4, 1]}, "look_at"),
    ({"planned_looks": 2, "look_at": [0.5, 1]}, "look_at"),
])
def test_bad_binomial_plans_name_the_field(design, field):
    args = {"alpha": 0.05, "sample_size": 150, "min_events": 4, "z": 2, "planned_looks": None,
            "look_at": None, **design}
    with pytest.raises(ValidationFailed) as exc:
        binomial_design(**args)
    assert exc.value.field == field


@pytest.mark.parametrize(("design", "limit"), [
    ({"sample_size": 1001}, 1000),  # continuous Poisson: exact CV O(T^2)
    ({"sample_size": 100_001, "planned_looks": 4}, 100_000),  # group Poisson: pruned chain
    ({"sample_size": 2001, "kind": "maxsprt_binomial", "look_at": [0.5, 1]}, 2000),  # binomial N
])
def test_the_api_limits_t_by_kind(design, limit):
    from pydantic import ValidationError

    from medreg.surveillance.schemas import MonitorCreate

    base = {"name": "m", "device_group": "coronary_stent", "udi_di": PLANTED_DI,
            "outcome": "target_lesion_failure", "window_days": 180, "reference_start": "2024-01-01",
            "reference_end": "2024-12-31"}
    with pytest.raises(ValidationError) as exc:
        MonitorCreate(**base, **design)
    err = exc.value.errors()[0]
    assert (err["loc"], err["type"], err["ctx"]["le"]) == (("sample_size",), "less_than_equal", limit)
    assert MonitorCreate(**base, **{**design, "sample_size": limit}).sample_size == limit
