"""Use cases of sequential monitoring: define a monitor, run a look, handle the alert cases.

A run appends one point (a ``Look``) per active monitor: the cumulative observed and risk-expected
outcomes of the monitored device at ``as_of``, and the Poisson MaxSPRT LLR against the critical value
of that look (the monitor's, or for a group-sequential monitor the one re-spent at the look's actual
expected count, ``maxsprt_spending``). A crossing opens an alert case (state machine in ``states.py``)
and stops the monitor (``signalled``); reaching the upper limit on the length of surveillance ends it
without a signal. A MaxSPRT monitor's look also stores its risk-adjusted CUSUM state (``service_cusum``);
the CUSUM's first crossing of h opens an alert case of its own and leaves the monitor's status alone.
An alert case's own workflow is in ``service_alerts``.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medreg.core import audit
from medreg.core.accounts import Organisation, OrgKind
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, ValidationFailed
from medreg.surveillance import service_cusum
from medreg.surveillance.access import require_centre
from medreg.surveillance.cohort_load import device_totals, load_reference
from medreg.surveillance.maxsprt import poisson_critical_value, poisson_llr
from medreg.surveillance.maxsprt_spending import (
    check_sample_size,
    design_thresholds,
    poisson_group_critical_value,
    poisson_spending_look,
)
from medreg.surveillance.models import AlertCase, DeviceGroup, Look, Monitor, OutcomeKind
from medreg.surveillance.monitor_design import KINDS, check_cusum, check_delta, look_plan, monitor_plan
from medreg.surveillance.monitoring import day_number, fit_reference_model
from medreg.surveillance.riskmodel import RiskModel
from medreg.surveillance.service_alert_open import CUSUM_STATS, open_cusum_alert
from medreg.surveillance.service_alert_open import announce_alert as _announce
from medreg.surveillance.service_binomial import binomial_design, binomial_look_values
from medreg.surveillance.service_delta import delta_design, delta_ended, delta_look_values, delta_summary
from medreg.surveillance.states import AlertStatus

__all__ = ["create_monitor", "registry_changed", "run_monitor", "run_monitors"]


def create_monitor(
    session: Session,
    actor: Actor,
    *,
    name: str,
    device_group: str,
    udi_di: str,
    outcome: str,
    window_days: int,
    reference_start: date,
    reference_end: date,
    alpha: float = 0.05,
    sample_size: float = 20.0,
    min_events: int = 4,
    registrant_org_id: int | None = None,
    planned_looks: int | None = None,
    look_at: list[float] | None = None,
    cusum_odds_ratio: float = 2.0,
    cusum_null_odds_ratio: float = 1.0,
    cusum_false_alarm: float = 0.05,
    kind: str = "maxsprt_poisson",
    delta_margin: float = 0.0,
    delta_min_pairs: int = 20,
    delta_caliper: float = 0.2,
    binomial_z: int = 1,
    dry_run: bool = False,
    delta_spending: str | None = None,
    delta_planned_pairs: int | None = None,
    delta_hsd_gamma: float = -4.0,
    notes: str | None = None,
) -> Monitor:
    """Define a monitor; its critical value is fixed now from the design (Kulldorff 2011).

    Continuous monitoring (neither ``planned_looks`` nor ``look_at``): the CV of
    ``poisson_critical_value`` without looks. A group-sequential monitor, whose runs are periodic,
    gives either ``planned_looks=G`` (G looks of ``T/G`` expected events each) or ``look_at``, the
    timing of its looks as increasing fractions of T ending at 1 (``[0.25, 0.5, 1]``: looks at T/4,
    T/2 and T). Its CV is the group design's (Silva & Kulldorff 2015, ``CV.G.Poisson`` of the
    ``Sequential`` package with ``GroupSizes`` the differences), lower than the continuous one since
    fewer chances to cross are taken. At each actual look its critical value is re-spent
    (``maxsprt_spending``) so that the alpha spent follows the plan whatever expected counts the runs
    add; the monitor ends when T is reached. The monitor's risk-adjusted CUSUM tests the odds ratio
    ``cusum_null_odds_ratio`` (R_0) against ``cusum_odds_ratio`` (R_A) with a control limit simulated
    once, at the first look, for the false-alarm probability ``cusum_false_alarm`` over the planned
    length of surveillance (Steiner et al. 2000; ``service_cusum``).

    ``kind="delta"``: a DELTA-style propensity-matched comparison (``service_delta``) with the margin,
    the minimum matched pairs and the caliper given, ``alpha`` per look; no looks plan, no T or M. With
    ``delta_spending`` (obf, pocock, hsd with ``delta_hsd_gamma``) and ``delta_planned_pairs``, ``alpha``
    is the overall one-sided false-alert probability, spent across looks (``group_sequential``);
    planned pairs alone end the monitor there.
    ``notes``: free text (at most 4,000 characters), descriptive like the name (editable at any time).
    ``kind="maxsprt_binomial"``: a matched binomial MaxSPRT (``service_binomial``), each device
    procedure matched to ``binomial_z`` comparators; ``sample_size`` is then N, in events; continuous,
    or group-sequential with the looks in whole events and alpha re-spent at each actual look.
    """
    require_centre(actor)
    if device_group not in {g.value for g in DeviceGroup}:
        raise ValidationFailed(
            "Unknown device group: {groups}.", field="device_group", params={"groups": device_group}
        )
    if outcome not in {k.value for k in OutcomeKind}:
        raise ValidationFailed("Unknown outcome.", field="outcome")
    if not 1 <= window_days <= 3650:
        raise ValidationFailed("The outcome window must be 1 to 3650 days.", field="window_days")
    if reference_end < reference_start:
        raise ValidationFailed("The reference period ends before it starts.", field="reference_end")
    if registrant_org_id is not None:
        org = session.get(Organisation, registrant_org_id)
        if org is None or org.kind != OrgKind.REGISTRANT:
            raise ValidationFailed("No such registrant.", field="registrant_org_id")
    check_cusum(cusum_odds_ratio, cusum_null_odds_ratio, cusum_false_alarm)
    notes = (notes or "").strip() or None
    if notes is not None and len(notes) > 4000:
        raise ValidationFailed("At most {limit} characters.", field="notes", params={"limit": 4000})
    if kind not in KINDS:
        raise ValidationFailed("Unknown monitor kind.", field="kind")
    if kind == "delta":
        design = _delta_design(alpha, delta_margin, delta_min_pairs, delta_caliper, planned_looks, look_at,
                               (delta_spending, delta_planned_pairs, delta_hsd_gamma))
    elif kind == "maxsprt_binomial":
        design = binomial_design(alpha, sample_size, min_events, binomial_z, planned_looks, look_at)
    else:
        design = _maxsprt_design(alpha, sample_size, min_events, planned_looks, look_at)
    monitor = Monitor(
        name=name.strip()[:200] or udi_di,
        device_group=device_group,
        udi_di=udi_di,
        registrant_org_id=registrant_org_id,
        outcome=outcome,
        window_days=window_days,
        reference_start=reference_start,
        reference_end=reference_end,
        alpha=alpha,
        **design,
        cusum_odds_ratio=cusum_odds_ratio,
        cusum_null_odds_ratio=cusum_null_odds_ratio,
        cusum_false_alarm=cusum_false_alarm,
        notes=notes,
    )
    if dry_run:  # service_edit: the checked design of an edit, not stored, not audited
        return monitor
    session.add(monitor)
    session.flush()
    audit.record(
        session,
        actor,
        "surveillance.monitor.create",
        "surveillance_monitor",
        monitor.id,
        after={
            "udi_di": udi_di,
            "outcome": outcome,
            "window_days": window_days,
            "alpha": alpha,
            **{k: v for k, v in design.items() if k != "planned_looks"},
            "cusum_odds_ratio": cusum_odds_ratio,
            "cusum_null_odds_ratio": cusum_null_odds_ratio,
            "cusum_false_alarm": cusum_false_alarm,
            **({"notes": notes} if notes else {}),
        },
    )
    return monitor


def _maxsprt_design(alpha: float, sample_size: float, min_events: int, planned_looks: int | None,
                    look_at: list[float] | None) -> dict:
    plan = look_plan(sample_size, planned_looks, look_at)
    if plan is not None:  # its looks' critical values will be re-spent
        check_sample_size(sample_size)
    if plan is None:
        cv = poisson_critical_value(sample_size, alpha, min_events=min_events).critical_value
    else:  # maxsprt's group design, on the pruned chain of the re-spending (T up to 100,000)
        cv = poisson_group_critical_value(plan, alpha, min_events=min_events)[0]
    return {"kind": "maxsprt_poisson", "sample_size": sample_size, "min_events": min_events,
            "critical_value": cv, "planned_looks": None if plan is None else len(plan),
            "look_plan": plan}


def _delta_design(alpha: float, margin: float, min_pairs: int, caliper: float, planned_looks: int | None,
                  look_at: list[float] | None, spending: tuple) -> dict:
    if planned_looks is not None or look_at is not None:
        raise ValidationFailed("A DELTA monitor has no planned looks: its alpha is per look.",
                               field="planned_looks" if planned_looks is not None else "look_at")
    check_delta(margin, min_pairs, caliper)
    return delta_design(alpha, margin, min_pairs, caliper, *spending)


def _look_rule(session: Session, monitor: Monitor, expected: float) -> dict:
    """The critical value of this look: the monitor's (continuous design), or re-spent at the look's
    actual expected count from the alpha the earlier looks spent (group design, maxsprt_spending)."""
    plan = monitor_plan(monitor)
    if plan is None or expected <= 0:
        return {"critical_value": monitor.critical_value, "events_to_signal": None,
                "alpha_target": None, "alpha_spent": None}
    prior = []
    for lk in session.scalars(select(Look).where(Look.monitor_id == monitor.id).order_by(Look.look_no)):
        threshold = lk.events_to_signal
        if threshold is None:  # judged by the flat critical value (a look from before re-spending)
            threshold = int(design_thresholds(lk.critical_value, lk.expected, monitor.min_events)[0])
        prior.append((lk.expected, threshold))
    # information never goes back: a recount that lowers the expected count adds none
    info = max([expected, *(t for t, _c in prior)])
    r = poisson_spending_look(monitor.critical_value, plan, prior, info, min_events=monitor.min_events)
    return {"critical_value": r.critical_value, "events_to_signal": r.events_to_signal,
            "alpha_target": r.target, "alpha_spent": r.spent}


def _model(session: Session, actor: Actor, monitor: Monitor) -> RiskModel:
    if monitor.risk_model:
        m = monitor.risk_model
        return RiskModel(
            tuple(m["names"]),
            tuple(m["coefficients"]),
            tuple(m["standard_errors"]),
            m["n_reference"],
            m["events_reference"],
            m["c_statistic"],
        )
    try:
        model = fit_reference_model(
            load_reference(session, monitor),
            day_number(monitor.reference_start),
            day_number(monitor.reference_end),
            monitor.window_days,
        )
    except ValidationFailed as exc:  # the user fixes it by changing the monitor's reference period
        raise ValidationFailed(exc.template, field="reference_end", params=exc.params) from exc
    monitor.risk_model = {
        "names": list(model.names),
        "coefficients": list(model.coefficients),
        "standard_errors": list(model.standard_errors),
        "n_reference": model.n_reference,
        "events_reference": model.events_reference,
        "c_statistic": model.c_statistic,
    }
    audit.record(
        session,
        actor,
        "surveillance.monitor.fit",
        "surveillance_monitor",
        monitor.id,
        after=monitor.risk_model,
    )
    return model


def registry_changed(session: Session, changes: dict[tuple[str, str], date]) -> None:
    """Procedures of these ``(device group, DI)`` were added or changed from these dates on: the
    monitors of those devices remember the earliest date, so that their next look recounts from
    scratch if the change falls in what their last look already counted (called by the registry
    services before they record their audit event)."""
    if not changes:
        return
    dis = sorted({di for _group, di in changes})
    stmt = select(Monitor).where(Monitor.udi_di.in_(dis)).order_by(Monitor.id).with_for_update()
    for m in session.scalars(stmt):
        d = changes.get((m.device_group, m.udi_di))
        if d is not None and (m.changed_from is None or d < m.changed_from):
            m.changed_from = d
    session.flush()


def _recount(monitor: Monitor, last: Look | None) -> bool:
    """Whether a look counts from scratch: the first look, or the registry changed in the range the
    last look already counted (``changed_from``)."""
    if last is None:
        return True
    counted_to = last.as_of - timedelta(days=monitor.window_days)
    return monitor.changed_from is not None and monitor.changed_from <= counted_to


def _cusum(session: Session, actor: Actor, monitor: Monitor, model: RiskModel, last: Look | None,
           as_of: date) -> tuple[dict, float | None]:
    """The look's CUSUM columns (``service_cusum``; h simulated and stored the first time)."""
    service_cusum.ensure_limit(session, actor, monitor, model)
    return service_cusum.cusum_look_values(session, monitor, model, last, as_of,
                                           recount=_recount(monitor, last),
                                           alarmed=service_cusum.has_cusum_alert(session, monitor))


