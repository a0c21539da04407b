"""The risk-adjusted CUSUM as a monitored result (service_cusum, surveillance_0006).

Pure: the control limit h over a fixed horizon is reproducible from its seed, never increases with the
false-alarm probability, holds its false-alarm probability (exactly enumerated for a constant risk;
fresh simulations with another seed otherwise), and a CUSUM carried on from a look equals the CUSUM of
the whole sequence. Monitors: h is simulated once and stored; each look stores the CUSUM state; an
incremental run equals a full recount; a crossing opens exactly one alert case and one signal case
(re-runs add none), leaves the monitor active, is audited and seen only by the device's registrant.

No published value is reproduced: Steiner et al. (2000) chose h = 4.5 for R_A = 2 by run lengths on
their cardiac surgery data (not available here), not by a false-alarm probability over a horizon.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import insert, select

from medreg.core import audit
from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.signals import bridge  # noqa: F401  (subscribes the signal case handler)
from medreg.signals.models import SignalCase, SignalStat
from medreg.surveillance import queries, service_cusum, service_monitoring
from medreg.surveillance.cohort_load import load_cohort
from medreg.surveillance.cusum import continue_cusum, cusum_horizon_limit, cusum_weights, risk_adjusted_cusum
from medreg.surveillance.models import AlertCase, Look, Monitor, Outcome, Procedure
from medreg.surveillance.monitoring import evaluable_outcomes
from tests.factories import actor_for, make_org, make_user
from tests.surveillance.test_cohort_load import WINDOW, _store
from tests.web.conftest import login

RISKS = np.random.default_rng(7).uniform(0.02, 0.2, 400)


# --- the control limit over a fixed horizon (pure) ---------------------------------------------------

def test_h_is_reproducible_with_its_seed_and_stated_with_its_horizon():
    a = cusum_horizon_limit(RISKS, 10.0, seed=11, n_sim=2000)
    b = cusum_horizon_limit(RISKS, 10.0, seed=11, n_sim=2000)
    c = cusum_horizon_limit(RISKS, 10.0, seed=12, n_sim=2000)
    assert a == b and a.control_limit != c.control_limit
    assert (a.seed, a.simulations, a.false_alarm) == (11, 2000, 0.05)
    assert a.horizon_procedures == int(np.ceil(10.0 / RISKS.mean())) and a.horizon_expected == 10.0
    capped = cusum_horizon_limit(RISKS, 1e6, n_sim=200, max_procedures=500)
    assert capped.horizon_procedures == 500 and capped.horizon_expected == pytest.approx(500 * RISKS.mean())


def test_h_never_increases_with_the_false_alarm_probability_nor_decreases_with_the_horizon():
    hs = [cusum_horizon_limit(RISKS, 10.0, false_alarm=f, n_sim=2000).control_limit
          for f in (0.001, 0.01, 0.05, 0.1, 0.2, 0.4)]
    assert all(x > y for x, y in itertools.pairwise(hs)), hs
    longer = cusum_horizon_limit(RISKS, 40.0, n_sim=2000).control_limit
    assert longer > hs[2]


def test_h_gives_the_false_alarm_probability_exactly_enumerated_for_a_constant_risk():
    """p = 0.125 and 2 expected events: 16 procedures; all 2^16 outcome sequences enumerated."""
    p, n, fa = 0.125, 16, 0.05
    lim = cusum_horizon_limit([p], 2.0, false_alarm=fa, n_sim=20000, seed=3)
    assert lim.horizon_procedures == n
    y = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(float)
    w = cusum_weights(np.zeros(n), np.full(n, p), 2.0)[0] + y * np.log(2.0)
    x, peak = np.zeros(2**n), np.zeros(2**n)
    for t in range(n):
        x = np.maximum(0.0, x + w[:, t])
        peak = np.maximum(peak, x)
    prob = p ** y.sum(axis=1) * (1 - p) ** (n - y.sum(axis=1))
    se = 3 * np.sqrt(fa * (1 - fa) / 20000)
    # h is the simulated 95 % quantile of the maximum: P(max > h) <= fa <= P(max >= h), up to 3 SE
    assert prob[peak > lim.control_limit + 1e-12].sum() <= fa + se
    assert prob[peak >= lim.control_limit - 1e-12].sum() >= fa - se


@pytest.mark.parametrize("odds_ratio", [2.0, 0.5])
def test_fresh_null_sequences_cross_h_at_the_chosen_rate(odds_ratio):
    """Deterioration and improvement charts; 3,000 new sequences (another seed), case mix resampled."""
    lim = cusum_horizon_limit(RISKS, 8.0, odds_ratio=odds_ratio, false_alarm=0.1, n_sim=5000, seed=1)
    rng = np.random.default_rng(99)
    hits = 0
    for _ in range(3000):
        p = RISKS[rng.integers(0, RISKS.size, lim.horizon_procedures)]
        y = (rng.random(p.size) < p).astype(float)
        hits += risk_adjusted_cusum(y, p, odds_ratio=odds_ratio, control_limit=lim.control_limit).signalled
    assert abs(hits / 3000 - 0.1) < 3 * np.sqrt(0.1 * 0.9 / 3000) + 3 * np.sqrt(0.1 * 0.9 / 5000)


def test_a_cusum_carried_on_from_a_look_equals_the_whole_sequence():
    rng = np.random.default_rng(5)
    p = rng.uniform(0.02, 0.3, 300)
    y = (rng.random(300) < 2 * p).astype(float)
    for ra, r0 in ((2.0, 1.0), (0.5, 1.0), (3.0, 1.2)):
        whole = risk_adjusted_cusum(y, p, odds_ratio=ra, null_odds_ratio=r0, control_limit=4.0)
        first = continue_cusum(0.0, y[:120], p[:120], odds_ratio=ra, null_odds_ratio=r0, control_limit=4.0)
        rest = continue_cusum(first.last, y[120:], p[120:], odds_ratio=ra, null_odds_ratio=r0,
                              control_limit=4.0)
        assert first.values + rest.values == whole.values  # the same arithmetic: exactly equal
        hit = first.first_crossing if first.first_crossing is not None else (
            None if rest.first_crossing is None else 120 + rest.first_crossing)
        assert hit == whole.signal_index


# --- monitors ----------------------------------------------------------------------------------------

def _registry(db, seed: int, extra: float) -> Monitor:
    """``_store``'s made-up registry; after the reference period the device's procedures without the
    outcome get it with probability ``extra`` (a worse device); T = 30 expected events, MaxSPRT off."""
    m = _store(db, 1500, seed=seed)
    rng = np.random.default_rng(seed)
    have = select(Outcome.procedure_id).where(Outcome.kind == m.outcome)
    procs = db.scalars(select(Procedure).where(Procedure.udi_di == m.udi_di, Procedure.device_group ==
                                               m.device_group, Procedure.procedure_date > m.reference_end,
                                               Procedure.id.not_in(have)).order_by(Procedure.id)).all()
    rows = [dict(procedure_id=p.id, kind=m.outcome, event_date=p.procedure_date + timedelta(days=10))
            for p in procs if rng.random() < extra]
    if rows:
        db.execute(insert(Outcome), rows)
    m.sample_size = 30.0
    db.flush()
    return m


def _twin(db, m: Monitor) -> Monitor:
    t = Monitor(**{c: getattr(m, c) for c in (
        "name", "device_group", "udi_di", "outcome", "window_days", "reference_start", "reference_end",
        "alpha", "sample_size", "min_events", "critical_value")})
    db.add(t)
    db.flush()
    return t


DAYS = [date(2025, 1, 1) + timedelta(days=30 * k) for k in range(1, 13)]
COLS = ("cusum_procedures", "cusum_observed", "cusum_expected", "cusum_variance", "cusum_value",
        "cusum_peak", "cusum_h", "cusum_crossed_at")


def test_incremental_looks_give_the_same_cusum_points_as_full_recounts(db):
    m = _registry(db, seed=11, extra=0.15)
    full = _twin(db, m)
    for d in DAYS:
        full.changed_from = full.reference_end  # forces the twin's look to recount from scratch
        a = service_monitoring.run_monitor(db, Actor.system(), m, d)
        b = service_monitoring.run_monitor(db, Actor.system(), full, d)
        assert (a.cusum_procedures, a.cusum_observed, a.cusum_crossed_at) == \
            (b.cusum_procedures, b.cusum_observed, b.cusum_crossed_at)
        for c in COLS[2:7]:
            assert getattr(a, c) == pytest.approx(getattr(b, c), rel=1e-12, abs=1e-12), c
    assert m.cusum_h == full.cusum_h  # same seed, same reference case mix
    # and the last point is Steiner's CUSUM over every stored procedure, computed independently
    cohort = load_cohort(db, m)
    model = service_monitoring._model(db, Actor.system(), m)
    ev, within = evaluable_outcomes(cohort, WINDOW)
    sel = cohort.is_device & (cohort.day > m.reference_end.toordinal()) & ev \
        & (cohort.day + WINDOW <= DAYS[-1].toordinal())
    order = np.argsort(cohort.day[sel], kind="stable")
    risks = model.predict(cohort.covariates[sel][order])
    chart = risk_adjusted_cusum(within[sel][order].astype(float), risks,
                                odds_ratio=2.0, control_limit=m.cusum_h)
    assert a.cusum_value == pytest.approx(chart.values[-1], abs=1e-12)
    assert a.cusum_procedures == len(chart.values) == a.procedures
    assert a.cusum_observed == a.observed and a.cusum_expected == pytest.approx(a.expected, rel=1e-12)
    crossed = db.scalar(select(Look.cusum_crossed_at).where(Look.monitor_id == m.id,
                                                            Look.cusum_crossed_at.is_not(None)))
    assert crossed == chart.signal_index + 1  # the procedure (1-based) at which it crossed


def test_h_is_simulated_once_and_stored_with_its_seed_and_horizon(db, monkeypatch):
    m = _registry(db, seed=3, extra=0.0)
    calls = []
    real = service_cusum.cusum_horizon_limit
    monkeypatch.setattr(service_cusum, "cusum_horizon_limit",
                        lambda *a, **k: calls.append(k) or real(*a, **k))
    for d in DAYS[:4]:
        service_monitoring.run_monitor(db, Actor.system(), m, d)
    assert len(calls) == 1 and calls[0]["seed"] == service_cusum.SEED
    assert (m.cusum_seed, m.cusum_simulations, m.cusum_horizon_expected) == (
        service_cusum.SEED, service_cusum.SIMULATIONS, 30.0)
    looks = db.scalars(select(Look).where(Look.monitor_id == m.id)).all()
    assert {lk.cusum_h for lk in looks} == {m.cusum_h} and m.cusum_horizon > 100
    events = db.scalars(select(audit.AuditEvent).where(audit.AuditEvent.action ==
                                                       "surveillance.monitor.cusum_limit")).all()
    assert len(events) == 1 and events[0].after["cusum_h"] == m.cusum_h
    assert events[0].after["horizon_procedures"] == m.cusum_horizon


def test_a_crossing_opens_one_alert_and_one_signal_case_and_reruns_add_none(db):
    owner = make_org(db, OrgKind.REGISTRANT)
    m = _registry(db, seed=11, extra=0.25)
    m.registrant_org_id = owner.id
    for d in DAYS:
        service_monitoring.run_monitor(db, Actor.system(), m, d)
    alert = db.scalars(select(AlertCase).where(AlertCase.monitor_id == m.id)).one()
    look = db.get(Look, alert.look_id)
    assert alert.statistic == "cusum" and look.cusum_crossed_at is not None and not look.signal
    assert m.status == "active"  # the CUSUM alarm does not end the MaxSPRT
    assert f"at procedure {look.cusum_crossed_at}" in alert.summary and f"h {m.cusum_h:.3f}" in alert.summary
    later = db.scalars(select(Look).where(Look.monitor_id == m.id, Look.look_no > look.look_no)).all()
    assert later and all(lk.cusum_crossed_at is None for lk in later)  # still above h: no second alert
    case = db.scalars(select(SignalCase).where(SignalCase.monitor_id == m.id)).one()
    assert (case.alert_id, case.owner_org_id, case.device) == (alert.id, owner.id, m.udi_di)
    stat = db.scalars(select(SignalStat).where(SignalStat.case_id == case.id)).one()
    assert stat.look_id == look.id and stat.look_stats["statistic"] == "cusum"
    assert stat.look_stats["cusum_crossed_at"] == look.cusum_crossed_at
    assert stat.look_stats["cusum"] >= m.cusum_h
    opened = db.scalars(select(audit.AuditEvent).where(audit.AuditEvent.action == "surveillance.alert.open")
                        .order_by(audit.AuditEvent.id)).all()
    assert len(opened) == 1 and opened[0].after["statistic"] == "cusum"
    assert opened[0].after["cusum_crossed_at"] == look.cusum_crossed_at
    # the same alert announced again (a re-run of the handler) appends nothing
    bridge.monitor_signalled(db, Actor.system(), {
        "look_id": look.id, "alert_id": alert.id, "udi_di": m.udi_di, "outcome": m.outcome,
        "summary": alert.summary, "monitor_id": m.id, "monitor_name": m.name, "look_no": look.look_no,
        "as_of": look.as_of.isoformat(), "kind": m.kind, "statistic": "cusum", "stats": {}})
    assert db.scalars(select(SignalStat.id).where(SignalStat.case_id == case.id)).all() == [stat.id]
    # tenancy: the registrant of the device sees the alert, another registrant sees nothing
    mine = make_user(db, Role.REGISTRANT, org=owner)
    other = make_user(db, Role.REGISTRANT, org=make_org(db, OrgKind.REGISTRANT))
    assert [a.id for a in queries.list_alerts(db, actor_for(mine))] == [alert.id]
    assert queries.list_alerts(db, actor_for(other)) == []


def test_a_cusum_crossing_and_a_maxsprt_signal_at_one_look_each_reach_the_signal_case(db):
    m = _registry(db, seed=11, extra=0.25)
    m.critical_value, m.min_events = 0.5, 1  # the MaxSPRT signals at its first look (an excess)
    look = service_monitoring.run_monitor(db, Actor.system(), m, DAYS[-1])
    assert look.signal and look.cusum_crossed_at is not None
    alerts = db.scalars(select(AlertCase).where(AlertCase.monitor_id == m.id).order_by(AlertCase.id)).all()
    assert m.status == "signalled" and [a.statistic for a in alerts] == ["monitor", "cusum"]
    case = db.scalars(select(SignalCase).where(SignalCase.monitor_id == m.id)).one()
    stats = db.scalars(select(SignalStat).where(SignalStat.case_id == case.id).order_by(SignalStat.id)).all()
    assert [s.look_stats["statistic"] for s in stats] == ["monitor", "cusum"]


def test_the_pages_show_the_stored_cusum_alert_to_the_devices_registrant_only(client, db):
    owner = make_org(db, OrgKind.REGISTRANT)
    m = _registry(db, seed=11, extra=0.25)
    m.registrant_org_id = owner.id
    for d in DAYS:
        service_monitoring.run_monitor(db, Actor.system(), m, d)
    alarm = db.scalar(select(Look).where(Look.monitor_id == m.id, Look.cusum_crossed_at.is_not(None)))
    mine = make_user(db, Role.REGISTRANT, org=owner)
    other = make_user(db, Role.REGISTRANT, org=make_org(db, OrgKind.REGISTRANT))
    db.commit()
    login(client, mine.username)
    en = client.get(f"/surveillance/monitors/{m.id}", headers={"Accept-Language": "en"}).text
    assert f"CUSUM alert: crossed h at procedure {alarm.cusum_crossed_at} (look {alarm.look_no})" in en
    assert f'<div id="cusum" data-signal="{alarm.cusum_crossed_at}"' in en and 'class="cusum-chart"' in en
    zh = client.get(f"/surveillance/monitors/{m.id}", headers={"Accept-Language": "zh-CN"}).text
    assert f"CUSUM 警报：在第 {alarm.cusum_crossed_at} 例手术越过 h（第 {alarm.look_no} 次观察）" in zh
    assert "观察时的 CUSUM" in zh and "自上次观察以来的 CUSUM 最高值" in zh and "已绘制手术数" in zh
    dash = client.get("/surveillance/", headers={"Accept-Language": "zh-CN"}).text
    assert f'data-alarm="{alarm.cusum_crossed_at}"' in dash and "CUSUM 警报" in dash
    alerts = client.get("/surveillance/alerts", headers={"Accept-Language": "en"}).text
    assert 'data-statistic="cusum"' in alerts
    api = client.get("/api/surveillance/alerts").json()
    assert [a["statistic"] for a in api] == ["cusum"]
    looks = client.get(f"/api/surveillance/monitors/{m.id}/looks").json()
    assert looks["monitor"]["cusum_h"] == m.cusum_h and looks["monitor"]["cusum_seed"] == service_cusum.SEED
    assert [lk["cusum_crossed_at"] for lk in looks["looks"]].count(alarm.cusum_crossed_at) == 1
    client.cookies.clear()
    login(client, other.username)
    assert client.get(f"/surveillance/monitors/{m.id}").status_code == 404
    assert client.get("/api/surveillance/alerts").json() == []
    assert 'data-testid="cusum-state"' not in client.get("/surveillance/").text


def test_a_binomial_monitor_charts_the_same_cusum_over_its_own_horizon(db):
    """The CUSUM of a matched binomial monitor is the device's procedures against the reference model
    (as a Poisson monitor's); its horizon is N / (1 + z) expected device events."""
    m = _registry(db, seed=11, extra=0.1)
    b = _twin(db, m)
    b.kind, b.binomial_z, b.sample_size = "maxsprt_binomial", 2, 90.0
    db.flush()
    for d in DAYS[:6]:
        a = service_monitoring.run_monitor(db, Actor.system(), m, d)
        c = service_monitoring.run_monitor(db, Actor.system(), b, d)
        assert (c.cusum_procedures, c.cusum_observed) == (a.cusum_procedures, a.cusum_observed)
        assert c.cusum_value == pytest.approx(a.cusum_value, abs=1e-12)
        assert c.cusum_expected == pytest.approx(a.cusum_expected, rel=1e-12)
    assert b.cusum_horizon_expected == 30.0 == m.cusum_horizon_expected  # 90 / (1 + 2) and T = 30
    assert c.pairs is not None and c.cusum_h == b.cusum_h
