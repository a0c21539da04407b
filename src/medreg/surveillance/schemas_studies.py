"""Pydantic shapes of the real-world evidence studies API (the JSON twins of the study pages)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from medreg.core.db import MAX_ID


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ProtocolRead(_Read):
    id: int
    title: str
    device_group: str
    sha256: str
    registered_by: str
    registered_at: datetime
    content: dict


class AnalysisRead(_Read):
    id: int
    protocol_id: int
    protocol_sha256: str
    data_cutoff: date
    results_sha256: str
    run_by: str
    run_at: datetime


class StudyRead(BaseModel):
    protocol: ProtocolRead
    analyses: list[AnalysisRead]


class CitationRead(_Read):
    id: int
    analysis_id: int
    application_id: int
    protocol_sha256: str
    results_sha256: str
    note: str | None
    cited_by: str
    cited_at: datetime


class StudyReportRead(BaseModel):
    """The study report's content: the protocol, the analysis and its stored results (the same numbers
    the HTML and PDF report print), and the registration cases citing it that the caller may see."""

    protocol: ProtocolRead
    analysis: AnalysisRead
    results: dict
    citations: list[CitationRead]


class StudyRunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_cutoff: date = Field(description="The registry is read up to this date (not in the future).")


class CriterionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(
        max_length=32, description="age, sex, diabetes, renal_failure, prior_mi, ejection_fraction, "
        "procedure_date, days_followed (to the end of follow-up or the data cut-off), "
        "days_followed_or_event (the same, a follow-up ended by the outcome or death counting as followed "
        "to the cut-off: what min_follow_up_days compares)"
    )
    op: str = Field(max_length=2, description="== != < <= > >= (== and != only for yes/no fields and sex)")
    value: bool | int | float | str = Field(
        description="years; M or F; yes/no (true/false); per cent; YYYY-MM-DD; days"
    )
    # as a registered protocol's content states it ("date" for procedure_date); the field decides it,
    # so the content of GET /studies/protocols/{id} may be posted back as it is
    type: Literal["", "date"] | None = None


class ProtocolCreate(BaseModel):
    """A study protocol to register (``protocol_form.build_protocol`` checks it as it checks the form)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=200)
    question: str = Field(max_length=4000)
    device_group: str = Field(max_length=32)
    device_dis: list[str] = Field(min_length=1, max_length=50, description="GTIN-14 of the device studied")
    comparator: str = Field(max_length=500)
    outcomes: list[str] = Field(min_length=1, max_length=6, description="the first is the primary outcome")
    analyses: list[str] = Field(min_length=1, max_length=5)
    follow_up_days: int = Field(ge=1, le=3650)
    inclusion: list[CriterionBody] = Field(default_factory=list, max_length=10)
    exclusion: list[CriterionBody] = Field(default_factory=list, max_length=10)
    covariates: list[str] = Field(default_factory=list, max_length=6, description="empty: all risk factors")
    notes: str = Field("", max_length=4000)
    # the cohort's procedure-date window and minimum follow-up (the first inclusion criteria)
    procedure_date_from: date | None = None
    procedure_date_to: date | None = None
    min_follow_up_days: int | None = Field(
        None, ge=1, le=3650, description="days_followed_or_event >= N: excludes the patients censored "
        "(lost, or at the end of the data) before N days, keeps those whose outcome or death came first")


class CiteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_id: int = Field(ge=1, le=MAX_ID)
    note: str | None = Field(None, max_length=2000)
