"""From registry rows to the counts of each look: observed and risk-expected outcomes (pure).

A monitor follows one device (its DI) within its device group for one outcome within ``window`` days
of the procedure. The expected risk of each procedure comes from a logistic model fitted on the
reference period on the *comparator* procedures of the group (the other DIs), with the covariates
``COVARIATES``. A procedure done after the reference period counts at a look dated ``as_of`` once its
outcome window has closed (``procedure_day + window <= as_of``) and it is *evaluable*: either the
outcome occurred within the window or the patient was followed to the end of the window (complete
case; procedures lost to follow-up early without the outcome are left out).

``cumulative_counts`` computes the counts of any number of looks in one pass (sort by the day the
window closes, cumulative sums, binary search per look), so a full re-run of all looks of a group is
``O(n log n)`` and one look is ``O(n)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from medreg.surveillance.delta import DeltaResult, delta_monitor
from medreg.surveillance.riskmodel import RiskModel, fit_risk_model

__all__ = ["COVARIATES", "Cohort", "LookCounts", "MatchedCounts", "cumulative_counts", "day_number",
           "delta_look",
           "design", "evaluable_outcomes", "fit_reference_model", "matched_binomial_counts"]

COVARIATES = ("age", "male", "diabetes", "renal_failure", "prior_mi", "ejection_fraction")
EF_DEFAULT = 55.0  # imputed when the ejection fraction was not recorded (a normal LVEF; see docs)


def day_number(d: date) -> int:
    return d.toordinal()


@dataclass(frozen=True)
class Cohort:
    """Column arrays of the procedures of one device group (one element per procedure)."""

    day: np.ndarray  # procedure date as a day number
    is_device: np.ndarray  # bool: the monitored DI
    covariates: np.ndarray  # n x len(COVARIATES)
    outcome_day: np.ndarray  # day number of the outcome, inf when none
    followed_to: np.ndarray  # day number of the end of follow-up


@dataclass(frozen=True)
class LookCounts:
    as_of: tuple[int, ...]
    procedures: tuple[int, ...]
    observed: tuple[float, ...]
    expected: tuple[float, ...]


def design(rows: list[dict]) -> np.ndarray:
    """Covariate matrix from registry rows (keys: age, sex, diabetes, renal_failure, prior_mi, ef)."""
    out = np.empty((len(rows), len(COVARIATES)))
    for i, r in enumerate(rows):
        ef = r.get("ejection_fraction")
        out[i] = (r["age"], r["sex"] == "M", bool(r["diabetes"]), bool(r["renal_failure"]),
                  bool(r["prior_mi"]), EF_DEFAULT if ef is None else ef)
    return out


def evaluable_outcomes(cohort: Cohort, window: int) -> tuple[np.ndarray, np.ndarray]:
    """(evaluable, outcome within the window) for every procedure."""
    within = cohort.outcome_day - cohort.day <= window
    evaluable = within | (cohort.followed_to >= cohort.day + window)
    return evaluable, within


def fit_reference_model(cohort: Cohort, start: int, end: int, window: int) -> RiskModel:
    """Logistic model of the outcome on the comparator procedures of the reference period."""
    evaluable, within = evaluable_outcomes(cohort, window)
    sel = (~cohort.is_device) & (cohort.day >= start) & (cohort.day <= end) & evaluable
    return fit_risk_model(cohort.covariates[sel], within[sel].astype(float), COVARIATES)


def cumulative_counts(cohort: Cohort, model: RiskModel, reference_end: int, window: int,
                      as_of) -> LookCounts:
    """Cumulative evaluable procedures, observed and expected outcomes of the device at each look."""
    evaluable, within = evaluable_outcomes(cohort, window)
    sel = cohort.is_device & (cohort.day > reference_end) & evaluable
    closes = cohort.day[sel] + window
    order = np.argsort(closes, kind="stable")
    closes = closes[order]
    risk = model.predict(cohort.covariates[sel])[order]
    obs = within[sel][order].astype(float)
    cum_obs = np.concatenate([[0.0], np.cumsum(obs)])
    cum_exp = np.concatenate([[0.0], np.cumsum(risk)])
    days = np.asarray(as_of, dtype=np.int64)
    k = np.searchsorted(closes, days, side="right")
    return LookCounts(tuple(int(d) for d in days), tuple(int(x) for x in k),
                      tuple(float(x) for x in cum_obs[k]), tuple(float(x) for x in cum_exp[k]))


def delta_look(cohort: Cohort, window: int, as_of: int, *, alpha: float, margin: float, min_pairs: int,
               caliper_sd: float) -> DeltaResult:
    """One DELTA look at ``as_of`` (a day number) on a group's procedures (``cohort_load.load_group_window``):
    the evaluable procedures whose outcome window closed by ``as_of``, the monitored DI against the
    other DIs, matched on the propensity score of ``COVARIATES`` (those constant in the cohort are left
    out: they carry no information and make the logistic fit singular), the outcome within the window."""
    evaluable, within = evaluable_outcomes(cohort, window)
    sel = evaluable & (cohort.day + window <= as_of)
    x = cohort.covariates[sel]
    keep = [j for j in range(x.shape[1]) if x.shape[0] and np.ptp(x[:, j]) > 0]
    return delta_monitor(cohort.day[sel] + window, cohort.is_device[sel], x[:, keep],
                         within[sel].astype(float), [float(as_of)], [COVARIATES[j] for j in keep],
                         alpha=alpha, margin=margin, min_pairs=min_pairs, caliper_sd=caliper_sd)


@dataclass(frozen=True)
class MatchedCounts:
    sets: int  # device procedures with their z comparators
    unmatched: int  # device procedures for which fewer than z comparators were free
    cases: int  # outcomes in the matched device procedures
    events: int  # outcomes in the matched sets (device and comparators)


def matched_binomial_counts(cohort: Cohort, model: RiskModel, reference_end: int, window: int, as_of: int,
                            z: int) -> MatchedCounts:
    """Matched sets of the binomial MaxSPRT at ``as_of`` (pure; Kulldorff et al. 2011, section 6).

    The evaluable procedures after the reference period whose window closed by ``as_of``; in the order
    their windows close (then procedure, then row order), each device procedure takes the ``z`` free
    comparator procedures whose window closed by its own, nearest in the logit of the reference
    model's risk (without replacement). A set never changes once formed, whatever is added later, so
    the counts of successive looks are nested, as a sequential test needs. Under the null (the device's
    risk equals its comparators' at equal modelled risk) an outcome in a set is the device's with
    probability ``1 / (1 + z)``."""
    evaluable, within = evaluable_outcomes(cohort, window)
    closes = cohort.day + window
    sel = evaluable & (cohort.day > reference_end) & (closes <= as_of)
    idx = np.flatnonzero(sel)
    if idx.size == 0:
        return MatchedCounts(0, 0, 0, 0)
    p = np.clip(model.predict(cohort.covariates[idx]), 1e-12, 1 - 1e-12)
    score = np.log(p / (1 - p))
    order = np.lexsort((idx, cohort.day[idx], closes[idx]))
    dev = cohort.is_device[idx]
    comp_rows = [k for k in order if not dev[k]]
    comp_close = closes[idx][comp_rows]
    comp_score = score[comp_rows]
    free = np.ones(len(comp_rows), dtype=bool)
    sets = unmatched = cases = events = 0
    y = within[idx]
    for k in order:
        if not dev[k]:
            continue
        avail = free & (comp_close <= closes[idx][k])
        if int(avail.sum()) < z:
            unmatched += 1
            continue
        dist = np.where(avail, np.abs(comp_score - score[k]), np.inf)
        chosen = np.argsort(dist, kind="stable")[:z]
        free[chosen] = False
        sets += 1
        case = int(y[k])
        cases += case
        events += case + int(sum(y[comp_rows[j]] for j in chosen))
    return MatchedCounts(sets, unmatched, cases, events)
