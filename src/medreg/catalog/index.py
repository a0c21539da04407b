"""The search index of the current catalogue version (kept per version), shared by queries and services:
the database's current version, or the shipped rows when no version was loaded."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.catalog import catalogue, search
from medreg.catalog.models import CatalogEntry, current_version, to_entry

_INDEXES: dict[object, search.Index] = {}


def current_index(session: Session | None) -> tuple[str, search.Index]:
    """(version label, search index) of the current catalogue."""
    version = current_version(session) if session is not None else None
    key = ("db", version.id, version.sha256) if version else ("shipped",)
    if key not in _INDEXES:
        if version is None:
            entries = catalogue.shipped_entries()
        else:
            rows = session.scalars(select(CatalogEntry).where(CatalogEntry.version_id == version.id)
                                   .order_by(CatalogEntry.id))
            entries = tuple(to_entry(r) for r in rows)
        _INDEXES[key] = search.Index(entries)
    return (version.label if version else catalogue.SHIPPED_VERSION), _INDEXES[key]
