"""Pydantic shapes of the real-world evidence studies API (the JSON twins of the study pages)."""

from __future__ import annotations

from datetime import date, datetime

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


class CiteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_id: int = Field(ge=1, le=MAX_ID)
    note: str | None = Field(None, max_length=2000)
