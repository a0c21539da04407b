"""Pydantic shapes of the 可疑医疗器械不良事件报告表 (Order 1 Art.25) and what users read back.

A draft may be partial; ``rules.missing_required`` lists what a submission still needs. The patient
section has no field for a direct identifier (name, ID number, phone, address) and refuses unknown
fields; free-text fields refuse strings shaped like a resident ID number or a mobile number.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from medreg.vigilance.aet import terminology
from medreg.vigilance.deadlines import Outcome, ReporterRole
from medreg.vigilance.rules import CODE_FIELDS, direct_identifier_in
from medreg.vigilance.states import VersionKind

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _free_text(v: str | None) -> str | None:
    found = direct_identifier_in(v)
    if found:
        raise ValueError(f"contains what looks like a {found}; remove direct identifiers of the patient")
    return v


def _text(n: int = 20_000):
    return Field(default=None, max_length=n)


class ReporterIn(BaseModel):
    model_config = _STRICT
    role: ReporterRole | None = None
    department: str | None = _text(200)


class DeviceIn(BaseModel):
    model_config = _STRICT
    generic_name: str | None = _text(200)  # 产品名称 (通用名称)
    trade_name: str | None = _text(200)  # 商品名称
    registration_number: str | None = _text(40)  # 注册证编号 / 备案编号
    registrant_name: str | None = _text(200)
    registrant_org_id: int | None = Field(default=None, ge=1)
    udi: str | None = _text(200)  # GS1 UDI, parsed into DI and PI on save
    # FDA product code (three letters, FDA product classification database): imported MAUDE reports
    fda_product_code: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    model: str | None = _text(200)  # 型号 / 规格
    lot_number: str | None = _text(80)
    serial_number: str | None = _text(80)
    manufacture_date: date | None = None
    expiry_date: date | None = None


class PatientIn(BaseModel):
    """No direct identifiers: age and sex only (unknown fields are refused)."""

    model_config = _STRICT
    age_years: float | None = Field(default=None, ge=0, le=130)
    sex: str | None = Field(default=None, pattern=r"^(female|male|unknown)$")


class EventIn(BaseModel):
    model_config = _STRICT
    event_date: date | None = None
    aware_at: AwareDatetime | None = None  # when the reporter discovered or learned of it (Art.25)
    province: str | None = _text(32)  # where it happened (provincial centre in charge)
    outcome: Outcome | None = None
    overseas: bool = False  # Art.27
    cluster: bool = False  # Art.31
    description: str | None = _text()  # 事件描述
    device_problem: str | None = _text()  # 器械故障表现
    actions_taken: str | None = _text()  # 采取的措施

    _no_identifiers = field_validator("description", "device_problem", "actions_taken")(_free_text)


@lru_cache(maxsize=8192)
def _check(code: str, annex: str):
    """terminology().check, cached: the shipped release is read once per process and never changes."""
    return terminology().check(code, annex)


class CodesIn(BaseModel):
    """IMDRF AET codes, each list from its annex (rules.CODE_FIELDS)."""

    model_config = _STRICT
    device_problem: list[str] = Field(default_factory=list, max_length=20)  # A
    health_effect: list[str] = Field(default_factory=list, max_length=20)  # E
    health_impact: list[str] = Field(default_factory=list, max_length=20)  # F
    component: list[str] = Field(default_factory=list, max_length=20)  # G
    investigation_type: list[str] = Field(default_factory=list, max_length=20)  # B
    investigation_finding: list[str] = Field(default_factory=list, max_length=20)  # C
    investigation_conclusion: list[str] = Field(default_factory=list, max_length=20)  # D

    @field_validator("*")
    @classmethod
    def _valid_codes(cls, v: list[str], info) -> list[str]:
        annex = CODE_FIELDS[info.field_name]
        out = []
        for code in v:
            check = _check(code, annex)
            if not check.ok:
                raise ValueError(check.reason.format(**check.params))
            if check.code not in out:
                out.append(check.code)
        return out


class EvaluationIn(BaseModel):
    """The registrant's evaluation (Order 1 Art.29)."""

    model_config = _STRICT
    summary: str | None = _text()
    causality: str | None = Field(default=None, pattern=r"^(related|possibly_related|unrelated|unknown)$")
    corrective_actions: str | None = _text()

    _no_identifiers = field_validator("summary", "corrective_actions")(_free_text)


class ReportContent(BaseModel):
    model_config = _STRICT
    reporter: ReporterIn = Field(default_factory=ReporterIn)
    device: DeviceIn = Field(default_factory=DeviceIn)
    patient: PatientIn = Field(default_factory=PatientIn)
    event: EventIn = Field(default_factory=EventIn)
    codes: CodesIn = Field(default_factory=CodesIn)
    evaluation: EvaluationIn | None = None


class VersionRead(BaseModel):
    version_no: int
    kind: VersionKind
    created_at: datetime
    submitted_at: datetime | None
    content: dict


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    version: int
    reporter_org_id: int
    reporter_role: str | None
    registrant_org_id: int | None
    province: str | None
    outcome: str | None
    overseas: bool
    cluster: bool
    aware_at: datetime | None
    event_date: date | None
    device_name: str | None
    registration_number: str | None
    udi_di: str | None
    model: str | None
    lot_number: str | None
    serial_number: str | None
    first_submitted_at: datetime | None
    report_due_at: datetime | None
    late: bool | None
    evaluation_due_at: datetime | None
    final_submitted_at: datetime | None
    evaluation_late: bool | None
    return_reason: str | None
    quality_score: int | None
