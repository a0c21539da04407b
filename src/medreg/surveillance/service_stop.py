"""Stopping a monitor: the monitoring centre ends an active monitor with its reasons (status
``stopped``; who, when and why stored and audited ``surveillance.monitor.stop``). A stopped monitor
takes no further look (``run_monitor`` refuses a monitor that is not active; ``run_monitors`` skips
it); its looks and alerts stay. A signalled or ended monitor has already stopped taking looks and is
refused (409)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from medreg.core import audit
from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.errors import Conflict, NotFound, ValidationFailed
from medreg.surveillance.access import require_centre
from medreg.surveillance.models import Monitor

__all__ = ["stop_monitor"]

FIELDS = ("status", "stopped_at", "stopped_by", "stop_reason")


def stop_monitor(session: Session, actor: Actor, monitor_id: int, reason: str) -> Monitor:
    require_centre(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Give the reasons for stopping the monitor.", field="reason")
    if len(reason) > 2000:
        raise ValidationFailed("At most {limit} characters.", field="reason", params={"limit": 2000})
    monitor = session.get(Monitor, monitor_id, with_for_update=True)
    if monitor is None:
        raise NotFound("No such monitor.", field="monitor_id")
    if monitor.status != "active":
        raise Conflict("The monitor is no longer active.", field="monitor")
    with audit.recorded_change(session, actor, "surveillance.monitor.stop", "surveillance_monitor", monitor,
                               FIELDS):
        monitor.status = "stopped"
        monitor.stopped_at = utcnow()
        monitor.stopped_by = actor.username
        monitor.stop_reason = reason
    return monitor
