"""A DELTA monitor's look (``delta.py`` on the registry): the monitored DI against the comparator DIs
of its group, matched 1:1 on the propensity score, the cumulative risk difference of the outcome with
its confidence interval at the look's date (called by ``service_monitoring.run_monitor``).

Each look is computed from scratch on the procedures after the reference period whose outcome window
closed by the look's date and which are evaluable (the rule of the MaxSPRT counts, ``monitoring``): the
propensity model is refitted at every look, as in DELTA (Resnic et al. 2010). **Alert rule**
(``delta.RULE``): the lower limit of the two-sided ``1 - alpha`` confidence interval exceeds the
monitor's margin with at least ``delta_min_pairs`` matched pairs; ``alpha`` is per look.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
from scipy.stats import norm
from sqlalchemy.orm import Session
from statsmodels.tools.sm_exceptions import PerfectSeparationError

from medreg.core.errors import ValidationFailed
from medreg.surveillance.cohort_load import load_group_window
from medreg.surveillance.delta import RULE, DeltaResult
from medreg.surveillance.models import Monitor
from medreg.surveillance.monitoring import day_number, delta_look

__all__ = ["delta_design", "delta_look_values", "delta_rule"]


def delta_design(alpha: float, margin: float, min_pairs: int, caliper: float) -> dict:
    """The columns of a DELTA monitor: its per-look critical value is the normal quantile of the
    two-sided interval; T and M (MaxSPRT's) do not apply and are stored as 0."""
    return {"kind": "delta", "delta_margin": margin, "delta_min_pairs": min_pairs, "delta_caliper": caliper,
            "critical_value": float(norm.ppf(1.0 - alpha / 2.0)), "sample_size": 0.0, "min_events": 0,
            "planned_looks": None, "look_plan": None}


def delta_rule(monitor: Monitor) -> str:
    """The alert rule of a DELTA monitor, stated (``delta.RULE``)."""
    return RULE.format(level=1 - monitor.alpha, margin=monitor.delta_margin,
                       min_pairs=monitor.delta_min_pairs)


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def delta_look_values(session: Session, monitor: Monitor, as_of: date) -> dict:
    """The ``Look`` columns of a DELTA look at ``as_of`` (``signal``: the alert rule fired)."""
    cohort = load_group_window(session, monitor, as_of)
    try:
        with np.errstate(all="ignore"):
            result: DeltaResult = delta_look(
                cohort, monitor.window_days, day_number(as_of), alpha=monitor.alpha,
                margin=monitor.delta_margin, min_pairs=monitor.delta_min_pairs,
                caliper_sd=monitor.delta_caliper)
    except (np.linalg.LinAlgError, ValueError, PerfectSeparationError) as exc:  # separation or a singular fit
        raise ValidationFailed("The propensity model could not be fitted at this look.",
                               field="as_of") from exc
    lk = result.looks[0]
    pairs = lk.n_pairs
    return {
        "procedures": lk.n_treated,
        # the outcomes in the matched device procedures and in their matched comparators
        "observed": float(round(lk.risk_treated * pairs)) if pairs >= 2 else 0.0,
        "expected": float(round(lk.risk_control * pairs)) if pairs >= 2 else 0.0,
        "llr": 0.0,
        "critical_value": monitor.critical_value,
        "events_to_signal": None, "alpha_target": None, "alpha_spent": None,
        "pairs": pairs,
        "risk_device": _finite(lk.risk_treated),
        "risk_comparator": _finite(lk.risk_control),
        "risk_difference": _finite(lk.risk_difference),
        "rd_lower": _finite(lk.lower),
        "rd_upper": _finite(lk.upper),
        "max_abs_smd": _finite(lk.max_abs_smd),
        "signal": bool(lk.alert),
    }
