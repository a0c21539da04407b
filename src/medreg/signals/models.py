"""Tables of signal management: the signal case and the statistics each scoring run appends to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medreg.core.clock import utcnow
from medreg.core.db import Base


class SignalCase(Base):
    """One (device, event) pair that met the signal criteria, worked as a case (states.TABLE)."""

    __tablename__ = "signals_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    # what raised the case: a disproportionality run over (device, event) pairs, or a surveillance
    # monitor's look crossing its boundary (``bridge.SOURCE_MONITOR``; then ``device_level`` is udi-di)
    source: Mapped[str] = mapped_column(String(24), default="disproportionality",
                                        server_default="disproportionality", index=True)
    monitor_id: Mapped[int | None] = mapped_column(ForeignKey("surveillance_monitor.id"), index=True)
    # the surveillance alert case of the monitor's signal: one signal case per alert (idempotent)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("surveillance_alert.id"), unique=True)
    # the hierarchy level of ``device`` (pipeline.DEVICE_LEVELS): certificate number, registrant
    # organisation id, sub-catalogue code or FDA product code; ``udi-di`` for a monitor's device
    device_level: Mapped[str] = mapped_column(String(20), default="certificate", server_default="certificate",
                                              index=True)
    device: Mapped[str] = mapped_column(String(200), index=True)
    event: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    criteria: Mapped[str] = mapped_column(String(200))  # the rule that opened the case, as text
    owner_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decision: Mapped[str | None] = mapped_column(String(32))  # states.Decision
    reason: Mapped[str | None] = mapped_column(Text)  # why dismissed, or the assessment summary
    registration_number: Mapped[str | None] = mapped_column(String(40), index=True)  # the device's 注册证
    response_due_at: Mapped[datetime | None]  # when the registrant's evaluation was requested: its deadline
    response: Mapped[str | None] = mapped_column(Text)  # the registrant's evaluation
    responded_at: Mapped[datetime | None]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    stats: Mapped[list[SignalStat]] = relationship(back_populates="case", order_by="SignalStat.id",
                                                   lazy="selectin", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class SignalStat(Base):
    """The statistics of the case's pair in one scoring run (a run appends; nothing is overwritten).

    Non-finite values (a PRR of inf, an undefined ratio) are stored as NULL.
    """

    __tablename__ = "signals_case_stat"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("signals_case.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("signals_run.id"), index=True)
    run_label: Mapped[str] = mapped_column(String(120))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    n11: Mapped[int]
    expected: Mapped[float | None] = mapped_column(Float)
    prr: Mapped[float | None] = mapped_column(Float)
    prr_lower: Mapped[float | None] = mapped_column(Float)
    ror: Mapped[float | None] = mapped_column(Float)
    ror_lower: Mapped[float | None] = mapped_column(Float)
    ic: Mapped[float | None] = mapped_column(Float)
    ic025: Mapped[float | None] = mapped_column(Float)
    ic975: Mapped[float | None] = mapped_column(Float)
    ebgm: Mapped[float | None] = mapped_column(Float)
    eb05: Mapped[float | None] = mapped_column(Float)
    # a surveillance monitor's look (source monitor): its id and statistics (observed, expected, LLR,
    # critical value; DELTA: pairs, risk difference and its confidence limits), as the look stored them
    look_id: Mapped[int | None] = mapped_column(ForeignKey("surveillance_look.id"), index=True)
    look_stats: Mapped[dict | None] = mapped_column(JSON)

    case: Mapped[SignalCase] = relationship(back_populates="stats")


class SignalRun(Base):
    """One ``medreg signals run``: the snapshot it scored, the analysis settings and the outcome."""

    __tablename__ = "signals_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(120))
    snapshot_version: Mapped[int]
    snapshot_path: Mapped[str] = mapped_column(String(500))
    reports: Mapped[int]  # distinct reports in the snapshot
    exported_at: Mapped[datetime]
    event_level: Mapped[int]
    annexes: Mapped[str] = mapped_column(String(8))
    device_level: Mapped[str] = mapped_column(String(20), default="certificate", server_default="certificate")
    strata: Mapped[str] = mapped_column(String(60), default="", server_default="")  # comma-separated
    engine: Mapped[str] = mapped_column(String(10), default="duckdb", server_default="duckdb")
    analysis_id: Mapped[int | None] = mapped_column(ForeignKey("signals_analysis.id"), index=True)
    criteria: Mapped[str] = mapped_column(String(200))
    pairs: Mapped[int]
    flagged: Mapped[int]
    opened: Mapped[int]
    updated: Mapped[int]
    prior: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class SignalCaseReport(Base):
    """A report that counted towards the case's pair in one run (``report_id`` is a vigilance case id).

    No foreign key to ``vigilance_case``: the link records what the snapshot held when it was scored.
    """

    __tablename__ = "signals_case_report"
    __table_args__ = (UniqueConstraint("stat_id", "report_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("signals_case.id", ondelete="CASCADE"), index=True)
    stat_id: Mapped[int] = mapped_column(ForeignKey("signals_case_stat.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[int] = mapped_column(BigInteger, index=True)


class SignalAnalysis(Base):
    """A configured analysis that the monitoring centre runs after each snapshot (``signals.snapshot``).

    Managed through ``medreg signals analyses`` and ``/api/signals/analyses``; every change audited.
    """

    __tablename__ = "signals_analysis"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    event_level: Mapped[int] = mapped_column(default=1)
    annexes: Mapped[str] = mapped_column(String(8), default="A")
    device_level: Mapped[str] = mapped_column(String(20), default="certificate")
    strata: Mapped[str] = mapped_column(String(60), default="")  # comma-separated pipeline.STRATA names
    statistic: Mapped[str] = mapped_column(String(8), default="ebgm")
    threshold: Mapped[float | None] = mapped_column(Float)
    min_n: Mapped[int] = mapped_column(default=3)
    engine: Mapped[str] = mapped_column(String(10), default="duckdb")
    # its own kernel schedule (``scheduling.py``); None: it runs after each snapshot (signals_0005)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedule.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
