"""Pydantic shapes of the surveillance API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, create_model, field_validator
from pydantic_core import PydanticCustomError

from medreg.core.db import MAX_ID


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
    look_plan: list[float] | None = None  # cumulative expected events at each planned look
    cusum_odds_ratio: float = 2.0  # R_A of the risk-adjusted CUSUM (Steiner et al. 2000)
    cusum_null_odds_ratio: float = 1.0  # R_0
    cusum_false_alarm: float = 0.05  # false-alarm probability over the fixed horizon, for its limit h
    # h, simulated once when first needed (None: no look yet), with its seed, simulations and horizon
    cusum_h: float | None = None
    cusum_seed: int | None = None
    cusum_simulations: int | None = None
    cusum_horizon: int | None = None  # procedures
    cusum_horizon_expected: float | None = None  # expected events: T (Poisson) or N / (1 + z) (binomial)
    kind: str = "maxsprt_poisson"  # maxsprt_poisson | delta
    # DELTA monitors: margin of the risk difference, minimum matched pairs, caliper (SD of the logit
    # score); alpha is per look and critical_value its two-sided normal quantile
    delta_margin: float | None = None
    delta_min_pairs: int | None = None
    delta_caliper: float | None = None
    # DELTA alpha spending (None: alpha per look): obf | pocock | hsd, its gamma, the planned pairs
    delta_spending: str | None = None
    delta_hsd_gamma: float | None = None
    delta_planned_pairs: int | None = None
    binomial_z: int | None = None  # maxsprt_binomial: comparators matched to each device procedure
    status: str  # active | signalled | ended | stopped
    stopped_at: datetime | None = None
    stopped_by: str | None = None
    stop_reason: str | None = None
    notes: str | None = None  # descriptive, editable at any time
    supersedes_id: int | None = None  # the monitor this one superseded (service_edit)


class LookRead(_Read):
    look_no: int
    as_of: date
    procedures: int
    observed: float
    expected: float
    llr: float
    critical_value: float  # of this look (group designs: re-spent at its actual expected count)
    # group designs: the smallest cumulative count that signals at this look, the cumulative alpha
    # the plan allows by it and the exact alpha spent (None for continuous monitors)
    events_to_signal: int | None = None
    alpha_target: float | None = None
    alpha_spent: float | None = None
    # DELTA looks: matched pairs, risks, cumulative risk difference and its CI, largest |SMD| after matching
    pairs: int | None = None
    risk_device: float | None = None
    risk_comparator: float | None = None
    risk_difference: float | None = None
    rd_lower: float | None = None
    rd_upper: float | None = None
    max_abs_smd: float | None = None
    # DELTA with planned pairs: information fraction; with spending the look's nominal one-sided alpha
    # (None: not analysed, no alert possible) - rd_lower/rd_upper are then the repeated CI
    info_fraction: float | None = None
    nominal_alpha: float | None = None
    # MaxSPRT looks: the risk-adjusted CUSUM state (procedures charted, O, E, sum p(1-p), X at the look,
    # largest |X| since the previous look, h, the procedure at which this look's CUSUM alert crossed h)
    cusum_procedures: int | None = None
    cusum_observed: float | None = None
    cusum_expected: float | None = None
    cusum_variance: float | None = None
    cusum_value: float | None = None
    cusum_peak: float | None = None
    cusum_h: float | None = None
    cusum_crossed_at: int | None = None
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
    alert_rule: str | None = None  # DELTA monitors: the alert rule, stated


class AlertRead(_Read):
    id: int
    monitor_id: int
    look_id: int
    status: str  # following a signal case: its state (states.FOLLOWS); otherwise the fallback workflow's
    statistic: str = "monitor"  # monitor (its MaxSPRT or DELTA) | cusum
    summary: str
    resolution: str | None
    version: int
    signal_case_id: int | None = None  # the signal case the alert follows (None: fallback workflow)


class AlertDetail(BaseModel):
    """The JSON twin of ``/surveillance/alerts/{id}``: the alert, its look, its monitor, the actions
    the user may take on the alert itself (none while it follows a signal case) and the signal case."""

    alert: AlertRead
    look: LookRead
    monitor: MonitorRead
    allowed_actions: list[str]
    signal_case_href: str | None = None


class AlertAction(BaseModel):
    expected_version: int = Field(ge=1)
    note: str | None = Field(default=None, max_length=2000)


class RunBody(BaseModel):
    as_of: date


class MonitorCreate(BaseModel):
    """A monitor's design: continuous (no looks given), or group-sequential with ``planned_looks``
    equal looks or looks at the fractions ``look_at`` of the length of surveillance (ending at 1)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    device_group: str = Field(max_length=32)
    udi_di: str = Field(pattern=r"^\d{14}$")
    outcome: str = Field(max_length=32)
    window_days: int = Field(ge=1, le=3650)
    reference_start: date
    reference_end: date
    alpha: float = Field(default=0.05, gt=0, le=0.5)
    # maxsprt_poisson (T, M, looks), maxsprt_binomial (T = N events, M, z, looks) or delta
    # (propensity-matched comparison: margin, pairs, caliper); before sample_size, whose limit it sets
    kind: Literal["maxsprt_poisson", "delta", "maxsprt_binomial"] = "maxsprt_poisson"
    planned_looks: int | None = Field(default=None, ge=1, le=120)
    look_at: list[float] | None = Field(default=None, min_length=1, max_length=120)
    # T (after kind and the looks, which set its limit): a continuous Poisson design at most 1,000
    # expected events (its exact critical value takes ~8 s at 1,000), a group-sequential one 100,000
    # (maxsprt_spending.MAX_SAMPLE_SIZE: pruned chain), a binomial N 2,000 events (MAX_EVENTS)
    sample_size: float = Field(default=20.0, gt=0, le=100_000)
    min_events: int = Field(default=4, ge=1, le=100)
    cusum_odds_ratio: float = Field(default=2.0, ge=0.01, le=100)
    cusum_null_odds_ratio: float = Field(default=1.0, ge=0.01, le=100)
    cusum_false_alarm: float = Field(default=0.05, gt=0, le=0.5)
    registrant_org_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    delta_margin: float = Field(default=0.0, ge=0, le=0.5)
    delta_min_pairs: int = Field(default=20, ge=2, le=100_000)
    delta_caliper: float = Field(default=0.2, gt=0, le=1)
    binomial_z: int = Field(default=1, ge=1, le=10)  # maxsprt_binomial: comparators per procedure
    # DELTA: overall alpha spending across looks (alpha is then overall and one-sided) up to the planned
    # matched pairs, where the monitor ends (planned pairs alone: alpha per look, the end only)
    delta_spending: Literal["obf", "pocock", "hsd"] | None = None
    delta_planned_pairs: int | None = Field(default=None, ge=2, le=1_000_000)
    delta_hsd_gamma: float = Field(default=-4.0, ge=-40, le=40)
    notes: str | None = Field(default=None, max_length=4000)  # descriptive (editable at any time)

    @field_validator("sample_size")
    @classmethod
    def _limit_of_the_kind(cls, v: float, info: ValidationInfo) -> float:
        kind = info.data.get("kind", "maxsprt_poisson")
        group = info.data.get("planned_looks") is not None or info.data.get("look_at") is not None
        limit = 1000
        if kind == "maxsprt_binomial":
            limit = 2000
        elif kind == "maxsprt_poisson" and group:
            limit = 100_000
        if v > limit:
            raise PydanticCustomError("less_than_equal", "Input should be less than or equal to {le}",
                                      {"le": limit})
        return v


class MonitorStop(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class CriticalValueRead(BaseModel):
    critical_value: float
    alpha: float
    sample_size: float
    min_events: int


def _all_optional(model: type[BaseModel], name: str, doc: str, **extra) -> type[BaseModel]:
    """``model`` with every field optional (default None) under the same constraints, plus ``extra``."""
    fields = {k: ((Annotated[f.annotation, *f.metadata] if f.metadata else f.annotation) | None,
                  Field(None, description=f.description)) for k, f in model.model_fields.items()}
    out = create_model(name, __config__=ConfigDict(extra="forbid"), __doc__=doc, **fields, **extra)
    return out


MonitorEdit = _all_optional(
    MonitorCreate, "MonitorEdit",
    "Changes to a monitor: ``name`` and ``notes`` at any time; the design fields (``MonitorCreate``'s) "
    "only before its first look (409 after it: define a new monitor from this one). ``planned_looks`` "
    "and ``look_at`` both null: continuous monitoring.",
)


class MonitorSupersede(MonitorCreate):
    """A new monitor defined from an existing one, which it supersedes (the old one, if active, is
    stopped with ``reason`` naming the new one)."""

    reason: str = Field(min_length=1, max_length=2000)
