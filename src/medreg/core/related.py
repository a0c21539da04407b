"""Related links between domains that may not import each other.

A page of a lower domain (e.g. a registration application in ``premarket``) can show links to pages of a
higher domain that refers to it (e.g. the AI evidence packs cited on that application) without importing
it: the higher domain registers a provider here at import time, the lower page asks for the links of its
record. A provider gets ``(session, actor, entity_id)`` and returns the links that actor may follow (an
empty list when there is nothing to show or the actor may not see it); it must not write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from medreg.core.actor import Actor


@dataclass(frozen=True)
class RelatedLink:
    href: str
    label: str  # an English msgid, marked with _() where the provider defines it
    count: int | None = None
    key: str = ""  # stable id for tests and styling
    detail: str = ""  # the record's own words shown after the label (a title, a date), not translated


Provider = Callable[[Session, Actor, int], list[RelatedLink]]
_PROVIDERS: dict[str, dict[str, Provider]] = {}


def register_related(entity_type: str, key: str, provider: Provider) -> None:
    """Add (or replace, by ``key``) a provider of links for records of ``entity_type``."""
    _PROVIDERS.setdefault(entity_type, {})[key] = provider


def related_links(session: Session, actor: Actor, entity_type: str, entity_id: int) -> list[RelatedLink]:
    """Every registered provider's links for this record, in key order."""
    out: list[RelatedLink] = []
    for key in sorted(_PROVIDERS.get(entity_type, {})):
        out.extend(_PROVIDERS[entity_type][key](session, actor, entity_id))
    return out
