"""Pydantic shapes of registration: what users send (``*Create`` / ``*Update``) and what they read."""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from medreg.premarket.registration.rules import ConditionalGround, ConsultationTopic, DeviceClass, Kind

Text = Field(default=None, max_length=20_000)

# Certificate items whose change needs a change registration (Order 47 Art.79 third para), and the
# catalogue product category, which follows a change of the intended use (Art.79 lists 适用范围; its
# list ends in 等). The sub-catalogue cannot change: it is ××5 of the number the certificate keeps.
CHANGEABLE_FIELDS = ("product_name", "model_spec", "structure_composition", "intended_use",
                     "category1_code", "category2_code")
# Codes of the 医疗器械分类目录 (CFDA 2017 No.104): 一级 product category NN-NN, 二级 NN-NN-NN.
CATEGORY_PATTERNS = {"category1_code": r"^[0-9]{2}-[0-9]{2}$",
                     "category2_code": r"^[0-9]{2}-[0-9]{2}-[0-9]{2}$"}
Category1 = Field(default=None, pattern=CATEGORY_PATTERNS["category1_code"])
Category2 = Field(default=None, pattern=CATEGORY_PATTERNS["category2_code"])


def _check_changes(v: dict[str, str] | None) -> dict[str, str] | None:
    if v is not None:
        unknown = sorted(set(v) - set(CHANGEABLE_FIELDS))
        if unknown:
            raise ValueError(f"not a change-registration item: {', '.join(unknown)}")
        if not v:
            raise ValueError("name at least one item to change")
        if any(not str(x).strip() for x in v.values()):
            raise ValueError("a changed item cannot be empty")
        for k, pattern in CATEGORY_PATTERNS.items():
            if k in v and not re.match(pattern, str(v[k]).strip()):
                raise ValueError(f"{k} must look like {'NN-NN' if k == 'category1_code' else 'NN-NN-NN'}")
    return v


class RegistrationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Kind = Kind.INITIAL
    product_name: str | None = Field(default=None, min_length=1, max_length=200)
    model_spec: str | None = Text
    structure_composition: str | None = Text
    intended_use: str | None = Text
    device_class: DeviceClass | None = None
    subcatalogue_code: str | None = Field(default=None, pattern=r"^(0[1-9]|1\d|2[0-2])$")
    category1_code: str | None = Category1  # 一级产品类别, inside the sub-catalogue
    category2_code: str | None = Category2  # 二级产品类别, inside the 一级 category (optional)
    innovation_application_id: int | None = Field(default=None, ge=1)
    registration_id: int | None = Field(default=None, ge=1)  # the certificate (change / renewal)
    # Change registration: the certificate items to change and their new values (Order 47 Art.79).
    changes: dict[str, str] | None = None

    @field_validator("changes")
    @classmethod
    def _known_items(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        return _check_changes(v)


class RegistrationUpdate(BaseModel):
    """Edits of a draft (or of an application returned for corrections, Order 47 Art.53)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    product_name: str | None = Field(default=None, min_length=1, max_length=200)
    model_spec: str | None = Text
    structure_composition: str | None = Text
    intended_use: str | None = Text
    device_class: DeviceClass | None = None
    subcatalogue_code: str | None = Field(default=None, pattern=r"^(0[1-9]|1\d|2[0-2])$")
    category1_code: str | None = Category1  # 一级产品类别, inside the sub-catalogue
    category2_code: str | None = Category2  # 二级产品类别, inside the 一级 category (optional)
    changes: dict[str, str] | None = None

    @field_validator("changes")
    @classmethod
    def _known_items(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        return _check_changes(v)


class ConditionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    description: str = Field(min_length=1, max_length=2000)
    due_on: date


class ConditionalApproval(BaseModel):
    """附条件批准 (Order 47 Art.61): ground, studies with deadlines, optional shorter validity."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    ground: ConditionalGround
    conditions: list[ConditionIn] = Field(min_length=1, max_length=50)
    valid_until: date | None = None
    reasons: str | None = Text


class ConsultationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    innovation_application_id: int = Field(ge=1)
    registration_application_id: int | None = Field(default=None, ge=1)
    topic: ConsultationTopic
    question: str = Field(min_length=1, max_length=20_000)


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class RegistrationRead(_Read):
    id: int
    kind: str
    registrant_org_id: int
    product_name: str
    model_spec: str | None
    structure_composition: str | None
    intended_use: str | None
    device_class: str
    subcatalogue_code: str
    category1_code: str | None = None
    category2_code: str | None = None
    origin: str
    innovation_application_id: int | None
    registration_id: int | None
    innovative: bool
    priority: bool
    priority_basis: str | None
    changes: dict | None
    status: str
    acceptance_number: str | None
    correction_notes: str | None
    supplement_request: str | None
    negative_reasons: str | None
    objection_text: str | None
    objection_answer: str | None
    review_opinion: str | None
    review_summary: str | None
    decision: str | None
    decision_reasons: str | None
    conditional_ground: str | None
    submitted_on: date | None
    accepted_on: date | None
    review_started_on: date | None
    supplement_due_on: date | None
    objection_due_on: date | None
    review_completed_on: date | None
    decided_on: date | None
    withdrawn_on: date | None
    version: int


class ObligationRead(_Read):
    id: int
    certificate_id: int
    description: str
    due_on: date
    status: str
    evidence_file_id: int | None
    evidence_sha256: str | None
    evidence_note: str | None
    fulfilled_on: date | None
    version: int
    certificate_number: str | None = None  # filled by list_obligations


class ChangeDocumentRead(_Read):
    id: int
    certificate_id: int
    application_id: int
    issued_on: date
    changes: dict


class CertificateRead(_Read):
    id: int
    number: str
    registrant_org_id: int
    product_name: str
    model_spec: str | None
    structure_composition: str | None
    intended_use: str | None
    device_class: str
    subcatalogue_code: str
    category1_code: str | None = None
    category2_code: str | None = None
    origin: str
    innovative: bool
    conditional: bool
    conditional_ground: str | None
    approved_on: date
    issued_on: date
    valid_from: date
    valid_until: date
    status: str
    deemed_renewal: bool
    previous_certificate_id: int | None
    renewal_deadline: date | None = None  # filled by the query (Order 47 Art.82)
    registrant_name: str | None = None  # filled by the query (public look-up)
    obligations: list[ObligationRead] = []
    change_documents: list[ChangeDocumentRead] = []


class ConsultationRead(_Read):
    id: int
    innovation_application_id: int
    registration_application_id: int | None
    registrant_org_id: int
    topic: str
    question: str
    status: str
    answer: str | None
    meeting_on: date | None
    meeting_details: str | None
    submitted_on: date
    responded_on: date | None
    closed_on: date | None
    version: int


class ClockRead(BaseModel):
    name: str
    legal_basis: str
    started_on: date
    due_on: date
    used: int
    left: int
    paused: bool
    overdue: bool
    stopped_on: date | None


class QueueItem(BaseModel):
    """One case in the regulator's queue: which clock runs, when it is due."""

    application: RegistrationRead
    clock: ClockRead | None
    overdue: bool


class ExportCertificateCreate(BaseModel):
    """What the provincial bureau enters to issue an export sales certificate (I) (No.126 Art.4)."""

    model_config = ConfigDict(extra="forbid")
    registration_numbers: list[str] = Field(min_length=1, max_length=50)
    valid_until: date | None = None  # default and upper bound: the earliest expiry (Art.7)

    @field_validator("registration_numbers")
    @classmethod
    def _numbers(cls, v: list[str]) -> list[str]:
        out = [s.strip() for s in v]
        if any(not s or len(s) > 24 for s in out):
            raise ValueError("each registration certificate number has 1 to 24 characters")
        return out


class ExportRevoke(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)
    expected_version: int | None = Field(default=None, ge=1, le=2_000_000_000)


class ExportDeviceRead(_Read):
    product_name: str
    model_spec: str | None = None
    registration_number: str


class ExportVerification(BaseModel):
    """What the public check shows: no more than the certificate itself prints (No.126 Art.14
    makes the certificate information public anyway)."""

    number_zh: str
    number_en: str
    kind: str
    holder: str
    holder_en: str | None = None
    devices: list[ExportDeviceRead]
    issued_on: date
    valid_until: date
    status: str  # export_rules.ExportStatus
    revoked_on: date | None = None
    checked_on: date


class ExportCertificateRead(ExportVerification):
    """The full record, for the holder and the regulator (with the code printed on the certificate)."""

    id: int
    applicant_org_id: int
    verification_code: str
    revocation_reason: str | None = None
    version: int
