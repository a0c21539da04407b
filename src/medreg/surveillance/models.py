"""Tables of the active surveillance registry (sentinel hospitals, procedures, outcomes) and of the
sequential monitoring (monitors, looks, alert cases). Patients appear only under a pseudonym."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medreg.core.accounts import Organisation  # noqa: F401  (the organisation table of the FKs)
from medreg.core.clock import utcnow
from medreg.core.db import Base
from medreg.surveillance.states import AlertStatus
from medreg.surveillance.vocab import DeviceGroup, OutcomeKind  # noqa: F401  (re-exported)


class SentinelHospital(Base):
    """A hospital (organisation of kind ``hospital``) enrolled as a sentinel site (哨点医院)."""

    __tablename__ = "surveillance_hospital"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), unique=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    device_groups: Mapped[list] = mapped_column(JSON, default=list)
    enrolled_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportBatch(Base):
    __tablename__ = "surveillance_import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("surveillance_hospital.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int]
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


LOOK_COLUMNS = ("device_group", "udi_di", "procedure_date", "follow_up_end", "age", "sex", "diabetes",
                "renal_failure", "prior_mi", "ejection_fraction", "id")


class Procedure(Base):
    """One implantation: pseudonymous patient, risk factors, the implant's UDI (DI + PI)."""

    __tablename__ = "surveillance_procedure"
    __table_args__ = (
        UniqueConstraint("hospital_id", "patient_pseudonym", "procedure_date", "udi_di",
                         name="uq_surveillance_procedure_natural"),
        Index("ix_surveillance_procedure_group_date", "device_group", "procedure_date"),
        # the look of one monitor reads one DI's procedures in a date range (cohort_load): every
        # column it reads is in the index, so the read never visits the table (covering index)
        Index("ix_surveillance_procedure_look", *LOOK_COLUMNS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("surveillance_hospital.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("surveillance_import_batch.id"))
    patient_pseudonym: Mapped[str] = mapped_column(String(64))
    procedure_date: Mapped[date]
    device_group: Mapped[str] = mapped_column(String(32))
    udi_raw: Mapped[str] = mapped_column(String(200))
    udi_di: Mapped[str] = mapped_column(String(14), index=True)
    udi_lot: Mapped[str | None] = mapped_column(String(20))
    udi_serial: Mapped[str | None] = mapped_column(String(20))
    udi_expiry: Mapped[date | None]
    age: Mapped[int]
    sex: Mapped[str] = mapped_column(String(1))  # "M" | "F"
    diabetes: Mapped[bool] = mapped_column(default=False)
    renal_failure: Mapped[bool] = mapped_column(default=False)
    prior_mi: Mapped[bool] = mapped_column(default=False)
    ejection_fraction: Mapped[float | None] = mapped_column(Float)
    follow_up_end: Mapped[date]  # last date the patient was known to be followed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Outcome(Base):
    """The first occurrence of an outcome after the procedure (one row per kind)."""

    __tablename__ = "surveillance_outcome"
    __table_args__ = (
        UniqueConstraint("procedure_id", "kind", name="uq_surveillance_outcome_kind"),
        # the look's outer join finds the outcome's date in the index alone (covering)
        Index("ix_surveillance_outcome_look", "procedure_id", "kind", "event_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("surveillance_procedure.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    event_date: Mapped[date]


class Monitor(Base):
    """A sequential monitoring plan: one device (DI) against its group, one outcome within a window."""

    __tablename__ = "surveillance_monitor"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    device_group: Mapped[str] = mapped_column(String(32))
    udi_di: Mapped[str] = mapped_column(String(14), index=True)
    registrant_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(32))
    window_days: Mapped[int]
    reference_start: Mapped[date]
    reference_end: Mapped[date]
    alpha: Mapped[float] = mapped_column(Float)
    sample_size: Mapped[float] = mapped_column(Float)  # T: upper limit, in expected events
    min_events: Mapped[int]
    critical_value: Mapped[float] = mapped_column(Float)
    # None: continuous monitoring; G: a group-sequential design of G looks of T/G expected events each
    planned_looks: Mapped[int | None]
    # the planned looks of a group-sequential design, as cumulative expected events (the last is T)
    look_plan: Mapped[list | None] = mapped_column(JSON)
    risk_model: Mapped[dict | None] = mapped_column(JSON)  # coefficients fitted on the reference period
    # the risk-adjusted CUSUM of the monitor's page (Steiner et al. 2000): odds ratio to detect (R_A),
    # odds ratio of the null (R_0) and the false-alarm probability over the sequence for its limit h
    cusum_odds_ratio: Mapped[float] = mapped_column(Float, default=2.0, server_default="2")
    cusum_null_odds_ratio: Mapped[float] = mapped_column(Float, default=1.0, server_default="1")
    cusum_false_alarm: Mapped[float] = mapped_column(Float, default=0.05, server_default="0.05")
    # the CUSUM's control limit h, simulated once when first needed (the monitor's first look with the
    # CUSUM; service_cusum): the seed, simulations and the fixed horizon it holds for (procedures, and
    # the expected events they stand for: T, or N / (1 + z) for a binomial monitor); None: not yet
    cusum_h: Mapped[float | None] = mapped_column(Float)
    cusum_seed: Mapped[int | None]
    cusum_simulations: Mapped[int | None]
    cusum_horizon: Mapped[int | None]
    cusum_horizon_expected: Mapped[float | None] = mapped_column(Float)
    # earliest procedure date of the monitored DI added or changed since the last look (None: none);
    # a look recounts from scratch when it falls in the range the last look already counted
    changed_from: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | signalled | ended | stopped
    # maxsprt_poisson (counts against the risk model) | delta (propensity-matched comparison, delta.py)
    # | maxsprt_binomial (device procedures matched 1:z to comparators on the reference risk model)
    kind: Mapped[str] = mapped_column(String(24), default="maxsprt_poisson", server_default="maxsprt_poisson")
    # DELTA's design (None for MaxSPRT monitors): the margin the lower confidence limit of the matched
    # risk difference must exceed, the minimum matched pairs, the caliper in SDs of the logit score;
    # its per-look alpha is ``alpha``
    delta_margin: Mapped[float | None] = mapped_column(Float)
    delta_min_pairs: Mapped[int | None]
    delta_caliper: Mapped[float | None] = mapped_column(Float)
    # DELTA's overall alpha spending across looks (group_sequential; None: alpha per look): the
    # spending function (obf | pocock | hsd), its Hwang-Shih-DeCani gamma, and the planned matched
    # pairs - the information horizon, where the monitor ends (also without spending)
    delta_spending: Mapped[str | None] = mapped_column(String(16))
    delta_hsd_gamma: Mapped[float | None] = mapped_column(Float)
    delta_planned_pairs: Mapped[int | None]
    # matched binomial MaxSPRT (kind ``maxsprt_binomial``): comparators matched to each device procedure
    binomial_z: Mapped[int | None]
    # stopped by the monitoring centre (status ``stopped``): when, by whom, why
    stopped_at: Mapped[datetime | None]
    stopped_by: Mapped[str | None] = mapped_column(String(64))
    stop_reason: Mapped[str | None] = mapped_column(Text)
    # descriptive, editable at any time (service_edit); the design is editable only before the first look
    notes: Mapped[str | None] = mapped_column(Text)
    # the monitor this one supersedes (defined from it with a changed design; that one was stopped)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("surveillance_monitor.id"), unique=True,
        index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Look(Base):
    """One point of a monitor's boundary chart, appended by each run."""

    __tablename__ = "surveillance_look"
    __table_args__ = (UniqueConstraint("monitor_id", "look_no", name="uq_surveillance_look_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("surveillance_monitor.id"), index=True)
    look_no: Mapped[int]
    as_of: Mapped[date]
    procedures: Mapped[int]
    observed: Mapped[float] = mapped_column(Float)
    expected: Mapped[float] = mapped_column(Float)
    llr: Mapped[float] = mapped_column(Float)
    critical_value: Mapped[float] = mapped_column(Float)  # of this look (re-spent in a group design)
    # group-sequential monitors (maxsprt_spending): the smallest cumulative count that signals at this
    # look, the cumulative alpha the plan allows by it and the exact alpha spent (None: continuous)
    events_to_signal: Mapped[int | None]
    alpha_target: Mapped[float | None] = mapped_column(Float)
    alpha_spent: Mapped[float | None] = mapped_column(Float)
    # DELTA looks: matched pairs, the outcome risk of the device and of its matched comparators, the
    # cumulative risk difference with its confidence interval, the largest |SMD| after matching
    pairs: Mapped[int | None]
    risk_device: Mapped[float | None] = mapped_column(Float)
    risk_comparator: Mapped[float | None] = mapped_column(Float)
    risk_difference: Mapped[float | None] = mapped_column(Float)
    rd_lower: Mapped[float | None] = mapped_column(Float)
    rd_upper: Mapped[float | None] = mapped_column(Float)
    max_abs_smd: Mapped[float | None] = mapped_column(Float)
    # DELTA with planned pairs: pairs / planned pairs; with alpha spending the nominal one-sided alpha
    # of this look's boundary (``critical_value``; None: the look spent nothing and could not alert),
    # ``alpha_target`` / ``alpha_spent`` the cumulative alpha, ``rd_lower``/``rd_upper`` the repeated CI
    info_fraction: Mapped[float | None] = mapped_column(Float)
    nominal_alpha: Mapped[float | None] = mapped_column(Float)
    # the risk-adjusted CUSUM at this look (MaxSPRT monitors; None for DELTA and older looks): the
    # device's procedures charted (all evaluable ones, in the order their windows close), their
    # observed and expected outcomes and sum p(1-p) (the O/E chart), X at the look, the largest |X|
    # since the previous look, the h it was judged by, and the procedure (1-based) at which it crossed h
    # when this look raised the CUSUM alert
    cusum_procedures: Mapped[int | None]
    cusum_observed: Mapped[float | None] = mapped_column(Float)
    cusum_expected: Mapped[float | None] = mapped_column(Float)
    cusum_variance: Mapped[float | None] = mapped_column(Float)
    cusum_value: Mapped[float | None] = mapped_column(Float)
    cusum_peak: Mapped[float | None] = mapped_column(Float)
    cusum_h: Mapped[float | None] = mapped_column(Float)
    cusum_crossed_at: Mapped[int | None]
    signal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertCase(Base):
    __tablename__ = "surveillance_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("surveillance_monitor.id"), index=True)
    look_id: Mapped[int] = mapped_column(ForeignKey("surveillance_look.id"))
    # what raised it: "monitor" (the monitor's sequential test: MaxSPRT or DELTA) or "cusum"
    statistic: Mapped[str] = mapped_column(String(16), default="monitor", server_default="monitor")
    status: Mapped[str] = mapped_column(String(16), default=AlertStatus.OPEN, index=True)
    summary: Mapped[str] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
    # the signal case (medreg.signals) whose state the alert follows; no foreign key: surveillance sits
    # below signals (signals_case.alert_id points here); None: the fallback workflow (states.TABLE)
    signal_case_id: Mapped[int | None] = mapped_column(index=True)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
