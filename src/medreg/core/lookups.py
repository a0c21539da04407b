"""Code look-ups between domains that may not import each other (the pattern of ``core/related.py``).

A domain that records a code kept by a sibling domain (registration records the 医疗器械分类目录 product
category that ``catalog`` keeps; import-linter forbids either importing the other) asks here whether the
code exists. The keeper registers one resolver per kind of code at import time. A resolver gets
``(session, code)`` and returns a :class:`Lookup`; it must not write. Nobody registered, or a keeper that
cannot tell (no rows for that part of the code system), answers ``known=None``: the caller then checks
only what it can check itself (format, consistency) and says so in its docs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

# The 一级 (NN-NN) or 二级 (NN-NN-NN) product category of the current 医疗器械分类目录 (kept by catalog).
NMPA_CATEGORY = "nmpa_catalogue_category"


@dataclass(frozen=True)
class Lookup:
    known: bool | None  # True: the code exists; False: it does not; None: the keeper cannot tell
    name: str = ""  # the code's name where known (e.g. 手术控制系统)
    source: str = ""  # what answered (e.g. the catalogue version label)


Resolver = Callable[[Session | None, str], Lookup]
_RESOLVERS: dict[str, Resolver] = {}


def register_lookup(kind: str, resolver: Resolver) -> None:
    """Set (or replace) the resolver of one kind of code."""
    _RESOLVERS[kind] = resolver


def look_up(session: Session | None, kind: str, code: str) -> Lookup:
    """The registered resolver's answer, or ``Lookup(None)`` when none is registered."""
    resolver = _RESOLVERS.get(kind)
    return resolver(session, code) if resolver is not None else Lookup(None)
