"""Editing a monitor, and defining a new monitor that supersedes one (monitoring centre).

* The descriptive fields (``name``, ``notes``) may be edited at any time, whatever the status.
* The design (every other parameter of ``service_monitoring.create_monitor``: the device and group,
  outcome and window, reference period, registrant, alpha, T, M, looks, CUSUM, DELTA and binomial
  designs, the kind) may be edited only while the monitor is active and has taken no look: the
  edited design goes through the same checks as a new monitor's (``create_monitor(dry_run=True)``),
  its critical value is computed again, and the risk model (fitted at the first look) is cleared.
  After the first look the design is what the looks were judged by: an edit changing it is refused
  (409, naming the first changed field) and the centre defines a new monitor from this one
  (``supersede_monitor``): the new monitor records the one it supersedes, and the old one, if still
  active, is stopped with a reason naming the new one.
Every change is audited with its before and after (``surveillance.monitor.edit``,
``surveillance.monitor.supersede``, ``surveillance.monitor.stop``).
"""

from __future__ import annotations

import inspect
import math
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medreg.core import audit
from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.errors import Conflict, NotFound, ValidationFailed
from medreg.surveillance import service_stop
from medreg.surveillance.access import require_centre
from medreg.surveillance.models import Look, Monitor
from medreg.surveillance.monitor_design import look_plan, monitor_plan
from medreg.surveillance.service_monitoring import create_monitor

__all__ = ["DESCRIPTIVE", "design_of", "edit_monitor", "has_looked", "superseded_by", "supersede_monitor"]

DESCRIPTIVE = ("name", "notes")
LIMITS = {"name": 200, "notes": 4000}
LOOKS = ("planned_looks", "look_at")
# columns that are not the design: identity, description, state, the fitted model, the registry marker
NOT_DESIGN = {
    "id",
    "name",
    "notes",
    "status",
    "stopped_at",
    "stopped_by",
    "stop_reason",
    "created_at",
    "changed_from",
    "risk_model",
    "supersedes_id",
}


def _params() -> dict[str, inspect.Parameter]:
    """The design parameters ``create_monitor`` takes (a new one is editable without a change here)."""
    sig = inspect.signature(create_monitor)
    return {k: p for k, p in sig.parameters.items()
            if k not in ("session", "actor", "dry_run", *DESCRIPTIVE)}


def design_of(monitor: Monitor) -> dict[str, Any]:
    """The ``create_monitor`` arguments that define this monitor's design (its planned looks as
    fractions of T; a parameter the monitor's kind does not use is left at its default)."""
    out: dict[str, Any] = {}
    for key in _params():
        if key in LOOKS:
            continue
        value = getattr(monitor, key, None)
        if value is not None:
            out[key] = value
    plan = monitor_plan(monitor)
    if plan is not None:
        out["look_at"] = [x / monitor.sample_size for x in plan[:-1]] + [1.0]
    return out


def has_looked(session: Session, monitor_id: int) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Look).where(Look.monitor_id == monitor_id)))


def superseded_by(session: Session, monitor_id: int) -> Monitor | None:
    return session.scalar(select(Monitor).where(Monitor.supersedes_id == monitor_id))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
    return a == b


def _changed(monitor: Monitor, current: dict[str, Any], design: dict[str, Any]) -> list[str]:
    """The design fields whose requested value differs from the monitor's, in the request's order."""
    params = _params()
    out = []
    for key, value in design.items():
        if key in LOOKS:
            continue
        default = params[key].default
        if not _same(current.get(key, None if default is inspect.Parameter.empty else default), value):
            out.append(key)
    looks = [k for k in design if k in LOOKS]
    if looks:
        sample_size = float(design.get("sample_size", monitor.sample_size))
        planned, at = design.get("planned_looks"), design.get("look_at")
        try:
            wanted = look_plan(sample_size, planned, at)
        except ValidationFailed:
            wanted = ["refused"]  # a changed plan, refused with its reason if the design may change
        plan = monitor_plan(monitor)
        if (wanted is None) != (plan is None) or (
            wanted is not None
            and (len(wanted) != len(plan) or not all(_same(x, y) for x, y in zip(wanted, plan, strict=False)))
        ):
            out.append(looks[0])
    return out


