"""Catalogue versions: load the shipped rows, import an official table as a new version (atomic).

Services never commit; the CLI / web entry point does. A failed validation raises before anything is
written, and any later error rolls the caller's transaction back, so an import is all or nothing.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from medreg.catalog import catalogue, crosswalk
from medreg.catalog.catalogue import CatalogueEntry, ParsedTable
from medreg.catalog.models import (
    CatalogCrosswalkLink,
    CatalogEntry,
    CatalogVersion,
    current_version,
    to_entry,
)
from medreg.core import audit
from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

MAX_PROBLEMS_SHOWN = 20


def _row(version_id: int, e: CatalogueEntry) -> CatalogEntry:
    return CatalogEntry(
        version_id=version_id, row_no=e.row_no, subcatalogue_code=e.subcatalogue_code,
        subcatalogue_name=e.subcatalogue_name, category1_code=e.category1_code,
        category1_name=e.category1_name, category2_code=e.category2_code, category2_name=e.category2_name,
        description=e.description, intended_use=e.intended_use, examples="、".join(e.examples),
        management_class=e.management_class, source_section=e.source_section, parse_note=e.parse_note)


def _new_version(session: Session, actor: Actor, entries: list[CatalogueEntry], *, label: str,
                 source_name: str, sha256: str) -> CatalogVersion:
    if session.scalar(select(CatalogVersion).where(CatalogVersion.sha256 == sha256)) is not None:
        raise Conflict("This file has already been imported.", field="file")
    if session.scalar(select(CatalogVersion).where(CatalogVersion.label == label)) is not None:
        raise Conflict("A catalogue version with this label exists.", field="label")
    base = current_version(session)
    covered = sorted({e.subcatalogue_code for e in entries})
    carried: list[CatalogueEntry] = []
    if base is not None:
        rows = session.scalars(select(CatalogEntry).where(CatalogEntry.version_id == base.id,
                                                          CatalogEntry.subcatalogue_code.not_in(covered)))
        carried = [to_entry(r) for r in rows]
        session.execute(update(CatalogVersion).where(CatalogVersion.id == base.id).values(is_current=False))
    version = CatalogVersion(label=label, source_name=source_name, sha256=sha256,
                             rows=len(entries) + len(carried), subcatalogues=",".join(covered),
                             based_on_id=base.id if base else None, is_current=True,
                             imported_by=actor.username)
    session.add(version)
    session.flush()
    session.add_all(_row(version.id, e) for e in [*carried, *entries])
    session.flush()
    audit.record(session, actor, "catalogue_imported", "catalog_version", version.id,
                 before={"version": base.label} if base else None,
                 after={"label": label, "source": source_name, "sha256": sha256, "rows": version.rows,
                        "subcatalogues": covered, "carried_over": len(carried)})
    return version


def load_shipped(session: Session, actor: Actor | None = None) -> CatalogVersion | None:
    """Load the shipped rows (sub-catalogues 01, 04) as a version once; None if already there."""
    data = catalogue.shipped_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if session.scalar(select(CatalogVersion).where(CatalogVersion.sha256 == digest)) is not None:
        return None
    return _new_version(session, actor or Actor.system(), list(catalogue.shipped_entries()),
                        label=catalogue.SHIPPED_VERSION,
                        source_name="medreg/data/nmpa-catalogue/catalogue.csv",
                        sha256=digest)


def import_table(session: Session, actor: Actor, parsed: ParsedTable, *, label: str, source_name: str,
                 sha256: str) -> CatalogVersion:
    """A validated table becomes the new current version (rows of other sub-catalogues carried over)."""
    if not (actor.has(Role.ADMIN) or actor.has(Role.REVIEWER)):
        raise PermissionDenied("Only an administrator or a reviewer may import the catalogue.")
    if not label.strip():
        raise ValidationFailed("A version label is required.", field="label")
    if parsed.problems or not parsed.entries:
        problems = parsed.problems or [catalogue.RowProblem(0, "file", "no rows")]
        raise ValidationFailed(
            "The catalogue file has {count} problem(s); nothing was imported.", field="file",
            params={"count": len(problems)},
            details={"problems": [p.__dict__ for p in problems[:MAX_PROBLEMS_SHOWN]]})
    return _new_version(session, actor, parsed.entries, label=label.strip(), source_name=source_name,
                        sha256=sha256)


DECISIONS = ("confirmed", "rejected")


def decide_link(session: Session, actor: Actor, category2_code: str, product_code: str, decision: str,
                note: str = "", expected_version: int | None = None) -> CatalogCrosswalkLink:
    """A reviewer confirms or rejects an NMPA category ↔ FDA product code link (audited)."""
    if not (actor.has(Role.REVIEWER) or actor.has(Role.ADMIN)):
        raise PermissionDenied("Only a reviewer may confirm or reject a crosswalk link.")
    if decision not in DECISIONS:
        raise ValidationFailed("The decision must be 'confirmed' or 'rejected'.", field="decision")
    version = current_version(session)
    has_code = session.scalar(select(CatalogEntry.id).where(CatalogEntry.version_id == version.id,
                                                            CatalogEntry.category2_code == category2_code)
                              .limit(1)) if version else None
    if has_code is None and not any(e.category2_code == category2_code for e in catalogue.shipped_entries()):
        raise NotFound("No catalogue entry {code}.", field="code", params={"code": category2_code})
    fda = {c.product_code: c for c in crosswalk.fda_codes()}
    if product_code not in fda:
        raise NotFound("No FDA product code {code}.", field="product_code", params={"code": product_code})
    link = session.scalar(select(CatalogCrosswalkLink).where(
        CatalogCrosswalkLink.category2_code == category2_code,
        CatalogCrosswalkLink.product_code == product_code))
    before = None
    if link is not None:
        if expected_version is not None and expected_version != link.version:
            raise Conflict("Someone else decided on this link meanwhile; reload and try again.",
                           field="expected_version")
        before = {"status": link.status, "note": link.note, "decided_by": link.decided_by}
        link.status, link.note, link.decided_by = decision, note, actor.username
    else:
        link = CatalogCrosswalkLink(category2_code=category2_code, product_code=product_code, status=decision,
                                    note=note, decided_by=actor.username)
        session.add(link)
    session.flush()
    audit.record(session, actor, "crosswalk_link_decided", "catalog_crosswalk_link", link.id, before=before,
                 after={"code": category2_code, "product_code": product_code, "status": decision,
                        "note": note})
    return link
