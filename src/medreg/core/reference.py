"""Reference data shipped as package data (``medreg/data/<folder>/`` with its SOURCE.md).

Rows are read from the files (pure) and loaded into tables so that pages and queries can join them.
Loading is idempotent: a data set whose file hash has not changed is left alone.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib.resources import files

from sqlalchemy import String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from medreg.core import audit
from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.db import Base
from medreg.core.errors import NotFound


class ReferenceDataset(Base):
    __tablename__ = "reference_dataset"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    source_file: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int]
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class LegalTimeLimit(Base):
    """One statutory time limit and the article that sets it (from nmpa-law/deadlines.csv)."""

    __tablename__ = "legal_time_limit"

    id: Mapped[int] = mapped_column(primary_key=True)
    law: Mapped[str] = mapped_column(String(120), index=True)
    article: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(Text)
    duty: Mapped[str] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(200))
    limit_value: Mapped[int]
    limit_unit: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)


class Subcatalogue(Base):
    """The 22 sub-catalogues of the 医疗器械分类目录 (CFDA 2017 No.104)."""

    __tablename__ = "nmpa_subcatalogue"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


@dataclass(frozen=True)
class TimeLimitRow:
    law: str
    article: str
    trigger: str
    duty: str
    who: str
    limit_value: int
    limit_unit: str
    notes: str


def _read(folder: str, name: str) -> bytes:
    return (files("medreg") / "data" / folder / name).read_bytes()


@lru_cache
def time_limits() -> tuple[TimeLimitRow, ...]:
    rows = csv.DictReader(io.StringIO(_read("nmpa-law", "deadlines.csv").decode("utf-8")))
    return tuple(
        TimeLimitRow(r["law"], r["article"], r["trigger"], r["duty"], r["who"], int(r["limit_value"]),
                     r["limit_unit"], r["notes"] or "")
        for r in rows
    )


def time_limit(law_prefix: str, article: str, trigger_contains: str = "") -> TimeLimitRow:
    """The one row of deadlines.csv for a law (prefix of its name), an article and a trigger phrase."""
    found = [r for r in time_limits() if r.law.startswith(law_prefix) and r.article == article
             and trigger_contains in r.trigger]
    if len(found) != 1:
        raise NotFound(f"{len(found)} time limits match {law_prefix} Art.{article} '{trigger_contains}'")
    return found[0]


@lru_cache
def subcatalogues() -> tuple[tuple[str, str], ...]:
    rows = csv.DictReader(io.StringIO(_read("nmpa-catalogue", "subcatalogues.csv").decode("utf-8")))
    return tuple((r["subcatalogue_code"], r["subcatalogue_name"]) for r in rows)


def load_all(session: Session, actor: Actor | None = None) -> dict[str, int]:
    """Load every shipped data set into its table; return rows per data set that changed."""
    actor = actor or Actor.system()
    loaded: dict[str, int] = {}
    datasets = [
        ("nmpa-law/deadlines", "nmpa-law", "deadlines.csv", LegalTimeLimit,
         lambda: [LegalTimeLimit(**r.__dict__) for r in time_limits()]),
        ("nmpa-catalogue/subcatalogues", "nmpa-catalogue", "subcatalogues.csv", Subcatalogue,
         lambda: [Subcatalogue(code=c, name=n) for c, n in subcatalogues()]),
    ]
    for name, folder, filename, model, build in datasets:
        digest = hashlib.sha256(_read(folder, filename)).hexdigest()
        current = session.scalar(select(ReferenceDataset).where(ReferenceDataset.name == name))
        if current is not None and current.sha256 == digest:
            continue
        session.execute(delete(model))
        rows = build()
        session.add_all(rows)
        before = {"sha256": current.sha256, "rows": current.rows} if current else None
        if current is None:
            current = ReferenceDataset(name=name, source_file=f"{folder}/{filename}", sha256=digest,
                                       rows=len(rows))
            session.add(current)
        else:
            current.sha256, current.rows, current.loaded_at = digest, len(rows), utcnow()
        session.flush()
        audit.record(session, actor, "reference_loaded", "reference_dataset", name, before=before,
                     after={"sha256": digest, "rows": len(rows)})
        loaded[name] = len(rows)
    return loaded
