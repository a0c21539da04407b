"""Read side of the AI domain: the catalogue of evaluation databases and their public version facts.

Nothing here selects from ``ai_eval_label`` or returns case metadata or salts.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.ai.models import EvalDatabase, EvalVersion
from medreg.ai.schemas import DatabaseRead, VersionRead


def list_databases(session: Session) -> list[DatabaseRead]:
    rows = session.scalars(select(EvalDatabase).order_by(EvalDatabase.code))
    return [DatabaseRead.model_validate(r) for r in rows]


def list_versions(session: Session, database_id: int) -> list[VersionRead]:
    rows = session.scalars(select(EvalVersion).where(EvalVersion.database_id == database_id)
                           .order_by(EvalVersion.number))
    return [VersionRead.model_validate(r) for r in rows]
