"""Shapes of signal runs, cases and their statistics for the API and the pages."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from medreg.core.db import MAX_ID


class StatRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    run_id: int | None
    run_label: str
    computed_at: datetime
    n11: int
    expected: float | None
    prr: float | None
    prr_lower: float | None
    ror: float | None
    ror_lower: float | None
    ic: float | None
    ic025: float | None
    ic975: float | None
    ebgm: float | None
    eb05: float | None


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    device: str
    event: str
    registration_number: str | None
    status: str
    criteria: str
    owner_org_id: int | None
    assignee_id: int | None
    decision: str | None
    reason: str | None
    opened_at: datetime
    updated_at: datetime
    version: int
    response_due_at: datetime | None
    response: str | None
    responded_at: datetime | None
    response_late: bool | None = None
    latest: StatRead | None = None


class CaseDetail(CaseRead):
    stats: list[StatRead]
    reports: dict[int, list[int]]  # stat id -> the report ids behind it
    allowed_actions: list[str]


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    label: str
    snapshot_version: int
    reports: int
    exported_at: datetime
    event_level: int
    annexes: str
    criteria: str
    pairs: int
    flagged: int
    opened: int
    updated: int
    prior: dict | None
    created_at: datetime


class ActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: int = Field(ge=1, le=MAX_ID, description="the version you saw")
    decision: str | None = Field(default=None, max_length=32)
    reason: str | None = Field(default=None, max_length=4000)
    due_days: int | None = Field(default=None, ge=1, le=365, description="days the registrant has to respond")


class RespondBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: int = Field(ge=1, le=MAX_ID, description="the version you saw")
    response: str = Field(min_length=1, max_length=8000)
