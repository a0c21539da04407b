"""The risk-adjusted CUSUM and the O/E chart of a monitor (read side; tenancy as the monitor's looks).

The procedures are those the monitor's last look counted: the device's procedures after the reference
period whose outcome window had closed by the look's date and which are evaluable (``monitoring``),
in the order of their procedure date (the order in which their windows close). Each gets its expected
risk from the risk model fitted on the reference period and stored with the monitor, so the final
O and E of the O/E chart are the last look's observed and expected counts.

The CUSUM tests the monitor's odds ratio of the null ``R_0`` (default 1) against the one to detect
``R_A`` (default 2, a doubling of the odds; Steiner et al. 2000); its control limit ``h`` is chosen by
simulation under the null on this case mix for the monitor's probability of a false alarm over the
sequence (default 0.05; ``cusum.cusum_control_limit``, 2,000 seeded simulations). The O/E limits are
two-sided 95 %. Both are recomputed from the stored model on each request (nothing is
written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.surveillance import queries
from medreg.surveillance.cohort_load import load_device_window
from medreg.surveillance.cusum import (
    CusumChart,
    ObservedExpectedChart,
    cusum_control_limit,
    observed_expected,
    risk_adjusted_cusum,
)
from medreg.surveillance.models import Look, Monitor
from medreg.surveillance.monitoring import evaluable_outcomes
from medreg.surveillance.riskmodel import RiskModel

__all__ = ["QualityCharts", "quality_charts"]

OE_ALPHA = 0.05


@dataclass(frozen=True)
class QualityCharts:
    monitor: Monitor
    looks: list[Look]
    as_of: date | None
    procedure_dates: tuple[date, ...]
    cusum: CusumChart | None  # None: no look yet (no risk model) or no procedure counted
    oe: ObservedExpectedChart | None


def _model(monitor: Monitor) -> RiskModel | None:
    m = monitor.risk_model
    if not m:
        return None
    return RiskModel(
        tuple(m["names"]),
        tuple(m["coefficients"]),
        tuple(m["standard_errors"]),
        m["n_reference"],
        m["events_reference"],
        m["c_statistic"],
    )


def quality_charts(session: Session, actor: Actor, monitor_id: int) -> QualityCharts:
    monitor, looks = queries.monitor_looks(session, actor, monitor_id)
    model = _model(monitor)
    if model is None or not looks:
        return QualityCharts(monitor, looks, None, (), None, None)
    as_of = looks[-1].as_of
    cohort = load_device_window(session, monitor, as_of)
    evaluable, within = evaluable_outcomes(cohort, monitor.window_days)
    order = np.argsort(cohort.day[evaluable], kind="stable")
    y = within[evaluable][order].astype(float)
    if y.size == 0:
        return QualityCharts(monitor, looks, as_of, (), None, None)
    p = model.predict(cohort.covariates[evaluable][order])
    design = {"odds_ratio": monitor.cusum_odds_ratio, "null_odds_ratio": monitor.cusum_null_odds_ratio}
    h = cusum_control_limit(p, false_alarm=monitor.cusum_false_alarm, n_sim=2000, seed=0, **design)
    h = max(h, 1e-9)  # no event in 95 % of the simulations: the first event signals
    days = cohort.day[evaluable][order]
    return QualityCharts(
        monitor,
        looks,
        as_of,
        tuple(date.fromordinal(int(d)) for d in days),
        risk_adjusted_cusum(y, p, control_limit=h, **design),
        observed_expected(y, p, alpha=OE_ALPHA),
    )
