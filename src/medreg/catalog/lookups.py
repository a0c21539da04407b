"""The catalogue's answer to ``medreg.core.lookups`` (registered when ``medreg.catalog`` is imported):
does a 一级 (``NN-NN``) or 二级 (``NN-NN-NN``) product category exist in the current catalogue?

The current catalogue is the database's current version, or the shipped rows when no version was loaded
(as everywhere in catalog). A version that has no row of the code's sub-catalogue cannot tell (the shipped
rows cover only 01 and 04): the answer is then ``known=None``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.catalog import catalogue
from medreg.catalog.models import CatalogEntry, current_version
from medreg.core.lookups import NMPA_CATEGORY, Lookup, register_lookup


def _rows(session: Session | None, sub: str) -> tuple[str, list[tuple[str, str, str, str]]]:
    """(version label, [(category1_code, category1_name, category2_code, category2_name)]) of one
    sub-catalogue in the current catalogue."""
    version = current_version(session) if session is not None else None
    if version is None:
        return catalogue.SHIPPED_VERSION, [(e.category1_code, e.category1_name, e.category2_code,
                                            e.category2_name) for e in catalogue.shipped_entries()
                                           if e.subcatalogue_code == sub]
    e = CatalogEntry
    rows = session.execute(select(e.category1_code, e.category1_name, e.category2_code, e.category2_name)
                           .where(e.version_id == version.id, e.subcatalogue_code == sub))
    return version.label, [tuple(r) for r in rows]


def category(session: Session | None, code: str) -> Lookup:
    label, rows = _rows(session, code[:2])
    if not rows:
        return Lookup(None, source=label)
    level = 2 if code.count("-") == 2 else 1
    names = {(r[2] if level == 2 else r[0]): (r[3] if level == 2 else r[1]) for r in rows}
    return Lookup(code in names, names.get(code, ""), label)


register_lookup(NMPA_CATEGORY, category)
