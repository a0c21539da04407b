"""Tables of adverse-event reporting: the case, its versions (initial / follow-up / final) and the
IMDRF codes of its current content.

The case carries the current report's key fields as columns (device identity, outcome, dates, clocks) so
that lists, signal detection and duplicate search read one row per report; the full form of each
version is kept as validated JSON (``schemas.ReportContent``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medreg.core.clock import utcnow
from medreg.core.db import Base
from medreg.vigilance.states import Status

CASE_FIELDS = (
    "status",
    "reporter_org_id",
    "reporter_role",
    "registrant_org_id",
    "province",
    "outcome",
    "overseas",
    "cluster",
    "aware_at",
    "event_date",
    "device_name",
    "registration_number",
    "udi_di",
    "model",
    "lot_number",
    "serial_number",
    "first_submitted_at",
    "report_due_at",
    "late",
    "evaluation_due_at",
    "final_submitted_at",
    "evaluation_late",
    "return_reason",
    "latest_version_no",
    "quality_score",
    "duplicate_of_id",
)


class VigilanceCase(Base):
    """One suspected adverse event (可疑医疗器械不良事件), from the first report to the final one."""

    __tablename__ = "vigilance_case"
    __table_args__ = (
        Index("ix_vigilance_case_device", "registration_number", "lot_number"),
        Index("ix_vigilance_case_udi_di", "udi_di"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default=Status.DRAFT, index=True)
    reporter_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    reporter_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reporter_role: Mapped[str | None] = mapped_column(String(20))
    registrant_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    province: Mapped[str | None] = mapped_column(String(32), index=True)
    outcome: Mapped[str | None] = mapped_column(String(20), index=True)
    overseas: Mapped[bool] = mapped_column(default=False)
    cluster: Mapped[bool] = mapped_column(default=False)
    aware_at: Mapped[datetime | None]
    event_date: Mapped[date | None] = mapped_column(index=True)
    device_name: Mapped[str | None] = mapped_column(String(200))
    registration_number: Mapped[str | None] = mapped_column(String(40))
    udi_di: Mapped[str | None] = mapped_column(String(14))
    model: Mapped[str | None] = mapped_column(String(200))
    lot_number: Mapped[str | None] = mapped_column(String(80))
    serial_number: Mapped[str | None] = mapped_column(String(80))
    first_submitted_at: Mapped[datetime | None]
    report_due_at: Mapped[datetime | None]  # the earliest statutory report duty (deadlines.py)
    late: Mapped[bool | None]  # first submission after report_due_at
    evaluation_due_at: Mapped[datetime | None]  # Order 1 Art.29
    final_submitted_at: Mapped[datetime | None]
    evaluation_late: Mapped[bool | None]
    return_reason: Mapped[str | None] = mapped_column(Text)
    quality_score: Mapped[int | None]  # quality.score of the current version, refreshed on every save
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("vigilance_case.id"), index=True)
    latest_version_no: Mapped[int] = mapped_column(default=1)
    # The background import job (core.jobs) that filed it, if any: lets a cancelled or finally failed
    # import remove what it inserted (bulk.rollback_import). No foreign key: jobs are the kernel's.
    import_job_id: Mapped[int | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    versions: Mapped[list[VigilanceReportVersion]] = relationship(
        back_populates="case", order_by="VigilanceReportVersion.version_no", cascade="all, delete-orphan"
    )


class VigilanceReportVersion(Base):
    """One version of the form: the initial report, a follow-up (补充报告) or the final evaluation."""

    __tablename__ = "vigilance_report_version"
    __table_args__ = (UniqueConstraint("case_id", "version_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("vigilance_case.id", ondelete="CASCADE"), index=True)
    version_no: Mapped[int]
    kind: Mapped[str] = mapped_column(String(12))  # states.VersionKind
    content: Mapped[dict] = mapped_column(JSON)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]

    case: Mapped[VigilanceCase] = relationship(back_populates="versions")


class VigilanceReportCode(Base):
    """The IMDRF codes of a case's current content, one row per (field, code), for counting."""

    __tablename__ = "vigilance_report_code"
    __table_args__ = (UniqueConstraint("case_id", "field", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("vigilance_case.id", ondelete="CASCADE"), index=True)
    version_no: Mapped[int]
    field: Mapped[str] = mapped_column(String(32))
    annex: Mapped[str] = mapped_column(String(1))
    code: Mapped[str] = mapped_column(String(8), index=True)


class VigilanceDuplicateDecision(Base):
    """A reviewer's decision on a likely duplicate pair (``case_a_id`` < ``case_b_id``)."""

    __tablename__ = "vigilance_duplicate_decision"
    __table_args__ = (UniqueConstraint("case_a_id", "case_b_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_a_id: Mapped[int] = mapped_column(ForeignKey("vigilance_case.id", ondelete="CASCADE"), index=True)
    case_b_id: Mapped[int] = mapped_column(ForeignKey("vigilance_case.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(10))  # "merged" | "dismissed"
    score: Mapped[float]
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
