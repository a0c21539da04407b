"""Shapes of signal runs, cases and their statistics for the API and the pages."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

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
    look_id: int | None = None  # a surveillance monitor's look (source surveillance_monitor)
    look_stats: dict | None = None


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source: str = "disproportionality"
    monitor_id: int | None = None
    alert_id: int | None = None
    device_level: str
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
    device_level: str
    strata: str
    engine: str
    analysis_id: int | None
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


DEVICE_LEVEL = r"^(certificate|registrant|category|category1|category2|fda-product-code)$"


class AnalysisFields(BaseModel):
    """Fields of a configured analysis; checked again by the service (levels, strata, criteria)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    active: bool | None = None
    event_level: int | None = Field(default=None, ge=1, le=3)
    annexes: str | None = Field(default=None, pattern=r"^[AEFaef]{1,3}$")
    device_level: str | None = Field(default=None, pattern=DEVICE_LEVEL)
    strata: str | None = Field(default=None, max_length=60, pattern=r"^[a-z_,]*$")
    statistic: str | None = Field(default=None, pattern=r"^(prr|ror|ic|ebgm)$")
    threshold: float | None = Field(default=None, ge=-1e6, le=1e6, allow_inf_nan=False)
    min_n: int | None = Field(default=None, ge=1, le=1_000_000)
    engine: str | None = Field(default=None, pattern=r"^(duckdb|spark)$")


class AnalysisCreate(AnalysisFields):
    name: str = Field(min_length=1, max_length=120)


class AnalysisPatch(AnalysisFields):
    expected_version: int = Field(ge=1, le=MAX_ID, description="the version you saw")


class AnalysisRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    active: bool
    event_level: int
    annexes: str
    device_level: str
    strata: str
    statistic: str
    threshold: float | None
    min_n: int
    engine: str
    created_at: datetime
    updated_at: datetime
    version: int


class RunQueued(BaseModel):
    """A ``signals.run`` job queued for an analysis (follow it at ``/api/jobs/{job_id}``)."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="the job id")
    kind: str
    status: str


class JobBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    done: int
    total: int | None
    message: str | None


class ScheduleBrief(BaseModel):
    """An analysis' own schedule (none: it runs after each snapshot)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    version: int
    enabled: bool
    every: str
    interval_minutes: int | None
    at_time: str | None = Field(description="HH:MM, Beijing time")
    weekday: int | None
    day_of_month: int | None
    next_run_at: datetime | None
    last_due_at: datetime | None
    last_outcome: str | None
    last_note: str | None
    last_job_id: int | None


class AnalysisStatusRead(BaseModel):
    """JSON twin of a row of the analyses page: the analysis, its rule, its last run and last job, and
    its own schedule (``null``: it runs after each snapshot)."""

    model_config = ConfigDict(from_attributes=True)

    analysis: AnalysisRead
    criteria: str
    last_run: RunRead | None
    last_job: JobBrief | None
    schedule: ScheduleBrief | None = None


class RunNowBody(BaseModel):
    """Run now: on an existing snapshot version, or (none) on the next snapshot, exported first."""

    model_config = ConfigDict(extra="forbid")

    snapshot_version: int | None = Field(default=None, ge=1, le=999_999)


class SnapshotRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    reports: int
    rows: int
    exported_at: str
    base_version: int | None


class AnalysisScheduleSet(BaseModel):
    """An analysis' own schedule (Beijing time), or ``every`` = ``snapshot``: after each snapshot."""

    model_config = ConfigDict(extra="forbid")

    every: Literal["snapshot", "interval", "daily", "weekly", "monthly"]
    interval_minutes: int | None = Field(default=None, ge=5, le=44640, description="for every=interval")
    at: str | None = Field(default=None, max_length=5, description="HH:MM, for daily, weekly and monthly")
    weekday: int | None = Field(default=None, ge=1, le=7, description="1 = Monday ... 7 = Sunday (weekly)")
    day_of_month: int | None = Field(default=None, ge=1, le=31,
                                     description="1-31 (monthly; beyond the month's end: its last day)")
    expected_version: int | None = Field(default=None, ge=1, le=MAX_ID, description="the analysis' version")


class ScheduleSet(BaseModel):
    """The snapshot schedule: how often the worker exports a snapshot and runs the active analyses
    (times in Beijing time). ``enabled`` false turns it off (the recurrence is kept)."""

    model_config = ConfigDict(extra="forbid")

    every: Literal["interval", "daily", "weekly", "monthly"]
    interval_minutes: int | None = Field(default=None, ge=5, le=44640, description="for every=interval")
    at: str | None = Field(default=None, max_length=5, description="HH:MM, for daily, weekly and monthly")
    weekday: int | None = Field(default=None, ge=1, le=7, description="1 = Monday ... 7 = Sunday (weekly)")
    day_of_month: int | None = Field(default=None, ge=1, le=31,
                                     description="1-31 (monthly; beyond the month's end: its last day)")
    enabled: bool = True
    keep: int | None = Field(default=None, ge=1, le=10_000, strict=True,
                             description="snapshot versions to keep after each scheduled export (older "
                                         "versions and their analysis tables are removed); none: the "
                                         "installation's signals_keep_snapshots setting")
    expected_version: int | None = Field(default=None, ge=1, le=MAX_ID,
                                         description="the version you saw (none when creating it)")


class ScheduleRead(BaseModel):
    """The snapshot schedule (``configured`` false: never set), its next run and its last job."""

    configured: bool
    id: int | None = None
    version: int | None = None
    enabled: bool = False
    every: str | None = None
    interval_minutes: int | None = None
    at: str | None = None
    weekday: int | None = None
    day_of_month: int | None = None
    next_run_at: datetime | None = None
    last_due_at: datetime | None = None
    last_outcome: str | None = None
    last_note: str | None = None
    skipped_runs: int = 0
    keep: int | None = Field(default=None, description="the schedule's own number of versions to keep")
    kept_versions: int | None = Field(default=None, description="the versions each scheduled export keeps "
                                      "(its own keep, else the setting; none: every version)")
    last_job: JobBrief | None = None

    @classmethod
    def of(cls, current) -> ScheduleRead:
        s = current.schedule
        if s is None:
            return cls(configured=False)
        return cls(configured=True, id=s.id, version=s.version, enabled=s.enabled, every=s.every,
                   interval_minutes=s.interval_minutes, at=s.at_time, weekday=s.weekday,
                   day_of_month=s.day_of_month, next_run_at=s.next_run_at, last_due_at=s.last_due_at,
                   last_outcome=s.last_outcome,
                   last_note=s.last_note, skipped_runs=s.skipped_runs, keep=s.params.get("keep"),
                   kept_versions=current.kept_versions,
                   last_job=JobBrief.model_validate(current.last_job) if current.last_job else None)
