"""The risk-adjusted CUSUM of a MaxSPRT monitor as a monitored result (Steiner et al. 2000).

* **The control limit h** is simulated once, when a look first needs it, and stored on the monitor with
  its seed, number of simulations and horizon (``ensure_limit``, audited
  ``surveillance.monitor.cusum_limit``): the false-alarm probability ``cusum_false_alarm`` holds over a
  *fixed* horizon, the monitor's upper limit on the length of surveillance - ``T`` expected events for
  a Poisson monitor, ``N / (1 + z)`` expected device events for a binomial one (under the null a
  matched set's event is the device's with probability ``1 / (1 + z)``) - turned into a number of
  procedures with the reference period's case mix (``cusum.cusum_horizon_limit``). It never moves as
  procedures are added, and no page simulates.
* **Each look** carries the CUSUM over the device's evaluable procedures whose window closed since the
  last look, in the order the windows close (procedure date, then id), from the value stored at the
  last look (``cusum_look_values``), or recounts the whole sequence when the look's counts are
  recounted (first look, a registry change in the counted range, a last look without CUSUM state).
  Both give the same numbers (tests/surveillance/test_cusum_monitor.py).
* **A crossing** of ``h`` (``|X_t| >= h`` at any procedure) opens one alert case per monitor
  (``statistic`` "cusum"), announced like a MaxSPRT signal; it does not change the monitor's status.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core import audit
from medreg.core.actor import Actor
from medreg.surveillance.cohort_load import load_device_window, load_reference
from medreg.surveillance.cusum import continue_cusum, cusum_horizon_limit
from medreg.surveillance.models import AlertCase, Look, Monitor
from medreg.surveillance.monitoring import evaluable_outcomes
from medreg.surveillance.riskmodel import RiskModel

__all__ = ["CUSUM_KINDS", "SEED", "SIMULATIONS", "cusum_look_values", "ensure_limit", "has_cusum_alert",
           "horizon_expected"]

CUSUM_KINDS = ("maxsprt_poisson", "maxsprt_binomial")  # monitors whose device risk comes from the model
SEED = 2000  # fixed: h is reproducible from the stored seed
SIMULATIONS = 5000


def horizon_expected(monitor: Monitor) -> float:
    """The expected device events over the monitor's planned surveillance (the CUSUM's horizon)."""
    if monitor.kind == "maxsprt_binomial":
        return float(monitor.sample_size) / (1.0 + float(monitor.binomial_z))
    return float(monitor.sample_size)


def ensure_limit(session: Session, actor: Actor, monitor: Monitor, model: RiskModel) -> float:
    """The monitor's h: stored, or simulated now on the reference case mix and stored (audited)."""
    if monitor.cusum_h is not None:
        return monitor.cusum_h
    reference = load_reference(session, monitor)  # the comparators the model was fitted on
    evaluable, _within = evaluable_outcomes(reference, monitor.window_days)
    risks = model.predict(reference.covariates[evaluable])
    limit = cusum_horizon_limit(risks, horizon_expected(monitor), odds_ratio=monitor.cusum_odds_ratio,
                                null_odds_ratio=monitor.cusum_null_odds_ratio,
                                false_alarm=monitor.cusum_false_alarm, n_sim=SIMULATIONS, seed=SEED)
    monitor.cusum_h = limit.control_limit
    monitor.cusum_seed = limit.seed
    monitor.cusum_simulations = limit.simulations
    monitor.cusum_horizon = limit.horizon_procedures
    monitor.cusum_horizon_expected = limit.horizon_expected
    session.flush()
    audit.record(session, actor, "surveillance.monitor.cusum_limit", "surveillance_monitor", monitor.id,
                 after={"cusum_h": limit.control_limit, "seed": limit.seed, "simulations": limit.simulations,
                        "horizon_procedures": limit.horizon_procedures,
                        "horizon_expected": limit.horizon_expected, "false_alarm": limit.false_alarm,
                        "odds_ratio": monitor.cusum_odds_ratio,
                        "null_odds_ratio": monitor.cusum_null_odds_ratio})
    return limit.control_limit


def has_cusum_alert(session: Session, monitor: Monitor) -> bool:
    return session.scalar(select(AlertCase.id).where(AlertCase.monitor_id == monitor.id,
                                                     AlertCase.statistic == "cusum")) is not None


def cusum_look_values(session: Session, monitor: Monitor, model: RiskModel, last: Look | None, as_of: date,
                      *, recount: bool, alarmed: bool) -> tuple[dict, float | None]:
    """The ``Look`` columns of the CUSUM at ``as_of`` and, when this look crosses ``h`` and the monitor
    has no CUSUM alert yet, the value of X at the crossing (else None)."""
    h = float(monitor.cusum_h)
    carry = not recount and last is not None and last.cusum_value is not None
    cohort = load_device_window(session, monitor, as_of, after=last.as_of if carry else None)
    evaluable, within = evaluable_outcomes(cohort, monitor.window_days)
    order = np.argsort(cohort.day[evaluable], kind="stable")  # rows come in id order: (date, id)
    y = within[evaluable][order].astype(float)
    p = model.predict(cohort.covariates[evaluable][order]) if y.size else np.empty(0)
    seg = continue_cusum(last.cusum_value if carry else 0.0, y, p, odds_ratio=monitor.cusum_odds_ratio,
                         control_limit=h, null_odds_ratio=monitor.cusum_null_odds_ratio)
    n0, o0, e0, v0 = ((last.cusum_procedures, last.cusum_observed, last.cusum_expected, last.cusum_variance)
                      if carry else (0, 0.0, 0.0, 0.0))
    # the largest |X| since the previous look's procedures (a recount looks at the same stretch)
    before = last.cusum_procedures if (last is not None and last.cusum_procedures is not None) else 0
    skip = 0 if carry else min(before, len(seg.values))
    start = (abs(last.cusum_value) if carry else (abs(seg.values[skip - 1]) if skip else 0.0))
    peak = max([start, *(abs(v) for v in seg.values[skip:])])
    crossed, at = None, None
    if not alarmed and seg.first_crossing is not None:
        crossed, at = n0 + seg.first_crossing + 1, seg.values[seg.first_crossing]
    return {"cusum_procedures": int(n0 + y.size), "cusum_observed": float(o0 + y.sum()),
            "cusum_expected": float(e0 + p.sum()), "cusum_variance": float(v0 + (p * (1.0 - p)).sum()),
            "cusum_value": float(seg.last), "cusum_peak": float(peak), "cusum_h": h,
            "cusum_crossed_at": crossed}, at
