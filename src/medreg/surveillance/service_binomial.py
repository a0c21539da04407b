"""A matched binomial MaxSPRT monitor (kind ``maxsprt_binomial``): the design and a look.

Each device procedure is matched to ``z`` comparator procedures of its group on the reference risk
model's score (``monitoring.matched_binomial_counts``: sets formed once, in the order the windows
close, so the counts of successive looks are nested); at a look, ``cases`` are the outcomes of the
matched device procedures and ``events`` all outcomes of the matched sets. Under the null an outcome is
a case with probability ``1 / (1 + z)``; the binomial MaxSPRT LLR (``maxsprt_binomial``, Kulldorff et
al. 2011) signals at ``LLR >= CV`` with at least ``M`` cases; surveillance ends after ``N`` events.
Continuous monitoring only (the critical value is the exact continuous one; group looks and
re-spending are not offered for this kind yet)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from medreg.core.errors import ValidationFailed
from medreg.surveillance.cohort_load import load_group_window
from medreg.surveillance.maxsprt_binomial import binomial_critical_value, binomial_llr
from medreg.surveillance.models import Monitor
from medreg.surveillance.monitoring import day_number, matched_binomial_counts
from medreg.surveillance.riskmodel import RiskModel

__all__ = ["MAX_EVENTS", "binomial_design", "binomial_look_values"]

MAX_EVENTS = 500  # N: the exact critical value's search is O(N^2) per candidate


def binomial_design(alpha: float, sample_size: float, min_events: int, z: int, planned_looks: int | None,
                    look_at: list[float] | None) -> dict:
    if planned_looks is not None or look_at is not None:
        raise ValidationFailed("A binomial MaxSPRT monitor is continuous: give no planned looks.",
                               field="planned_looks" if planned_looks is not None else "look_at")
    if not 1 <= z <= 10:
        raise ValidationFailed("The number of comparators per device procedure must be 1 to 10.",
                               field="binomial_z")
    if int(sample_size) != sample_size or not 1 <= sample_size <= MAX_EVENTS:
        raise ValidationFailed(
            "The upper limit on the number of events must be a whole number from 1 to 500.",
            field="sample_size")
    cv = binomial_critical_value(int(sample_size), float(z), alpha, min_events=min_events)
    return {"kind": "maxsprt_binomial", "binomial_z": z, "sample_size": float(sample_size),
            "min_events": min_events, "critical_value": cv.critical_value, "planned_looks": None,
            "look_plan": None}


def binomial_look_values(session: Session, monitor: Monitor, model: RiskModel, as_of: date) -> dict:
    """The ``Look`` columns of a binomial look: ``observed`` the cases, ``expected`` all events of the
    matched sets (the convention of ``looks.binomial_looks``), ``pairs`` the matched sets."""
    counts = matched_binomial_counts(load_group_window(session, monitor, as_of), model,
                                     day_number(monitor.reference_end), monitor.window_days,
                                     day_number(as_of), monitor.binomial_z)
    z = float(monitor.binomial_z)
    llr = float(binomial_llr(counts.cases, counts.events, z)) if counts.events else 0.0
    signal = llr >= monitor.critical_value and counts.cases >= monitor.min_events
    return {"procedures": counts.sets + counts.unmatched, "pairs": counts.sets,
            "observed": float(counts.cases), "expected": float(counts.events), "llr": llr,
            "critical_value": monitor.critical_value,
            "events_to_signal": None, "alpha_target": None, "alpha_spent": None, "signal": bool(signal)}
