"""Tables of real-world evidence studies: protocols registered (hashed, timestamped) before any
analysis, and the analyses run under them with the hash of their results."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String
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
