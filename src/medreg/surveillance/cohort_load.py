"""Reading a monitor's cohort from the registry tables into NumPy column arrays.

Two readers:

* ``load_cohort`` - every procedure of the device group, as ORM row tuples converted one by one
  (the first-round reader; kept as the reference the columnar readers are tested against and as the
  "before" of the benchmark);
* ``load_reference`` and ``load_device_window`` - columnar: one SQL query each, the filters of
  ``monitoring.fit_reference_model`` / ``monitoring.cumulative_counts`` pushed into the ``WHERE``
  clause, dates turned into day numbers and booleans into 0/1 by the database, the DB-API rows fed
  straight to ``numpy.array`` (no ORM objects, no ``date`` objects). The reference-period rows are
  read once, when the risk model is fitted; the charts read the device's rows;
* ``device_totals`` - what a look needs: the number of evaluable procedures, observed and expected
  outcomes of the device in a range of procedure dates, summed by the database in one row (the
  evaluability rule of ``monitoring.evaluable_outcomes`` and the logistic risk of
  ``riskmodel.RiskModel.predict`` written in SQL; tests check them against the NumPy computation).
  A recount of ~9,000 procedures no longer turns ~100,000 values into Python objects.

Rows come back ordered by procedure id, so sums are taken in the same order whichever reader is
used (identical floating-point results).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import numpy as np
from sqlalchemy import Date, Float, Integer, String, bindparam, case, cast, func, literal, select
from sqlalchemy.orm import Session

from medreg.surveillance.models import Monitor, Outcome, Procedure
from medreg.surveillance.monitoring import COVARIATES, EF_DEFAULT, Cohort
from medreg.surveillance.riskmodel import RiskModel

__all__ = ["device_totals", "load_cohort", "load_device_window", "load_group_window", "load_reference"]

_EPOCH = date(1970, 1, 1)
_SQLITE_JD_EPOCH = 2440587.5  # julianday('1970-01-01')


def _days(dialect: str, col):
    """Day number (days since 1970-01-01) of a date column, computed by the database."""
    if dialect == "sqlite":
        return func.julianday(col) - _SQLITE_JD_EPOCH
    return col - cast(literal(_EPOCH), Date)  # PostgreSQL: date - date is an integer


@lru_cache(maxsize=8)
def _statement(dialect: str, mode: str):
    """The look's query, built once per dialect with bound parameters (a look runs often: building
    and caching a SQLAlchemy statement each time cost more than reading a month of rows). ``mode``:
    ``reference`` (the comparators in ``[start, end]``), ``device`` (the DI in ``(start, end]``) or
    ``group`` (every DI of the group in ``(start, end]``: a DELTA look)."""
    di = bindparam("udi_di", type_=String)
    start, end = bindparam("start", type_=Date), bindparam("end", type_=Date)
    where = {
        "reference": (Procedure.udi_di != di, Procedure.procedure_date >= start,
                      Procedure.procedure_date <= end),
        "device": (Procedure.udi_di == di, Procedure.procedure_date > start, Procedure.procedure_date <= end),
        "group": (Procedure.procedure_date > start, Procedure.procedure_date <= end),
    }[mode]
    return (
        select(
            _days(dialect, Procedure.procedure_date),
            case((Procedure.udi_di == di, 1), else_=0),
            Procedure.age,
            case((Procedure.sex == "M", 1), else_=0),
            case((Procedure.diabetes, 1), else_=0),
            case((Procedure.renal_failure, 1), else_=0),
            case((Procedure.prior_mi, 1), else_=0),
            Procedure.ejection_fraction,
            _days(dialect, Procedure.follow_up_end),
            _days(dialect, Outcome.event_date),
        )
        .outerjoin(
            Outcome,
            (Outcome.procedure_id == Procedure.id) & (Outcome.kind == bindparam("outcome", type_=String)),
        )
        .where(Procedure.device_group == bindparam("device_group", type_=String), *where)
        .order_by(Procedure.id)
    )


def _columnar(session: Session, monitor: Monitor, mode: str, start: date, end: date) -> Cohort:
    conn = session.connection()
    q = _statement(conn.dialect.name, mode)
    params = {"udi_di": monitor.udi_di, "outcome": monitor.outcome, "device_group": monitor.device_group,
              "start": start, "end": end}
    # Core execution and the DB-API cursor's own tuples of numbers: no ORM rows, no date objects
    # (every column is numeric in SQL, so SQLAlchemy has no result processing to do)
    result = conn.execute(q, params)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    a = np.array(rows, dtype=float).reshape(len(rows), 10)  # None -> nan
    ordinal0 = _EPOCH.toordinal()
    ef = a[:, 7]
    covariates = a[:, 2:8].copy()
    covariates[:, 5] = np.where(np.isnan(ef), EF_DEFAULT, ef)
    outcome = a[:, 9]
    return Cohort(
        day=np.rint(a[:, 0]).astype(np.int64) + ordinal0,
        is_device=a[:, 1] == 1,
        covariates=covariates,
        outcome_day=np.where(np.isnan(outcome), np.inf, outcome + ordinal0),
        followed_to=np.rint(a[:, 8]).astype(np.int64) + ordinal0,
    )


def load_reference(session: Session, monitor: Monitor) -> Cohort:
    """The comparator procedures of the reference period (what the risk model is fitted on)."""
    return _columnar(session, monitor, "reference", monitor.reference_start, monitor.reference_end)


def load_device_window(session: Session, monitor: Monitor, as_of: date, after: date | None = None) -> Cohort:
    """The device's procedures after the reference period whose outcome window closed by ``as_of``;
    with ``after``, only those whose window closed after ``after`` (what a look adds to the last one)."""
    return _columnar(session, monitor, "device", *_window(monitor, as_of, after))


def load_group_window(session: Session, monitor: Monitor, as_of: date) -> Cohort:
    """Every procedure of the monitor's group after the reference period whose outcome window closed
    by ``as_of`` (the device's and its comparators': what a DELTA look compares)."""
    return _columnar(session, monitor, "group", *_window(monitor, as_of, None))


def _window(monitor: Monitor, as_of: date, after: date | None) -> tuple[date, date]:
    """Procedure dates ``(start, end]`` whose outcome window closed by ``as_of`` (after ``after``)."""
    start = monitor.reference_end
    if after is not None:
        start = max(start, after - timedelta(days=monitor.window_days))
    return start, as_of - timedelta(days=monitor.window_days)


@lru_cache(maxsize=4)
def _totals_statement(dialect: str):
    """Evaluable procedures, observed and expected outcomes of one DI in a date range, in one row."""
    day = _days(dialect, Procedure.procedure_date)
    window = bindparam("window", type_=Integer)
    # monitoring.evaluable_outcomes: the outcome within the window, or followed to the window's end
    within = Outcome.event_date.is_not(None) & (_days(dialect, Outcome.event_date) - day <= window)
    evaluable = within | (_days(dialect, Procedure.follow_up_end) - day >= window)
    beta = [bindparam(f"b{i}", type_=Float) for i in range(len(COVARIATES) + 1)]
    flag = lambda cond: case((cond, 1.0), else_=0.0)  # noqa: E731
    # riskmodel.RiskModel.predict on the columns of monitoring.COVARIATES (EF imputed as EF_DEFAULT)
    eta = (beta[0] + beta[1] * Procedure.age + beta[2] * flag(Procedure.sex == "M")
           + beta[3] * flag(Procedure.diabetes) + beta[4] * flag(Procedure.renal_failure)
           + beta[5] * flag(Procedure.prior_mi)
           + beta[6] * func.coalesce(Procedure.ejection_fraction, EF_DEFAULT))
    return (
        select(func.count(), func.coalesce(func.sum(flag(within)), 0.0),
               func.coalesce(func.sum(1.0 / (1.0 + func.exp(-eta))), 0.0))
        .select_from(Procedure)
        .outerjoin(
            Outcome,
            (Outcome.procedure_id == Procedure.id) & (Outcome.kind == bindparam("outcome", type_=String)),
        )
        .where(Procedure.device_group == bindparam("device_group", type_=String),
               Procedure.udi_di == bindparam("udi_di", type_=String),
               Procedure.procedure_date > bindparam("start", type_=Date),
               Procedure.procedure_date <= bindparam("end", type_=Date), evaluable)
    )


def device_totals(session: Session, monitor: Monitor, model: RiskModel, as_of: date,
                  after: date | None = None) -> tuple[int, float, float]:
    """(evaluable procedures, observed, expected outcomes) of the device whose outcome window closed
    by ``as_of`` (with ``after``: only those whose window closed after it), summed by the database."""
    conn = session.connection()
    params = totals_params(monitor, model, as_of, after)
    n, observed, expected = conn.execute(_totals_statement(conn.dialect.name), params).one()
    return int(n), float(observed), float(expected)


def totals_params(monitor: Monitor, model: RiskModel, as_of: date, after: date | None = None) -> dict:
    """The bound parameters of ``device_totals``' query (also for the benchmark's EXPLAIN)."""
    if tuple(model.names[1:]) != COVARIATES:
        raise ValueError("device_totals expects a model on monitoring.COVARIATES")
    start, end = _window(monitor, as_of, after)
    return {"udi_di": monitor.udi_di, "outcome": monitor.outcome, "device_group": monitor.device_group,
            "start": start, "end": end, "window": monitor.window_days,
            **{f"b{i}": float(b) for i, b in enumerate(model.coefficients)}}


def load_cohort(session: Session, monitor: Monitor) -> Cohort:
    """All procedures of the monitor's device group, converted row by row (the reference reader)."""
    q = (
        select(
            Procedure.procedure_date,
            Procedure.udi_di,
            Procedure.age,
            Procedure.sex,
            Procedure.diabetes,
            Procedure.renal_failure,
            Procedure.prior_mi,
            Procedure.ejection_fraction,
            Procedure.follow_up_end,
            Outcome.event_date,
        )
        .outerjoin(Outcome, (Outcome.procedure_id == Procedure.id) & (Outcome.kind == monitor.outcome))
        .where(Procedure.device_group == monitor.device_group)
        .order_by(Procedure.id)
    )
    rows = session.execute(q).all()
    n = len(rows)
    cols = list(zip(*rows, strict=True)) if rows else [()] * 10
    ef = np.array([np.nan if v is None else v for v in cols[7]], dtype=float)
    covariates = (
        np.column_stack(
            [
                np.array(cols[2], dtype=float).reshape(n),
                np.array([v == "M" for v in cols[3]], dtype=float).reshape(n),
                np.array(cols[4], dtype=float).reshape(n),
                np.array(cols[5], dtype=float).reshape(n),
                np.array(cols[6], dtype=float).reshape(n),
                np.where(np.isnan(ef), EF_DEFAULT, ef).reshape(n),
            ]
        )
        if n
        else np.empty((0, 6))
    )
    return Cohort(
        day=np.fromiter((d.toordinal() for d in cols[0]), dtype=np.int64, count=n),
        is_device=np.array([di == monitor.udi_di for di in cols[1]], dtype=bool).reshape(n),
        covariates=covariates,
        outcome_day=np.fromiter((d.toordinal() if d else np.inf for d in cols[9]), dtype=float, count=n),
        followed_to=np.fromiter((d.toordinal() for d in cols[8]), dtype=np.int64, count=n),
    )
