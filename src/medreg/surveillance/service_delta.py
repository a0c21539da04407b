"""A DELTA monitor's look (``delta.py`` on the registry): the monitored DI against the comparator DIs
of its group, matched 1:1 on the propensity score, the cumulative risk difference of the outcome with
its confidence interval at the look's date (called by ``service_monitoring.run_monitor``).

Each look is computed from scratch on the procedures after the reference period whose outcome window
closed by the look's date and which are evaluable (the rule of the MaxSPRT counts, ``monitoring``): the
propensity model is refitted at every look, as in DELTA (Resnic et al. 2010). **Alert rule**
(``delta.RULE``): the lower limit of the two-sided ``1 - alpha`` confidence interval exceeds the
monitor's margin with at least ``delta_min_pairs`` matched pairs; ``alpha`` is per look.

With a spending design (``delta_spending``, ``delta_planned_pairs``; ``delta.SPENDING_RULE``) ``alpha``
is the overall one-sided false-alert probability: a look with at least ``delta_min_pairs`` pairs, and
more pairs than every earlier analysed look, is analysed at information ``pairs / planned pairs``
with the Lan-DeMets boundary ``c_k`` (``group_sequential``, recomputed from the analysed looks
stored), and its interval is the repeated confidence interval ``RD +/- c_k SE``. Other looks spend
nothing, have no interval and cannot alert. The monitor ends at the first look with the planned
pairs (with or without spending).
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
from scipy.stats import norm
from sqlalchemy import select
from sqlalchemy.orm import Session
from statsmodels.tools.sm_exceptions import PerfectSeparationError

from medreg.core.errors import ValidationFailed
from medreg.surveillance.cohort_load import load_group_window
from medreg.surveillance.delta import RULE, SPENDING_RULE, DeltaResult, repeated_interval
from medreg.surveillance.group_sequential import boundaries
from medreg.surveillance.models import Look, Monitor
from medreg.surveillance.monitor_design import check_delta_spending
from medreg.surveillance.monitoring import day_number, delta_look

__all__ = ["delta_design", "delta_ended", "delta_look_values", "delta_rule", "delta_summary"]

SPENDING_NAMES = {"obf": "O'Brien-Fleming-type", "pocock": "Pocock-type", "hsd": "Hwang-Shih-DeCani"}


def delta_design(alpha: float, margin: float, min_pairs: int, caliper: float, spending: str | None = None,
                 planned_pairs: int | None = None, gamma: float = -4.0) -> dict:
    """The columns of a DELTA monitor: its per-look critical value is the normal quantile of the
    two-sided interval (with alpha spending: the one-sided fixed-sample ``z_{1-alpha}``, each look
    storing its own boundary); T and M (MaxSPRT's) do not apply and are stored as 0."""
    check_delta_spending(alpha, spending, planned_pairs, min_pairs, gamma)
    cv = norm.isf(alpha) if spending else norm.ppf(1.0 - alpha / 2.0)
    return {"kind": "delta", "delta_margin": margin, "delta_min_pairs": min_pairs, "delta_caliper": caliper,
            "delta_spending": spending, "delta_planned_pairs": planned_pairs,
            "delta_hsd_gamma": gamma if spending == "hsd" else None,
            "critical_value": float(cv), "sample_size": 0.0, "min_events": 0,
            "planned_looks": None, "look_plan": None}


def delta_rule(monitor: Monitor) -> str:
    """The alert rule of a DELTA monitor, stated (``delta.RULE``, ``delta.SPENDING_RULE``)."""
    if monitor.delta_spending:
        name = SPENDING_NAMES[monitor.delta_spending]
        if monitor.delta_spending == "hsd":
            name += f" (gamma {monitor.delta_hsd_gamma:g})"
        return SPENDING_RULE.format(margin=monitor.delta_margin, min_pairs=monitor.delta_min_pairs,
                                    alpha=monitor.alpha, spending=name, planned=monitor.delta_planned_pairs)
    rule = RULE.format(level=1 - monitor.alpha, margin=monitor.delta_margin,
                       min_pairs=monitor.delta_min_pairs)
    if monitor.delta_planned_pairs:
        rule += f" The monitor ends at {monitor.delta_planned_pairs} matched pairs."
    return rule


def delta_summary(monitor: Monitor, values: dict) -> str:
    """The alert case's summary of a DELTA look that alerted ("" otherwise)."""
    if not values["signal"]:
        return ""
    summary = (f"{monitor.name}: matched risk difference {values['risk_difference']:.4f} "
               f"(CI {values['rd_lower']:.4f} to {values['rd_upper']:.4f}) > margin "
               f"{monitor.delta_margin:g}, {values['pairs']} pairs")
    if monitor.delta_spending:
        summary += (f"; repeated CI at boundary {values['critical_value']:.4f}, cumulative alpha spent "
                    f"{values['alpha_spent']:.5f}")
    return summary


def delta_ended(monitor: Monitor, look: Look) -> bool:
    """A look without an alert that reached the planned pairs ends the monitor."""
    return bool(monitor.delta_planned_pairs) and (look.pairs or 0) >= monitor.delta_planned_pairs


def _spending(session: Session, monitor: Monitor, pairs: int, rd: float, se: float) -> dict:
    """The boundary of this look from the alpha the analysed looks before it spent (recomputed from
    their stored information fractions; the recursion is deterministic, so their boundaries are the
    ones stored), and the repeated confidence interval at it."""
    prior = session.scalars(select(Look.info_fraction).where(
        Look.monitor_id == monitor.id, Look.nominal_alpha.is_not(None)).order_by(Look.look_no)).all()
    info = pairs / monitor.delta_planned_pairs
    can = pairs >= monitor.delta_min_pairs and math.isfinite(rd) and math.isfinite(se)
    gamma = monitor.delta_hsd_gamma if monitor.delta_hsd_gamma is not None else -4.0
    b = boundaries([*prior, info if info > 0 else 1e-12], monitor.alpha, monitor.delta_spending, gamma=gamma,
                   analysed=[True] * len(prior) + [can])[-1]
    out = {"info_fraction": info, "alpha_target": b.alpha_target, "alpha_spent": b.alpha_spent}
    if not b.analysed:  # spends nothing, no interval, no alert
        return {**out, "critical_value": monitor.critical_value, "nominal_alpha": None, "rd_lower": None,
                "rd_upper": None, "signal": False}
    lower, upper = repeated_interval(rd, se, b.critical_value)
    return {**out, "critical_value": b.critical_value, "nominal_alpha": b.nominal_alpha, "rd_lower": lower,
            "rd_upper": upper, "signal": bool(lower > monitor.delta_margin)}


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
    values = {
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
    if monitor.delta_planned_pairs:
        values["info_fraction"] = pairs / monitor.delta_planned_pairs
    if monitor.delta_spending:
        values.update(_spending(session, monitor, pairs, lk.risk_difference, lk.se))
    return values
