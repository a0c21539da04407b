"""Tables of registration (SAMR Order 47, 2021): applications, certificates, change documents,
post-approval obligations of conditional approvals, consultations (沟通交流)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medreg.core.accounts import Organisation
from medreg.core.clock import utcnow
from medreg.core.db import Base
from medreg.premarket.registration.states import ConsultationStatus, Status

APPLICATION_FIELDS = (
    "kind",
    "registrant_org_id",
    "product_name",
    "model_spec",
    "structure_composition",
    "intended_use",
    "device_class",
    "subcatalogue_code",
    "category1_code",
    "category2_code",
    "origin",
    "innovation_application_id",
    "registration_id",
    "innovative",
    "priority",
    "priority_basis",
    "status",
    "acceptance_number",
    "submitted_on",
    "accepted_on",
    "review_started_on",
    "supplement_requested_on",
    "supplement_due_on",
    "supplement_received_on",
    "objection_due_on",
    "objection_filed_on",
    "review_opinion",
    "review_completed_on",
    "decision",
    "decided_on",
    "decision_reasons",
    "conditional_ground",
    "withdrawn_on",
)


class RegistrationApplication(Base):
    """One application: initial registration, change registration or renewal (Order 47 Art.52, 79, 82)."""

    __tablename__ = "registration_application"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # rules.Kind
    registrant_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    product_name: Mapped[str] = mapped_column(String(200))
    model_spec: Mapped[str | None] = mapped_column(Text)  # 型号、规格
    structure_composition: Mapped[str | None] = mapped_column(Text)  # 结构及组成
    intended_use: Mapped[str | None] = mapped_column(Text)  # 适用范围 / 预期用途
    device_class: Mapped[str] = mapped_column(String(3))  # "II" | "III"
    subcatalogue_code: Mapped[str] = mapped_column(String(2))  # ××5 of the number (Order 47 Art.115)
    # The 医疗器械分类目录 product category it is classified under (Order 47 Art.20): 一级 "NN-NN", 二级
    # "NN-NN-NN" (optional), inside ``subcatalogue_code``. None: not given (a new device not yet in the
    # catalogue may be registered, Order 47 Art.64; Regulation 739 Art.23).
    category1_code: Mapped[str | None] = mapped_column(String(5))
    category2_code: Mapped[str | None] = mapped_column(String(8))
    origin: Mapped[str] = mapped_column(String(20))  # rules.Origin, fixed from the registrant's country
    province: Mapped[str | None] = mapped_column(String(32))  # the registrant's, for domestic Class II
    # No.83 Art.20: an application of an approved innovative device is marked 创新医疗器械.
    innovation_application_id: Mapped[int | None] = mapped_column(
        ForeignKey("innovation_application.id"), index=True
    )
    # For change and renewal: the certificate being changed or renewed.
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration_certificate.id", use_alter=True), index=True
    )
    innovative: Mapped[bool] = mapped_column(default=False)
    priority: Mapped[bool] = mapped_column(default=False)  # No.83 Art.21, Art.24
    priority_basis: Mapped[str | None] = mapped_column(String(200))
    changes: Mapped[dict | None] = mapped_column(JSON)  # change registration: {field: new value}
    status: Mapped[str] = mapped_column(String(32), default=Status.DRAFT, index=True)
    acceptance_number: Mapped[str | None] = mapped_column(String(16), unique=True)
    correction_notes: Mapped[str | None] = mapped_column(Text)
    supplement_request: Mapped[str | None] = mapped_column(Text)
    negative_reasons: Mapped[str | None] = mapped_column(Text)  # Art.57 reasons told to the applicant
    objection_text: Mapped[str | None] = mapped_column(Text)
    objection_answer: Mapped[str | None] = mapped_column(Text)
    review_opinion: Mapped[str | None] = mapped_column(String(16))  # favourable | unfavourable
    review_summary: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(32))  # approved | conditionally_approved | refused
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    conditional_ground: Mapped[str | None] = mapped_column(String(32))
    conditions: Mapped[list | None] = mapped_column(JSON)  # [{description, due_on}] until issue
    conditional_valid_until: Mapped[date | None]
    decision_signature_id: Mapped[int | None] = mapped_column(ForeignKey("electronic_signature.id"))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    submitted_on: Mapped[date | None]  # the day the authority received the dossier
    accepted_on: Mapped[date | None]
    review_started_on: Mapped[date | None]
    supplement_requested_on: Mapped[date | None]
    supplement_due_on: Mapped[date | None]
    supplement_received_on: Mapped[date | None]
    negative_notice_on: Mapped[date | None]
    objection_due_on: Mapped[date | None]
    objection_filed_on: Mapped[date | None]
    review_completed_on: Mapped[date | None]
    decided_on: Mapped[date | None]
    withdrawn_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    registrant: Mapped[Organisation] = relationship(lazy="joined")
    certificate: Mapped[RegistrationCertificate | None] = relationship(
        foreign_keys=[registration_id], lazy="joined"
    )


class RegistrationCertificate(Base):
    """医疗器械注册证 (Order 47 Art.58, Art.115). A renewal issues a new row with the same number."""

    __tablename__ = "registration_certificate"
    __table_args__ = (UniqueConstraint("number", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), index=True)
    number_prefix: Mapped[str] = mapped_column(String(20), index=True)  # number without the serial
    serial: Mapped[int]
    application_id: Mapped[int] = mapped_column(ForeignKey("registration_application.id"), unique=True)
    registrant_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    product_name: Mapped[str] = mapped_column(String(200))
    model_spec: Mapped[str | None] = mapped_column(Text)
    structure_composition: Mapped[str | None] = mapped_column(Text)
    intended_use: Mapped[str | None] = mapped_column(Text)
    device_class: Mapped[str] = mapped_column(String(3))
    subcatalogue_code: Mapped[str] = mapped_column(String(2))
    category1_code: Mapped[str | None] = mapped_column(String(5), index=True)  # from the application
    category2_code: Mapped[str | None] = mapped_column(String(8), index=True)
    origin: Mapped[str] = mapped_column(String(20))
    innovative: Mapped[bool] = mapped_column(default=False)
    innovation_application_id: Mapped[int | None] = mapped_column(ForeignKey("innovation_application.id"))
    conditional: Mapped[bool] = mapped_column(default=False)
    conditional_ground: Mapped[str | None] = mapped_column(String(32))
    approved_on: Mapped[date]
    issued_on: Mapped[date]
    valid_from: Mapped[date]
    valid_until: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="valid", index=True)  # valid|renewed|cancelled
    deemed_renewal: Mapped[bool] = mapped_column(default=False)  # Order 47 Art.82 second para
    previous_certificate_id: Mapped[int | None] = mapped_column(ForeignKey("registration_certificate.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    registrant: Mapped[Organisation] = relationship(lazy="joined")
    obligations: Mapped[list[PostApprovalObligation]] = relationship(
        back_populates="certificate", order_by="PostApprovalObligation.due_on"
    )
    change_documents: Mapped[list[ChangeDocument]] = relationship(
        back_populates="certificate", order_by="ChangeDocument.id"
    )


class ChangeDocument(Base):
    """变更注册文件: used with the original certificate, same expiry (Order 47 Art.81)."""

    __tablename__ = "registration_change_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("registration_certificate.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("registration_application.id"), unique=True)
    issued_on: Mapped[date]
    changes: Mapped[dict] = mapped_column(JSON)  # {field: {"before": ..., "after": ...}}
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    certificate: Mapped[RegistrationCertificate] = relationship(back_populates="change_documents")


class PostApprovalObligation(Base):
    """A study or duty a conditional approval states with its deadline (Order 47 Art.61-63)."""

    __tablename__ = "post_approval_obligation"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("registration_certificate.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open|fulfilled|late
    evidence_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))  # core.files
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))  # copy, so the audit trail names it
    evidence_note: Mapped[str | None] = mapped_column(Text)
    fulfilled_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    certificate: Mapped[RegistrationCertificate] = relationship(back_populates="obligations", lazy="joined")


class Consultation(Base):
    """沟通交流 of an accepted innovative device with CMDE (No.83 Art.17-19; Order 47 Art.70)."""

    __tablename__ = "consultation"

    id: Mapped[int] = mapped_column(primary_key=True)
    innovation_application_id: Mapped[int] = mapped_column(
        ForeignKey("innovation_application.id"), index=True
    )
    registration_application_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration_application.id"), index=True
    )
    registrant_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    topic: Mapped[str] = mapped_column(String(32))  # rules.ConsultationTopic
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24), default=ConsultationStatus.SUBMITTED, index=True)
    answer: Mapped[str | None] = mapped_column(Text)  # written answer, decline reasons, or minutes
    meeting_on: Mapped[date | None]
    meeting_details: Mapped[str | None] = mapped_column(Text)  # form, place, participants
    submitted_on: Mapped[date]
    responded_on: Mapped[date | None]
    closed_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class CertificateDi(Base):
    """A UDI-DI (GTIN-14 of a sale unit) of the product of a registration certificate.

    Order 47 Art.101: applicants submit the unique device identification information as the rules
    require (with first, renewal and change registration the registrant gives the smallest sale
    unit's DI). A DI identifies one product, so it belongs to one certificate number; a renewal keeps
    the number, so the DI follows it to the current period.
    """

    __tablename__ = "registration_certificate_di"
    __table_args__ = (UniqueConstraint("di", name="uq_registration_certificate_di"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("registration_certificate.id"), index=True)
    di: Mapped[str] = mapped_column(String(14))
    declared_by: Mapped[str] = mapped_column(String(64))
    declared_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExportCertificate(Base):
    """医疗器械出口销售证明 (I) (NMPA Announcement 2025 No.126 Art.4): issued by the applicant's provincial
    bureau for devices registered in China. ``verification_code`` is medreg's: printed on the
    certificate with a QR code, asked by the public check together with the number."""

    __tablename__ = "export_certificate"
    __table_args__ = (
        UniqueConstraint("letter_code", "year", "serial", name="uq_export_certificate_serial"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(4), default="I")  # export_rules.ExportKind
    number_zh: Mapped[str] = mapped_column(String(32), unique=True)  # 京药监械出2026000001号 (Art.6)
    number_en: Mapped[str] = mapped_column(String(24), unique=True)  # No.MDBJ2026000001
    letter_code: Mapped[str] = mapped_column(String(2))
    year: Mapped[int]
    serial: Mapped[int]
    applicant_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    issuer_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    issued_on: Mapped[date]
    valid_until: Mapped[date]
    verification_code: Mapped[str] = mapped_column(String(14))
    status: Mapped[str] = mapped_column(String(16), default="issued", index=True)  # issued | revoked
    revoked_on: Mapped[date | None]
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    applicant: Mapped[Organisation] = relationship(foreign_keys=[applicant_org_id], lazy="joined")
    devices: Mapped[list[ExportCertificateDevice]] = relationship(
        back_populates="export_certificate", order_by="ExportCertificateDevice.id", lazy="selectin"
    )


class ExportCertificateDevice(Base):
    """One product of an export certificate as stated on it, with the registration certificate it rests on."""

    __tablename__ = "export_certificate_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    export_certificate_id: Mapped[int] = mapped_column(ForeignKey("export_certificate.id"), index=True)
    registration_certificate_id: Mapped[int] = mapped_column(ForeignKey("registration_certificate.id"))
    registration_number: Mapped[str] = mapped_column(String(24))
    product_name: Mapped[str] = mapped_column(String(200))
    model_spec: Mapped[str | None] = mapped_column(Text)

    export_certificate: Mapped[ExportCertificate] = relationship(back_populates="devices")
    registration_certificate: Mapped[RegistrationCertificate] = relationship(lazy="joined")