def _counts(session: Session, monitor: Monitor, model: RiskModel, last: Look | None, as_of: date):
    """(procedures, observed, expected) of the device at ``as_of``, cumulative.

    Incremental when it can be: the last look's cumulative counts plus the procedures whose window
    closed since then (one indexed range read of a few rows). From scratch on the first look, or
    when the registry changed in the range the last look already counted (``changed_from``). Either
    way the database sums the rows (``cohort_load.device_totals``).
    """
    recount = _recount(monitor, last)
    n, observed, expected = device_totals(session, monitor, model, as_of,
                                          after=None if recount else last.as_of)
    if not recount:
        n, observed, expected = last.procedures + n, last.observed + observed, last.expected + expected
    return n, observed, expected


def run_monitor(session: Session, actor: Actor, monitor: Monitor, as_of: date) -> Look:
    """Append the look at ``as_of``; open an alert case when the LLR crosses the critical value."""
    require_centre(actor)
    session.flush()
    # the monitor's row is locked for the look: a registry change committed meanwhile marks it after
    # this look, never in between (read ``changed_from`` and the procedures under the same lock)
    session.refresh(monitor, with_for_update=True)
    if monitor.status != "active":
        raise Conflict("The monitor is no longer active.", field="monitor")
    last = session.scalar(select(Look).where(Look.monitor_id == monitor.id).order_by(Look.look_no.desc()))
    if last is not None and as_of <= last.as_of:
        raise Conflict("A later or equal look already exists.", field="as_of")
    look_no = (last.look_no + 1) if last else 1
    if monitor.kind == "delta":
        values = delta_look_values(session, monitor, as_of)
        summary = delta_summary(monitor, values)
        look = _append(session, actor, monitor, Look(monitor_id=monitor.id, look_no=look_no, as_of=as_of,
                                                     **values), summary)
        monitor.changed_from = None
        return look
    model = _model(session, actor, monitor)
    cusum, crossing = _cusum(session, actor, monitor, model, last, as_of)
    if monitor.kind == "maxsprt_binomial":
        values = binomial_look_values(session, monitor, model, as_of)
        monitor.changed_from = None
        summary = (f"{monitor.name}: {values['observed']:g} of {values['expected']:g} {monitor.outcome} in "
                   f"the device's procedures, 1:{monitor.binomial_z} matched (LLR {values['llr']:.3f} >= "
                   f"CV {monitor.critical_value:.3f})")
        return _append(session, actor, monitor, Look(monitor_id=monitor.id, look_no=look_no, as_of=as_of,
                                                     **values, **cusum), summary, crossing)
    n, observed, expected = _counts(session, monitor, model, last, as_of)
    monitor.changed_from = None
    llr = float(poisson_llr(observed, expected)) if expected > 0 else 0.0
    rule = _look_rule(session, monitor, expected)
    if rule["events_to_signal"] is None:
        signal = llr >= monitor.critical_value and observed >= monitor.min_events
    else:  # the same decision as LLR >= the look's critical value, on the count scale
        signal = observed >= rule["events_to_signal"]
    look = Look(monitor_id=monitor.id, look_no=look_no, as_of=as_of, procedures=n, observed=observed,
                expected=expected, llr=llr, signal=signal, **rule, **cusum)
    summary = (f"{monitor.name}: {observed:g} {monitor.outcome} observed vs "
               f"{expected:.2f} expected (LLR {llr:.3f} >= CV {look.critical_value:.3f})")
    return _append(session, actor, monitor, look, summary, crossing)


