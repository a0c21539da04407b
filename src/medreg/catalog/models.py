"""Tables of the catalogue: versions of the 医疗器械分类目录 and their rows.

A version is immutable once imported; a new import makes a new version (the rows of the sub-catalogues
the file does not cover are carried over from the version it is based on), so every entry's history is
the list of its rows across versions.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from medreg.catalog import catalogue
from medreg.catalog.catalogue import CatalogueEntry
from medreg.core.clock import utcnow
from medreg.core.db import Base, UTCDateTime


class CatalogVersion(Base):
    __tablename__ = "catalog_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(200), unique=True)
    source_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    rows: Mapped[int]
    subcatalogues: Mapped[str] = mapped_column(String(100))  # codes the source file covered, "01,04"
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_version.id"))
    is_current: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(100))


class CatalogEntry(Base):
    __tablename__ = "catalog_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("catalog_version.id"), index=True)
    row_no: Mapped[int]
    subcatalogue_code: Mapped[str] = mapped_column(String(2), index=True)
    subcatalogue_name: Mapped[str] = mapped_column(String(100))
    category1_code: Mapped[str] = mapped_column(String(8))
    category1_name: Mapped[str] = mapped_column(String(200))
    category2_code: Mapped[str] = mapped_column(String(12), index=True)
    category2_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    intended_use: Mapped[str] = mapped_column(Text)
    examples: Mapped[str] = mapped_column(Text)  # 品名举例 joined with 、
    management_class: Mapped[str] = mapped_column(String(3))
    source_section: Mapped[str] = mapped_column(String(100))
    parse_note: Mapped[str] = mapped_column(String(300))


class CatalogCrosswalkLink(Base):
    """A reviewer's decision on an NMPA category ↔ FDA product code link (candidates are computed)."""

    __tablename__ = "catalog_crosswalk_link"
    __table_args__ = (UniqueConstraint("category2_code", "product_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category2_code: Mapped[str] = mapped_column(String(12), index=True)
    product_code: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))  # confirmed | rejected
    score: Mapped[float | None] = mapped_column(Float)  # the automatic score when decided, if any
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class CatalogDeterminationRequest(Base):
    """A registrant's 分类界定 request: the description, the engine's opinion, the reviewer's decision."""

    __tablename__ = "catalog_determination_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    product_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[dict] = mapped_column(JSON)  # the DeviceDescription as submitted
    engine_opinion: Mapped[dict] = mapped_column(JSON)  # the engine's answer at submission
    status: Mapped[str] = mapped_column(String(16), index=True)
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_on: Mapped[date]
    decided_class: Mapped[str | None] = mapped_column(String(24))  # I | II | III | not_medical_device
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_on: Mapped[date | None]
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("electronic_signature.id"))
    published_on: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


def to_entry(r: CatalogEntry) -> CatalogueEntry:
    return CatalogueEntry(r.subcatalogue_code, r.subcatalogue_name, r.category1_code, r.category1_name,
                          r.category2_code, r.category2_name, r.description, r.intended_use,
                          catalogue.split_examples(r.examples), r.management_class, r.source_section,
                          r.parse_note, r.row_no)


def current_version(session: Session) -> CatalogVersion | None:
    return session.scalar(select(CatalogVersion).where(CatalogVersion.is_current.is_(True)))
