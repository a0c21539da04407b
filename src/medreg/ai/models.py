"""Tables of the AI domain: sealed evaluation databases, their immutable versions, cases, sealed labels,
and evaluation runs.

Labels live in their own table (``ai_eval_label``) that only the scoring code of ``service`` reads; no query,
route, page or export selects from it. Versions, cases, labels and runs are immutable once written: the ORM
refuses any UPDATE or DELETE of them (see ``_refuse_change``), and the services have no edit path.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from medreg.core.clock import utcnow
from medreg.core.db import Base


class EvalDatabase(Base):
    """An evaluation database (测评数据库) kept by the regulator or a designated test centre."""

    __tablename__ = "ai_eval_database"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    task: Mapped[str] = mapped_column(String(16))  # binary | multiclass | detection
    modality: Mapped[str] = mapped_column(String(60))  # e.g. CT, fundus photograph, ECG
    description: Mapped[str | None] = mapped_column(Text)
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvalVersion(Base):
    """One immutable version of a database: its cases, the Merkle root over them, its provenance."""

    __tablename__ = "ai_eval_version"
    __table_args__ = (UniqueConstraint("database_id", "number", name="uq_ai_eval_version_database_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    database_id: Mapped[int] = mapped_column(ForeignKey("ai_eval_database.id"), index=True)
    number: Mapped[int]
    provenance: Mapped[str] = mapped_column(Text)
    n_cases: Mapped[int]
    categories: Mapped[list | None] = mapped_column(JSON)  # multiclass: classes in order
    matching: Mapped[dict | None] = mapped_column(JSON)  # detection: the stated matching rule (public)
    metadata_fields: Mapped[list] = mapped_column(JSON)  # subgroup fields (sealed per case)
    merkle_root: Mapped[str] = mapped_column(String(64))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvalCase(Base):
    """A case of a version: its id (shown to registrants) and its sealed metadata and salt."""

    __tablename__ = "ai_eval_case"
    __table_args__ = (UniqueConstraint("version_id", "case_id", name="uq_ai_eval_case_version_case"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("ai_eval_version.id"), index=True)
    case_id: Mapped[str] = mapped_column(String(128))
    case_metadata: Mapped[dict] = mapped_column(JSON)  # sealed: may reveal the label (e.g. severity)
    salt: Mapped[str] = mapped_column(String(32))  # sealed: see medreg.ai.merkle


class EvalLabel(Base):
    """The sealed reference label of a case. Read only by ``service`` when scoring or verifying."""

    __tablename__ = "ai_eval_label"

    case_pk: Mapped[int] = mapped_column(ForeignKey("ai_eval_case.id"), primary_key=True)
    label: Mapped[str] = mapped_column(String(64))


class EvalLesion(Base):
    """The sealed reference lesions of a detection case (a list of locations, see schemas.CaseIn). Read
    only by ``service`` when scoring or verifying, like ``EvalLabel``."""

    __tablename__ = "ai_eval_lesion"

    case_pk: Mapped[int] = mapped_column(ForeignKey("ai_eval_case.id"), primary_key=True)
    lesions: Mapped[list] = mapped_column(JSON)


class EvalRun(Base):
    """A registrant's run of one algorithm version on one platform, scored against the sealed labels."""

    __tablename__ = "ai_eval_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("ai_eval_version.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    submitted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    algorithm_name: Mapped[str] = mapped_column(String(120))
    algorithm_version: Mapped[str] = mapped_column(String(60))
    platform: Mapped[dict] = mapped_column(JSON)  # hardware, os, accelerator, framework
    threshold: Mapped[float]
    outputs: Mapped[dict] = mapped_column(JSON)  # case_id -> score (or class); the registrant's own
    outputs_sha256: Mapped[str] = mapped_column(String(64))
    metrics: Mapped[dict] = mapped_column(JSON)  # aggregate report only
    code_version: Mapped[str] = mapped_column(String(40))
    result_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 of result_sha256
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class EvidencePack(Base):
    """The evidence for a change registration: a comparison of two runs (versions or platforms), the change
    described, and the triage decision, hashed and signed. ``registration_reference`` names the change
    registration case it supports (acceptance or certificate number; the case lives in premarket)."""

    __tablename__ = "ai_evidence_pack"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(24))  # version_change | platform_equivalence
    run_a_id: Mapped[int] = mapped_column(ForeignKey("ai_eval_run.id"))
    run_b_id: Mapped[int] = mapped_column(ForeignKey("ai_eval_run.id"))
    changes: Mapped[list] = mapped_column(JSON)
    evidence: Mapped[dict] = mapped_column(JSON)
    decision: Mapped[dict] = mapped_column(JSON)
    report: Mapped[dict] = mapped_column(JSON)
    registration_reference: Mapped[str | None] = mapped_column(String(64), index=True)
    pack_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvidenceCitation(Base):
    """A registrant cites an evidence pack on one of its change registration applications
    (``registration_application`` of ``medreg.premarket.registration``). Immutable once made."""

    __tablename__ = "ai_evidence_citation"
    __table_args__ = (UniqueConstraint("pack_id", "application_id", name="uq_ai_evidence_citation_pack_app"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pack_id: Mapped[int] = mapped_column(ForeignKey("ai_evidence_pack.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("registration_application.id"), index=True)
    cited_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


IMMUTABLE = (EvalVersion, EvalCase, EvalLabel, EvalLesion, EvalRun, EvidencePack, EvidenceCitation)


def _refuse_change(_mapper, _connection, target) -> None:
    raise PermissionError(f"{type(target).__name__} rows are immutable")


for _cls in IMMUTABLE:
    event.listen(_cls, "before_update", _refuse_change)
    event.listen(_cls, "before_delete", _refuse_change)
