"""A matched binomial MaxSPRT monitor (kind ``maxsprt_binomial``): the design and a look.

Each device procedure is matched to ``z`` comparator procedures of its group on the reference risk
model's score (``monitoring.matched_binomial_counts``: sets formed once, in the order the windows
close, so the counts of successive looks are nested); at a look, ``cases`` are the outcomes of the
matched device procedures and ``events`` all outcomes of the matched sets. Under the null an outcome is
a case with probability ``1 / (1 + z)``; the binomial MaxSPRT LLR (``maxsprt_binomial``, Kulldorff et
al. 2011) signals at ``LLR >= CV`` with at least ``M`` cases; surveillance ends after ``N`` events.

Continuous (the exact continuous critical value) or group-sequential: a plan of looks at whole
numbers of events (``planned_looks`` equal groups or ``look_at`` fractions of N, rounded to whole
events), the group design's critical value (``CV.G.Binomial`` of R ``Sequential``), and at each
actual look the critical value re-spent from the alpha the earlier looks spent
(``maxsprt_spending.binomial_spending_look``, as the Poisson group design does)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core.errors import ValidationFailed
from medreg.surveillance.cohort_load import load_group_window
from medreg.surveillance.maxsprt_binomial import _thresholds, binomial_critical_value, binomial_llr
from medreg.surveillance.maxsprt_spending import binomial_spending_look
from medreg.surveillance.models import Look, Monitor
from medreg.surveillance.monitor_design import look_plan, monitor_plan
from medreg.surveillance.monitoring import day_number, matched_binomial_counts
from medreg.surveillance.riskmodel import RiskModel

__all__ = ["MAX_EVENTS", "binomial_design", "binomial_look_values", "event_plan"]

MAX_EVENTS = 2000  # N: the exact critical value takes under a second at N = 2000 (docs/surveillance.md)


def event_plan(sample_size: int, planned_looks: int | None, look_at: list[float] | None) -> list[int] | None:
    """The planned looks in cumulative whole events (fractions of N rounded half up; None: continuous)."""
    plan = look_plan(float(sample_size), planned_looks, look_at)
    if plan is None:
        return None
    events = [int(x + 0.5) for x in plan]
    if events[0] < 1 or any(b <= a for a, b in zip(events, events[1:], strict=False)):
        raise ValidationFailed("The planned looks must fall on distinct whole numbers of events: give "
                               "fewer looks or a larger N.",
                               field="planned_looks" if planned_looks is not None else "look_at")
    return events


def binomial_design(alpha: float, sample_size: float, min_events: int, z: int, planned_looks: int | None,
                    look_at: list[float] | None) -> dict:
    if not 1 <= z <= 10:
        raise ValidationFailed("The number of comparators per device procedure must be 1 to 10.",
                               field="binomial_z")
    if int(sample_size) != sample_size or not 1 <= sample_size <= MAX_EVENTS:
        raise ValidationFailed(
            "The upper limit on the number of events must be a whole number from 1 to {limit}.",
            field="sample_size", params={"limit": f"{MAX_EVENTS:,}"})
    plan = event_plan(int(sample_size), planned_looks, look_at)
    sizes = None if plan is None else [b - a for a, b in zip([0, *plan[:-1]], plan, strict=True)]
    cv = binomial_critical_value(int(sample_size), float(z), alpha, min_events=min_events, looks=sizes)
    return {"kind": "maxsprt_binomial", "binomial_z": z, "sample_size": float(sample_size),
            "min_events": min_events, "critical_value": cv.critical_value,
            "planned_looks": None if plan is None else len(plan),
            "look_plan": None if plan is None else [float(x) for x in plan]}


def _look_rule(session: Session, monitor: Monitor, events: int) -> dict:
    """The critical value of this look: the monitor's (continuous design), or re-spent at the look's
    actual number of events from the alpha the earlier looks spent (group design)."""
    plan = monitor_plan(monitor)
    if plan is None or events <= 0:
        return {"critical_value": monitor.critical_value, "events_to_signal": None,
                "alpha_target": None, "alpha_spent": None}
    z = float(monitor.binomial_z)
    prior = []
    for lk in session.scalars(select(Look).where(Look.monitor_id == monitor.id).order_by(Look.look_no)):
        if lk.expected <= 0:  # no event yet: no information, no alpha spent
            continue
        n = int(round(lk.expected))
        threshold = lk.events_to_signal
        if threshold is None:
            threshold = int(_thresholds(lk.critical_value, [n], z, monitor.min_events)[0])
        prior.append((n, threshold))
    # information never goes back: a recount with fewer events adds none
    info = max([events, *(n for n, _c in prior)])
    r = binomial_spending_look(monitor.critical_value, [int(round(x)) for x in plan], prior, info, z,
                               min_events=monitor.min_events)
    return {"critical_value": r.critical_value, "events_to_signal": r.events_to_signal,
            "alpha_target": r.target, "alpha_spent": r.spent}


def binomial_look_values(session: Session, monitor: Monitor, model: RiskModel, as_of: date) -> dict:
    """The ``Look`` columns of a binomial look: ``observed`` the cases, ``expected`` all events of the
    matched sets (the convention of ``looks.binomial_looks``), ``pairs`` the matched sets."""
    counts = matched_binomial_counts(load_group_window(session, monitor, as_of), model,
                                     day_number(monitor.reference_end), monitor.window_days,
                                     day_number(as_of), monitor.binomial_z)
    z = float(monitor.binomial_z)
    llr = float(binomial_llr(counts.cases, counts.events, z)) if counts.events else 0.0
    rule = _look_rule(session, monitor, int(counts.events))
    if rule["events_to_signal"] is None:
        signal = llr >= monitor.critical_value and counts.cases >= monitor.min_events
    else:  # the same decision as LLR >= the look's critical value, on the scale of the cases
        signal = counts.cases >= rule["events_to_signal"]
    return {"procedures": counts.sets + counts.unmatched, "pairs": counts.sets,
            "observed": float(counts.cases), "expected": float(counts.events), "llr": llr,
            "signal": bool(signal), **rule}
