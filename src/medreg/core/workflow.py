"""The workflow helper: a transition table as data and a pure ``next_status``.

Each domain declares ONE table per case type::

    TABLE = TransitionTable({
        (Status.DRAFT, "submit"): (Status.SUBMITTED, {"registrant"}),
        ...
    })

and services call ``TABLE.next_status(current, action, actor_roles)`` before mutating anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from medreg.core.errors import InvalidTransition, PermissionDenied


@dataclass(frozen=True)
class Transition:
    source: str
    action: str
    target: str
    roles: frozenset[str]


class TransitionTable:
    def __init__(self, table: Mapping[tuple[Enum | str, str], tuple[Enum | str, Iterable[str]]]):
        self._rows: dict[tuple[str, str], Transition] = {}
        for (source, action), (target, roles) in table.items():
            s, t = _value(source), _value(target)
            self._rows[(s, action)] = Transition(s, action, t, frozenset(roles))

    def __iter__(self):
        return iter(self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(a for (_, a) in self._rows)

    @property
    def statuses(self) -> frozenset[str]:
        return frozenset({t.source for t in self} | {t.target for t in self})

    def get(self, status: Enum | str, action: str) -> Transition | None:
        return self._rows.get((_value(status), action))

    def next_status(self, status: Enum | str, action: str, roles: Iterable[str]) -> str:
        """The status after ``action``; raises if the action is not allowed now or not for these roles."""
        row = self.get(status, action)
        if row is None:
            raise InvalidTransition(
                "Action '{action}' is not possible while the case is '{status}'.",
                field="action", params={"action": action, "status": _value(status)},
                details={"status": _value(status), "action": action,
                         "allowed": sorted(self.allowed_actions(status))},
            )
        if not row.roles & frozenset(roles):
            raise PermissionDenied(
                "Action '{action}' needs one of the roles: {roles}.",
                field="action", params={"action": action, "roles": ", ".join(sorted(row.roles))},
                details={"status": row.source, "action": action, "roles": sorted(row.roles)},
            )
        return row.target

    def allowed_actions(self, status: Enum | str, roles: Iterable[str] | None = None) -> list[str]:
        s = _value(status)
        rs = None if roles is None else frozenset(roles)
        return sorted(
            t.action for t in self if t.source == s and (rs is None or t.roles & rs)
        )


def _value(x: Enum | str) -> str:
    return x.value if isinstance(x, Enum) else str(x)
