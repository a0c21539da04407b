"""The risk-adjusted CUSUM and the O/E chart of a monitor from its stored looks (read side; tenancy as
the monitor's looks). Nothing is simulated or recomputed here.

Each look of a MaxSPRT monitor stores the CUSUM state (``service_cusum``): the device's procedures
charted so far, their observed and expected outcomes and ``sum p(1-p)``, the CUSUM value at the look,
the largest ``|X|`` since the previous look and the control limit ``h`` (simulated once and stored on
the monitor). The charts have one point per look: the CUSUM (and its highest value between looks)
against ``h``, and the cumulative O/E with its two-sided 95 % limits ``1 +/- z sqrt(sum p(1-p)) / E``.
Looks from before the CUSUM was stored (surveillance_0006) carry no point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from scipy.stats import norm
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.surveillance import queries
from medreg.surveillance.models import Look, Monitor

__all__ = ["OE_ALPHA", "CusumPoint", "QualityCharts", "quality_charts", "quality_points"]

OE_ALPHA = 0.05


@dataclass(frozen=True)
class CusumPoint:
    look_no: int
    as_of: date
    procedures: int
    observed: float
    expected: float
    value: float  # X at the look (negative for an improvement chart)
    peak: float  # largest |X| since the previous look
    control_limit: float  # h
    crossed_at: int | None  # the procedure at which this look's CUSUM alert was raised
    ratio: float  # O/E (nan before any expected event)
    lower: float
    upper: float


@dataclass(frozen=True)
class QualityCharts:
    monitor: Monitor
    looks: list[Look]
    points: tuple[CusumPoint, ...]  # empty: no look with a CUSUM state yet

    @property
    def last(self) -> CusumPoint | None:
        return self.points[-1] if self.points else None

    @property
    def alarm(self) -> CusumPoint | None:
        return next((p for p in self.points if p.crossed_at is not None), None)


def quality_points(looks: list[Look]) -> tuple[CusumPoint, ...]:
    z = float(norm.ppf(1.0 - OE_ALPHA / 2.0))
    out = []
    for lk in looks:
        if lk.cusum_value is None:
            continue
        e = lk.cusum_expected
        half = z * math.sqrt(lk.cusum_variance) / e if e > 0 else math.nan
        out.append(CusumPoint(lk.look_no, lk.as_of, lk.cusum_procedures, lk.cusum_observed, e, lk.cusum_value,
                              lk.cusum_peak, lk.cusum_h, lk.cusum_crossed_at,
                              lk.cusum_observed / e if e > 0 else math.nan, max(1.0 - half, 0.0), 1.0 + half))
    return tuple(out)


def quality_charts(session: Session, actor: Actor, monitor_id: int) -> QualityCharts:
    monitor, looks = queries.monitor_looks(session, actor, monitor_id)
    return QualityCharts(monitor, looks, quality_points(looks))
