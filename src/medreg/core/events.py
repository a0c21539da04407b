"""In-transaction domain events between domains that may not import each other (the pattern of
``core/related.py`` and ``core/lookups.py``).

A lower domain announces that something happened (surveillance: a monitor signalled) with
:func:`publish`, inside its own unit of work; a higher domain that cares (signals: open a signal case)
registers a handler with :func:`subscribe` at import time. Handlers run synchronously, in the same
session and transaction as the publisher: they may write (and audit) but never commit, so the event and
its consequences are stored together or not at all. Nobody subscribed: publishing does nothing.
A handler gets ``(session, actor, payload)`` and returns nothing; an exception rolls the publisher back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from medreg.core.actor import Actor

# surveillance: a sequential monitor's look crossed its boundary (payload: see surveillance docs)
MONITOR_SIGNALLED = "surveillance.monitor.signalled"
# signals: a signal case was opened, had a look appended, or moved (payload: ``case_id``, ``action``,
# ``status`` - one of the signal workflow's states -, ``reason``, ``decision``, ``look_ids``: the
# surveillance looks whose statistics the case holds); surveillance makes its alert cases follow it
SIGNAL_CASE_MOVED = "signals.case.moved"

Handler = Callable[[Session, Actor, Mapping[str, Any]], None]
_HANDLERS: dict[str, dict[str, Handler]] = {}


def subscribe(name: str, key: str, handler: Handler) -> None:
    """Add (or replace, by ``key``) a handler of the events called ``name``."""
    _HANDLERS.setdefault(name, {})[key] = handler


def unsubscribe(name: str, key: str) -> None:
    """Remove a handler (tests)."""
    _HANDLERS.get(name, {}).pop(key, None)


def publish(session: Session, actor: Actor, name: str, payload: Mapping[str, Any]) -> int:
    """Run every handler of ``name`` in key order, in the caller's transaction; the number run."""
    handlers = _HANDLERS.get(name, {})
    for key in sorted(handlers):
        handlers[key](session, actor, payload)
    return len(handlers)
