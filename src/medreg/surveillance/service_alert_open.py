"""Alert cases of a monitor, announced to the higher domains: the MaxSPRT/DELTA signal's (opened by
``service_monitoring``) and the risk-adjusted CUSUM's first crossing of h (opened here). Each opening
is announced through ``core.events`` (signals opens or joins a signal case, which the alert follows).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from medreg.core import audit, events
from medreg.core.actor import Actor
from medreg.surveillance.models import AlertCase, Look, Monitor
from medreg.surveillance.states import AlertStatus

__all__ = ["CUSUM_STATS", "LOOK_STATS", "announce_alert", "open_cusum_alert"]


LOOK_STATS = ("procedures", "observed", "expected", "llr", "critical_value", "alpha_spent", "pairs",
              "risk_device", "risk_comparator", "risk_difference", "rd_lower", "rd_upper")
CUSUM_STATS = ("cusum_procedures", "cusum_observed", "cusum_expected", "cusum_value", "cusum_peak",
               "cusum_h", "cusum_crossed_at")


def open_cusum_alert(session: Session, actor: Actor, monitor: Monitor, look: Look,
                     value: float | None) -> None:
    """The CUSUM crossed h (first time for this monitor): an alert case like a MaxSPRT signal's, with
    the statistic, h and the procedure at which it crossed; announced to signals. A CUSUM alarm does not
    end the monitor: its MaxSPRT goes on (docs/surveillance.md)."""
    r0, ra = monitor.cusum_null_odds_ratio, monitor.cusum_odds_ratio
    summary = (f"{monitor.name}: risk-adjusted CUSUM {value:.3f} >= h {look.cusum_h:.3f} at procedure "
               f"{look.cusum_crossed_at} (R_0 {r0:g}, R_A {ra:g}; {look.cusum_observed:g} {monitor.outcome} "
               f"observed vs {look.cusum_expected:.2f} expected at the look)")
    alert = AlertCase(monitor_id=monitor.id, look_id=look.id, status=AlertStatus.OPEN, summary=summary,
                      statistic="cusum")
    session.add(alert)
    session.flush()
    stats = _cusum_stats(monitor, look, value)
    audit.record(session, actor, "surveillance.alert.open", "surveillance_alert", alert.id,
                 after={"monitor_id": monitor.id, "look_no": look.look_no, "statistic": "cusum", **stats})
    announce_alert(session, actor, monitor, look, alert, stats)


def _cusum_stats(monitor: Monitor, look: Look, value: float | None) -> dict:
    """The statistics a CUSUM alert carries to its signal case (``value``: the CUSUM at the crossing)."""
    return {"procedures": look.cusum_procedures, "observed": look.cusum_observed,
            "expected": look.cusum_expected, "cusum": value, "cusum_h": look.cusum_h,
            "cusum_crossed_at": look.cusum_crossed_at, "cusum_value": look.cusum_value,
            "cusum_odds_ratio": monitor.cusum_odds_ratio,
            "cusum_null_odds_ratio": monitor.cusum_null_odds_ratio}


def announce_alert(session: Session, actor: Actor, monitor: Monitor, look: Look, alert: AlertCase,
              stats: dict | None = None) -> int:
    """Tell the higher domains (signals opens a signal case) that the monitor signalled, in this unit of
    work: ``core.events``, since surveillance may not import signals. The alert's ``statistic``:
    "monitor" (its MaxSPRT or DELTA) or "cusum" (its risk-adjusted CUSUM crossed h), with the statistics
    of that test. The number of handlers run."""
    statistic = alert.statistic or "monitor"
    # an alert raised later (``service_alerts.raise_signal_case``) carries the look's peak, which is at
    # least the value at the crossing (not stored)
    if stats is None:
        stats = (_cusum_stats(monitor, look, look.cusum_peak) if statistic == "cusum"
                 else {k: getattr(look, k) for k in LOOK_STATS})
    return events.publish(session, actor, events.MONITOR_SIGNALLED, {
        "monitor_id": monitor.id, "alert_id": alert.id, "look_id": look.id, "look_no": look.look_no,
        "as_of": look.as_of.isoformat(), "kind": monitor.kind, "monitor_name": monitor.name,
        "udi_di": monitor.udi_di, "registrant_org_id": monitor.registrant_org_id, "outcome": monitor.outcome,
        "summary": alert.summary, "statistic": statistic,
        "stats": stats})
