"""Pydantic shapes of the innovative special review, and the validation users see."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from medreg.core.errors import ValidationFailed
from medreg.premarket.innovation.patents import parse_patent_number
from medreg.premarket.innovation.rules import DeviceClass, DocType, PatentKind

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Any) -> M:
    """``model`` from a dict (or the model itself); the first error becomes ValidationFailed(field=...)."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        name = ".".join(str(p) for p in first["loc"]) or None
        raise ValidationFailed(
            "Invalid value for '{name}': {reason}",
            field=name,
            params={"name": name or "input", "reason": first["msg"]},
            details={
                "errors": [{"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"]} for e in errors]
            },
        ) from None


class DraftIn(BaseModel):
    """What the registrant fills in (申请表, No.83 Art.4 and Annex 1). Every field is optional while
    the application is a draft; :func:`rules.check_eligibility` decides if it can be submitted."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    product_name: str = Field(min_length=1, max_length=200)
    product_name_en: str | None = Field(default=None, max_length=200)
    intended_use: str | None = Field(default=None, max_length=5000)
    working_principle: str | None = Field(default=None, max_length=5000)
    technical_field: str | None = Field(default=None, max_length=100)
    proposed_class: DeviceClass | None = None
    domestically_first: bool = False
    internationally_leading: bool = False
    significant_clinical_value: bool = False
    innovation_statement: str | None = Field(default=None, max_length=10000)
    patent_kind: PatentKind | None = None
    patent_number: str | None = Field(default=None, max_length=32)
    patent_grant_date: date | None = None
    search_report_no: str | None = Field(default=None, max_length=64)
    search_report_confirms: bool = False
    avoidance_request: str | None = Field(default=None, max_length=5000)

    @field_validator("patent_number")
    @classmethod
    def _patent(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        parsed = parse_patent_number(v)
        if isinstance(parsed, str):
            raise ValueError(parsed)
        return str(parsed)


class DraftUpdate(DraftIn):
    product_name: str | None = Field(default=None, min_length=1, max_length=200)


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    doc_type: DocType
    title: str = Field(min_length=1, max_length=200)
    filename: str = Field(min_length=1, max_length=255)


class ObjectionIn(BaseModel):
    """CMDE Art.25: a signed objection form names who objects; content limited to the application."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120)
    organisation: str | None = Field(default=None, max_length=200)
    contact: str = Field(min_length=3, max_length=200)
    text: str = Field(min_length=10, max_length=10000)


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    doc_type: str
    title: str
    stored_file_id: int
    uploaded_at: datetime


class NoticeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    application_id: int
    starts_on: date
    ends_on: date
    closed_on: date | None
    product_name: str = ""
    applicant: str = ""
    acceptance_no: str | None = None
    open: bool = False
    objections: int = 0


class ApplicationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    acceptance_no: str | None
    registrant_org_id: int
    product_name: str
    product_name_en: str | None
    intended_use: str | None
    working_principle: str | None
    technical_field: str | None
    proposed_class: str | None
    determined_class: str | None
    domestically_first: bool
    internationally_leading: bool
    significant_clinical_value: bool
    innovation_statement: str | None
    patent_kind: str | None
    patent_number: str | None
    patent_grant_date: date | None
    search_report_no: str | None
    search_report_confirms: bool
    avoidance_request: str | None
    status: str
    province: str | None
    supplement_request: str | None
    province_opinion: str | None
    conclusion_reasons: str | None
    submitted_on: date | None
    accepted_on: date | None
    decided_on: date | None
    decision_reasons: str | None
    termination_ground: str | None
    termination_reasons: str | None
    version: int


class ClockRead(BaseModel):
    name: str
    legal_basis: str
    limit: int
    unit: str
    started_on: date
    due_on: date
    used: int
    left: int
    paused: bool
    overdue: bool
    stopped_on: date | None


class ObjectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    notice_id: int
    name: str
    organisation: str | None
    contact: str | None = None  # shown to the office only
    text: str
    submitted_at: datetime
    answer: str | None
    answered_at: datetime | None


class ApplicationDetail(BaseModel):
    application: ApplicationRead
    applicant: str
    documents: list[DocumentRead]
    notices: list[NoticeRead]
    objections: list[ObjectionRead]
    clocks: list[ClockRead]
    allowed_actions: list[str]
    assignments: list[dict]  # the office sees all; an expert its own (CMDE Art.18 keeps names confidential)


class QueueItem(BaseModel):
    application_id: int
    acceptance_no: str | None
    product_name: str
    applicant: str
    status: str
    clock: str | None
    legal_basis: str | None
    due_on: date | None
    left: int | None
    paused: bool = False
    overdue: bool = False
    assignment_id: int | None = None


class TimelineEntry(BaseModel):
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    note: str | None
    before: dict | None
    after: dict | None


class Timeline(BaseModel):
    events: list[TimelineEntry]
    clocks: list[ClockRead]


class Task(BaseModel):
    """Something the registrant must do now (the registrant dashboard)."""

    application_id: int
    product_name: str
    status: str
    action: str
    message: str
    article: str
    due_on: date | None = None
    details: dict = Field(default_factory=dict)
