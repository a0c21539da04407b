"""Pydantic shapes of the real-world evidence studies API (the JSON twins of the study pages)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


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


class StudyReportRead(BaseModel):
    """The study report's content: the protocol, the analysis and its stored results (the same numbers
    the HTML and PDF report print)."""

    protocol: ProtocolRead
    analysis: AnalysisRead
    results: dict


class StudyRunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_cutoff: date = Field(description="The registry is read up to this date (not in the future).")
