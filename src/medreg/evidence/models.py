"""Tables of real-world evidence studies: protocols registered (hashed, timestamped) before any
analysis, and the analyses run under them with the hash of their results."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medreg.core.clock import utcnow
from medreg.core.db import Base


class RegisteredProtocol(Base):
    __tablename__ = "evidence_protocol"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    device_group: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict] = mapped_column(JSON)  # the protocol as registered (canonical JSON parsed)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    registered_by: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)


class StudyAnalysis(Base):
    __tablename__ = "evidence_analysis"

    id: Mapped[int] = mapped_column(primary_key=True)
    protocol_id: Mapped[int] = mapped_column(ForeignKey("evidence_protocol.id"), index=True)
    protocol_sha256: Mapped[str] = mapped_column(String(64))
    data_cutoff: Mapped[date]
    results: Mapped[dict] = mapped_column(JSON)
    results_sha256: Mapped[str] = mapped_column(String(64))
    run_by: Mapped[str] = mapped_column(String(64))
    run_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvidenceCitation(Base):
    """An analysis cited as real-world evidence in a registration or change-registration application.

    The application is premarket's; the link is evidence's (premarket does not know about studies). Both
    hashes are copied, so the citation names exactly the protocol and the results it relied on."""

    __tablename__ = "evidence_citation"
    __table_args__ = (UniqueConstraint("analysis_id", "application_id", name="uq_evidence_citation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("evidence_analysis.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("registration_application.id"), index=True)
    protocol_sha256: Mapped[str] = mapped_column(String(64))
    results_sha256: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    cited_by: Mapped[str] = mapped_column(String(64))
    cited_at: Mapped[datetime] = mapped_column(default=utcnow)
