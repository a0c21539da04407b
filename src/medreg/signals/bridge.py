"""Surveillance monitors feed the signal workflow: a monitor that signals opens (or adds to) a signal case.

Surveillance may not import signals (import-linter layers), so it announces a crossing with
``core.events.publish(MONITOR_SIGNALLED)`` inside the unit of work of the look; :func:`monitor_signalled`
handles it in the same transaction. The case is worked like any signal case (states.TABLE): the device
is the monitor's UDI-DI (``device_level`` udi-di), the event its outcome, the registrant the monitor's,
the registration certificate the one a registrant declared for that DI (never inferred). The look's
statistics are appended as a ``SignalStat`` (``look_id``, ``look_stats``); an open case of the same
device and outcome raised by a monitor gets the next monitor's statistics appended instead of a second
case. Idempotent: an alert already appended to a case is not appended again (a look may raise
two alerts, its MaxSPRT signal and its CUSUM crossing: the payload's ``statistic``).

The signal case is THE workflow of the signal: the surveillance alert case (its surveillance-side record)
follows it. Every opening, appended look and transition is announced (``service.announce``,
``core.events.SIGNAL_CASE_MOVED``) and ``surveillance.service_alerts`` (imported here, so it is
subscribed wherever this bridge is) makes the alerts of the case's looks take its state, audited. The
monitor's page, the alert list and the alert's page link the signal case through ``core.related``.
Registered at import (``signals.jobs`` imports this module, as the CLI, web app and worker load it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core import audit, events
from medreg.core.actor import Actor
from medreg.core.i18n import _
from medreg.core.related import RelatedLink, register_related
from medreg.signals.models import SignalCase, SignalStat
from medreg.signals.queries import visible_cases
from medreg.signals.service import announce
from medreg.signals.states import OPEN, Status
from medreg.surveillance import service_alerts  # noqa: F401 (subscribes the alerts to their signal case)
from medreg.surveillance.models import AlertCase, Look
from medreg.surveillance.queries import device_certificate

SOURCE_MONITOR = "surveillance_monitor"
LEVEL_UDI_DI = "udi-di"


def monitor_signalled(session: Session, actor: Actor, payload: Mapping[str, Any]) -> None:
    """Open the signal case of a monitor's signal (or append to the open one), audited."""
    look_id = int(payload["look_id"])
    # one look may raise two alerts (its MaxSPRT and its CUSUM): each is appended once
    held = [(case_id, s or {}) for case_id, s in session.execute(
        select(SignalStat.case_id, SignalStat.look_stats).where(SignalStat.look_id == look_id))]
    for case_id, s in held:
        if s.get("alert_id", payload["alert_id"]) == payload["alert_id"]:
            # this alert is already in a case: only make sure it follows it
            announce(session, actor, session.get(SignalCase, case_id), "stats")
            return
    device, event = str(payload["udi_di"]), str(payload["outcome"])
    case = session.scalar(select(SignalCase).where(
        SignalCase.source == SOURCE_MONITOR, SignalCase.device_level == LEVEL_UDI_DI,
        SignalCase.device == device, SignalCase.event == event,
        SignalCase.status.in_([s.value for s in OPEN])).order_by(SignalCase.id))
    if case is None:
        cert = device_certificate(session, actor, device)
        case = SignalCase(source=SOURCE_MONITOR, device_level=LEVEL_UDI_DI, device=device, event=event,
                          status=Status.NEW.value, criteria=str(payload["summary"])[:200],
                          owner_org_id=payload.get("registrant_org_id"),
                          monitor_id=int(payload["monitor_id"]), alert_id=int(payload["alert_id"]),
                          registration_number=cert.number if cert else None)
        session.add(case)
        session.flush()
        audit.record(session, actor, "signals.case.open", "signals_case", case.id,
                     after={"source": SOURCE_MONITOR, "device_level": LEVEL_UDI_DI, "device": device,
                            "event": event, "monitor_id": case.monitor_id, "alert_id": case.alert_id,
                            "registration_number": case.registration_number, "criteria": case.criteria})
    elif case.owner_org_id is None and payload.get("registrant_org_id") is not None:
        case.owner_org_id = payload["registrant_org_id"]
    stats = dict(payload["stats"])
    cusum = payload.get("statistic") == "cusum"
    label = (f"{payload['monitor_name']}: look {payload['look_no']} ({payload['as_of']})"
             f"{', CUSUM' if cusum else ''}")[:120]
    stat = SignalStat(case_id=case.id, run_label=label, n11=int(round(stats.get("observed") or 0)),
                      expected=stats.get("expected"), look_id=look_id,
                      look_stats=stats | {"kind": payload["kind"], "monitor_id": payload["monitor_id"],
                                          "statistic": payload.get("statistic", "monitor"),
                                          "alert_id": payload["alert_id"], "as_of": payload["as_of"]})
    session.add(stat)
    session.flush()
    audit.record(session, actor, "signals.case.stats", "signals_case", case.id,
                 after={"monitor_id": payload["monitor_id"], "look_id": look_id, "stat_id": stat.id,
                        "n11": stat.n11, "expected": stat.expected, "llr": stats.get("llr"),
                        **({"cusum": stats.get("cusum"), "cusum_h": stats.get("cusum_h")} if cusum else {})})
    announce(session, actor, case, "stats")  # the new alert follows the case (its state may be on)


def _cases(session: Session, actor: Actor, *where) -> list[RelatedLink]:
    stmt = visible_cases(actor)
    if stmt is None:
        return []
    cases = session.scalars(stmt.where(*where).order_by(SignalCase.id)).all()
    return [RelatedLink(href=f"/signals/{c.id}", label=_("Signal case"), key="signal-case",
                        detail=f"{c.id} ({c.status})") for c in cases]


def monitor_links(session: Session, actor: Actor, monitor_id: int) -> list[RelatedLink]:
    """The signal cases holding a look of the monitor, that the actor may see."""
    looks = select(SignalStat.case_id).join(Look, Look.id == SignalStat.look_id).where(
        Look.monitor_id == monitor_id)
    return _cases(session, actor, SignalCase.id.in_(looks))


def alert_links(session: Session, actor: Actor, alert_id: int) -> list[RelatedLink]:
    """The signal case holding the look of the alert, that the actor may see."""
    looks = select(SignalStat.case_id).join(AlertCase, AlertCase.look_id == SignalStat.look_id).where(
        AlertCase.id == alert_id)
    return _cases(session, actor, SignalCase.id.in_(looks))


events.subscribe(events.MONITOR_SIGNALLED, "signals", monitor_signalled)
register_related("surveillance_monitor", "signal-case", monitor_links)
register_related("surveillance_alert", "signal-case", alert_links)
