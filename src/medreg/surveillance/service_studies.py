"""Run a registered real-world evidence study on the surveillance registry.

The cohort is the device group's procedures up to the data cut-off, filtered by the protocol's
criteria (on the fields of ``_rows``: a minimum follow-up registered from the form is a criterion on
``days_followed_or_event``, which keeps the patients whose follow-up ended early by the outcome or
death; the older ``days_followed`` keeps its meaning in the protocols that name it); the device under
study (its DIs) is compared with the rest of the group on the protocol's first outcome, followed for
``follow_up_days`` (censored at the end of follow-up or at the cut-off).
The analyses named in the protocol are run (``medreg.evidence``) and the results are stored with their
hash under the protocol's hash (``evidence.service.record_analysis``).
"""

from __future__ import annotations

from datetime import date

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.errors import ValidationFailed
from medreg.evidence import service as evidence
from medreg.evidence.models import StudyAnalysis
from medreg.evidence.propensity import match_nearest, propensity_scores, standardized_mean_differences
from medreg.evidence.protocol import Criterion, StudyProtocol, select_cohort
from medreg.evidence.survival import cox_ph, cumulative_incidence, kaplan_meier, logrank
from medreg.surveillance.models import Outcome, Procedure
from medreg.surveillance.monitoring import COVARIATES, EF_DEFAULT

__all__ = ["run_study"]


def _protocol(content: dict) -> StudyProtocol:
    c = dict(content)
    c["inclusion"] = tuple(Criterion(**x) for x in c.get("inclusion", ()))
    c["exclusion"] = tuple(Criterion(**x) for x in c.get("exclusion", ()))
    for key in ("outcomes", "analyses", "covariates", "device_dis"):
        c[key] = tuple(c.get(key, ()))
    return StudyProtocol(**c)


def _followed_or_event(p: Procedure, events: dict[str, date], kind: str, cutoff: date) -> int:
    """``days_followed_or_event``: the days followed (to the end of follow-up or the data cut-off),
    except that a follow-up ended by the study's outcome ``kind`` or by death counts as followed to the
    data cut-off - the event is the end of the patient's follow-up, not a loss. ``>= N`` therefore keeps
    the patients with an outcome or death before N days and excludes only those censored (lost to
    follow-up, or at the end of the data) before N days; a patient whose procedure lies less than N
    days before the cut-off is excluded with or without an event (keeping only the ones with an event
    would leave the events of recent procedures without their event-free peers)."""
    end = min(p.follow_up_end, cutoff)
    ended = any(d is not None and p.procedure_date <= d <= end
                for d in (events.get(kind), events.get("death")))
    return max(((cutoff if ended else end) - p.procedure_date).days, 0)


def _rows(session: Session, group: str, cutoff: date, kind: str) -> list[dict]:
    """The study rows of the group's procedures up to ``cutoff``; ``kind``: the study's outcome."""
    procs = session.scalars(
        select(Procedure).where(Procedure.device_group == group, Procedure.procedure_date <= cutoff)
    ).all()
    events: dict[int, dict[str, date]] = {}
    for o in session.scalars(select(Outcome).join(Procedure).where(Procedure.device_group == group)):
        events.setdefault(o.procedure_id, {})[o.kind] = o.event_date
    return [
        dict(
            id=p.id,
            udi_di=p.udi_di,
            procedure_date=p.procedure_date,
            age=p.age,
            sex=p.sex,
            male=p.sex == "M",
            diabetes=p.diabetes,
            renal_failure=p.renal_failure,
            prior_mi=p.prior_mi,
            ejection_fraction=p.ejection_fraction if p.ejection_fraction is not None else EF_DEFAULT,
            follow_up_end=p.follow_up_end,
            # days from the procedure to the end of follow-up or the data cut-off, whichever comes first
            days_followed=max((min(p.follow_up_end, cutoff) - p.procedure_date).days, 0),
            days_followed_or_event=_followed_or_event(p, events.get(p.id, {}), kind, cutoff),
            events=events.get(p.id, {}),
        )
        for p in procs
    ]


