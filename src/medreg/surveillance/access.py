"""Who may act on surveillance data (shared by service and queries)."""

from __future__ import annotations

from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.errors import PermissionDenied

__all__ = ["is_centre", "require_centre"]


def is_centre(actor: Actor) -> bool:
    """The monitoring centre (and administrators) see and act on every sentinel site."""
    return actor.has(Role.MONITORING_CENTRE) or actor.has(Role.ADMIN)


def require_centre(actor: Actor) -> None:
    if not is_centre(actor):
        raise PermissionDenied("Only the monitoring centre may do this.")
