"""DELTA monitors on the made-up demo registry: the planted stent D raises an alert (an alert case
opens, the monitor stops), stent A (in control) does not; each run appends one look, idempotent per
look date; the look's numbers equal an independent computation (statsmodels logistic fit, matching
and the paired risk difference written out here); bad designs are refused naming the field."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.stats import norm
from sqlalchemy import select

from medreg.core.actor import Actor
from medreg.core.audit import AuditEvent
from medreg.core.errors import Conflict, ValidationFailed
from medreg.surveillance import service_monitoring
from medreg.surveillance.cohort_load import load_group_window
from medreg.surveillance.demo import DEVICES, PLANTED_DI
from medreg.surveillance.demo_load import load_registry
from medreg.surveillance.models import AlertCase, Look
from medreg.surveillance.monitoring import evaluable_outcomes

STENT_A = DEVICES[0][1]
LOOKS = (date(2025, 9, 1), date(2025, 12, 1), date(2026, 3, 1), date(2026, 6, 30))


def delta_monitor(db, actor, di, **design):
    return service_monitoring.create_monitor(
        db, actor, name=f"DELTA {di}", device_group="coronary_stent", udi_di=di,
        outcome="target_lesion_failure", window_days=180, reference_start=date(2024, 1, 1),
        reference_end=date(2024, 12, 31), kind="delta", **design)


@pytest.fixture
def registry(db):
    actor = Actor.system()
    load_registry(db, actor, seed=2025, n_procedures=3000)
    return actor


def _independent(db, monitor, as_of: date, alpha: float):
    """The look written out again: logistic propensity (statsmodels, all six risk factors), greedy 1:1
    nearest neighbour on the logit within 0.2 SD (largest score first), paired differences."""
    cohort = load_group_window(db, monitor, as_of)
    evaluable, within = evaluable_outcomes(cohort, monitor.window_days)
    sel = evaluable & (cohort.day + monitor.window_days <= as_of.toordinal())
    x, t, y = cohort.covariates[sel], cohort.is_device[sel], within[sel].astype(float)
    fit = sm.Logit(t.astype(float), sm.add_constant(x)).fit(disp=0)
    lg = np.log(fit.predict() / (1 - fit.predict()))
    caliper = 0.2 * lg.std(ddof=1)
    free = set(np.flatnonzero(~t).tolist())
    pairs = []
    for i in sorted(np.flatnonzero(t), key=lambda i: -lg[i]):
        best = min(free, key=lambda j: (abs(lg[j] - lg[i]), j), default=None)
        if best is not None and abs(lg[best] - lg[i]) <= caliper:
            free.remove(best)
            pairs.append((i, best))
    d = np.array([y[i] - y[j] for i, j in pairs])
    se = d.std(ddof=1) / np.sqrt(len(d))
    z = norm.ppf(1 - alpha / 2)
    return len(pairs), d.mean(), d.mean() - z * se, d.mean() + z * se


def test_planted_device_alerts_and_null_device_does_not(db, registry):
    actor = registry
    planted = delta_monitor(db, actor, PLANTED_DI, delta_min_pairs=50)
    null = delta_monitor(db, actor, STENT_A, delta_min_pairs=50)
    assert planted.kind == "delta" and planted.critical_value == pytest.approx(norm.ppf(0.975))
    for day in LOOKS:
        for m in (planted, null):
            if m.status == "active":
                service_monitoring.run_monitor(db, actor, m, day)
    assert planted.status == "signalled" and null.status == "active"
    looks = db.scalars(select(Look).where(Look.monitor_id == planted.id).order_by(Look.look_no)).all()
    last = looks[-1]
    assert last.signal and last.rd_lower > 0 and last.pairs >= 50
    assert 0 <= last.max_abs_smd < 0.2  # stored; about 0.1 here (Austin 2009: < 0.1 negligible)
    n, rd, lower, upper = _independent(db, planted, last.as_of, 0.05)
    assert (last.pairs, last.risk_difference, last.rd_lower, last.rd_upper) == (
        n, pytest.approx(rd, abs=1e-12), pytest.approx(lower, abs=1e-12), pytest.approx(upper, abs=1e-12))
    alert = db.scalars(select(AlertCase).where(AlertCase.monitor_id == planted.id)).one()
    assert alert.look_id == last.id and "risk difference" in alert.summary
    null_looks = db.scalars(select(Look).where(Look.monitor_id == null.id)).all()
    assert len(null_looks) == len(LOOKS) and not any(lk.signal for lk in null_looks)
    assert all(lk.rd_lower <= 0 for lk in null_looks)
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "surveillance.look",
                                                 AuditEvent.entity_id == str(null.id))).all()
    assert len(events) == len(LOOKS)
    with pytest.raises(Conflict):  # idempotent per look date: the same date again is refused
        service_monitoring.run_monitor(db, actor, null, LOOKS[-1])
    with pytest.raises(Conflict):  # a signalled monitor takes no further look
        service_monitoring.run_monitor(db, actor, planted, date(2026, 7, 1))


@pytest.mark.parametrize(("design", "field"), [
    ({"delta_margin": -0.1}, "delta_margin"), ({"delta_margin": 0.6}, "delta_margin"),
    ({"delta_min_pairs": 1}, "delta_min_pairs"), ({"delta_caliper": 0}, "delta_caliper"),
    ({"delta_caliper": 1.5}, "delta_caliper"), ({"planned_looks": 4}, "planned_looks"),
    ({"look_at": [0.5, 1]}, "look_at"),
])
def test_bad_delta_design_names_the_field(db, design, field):
    with pytest.raises(ValidationFailed) as exc:
        delta_monitor(db, Actor.system(), PLANTED_DI, **design)
    assert exc.value.field == field


def test_unknown_kind_is_refused(db):
    with pytest.raises(ValidationFailed) as exc:
        service_monitoring.create_monitor(
            db, Actor.system(), name="x", device_group="coronary_stent", udi_di=PLANTED_DI,
            outcome="target_lesion_failure", window_days=180, reference_start=date(2024, 1, 1),
            reference_end=date(2024, 12, 31), kind="cusum")
    assert exc.value.field == "kind"


def test_matched_binomial_maxsprt_monitor(db, registry):
    """Kind ``maxsprt_binomial``: stent D (planted) signals, stent A does not; the look's LLR is the
    binomial MaxSPRT's of its cases among events; the CV is ``binomial_critical_value``'s (checked in
    test_maxsprt_binomial against R ``Sequential``); sets are nested (counts never decrease)."""
    from medreg.surveillance.maxsprt_binomial import binomial_critical_value, binomial_llr

    actor = registry
    common = dict(device_group="coronary_stent", outcome="target_lesion_failure", window_days=180,
                  reference_start=date(2024, 1, 1), reference_end=date(2024, 12, 31),
                  kind="maxsprt_binomial", binomial_z=2, sample_size=150, min_events=4)
    planted = service_monitoring.create_monitor(db, actor, name="D", udi_di=PLANTED_DI, **common)
    null = service_monitoring.create_monitor(db, actor, name="A", udi_di=STENT_A, **common)
    assert planted.critical_value == binomial_critical_value(150, 2.0, 0.05, min_events=4).critical_value
    for day in LOOKS:
        for m in (planted, null):
            if m.status == "active":
                service_monitoring.run_monitor(db, actor, m, day)
    assert planted.status == "signalled" and null.status in ("active", "ended")
    for m in (planted, null):
        looks = db.scalars(select(Look).where(Look.monitor_id == m.id).order_by(Look.look_no)).all()
        assert all(b.observed >= a.observed and b.expected >= a.expected and b.pairs >= a.pairs
                   for a, b in zip(looks, looks[1:], strict=False))
        for lk in looks:
            want = float(binomial_llr(lk.observed, lk.expected, 2.0)) if lk.expected else 0.0
            assert lk.llr == pytest.approx(want)
    with pytest.raises(ValidationFailed) as exc:
        service_monitoring.create_monitor(db, actor, name="x", udi_di=STENT_A, **{**common, "binomial_z": 0})
    assert exc.value.field == "binomial_z"
    with pytest.raises(ValidationFailed) as exc:
        service_monitoring.create_monitor(db, actor, name="x", udi_di=STENT_A,
                                          **{**common, "sample_size": 10.5})
    assert exc.value.field == "sample_size"
