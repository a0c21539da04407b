"""Tables of the innovative special review (NMPA 2018 No.83; CMDE Notice 2025 No.7)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medreg.core import files as _files  # noqa: F401  (the stored_file table of the FK below)
from medreg.core.accounts import Organisation
from medreg.core.clock import utcnow
from medreg.core.db import Base
from medreg.premarket.innovation.states import Status


class TerminationGround(enum.StrEnum):
    """No.83 Art.22: the grounds on which NMPA may terminate the procedure."""

    APPLICANT_REQUEST = "applicant_request"  # (一) 申请人主动要求终止
    OBLIGATIONS_NOT_MET = "obligations_not_met"  # (二) 未按规定的时间及要求履行相应义务
    FALSE_DOCUMENTS = "false_documents"  # (三) 提供伪造和虚假资料
    PATENT_APPLICATIONS_REJECTED = "patent_applications_rejected"  # (四) 全部核心专利申请被驳回或视为撤回
    PATENT_RIGHTS_LOST = "patent_rights_lost"  # (五) 失去全部核心技术发明专利专利权或者使用权
    NO_LONGER_A_DEVICE = "no_longer_a_device"  # (六) 不再作为医疗器械管理
    EXPERT_MEETING_DECISION = "expert_meeting_decision"  # (七) 经专家审查会议讨论确定不宜再按照本程序管理


TERMINATION_ITEMS = {
    g: f"No.83 Art.22({n})"
    for g, n in zip(TerminationGround, ("一", "二", "三", "四", "五", "六", "七"), strict=True)
}


class InnovationApplication(Base):
    __tablename__ = "innovation_application"

    id: Mapped[int] = mapped_column(primary_key=True)
    acceptance_no: Mapped[str | None] = mapped_column(String(16), unique=True)  # No.83 Art.6
    registrant_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    product_name: Mapped[str] = mapped_column(String(200))
    product_name_en: Mapped[str | None] = mapped_column(String(200))
    intended_use: Mapped[str | None] = mapped_column(Text)  # No.83 Art.4(4)1
    working_principle: Mapped[str | None] = mapped_column(Text)  # No.83 Art.4(4)2
    technical_field: Mapped[str | None] = mapped_column(String(100))  # for expert matching (CMDE Art.9(2))
    proposed_class: Mapped[str | None] = mapped_column(String(3))  # "II" | "III" (No.83 Art.4)
    determined_class: Mapped[str | None] = mapped_column(String(3))  # No.83 Art.12
    # No.83 Art.2(3): all three are required.
    domestically_first: Mapped[bool] = mapped_column(default=False)
    internationally_leading: Mapped[bool] = mapped_column(default=False)
    significant_clinical_value: Mapped[bool] = mapped_column(default=False)
    innovation_statement: Mapped[str | None] = mapped_column(Text)
    # No.83 Art.2(1), CMDE Art.7(3).
    patent_kind: Mapped[str | None] = mapped_column(String(40))
    patent_number: Mapped[str | None] = mapped_column(String(32))
    patent_grant_date: Mapped[date | None]
    search_report_no: Mapped[str | None] = mapped_column(String(64))
    search_report_confirms: Mapped[bool] = mapped_column(default=False)
    avoidance_request: Mapped[str | None] = mapped_column(Text)  # CMDE Art.7(13)2
    status: Mapped[str] = mapped_column(String(32), default=Status.DRAFT, index=True)
    province: Mapped[str | None] = mapped_column(String(32), index=True)  # the applicant's, at submission
    supplement_request: Mapped[str | None] = mapped_column(Text)
    supplement_requested_at: Mapped[datetime | None]
    province_opinion: Mapped[str | None] = mapped_column(Text)  # No.83 Art.5 初审意见
    conclusion_reasons: Mapped[str | None] = mapped_column(Text)
    submitted_on: Mapped[date | None]
    accepted_on: Mapped[date | None]
    decided_on: Mapped[date | None]
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    decision_signature_id: Mapped[int | None] = mapped_column(ForeignKey("electronic_signature.id"))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    termination_ground: Mapped[str | None] = mapped_column(String(40))
    termination_reasons: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    registrant: Mapped[Organisation] = relationship(lazy="joined")
    documents: Mapped[list[ApplicationDocument]] = relationship(
        back_populates="application", order_by="ApplicationDocument.id"
    )
    notices: Mapped[list[PublicNotice]] = relationship(
        back_populates="application", order_by="PublicNotice.id"
    )


class ApplicationDocument(Base):
    __tablename__ = "innovation_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("innovation_application.id"), index=True)
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"))
    doc_type: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    application: Mapped[InnovationApplication] = relationship(back_populates="documents")


class PublicNotice(Base):
    """No.83 Art.10, CMDE Art.20: the applicant and product name on the CMDE website."""

    __tablename__ = "innovation_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("innovation_application.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_on: Mapped[date | None]

    application: Mapped[InnovationApplication] = relationship(back_populates="notices", lazy="joined")
    objections: Mapped[list[Objection]] = relationship(back_populates="notice", order_by="Objection.id")


class Objection(Base):
    """CMDE Art.24-27: an objection filed within the notice period, answered by the office."""

    __tablename__ = "innovation_objection"
    __table_args__ = (Index("ix_innovation_objection_open", "notice_id", "answered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("innovation_notice.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    organisation: Mapped[str | None] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    notice: Mapped[PublicNotice] = relationship(back_populates="objections")


class AcceptanceCounter(Base):
    """The next CQTS serial per year (No.83 Art.6), locked while numbering."""

    __tablename__ = "innovation_acceptance_counter"
    __table_args__ = (UniqueConstraint("year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    last_serial: Mapped[int] = mapped_column(default=0)
