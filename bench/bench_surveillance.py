"""Benchmark: sequential monitoring of G device groups x N procedures, all looks recomputed.

For each group a synthetic (made-up) cohort is drawn: procedure days over two years, six covariates,
the monitored device (15 %), outcomes within a 180-day window from a logistic model with the device at
odds ratio 1.5, 3 % lost to follow-up. Then, timed separately:

* ``fit``: the reference-period logistic model (statsmodels, comparators of year one);
* ``medreg full re-run``: ``monitoring.cumulative_counts`` for all L monthly looks at once
  (sort + cumulative sums + binary search) and the MaxSPRT LLR of every look;
* ``medreg one look``: the same for the latest look only, plus the look's risk-adjusted CUSUM (the
  device's procedures whose window closed since the previous look, carried on from its value there;
  ``cusum.continue_cusum``), as a look of ``run_monitor`` does;
* ``peer (pandas) full re-run``: the straightforward analyst's code on the same input - for each look,
  filter the DataFrame (evaluable, window closed, device, after the reference period) and sum the
  outcome and the predicted risk - run side by side in the same process on the same arrays;
* ``database look`` (one group, optional), on SQLite with the N procedures stored in the registry
  tables, same fitted model, same look dates: *before* - the first-round row reader
  (``cohort_load.load_cohort``, the whole group as ORM tuples) and the counts; *peer* - the analyst's
  ``pandas.read_sql`` of the group and a per-look filter; *after* - ``service_monitoring.run_monitor``
  with the columnar readers (which also writes the look and its audit event and carries the CUSUM):
  the first look (with the fit and the simulation of the CUSUM's h, timed apart), the next one
  (incremental: adds the month whose windows closed), eight weekly incremental looks and a recount
  from scratch (what follows a late change in the range already counted). All agree.

Both implementations must give the same counts (checked). Run with ``nice``; sizes are arguments.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta

import numpy as np
import pandas as pd

from medreg.surveillance.cusum import continue_cusum
from medreg.surveillance.maxsprt import poisson_critical_value, poisson_llr
from medreg.surveillance.monitoring import Cohort, cumulative_counts, evaluable_outcomes, fit_reference_model

WINDOW = 180
START = date(2024, 1, 1).toordinal()


def cohort(rng: np.random.Generator, n: int) -> Cohort:
    day = START + rng.integers(0, 730, n)
    x = np.column_stack([np.clip(rng.normal(66, 10, n), 30, 95).round(), rng.random(n) < 0.68,
                         rng.random(n) < 0.3, rng.random(n) < 0.1, rng.random(n) < 0.25,
                         np.clip(rng.normal(55, 10, n), 15, 80).round()]).astype(float)
    device = rng.random(n) < 0.15
    eta = (-3.35 + 0.03 * (x[:, 0] - 66) + 0.1 * x[:, 1] + 0.5 * x[:, 2] + 0.7 * x[:, 3] + 0.3 * x[:, 4]
           - 0.02 * (x[:, 5] - 55) + np.log(1.5) * device)
    event = rng.random(n) < 1 / (1 + np.exp(-eta))
    outcome_day = np.where(event, day + rng.integers(1, WINDOW + 1, n), np.inf)
    lost = rng.random(n) < 0.03
    followed = np.where(lost, day + rng.integers(10, 151, n), START + 900)
    outcome_day = np.where(outcome_day <= followed, outcome_day, np.inf)
    return Cohort(day, device, x, outcome_day, followed)


def peer_counts(c: Cohort, risk_all: np.ndarray, reference_end: int, looks: list[int]) -> list[tuple]:
    """The straightforward per-look pandas computation (the 'peer')."""
    df = pd.DataFrame({"day": c.day, "device": c.is_device, "outcome_day": c.outcome_day,
                       "followed": c.followed_to, "risk": risk_all})
    out = []
    for as_of in looks:
        within = (df.outcome_day - df.day) <= WINDOW
        evaluable = within | (df.followed >= df.day + WINDOW)
        sel = df.device & (df.day > reference_end) & evaluable & (df.day + WINDOW <= as_of)
        out.append((int(sel.sum()), float(within[sel].sum()), float(df.risk[sel].sum())))
    return out


def timed(fn, repeat: int = 1):
    best, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best.append(time.perf_counter() - t)
    return min(best), result


PG_SERVER = os.environ.get("MEDREG_TEST_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")


def _pg_admin(sql: str) -> None:
    import psycopg

    dsn = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)


def db_look(n: int, seed: int, postgresql: bool = False) -> dict:
    """One look with n stored procedures of one group: before, peer and after (seconds). SQLite in
    memory, or a fresh PostgreSQL database (``MEDREG_TEST_PG_SERVER``) dropped afterwards."""
    if not postgresql:
        return _db_look(n, seed, "sqlite://")
    name = f"medreg_bench_{os.getpid()}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        return _db_look(n, seed, f"{PG_SERVER}/{name}")
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _db_look(n: int, seed: int, url: str) -> dict:
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    import medreg.models  # noqa: F401
    from medreg.core.accounts import Organisation
    from medreg.core.actor import Actor
    from medreg.core.db import Base, make_engine
    from medreg.surveillance import service_cusum, service_monitoring
    from medreg.surveillance.cohort_load import load_cohort
    from medreg.surveillance.demo import DEVICES
    from medreg.surveillance.models import Monitor, Outcome, Procedure, SentinelHospital

    rng = np.random.default_rng(seed)
    c = cohort(rng, n)
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add(Organisation(kind="hospital", name="bench"))
        s.flush()
        s.add(SentinelHospital(organisation_id=1, code="B", device_groups=["coronary_stent"],
                               enrolled_on=date(2024, 1, 1)))
        s.flush()
        dev, other = DEVICES[3][1], DEVICES[0][1]
        rows = [dict(hospital_id=1, patient_pseudonym=f"B{i}", procedure_date=date.fromordinal(int(c.day[i])),
                     device_group="coronary_stent", udi_raw="-", udi_di=dev if c.is_device[i] else other,
                     age=int(c.covariates[i, 0]), sex="M" if c.covariates[i, 1] else "F",
                     diabetes=bool(c.covariates[i, 2]), renal_failure=bool(c.covariates[i, 3]),
                     prior_mi=bool(c.covariates[i, 4]), ejection_fraction=float(c.covariates[i, 5]),
                     follow_up_end=date.fromordinal(int(c.followed_to[i]))) for i in range(n)]
        s.execute(insert(Procedure), rows)
        events = [dict(procedure_id=i + 1, kind="target_lesion_failure",
                       event_date=date.fromordinal(int(c.outcome_day[i])))
                  for i in range(n) if np.isfinite(c.outcome_day[i])]
        s.execute(insert(Outcome), events)
        m = Monitor(name="bench", device_group="coronary_stent", udi_di=dev, outcome="target_lesion_failure",
                    window_days=WINDOW, reference_start=date(2024, 1, 1), reference_end=date(2024, 12, 31),
                    alpha=0.05, sample_size=1e9, min_events=4, critical_value=1e9)  # never stops
        s.add(m)
        s.commit()  # the registry as a steady database holds it: committed, statistics gathered
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
                admin.exec_driver_sql("VACUUM ANALYZE")
        as_of = [date(2026, 1, 1), date(2026, 2, 1)]
        ref = (date(2024, 1, 1).toordinal(), date(2024, 12, 31).toordinal())
        # before: the first-round reader (all rows of the group as ORM tuples, converted in Python)
        t = time.perf_counter()
        full = load_cohort(s, m)
        model = fit_reference_model(full, ref[0], ref[1], WINDOW)
        before_counts = [cumulative_counts(full, model, ref[1], WINDOW, [as_of[0].toordinal()])]
        before_first = time.perf_counter() - t
        t = time.perf_counter()
        full = load_cohort(s, m)
        before_counts.append(cumulative_counts(full, model, ref[1], WINDOW, [as_of[1].toordinal()]))
        before_next = time.perf_counter() - t
        # peer: the analyst's per-look pandas code reading the group with pandas.read_sql
        risk = model.predict  # same fitted model, so that only reading and counting are compared
        t = time.perf_counter()
        df = pd.read_sql(load_cohort_query(m), s.connection(), parse_dates=["procedure_date", "follow_up_end",
                                                                             "event_date"])
        peer = peer_db_look(df, m, risk, ref[1], as_of[1].toordinal())
        peer_t = time.perf_counter() - t
        # after: the columnar readers, through the service (writes the look and its audit event too);
        # the first look simulates the CUSUM's h (service_cusum.ensure_limit), timed apart
        limit_t: list[float] = []
        ensure = service_cusum.ensure_limit

        def timed_limit(*args, **kw):
            t0 = time.perf_counter()
            try:
                return ensure(*args, **kw)
            finally:
                limit_t.append(time.perf_counter() - t0)

        service_cusum.ensure_limit = timed_limit
        try:
            t = time.perf_counter()
            looks = [service_monitoring.run_monitor(s, Actor.system(), m, as_of[0])]
            after_first = time.perf_counter() - t
        finally:
            service_cusum.ensure_limit = ensure
        h_sim = limit_t[0]
        t = time.perf_counter()
        looks.append(service_monitoring.run_monitor(s, Actor.system(), m, as_of[1]))
        after_next = time.perf_counter() - t
        for lk, b in zip(looks, before_counts, strict=True):
            want = (b.procedures[0], b.observed[0])
            assert (lk.procedures, lk.observed) == want, "before and after disagree"
            assert abs(lk.expected - b.expected[0]) < 1e-9 * max(1.0, lk.expected), "expected differs"
        assert peer[0] == looks[1].procedures and peer[1] == looks[1].observed
        assert abs(peer[2] - looks[1].expected) < 1e-6 * max(1.0, peer[2])
        # weekly incremental looks (each adds a week of closed windows), then a recount from scratch
        # (as after a late change in the range already counted), checked against the row reader
        # wall time, and the process's CPU time (what the look costs without waiting for a core)
        weekly, weekly_cpu = [], []
        for k in range(1, 9):
            t, c = time.perf_counter(), time.process_time()
            lk = service_monitoring.run_monitor(s, Actor.system(), m, as_of[1] + timedelta(days=7 * k))
            weekly.append(time.perf_counter() - t)
            weekly_cpu.append(time.process_time() - c)
        recounts, recounts_cpu = [], []
        for k in range(9, 17):  # eight recounts, each after a change in the range already counted
            m.changed_from = m.reference_end + timedelta(days=1)
            day = as_of[1] + timedelta(days=7 * k)
            t, c = time.perf_counter(), time.process_time()
            recounted = service_monitoring.run_monitor(s, Actor.system(), m, day)
            recounts.append(time.perf_counter() - t)
            recounts_cpu.append(time.process_time() - c)
        server = _server_time(s, m, model, day)
        want = cumulative_counts(load_cohort(s, m), model, ref[1], WINDOW, [day.toordinal()])
        assert (recounted.procedures, recounted.observed) == (want.procedures[0], want.observed[0])
        assert abs(recounted.expected - want.expected[0]) < 1e-9 * max(1.0, want.expected[0])
        assert lk.procedures <= recounted.procedures
    return dict(before_first=before_first, before_next=before_next, after_first=after_first, h_sim=h_sim,
                cusum_h=m.cusum_h, cusum_horizon=m.cusum_horizon,
                after_next=after_next, peer=peer_t, device_rows=looks[1].procedures,
                weekly=statistics.median(weekly), weekly_max=max(weekly), recount=statistics.median(recounts),
                weekly_cpu=statistics.median(weekly_cpu), recount_cpu=statistics.median(recounts_cpu),
                recount_max=max(recounts), server=server)


def _server_time(s, m, model, day) -> float | None:
    """PostgreSQL's own execution time of the recount's aggregate query (EXPLAIN ANALYZE), in seconds:
    the process's CPU time does not include the database server's."""
    from medreg.surveillance import cohort_load

    conn = s.connection()
    if conn.dialect.name != "postgresql":
        return None
    params = cohort_load.totals_params(m, model, day)
    compiled = cohort_load._totals_statement("postgresql").compile(dialect=conn.dialect)
    plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + str(compiled),
                                compiled.construct_params(params)).scalar()
    return plan[0]["Execution Time"] / 1e3


def load_cohort_query(m):
    from sqlalchemy import select

    from medreg.surveillance.models import Outcome, Procedure

    return (select(Procedure.procedure_date, Procedure.udi_di, Procedure.age, Procedure.sex,
                   Procedure.diabetes, Procedure.renal_failure, Procedure.prior_mi,
                   Procedure.ejection_fraction,
                   Procedure.follow_up_end, Outcome.event_date)
            .outerjoin(Outcome, (Outcome.procedure_id == Procedure.id) & (Outcome.kind == m.outcome))
            .where(Procedure.device_group == m.device_group))


def peer_db_look(df: pd.DataFrame, m, risk, reference_end: int, as_of: int) -> tuple:
    """One look the pandas way: filter the DataFrame, predict the risk, sum."""
    day = df["procedure_date"].map(pd.Timestamp.toordinal)
    followed = df["follow_up_end"].map(pd.Timestamp.toordinal)
    event = df["event_date"].map(lambda d: d.toordinal() if pd.notna(d) else np.inf)
    within = event - day <= WINDOW
    keep = ((df["udi_di"] == m.udi_di) & (day > reference_end) & (within | (followed >= day + WINDOW))
            & (day + WINDOW <= as_of))
    d = df[keep]
    x = np.column_stack([d["age"], d["sex"] == "M", d["diabetes"], d["renal_failure"], d["prior_mi"],
                         d["ejection_fraction"].fillna(55.0)]).astype(float)
    return int(keep.sum()), float(within[keep].sum()), float(risk(x).sum())


def print_db(r: dict, n: int, dialect: str = "SQLite") -> None:
    print(f"database look ({dialect}, {n:,} procedures of one group, "
          f"{r['device_rows']:,} device rows counted at the look; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):")
    print(f"  before (row reader, whole group): first {r['before_first'] * 1e3:7.0f} ms (with fit), "
          f"next {r['before_next'] * 1e3:7.0f} ms")
    print(f"  peer (pandas.read_sql + per-look filter): {r['peer'] * 1e3:7.0f} ms")
    print("  after, through run_monitor (writes the look and its audit event):")
    print(f"    first look (reference read + fit + h + counts)  {r['after_first'] * 1e3:7.0f} ms, of which "
          f"simulating the CUSUM's h {r['h_sim'] * 1e3:.0f} ms (h = {r['cusum_h']:.3f} over "
          f"{r['cusum_horizon']:,} procedures); the rest {(r['after_first'] - r['h_sim']) * 1e3:.0f} ms")
    print(f"    next look, one month added (incremental)        {r['after_next'] * 1e3:7.0f} ms")
    print(f"    weekly incremental looks: median                {r['weekly'] * 1e3:7.1f} ms "
          f"(max {r['weekly_max'] * 1e3:.1f}; CPU {r['weekly_cpu'] * 1e3:.1f} ms)")
    print(f"    recount from scratch: median of 8               {r['recount'] * 1e3:7.1f} ms "
          f"(max {r['recount_max'] * 1e3:.1f}; CPU {r['recount_cpu'] * 1e3:.1f} ms)")
    if r["server"] is not None:
        print(f"    recount's query, executed by the server (EXPLAIN ANALYZE) {r['server'] * 1e3:7.1f} ms")
    print(f"  ratios: before/after (next look) {r['before_next'] / r['after_next']:.0f}x, "
          f"peer/after {r['peer'] / r['after_next']:.0f}x")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=50)
    ap.add_argument("--procedures", type=int, default=200_000)
    ap.add_argument("--looks", type=int, default=24)
    ap.add_argument("--db-procedures", type=int, default=200_000, help="0 to skip the database look")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--postgresql", action="store_true", help="the database look on PostgreSQL too")
    a = ap.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    reference_end = date(2024, 12, 31).toordinal()
    looks = [(date(2025, 1, 1) + timedelta(days=30 * (k + 1))).toordinal() for k in range(a.looks)]
    cv = poisson_critical_value(200.0, 0.05, min_events=4).critical_value
    fit_t, full_t, one_t, peer_t, counts_t = [], [], [], [], []
    signals = 0
    if a.groups == 0:  # database look only
        print_db(db_look(a.db_procedures, a.seed), a.db_procedures)
        if a.postgresql:
            print_db(db_look(a.db_procedures, a.seed, postgresql=True), a.db_procedures, "PostgreSQL")
        return
    for _ in range(a.groups):
        c = cohort(rng, a.procedures)
        t_fit, model = timed(lambda c=c: fit_reference_model(c, START, reference_end, WINDOW))

        def full(c=c, model=model):
            counts = cumulative_counts(c, model, reference_end, WINDOW, looks)
            return counts, poisson_llr(counts.observed, counts.expected)

        t_full, (counts, llr) = timed(full, repeat=3)
        def one(c=c, model=model, start=0.0):
            last = cumulative_counts(c, model, reference_end, WINDOW, looks[-1:])
            llr = poisson_llr(last.observed, last.expected)
            # the look's CUSUM: the device's evaluable procedures whose window closed since the previous
            # look, in the order the windows close, carried on from the previous look's value
            evaluable, within = evaluable_outcomes(c, WINDOW)
            new = (c.is_device & evaluable & (c.day > reference_end) & (c.day + WINDOW > looks[-2])
                   & (c.day + WINDOW <= looks[-1]))
            order = np.argsort(c.day[new], kind="stable")
            seg = continue_cusum(start, within[new][order].astype(float),
                                 model.predict(c.covariates[new][order]), odds_ratio=2.0, control_limit=4.5)
            return llr, seg.last

        t_one, _ = timed(one, repeat=3)

        def counts_only(c=c, model=model):
            last = cumulative_counts(c, model, reference_end, WINDOW, looks[-1:])
            return poisson_llr(last.observed, last.expected)

        t_counts, _ = timed(counts_only, repeat=3)
        risk_all = model.predict(c.covariates)
        t_peer, peer = timed(lambda c=c, r=risk_all: peer_counts(c, r, reference_end, looks))
        ours = list(zip(counts.procedures, counts.observed, counts.expected, strict=True))
        assert all(p[0] == o[0] and p[1] == o[1] and abs(p[2] - o[2]) < 1e-6 * max(1, o[2])
                   for p, o in zip(peer, ours, strict=True)), "peer and medreg disagree"
        signals += bool(np.any(llr >= cv))
        fit_t.append(t_fit), full_t.append(t_full), one_t.append(t_one), peer_t.append(t_peer)
        counts_t.append(t_counts)
    med = statistics.median
    print(f"# {a.groups} groups x {a.procedures:,} procedures, {a.looks} looks per group "
          f"(numpy {np.__version__},"
          f" pandas {pd.__version__}, python {sys.version.split()[0]})")
    print(f"reference fit per group      median {med(fit_t) * 1e3:8.1f} ms   total {sum(fit_t):7.2f} s")
    print(f"medreg one look per group    median {med(one_t) * 1e3:8.1f} ms (counts + LLR + CUSUM; "
          f"without the CUSUM {med(counts_t) * 1e3:.1f} ms)")
    print(f"medreg full re-run per group median {med(full_t) * 1e3:8.1f} ms   "
          f"all groups {sum(full_t):7.2f} s")
    print(f"peer (pandas) full re-run    median {med(peer_t) * 1e3:8.1f} ms   "
          f"all groups {sum(peer_t):7.2f} s")
    print(f"ratio peer / medreg (full re-run): {sum(peer_t) / sum(full_t):.1f}x; "
          f"groups signalling: {signals}")
    if a.db_procedures:
        print_db(db_look(a.db_procedures, a.seed), a.db_procedures)
        if a.postgresql:
            print_db(db_look(a.db_procedures, a.seed, postgresql=True), a.db_procedures, "PostgreSQL")


if __name__ == "__main__":
    main()