def _descriptive(changes: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key in DESCRIPTIVE:
        if key not in changes:
            continue
        value = str(changes[key] or "").strip()
        if key == "name" and not value:
            raise ValidationFailed("This field is required.", field="name")
        if len(value) > LIMITS[key]:
            raise ValidationFailed("At most {limit} characters.", field=key, params={"limit": LIMITS[key]})
        out[key] = value or None
    return out


def edit_monitor(session: Session, actor: Actor, monitor_id: int, changes: dict[str, Any]) -> Monitor:
    """Apply ``changes`` (any of ``name``, ``notes`` and the design parameters of ``create_monitor``;
    ``planned_looks``/``look_at`` both None: continuous). 409 when the design would change after the
    first look or on a monitor no longer active; nothing written then."""
    require_centre(actor)
    params = _params()
    unknown = [k for k in changes if k not in DESCRIPTIVE and k not in params]
    if unknown:
        raise ValidationFailed("This field cannot be edited.", field=unknown[0])
    monitor = session.get(Monitor, monitor_id, with_for_update=True)
    if monitor is None:
        raise NotFound("No such monitor.", field="monitor_id")
    described = _descriptive(changes)
    # a design parameter given as None is not given (None means "continuous" for the looks only)
    design = {k: v for k, v in changes.items() if k not in DESCRIPTIVE and (v is not None or k in LOOKS)}
    current = design_of(monitor)
    changed = _changed(monitor, current, design)
    columns: dict[str, Any] = {}
    if changed:
        if has_looked(session, monitor.id):
            raise Conflict(
                "The monitor has taken its first look, so its design is fixed. Define a new monitor from "
                "this one: it will supersede this one, which is then stopped.",
                field=changed[0],
            )
        if monitor.status != "active":
            raise Conflict("The monitor is no longer active.", field="monitor")
        merged = {**current, **design}
        if "planned_looks" in design and "look_at" not in design:
            merged.pop("look_at", None)
        fresh = create_monitor(session, actor, name=monitor.name, **merged, dry_run=True)
        for col in Monitor.__table__.columns:
            if col.key in NOT_DESIGN:
                continue
            value = getattr(fresh, col.key, None)
            if value is None and not col.nullable:
                continue  # a column create_monitor leaves to its default
            columns[col.key] = value
        columns["risk_model"] = None  # fitted on the (new) reference period at the first look
    fields = tuple(described) + tuple(columns)
    if not fields:
        return monitor
    with audit.recorded_change(
        session, actor, "surveillance.monitor.edit", "surveillance_monitor", monitor, fields
    ):
        for key, value in {**described, **columns}.items():
            setattr(monitor, key, value)
    return monitor


def supersede_monitor(session: Session, actor: Actor, monitor_id: int, reason: str, **design: Any) -> Monitor:
    """Define a new monitor (``create_monitor``'s arguments, ``name`` included) superseding
    ``monitor_id``; the old monitor, if active, is stopped with ``reason`` and a link to the new one.
    A monitor is superseded once (409 the second time)."""
    require_centre(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Give the reasons for the new monitor.", field="reason")
    if len(reason) > 2000:
        raise ValidationFailed("At most {limit} characters.", field="reason", params={"limit": 2000})
    old = session.get(Monitor, monitor_id, with_for_update=True)
    if old is None:
        raise NotFound("No such monitor.", field="monitor_id")
    newer = superseded_by(session, old.id)
    if newer is not None:
        raise Conflict(
            "This monitor is already superseded by monitor {id}.", field="monitor", params={"id": newer.id}
        )
    notes = design.pop("notes", None)
    new = create_monitor(session, actor, **design)
    with audit.recorded_change(
        session,
        actor,
        "surveillance.monitor.supersede",
        "surveillance_monitor",
        new,
        ("supersedes_id", "notes"),
    ) as extra:
        new.supersedes_id = old.id
        new.notes = (str(notes).strip()[:4000] or None) if notes else None
        extra["reason"] = reason
    if old.status == "active":
        with audit.recorded_change(
            session, actor, "surveillance.monitor.stop", "surveillance_monitor", old, service_stop.FIELDS
        ) as extra:
            old.status = "stopped"
            old.stopped_at = utcnow()
            old.stopped_by = actor.username
            old.stop_reason = f"Superseded by monitor {new.id} ({new.name}): {reason}"
            extra["superseded_by"] = new.id
    return new
