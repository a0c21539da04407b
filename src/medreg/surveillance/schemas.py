"""Pydantic shapes of the surveillance API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ProcedureRead(_Read):
    id: int
    hospital_id: int
    patient_pseudonym: str
    procedure_date: date
    device_group: str
    udi_di: str
    udi_lot: str | None
    udi_serial: str | None
    age: int
    sex: str
    diabetes: bool
    renal_failure: bool
    prior_mi: bool
    ejection_fraction: float | None
    follow_up_end: date


class ProcedurePage(BaseModel):
    total: int
    items: list[ProcedureRead]


class ImportRead(_Read):
    id: int
    hospital_id: int
    filename: str
    sha256: str
    rows: int
    imported_at: datetime


class MonitorRead(_Read):
    id: int
    name: str
    device_group: str
    udi_di: str
    outcome: str
    window_days: int
    alpha: float
    sample_size: float
    min_events: int
    critical_value: float
    planned_looks: int | None = None  # None: continuous design; G: group-sequential with G looks
    status: str


class LookRead(_Read):
    look_no: int
    as_of: date
    procedures: int
    observed: float
    expected: float
    llr: float
    critical_value: float
    signal: bool


class DeviceCertificate(BaseModel):
    """The registration certificate a UDI-DI is declared for (premarket registration, public)."""

    di: str
    certificate_id: int
    number: str
    product_name: str
    registrant_name: str | None
    status: str  # valid | renewed | cancelled
    valid_until: date


class MonitorLooks(BaseModel):
    monitor: MonitorRead
    looks: list[LookRead]
    # None: no registrant has declared the monitored DI for a certificate (stated, never guessed)
    certificate: DeviceCertificate | None = None


class AlertRead(_Read):
    id: int
    monitor_id: int
    status: str
    summary: str
    resolution: str | None
    version: int


class AlertAction(BaseModel):
    expected_version: int = Field(ge=1)
    note: str | None = Field(default=None, max_length=2000)


class RunBody(BaseModel):
    as_of: date


class CriticalValueRead(BaseModel):
    critical_value: float
    alpha: float
    sample_size: float
    min_events: int