def _append(session: Session, actor: Actor, monitor: Monitor, look: Look, summary: str,
            cusum_crossing: float | None = None) -> Look:
    """Store the look; on a signal open an alert case and stop the monitor (``signalled``); a MaxSPRT
    monitor whose expected count reached T ends; a first CUSUM crossing opens its own alert case
    (the monitor's status unchanged: ``service_alert_open.open_cusum_alert``); audit all."""
    session.add(look)
    session.flush()
    if look.signal:
        monitor.status = "signalled"
        alert = AlertCase(monitor_id=monitor.id, look_id=look.id, status=AlertStatus.OPEN, summary=summary)
        session.add(alert)
        session.flush()
        audit.record(session, actor, "surveillance.alert.open", "surveillance_alert", alert.id,
                     after={"monitor_id": monitor.id, "look_no": look.look_no, "llr": look.llr,
                            "risk_difference": look.risk_difference, "rd_lower": look.rd_lower})
        _announce(session, actor, monitor, look, alert)
    elif monitor.kind != "delta" and look.expected >= monitor.sample_size:
        monitor.status = "ended"  # group designs too: their alpha is spent by T (re-spending)
    elif monitor.kind == "delta" and delta_ended(monitor, look):
        monitor.status = "ended"  # the planned matched pairs are reached (the spending design's alpha too)
    if look.cusum_crossed_at is not None:
        open_cusum_alert(session, actor, monitor, look, cusum_crossing)
    after = {"look_no": look.look_no, "as_of": look.as_of, "observed": look.observed,
             "expected": look.expected, "llr": look.llr, "critical_value": look.critical_value,
             "alpha_spent": look.alpha_spent, "signal": look.signal, "status": monitor.status}
    if monitor.kind == "delta":
        after.update(pairs=look.pairs, risk_difference=look.risk_difference, rd_lower=look.rd_lower,
                     rd_upper=look.rd_upper, max_abs_smd=look.max_abs_smd, info_fraction=look.info_fraction,
                     nominal_alpha=look.nominal_alpha, alpha_target=look.alpha_target)
    else:
        after.update({k: getattr(look, k) for k in CUSUM_STATS})
    audit.record(session, actor, "surveillance.look", "surveillance_monitor", monitor.id, after=after)
    return look


def run_monitors(session: Session, actor: Actor, as_of: date) -> list[Look]:
    """One look for every active monitor (the ``medreg surveillance run`` command)."""
    require_centre(actor)
    # lock every monitor of the run first, in id order, before any audit event takes the audit chain's
    # head: a registry change locks its monitors in the same order before its own audit event, so the
    # two never wait on each other in a cycle
    monitors = session.scalars(
        select(Monitor).where(Monitor.status == "active").order_by(Monitor.id).with_for_update()
    ).all()
    return [run_monitor(session, actor, m, as_of) for m in monitors]


def looks_count(session: Session, monitor_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Look).where(Look.monitor_id == monitor_id)))