def _time_to_event(rows: list[dict], kind: str, days: int, cutoff: date) -> tuple[np.ndarray, np.ndarray]:
    """Durations in days and event codes: 1 = the outcome, 2 = death first (competing), 0 = censored."""
    t, code = np.empty(len(rows)), np.zeros(len(rows), dtype=int)
    for i, r in enumerate(rows):
        end = min((r["follow_up_end"] - r["procedure_date"]).days, (cutoff - r["procedure_date"]).days, days)
        ev, death = r["events"].get(kind), r["events"].get("death")
        candidates = [(ev, 1)] + ([(death, 2)] if kind != "death" else [])
        hits = [
            ((d - r["procedure_date"]).days, c)
            for d, c in candidates
            if d is not None and (d - r["procedure_date"]).days <= end
        ]
        t[i], code[i] = min(hits) if hits else (max(end, 0), 0)
    return np.maximum(t, 0.5), code  # same-day events count at half a day


def run_study(
    session: Session, actor: Actor, protocol_id: int, *, data_cutoff: date, today: date | None = None
) -> StudyAnalysis:
    """Run the registered protocol at ``data_cutoff`` (not after ``today`` when given) and record it."""
    registered = evidence.get_protocol(session, actor, protocol_id)
    if today is not None and data_cutoff > today:
        raise ValidationFailed("The data cut-off cannot be in the future.", field="data_cutoff")
    protocol = _protocol(registered.content)
    if not protocol.device_dis:
        raise ValidationFailed("The protocol names no device identifier to study.", field="device_dis")
    kind = protocol.outcomes[0]
    rows, flow = select_cohort(_rows(session, protocol.device_group, data_cutoff, kind), protocol)
    treated = np.array([r["udi_di"] in protocol.device_dis for r in rows], dtype=bool)
    if treated.sum() < 10 or (~treated).sum() < 10:
        raise ValidationFailed(
            "The cohort needs at least 10 procedures with the device and 10 comparators.", field="device_dis"
        )
    names = list(protocol.covariates or COVARIATES)
    x = np.array([[float(r["male"] if n == "male" else r[n]) for n in names] for r in rows])
    t, code = _time_to_event(rows, kind, protocol.follow_up_days, data_cutoff)
    arm = np.where(treated, "device", "comparator")
    matching = match_nearest(propensity_scores(x, treated), treated)
    balance = standardized_mean_differences(x, treated, names, matching)
    results: dict = {
        "n": len(rows),
        "n_device": int(treated.sum()),
        "flow": flow,
        "outcome": kind,
        "balance": {
            "names": names,
            "smd_before": balance.before,
            "smd_after": balance.after,
            "matched_pairs": len(matching.treated),
        },
    }
    if "kaplan_meier" in protocol.analyses:
        curves = kaplan_meier(
            t, code == 1, arm, risk_times=[0, 90, 180, 365][: 1 + protocol.follow_up_days // 90]
        )
        results["kaplan_meier"] = [
            {
                "group": c.group,
                "final_survival": c.survival[-1],
                "lower": c.lower[-1],
                "upper": c.upper[-1],
                "at_risk": dict(zip(c.risk_times, c.at_risk, strict=True)),
                "curve": {"times": list(c.times), "survival": list(c.survival), "lower": list(c.lower),
                          "upper": list(c.upper)},  # the step function, for the report's chart
            }
            for c in curves
        ]
    if "logrank" in protocol.analyses:
        lr = logrank(t, code == 1, arm)
        results["logrank"] = {"statistic": lr.statistic, "p_value": lr.p_value}
    if "cox_ph" in protocol.analyses:
        cox = cox_ph(
            t, code == 1, {"device": treated.astype(float), **{n: x[:, j] for j, n in enumerate(names)}}
        )
        results["cox_ph"] = [
            {
                "name": k.name,
                "hazard_ratio": k.hazard_ratio,
                "lower": k.lower,
                "upper": k.upper,
                "p_value": k.p_value,
                "ph_p_value": k.ph_p_value,
            }
            for k in cox.terms
        ]
    if "cumulative_incidence" in protocol.analyses:
        results["cumulative_incidence"] = {
            g: cumulative_incidence(t[arm == g], code[arm == g], 1).incidence[-1]
            for g in ("device", "comparator")
            if np.any(code[arm == g] == 1)
        }
    return evidence.record_analysis(session, actor, protocol_id, data_cutoff=data_cutoff, results=results)

