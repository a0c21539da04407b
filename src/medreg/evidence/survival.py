"""Survival analyses of real-world evidence studies, computed with lifelines (pure functions).

* Kaplan-Meier: ``S(t) = prod_{t_i <= t} (1 - d_i / n_i)`` with the exponential Greenwood
  (log(-log)) pointwise confidence interval, the number at risk at chosen times and the median.
* Log-rank test of equal survival between groups (chi-square with ``groups - 1`` degrees of freedom).
* Cox proportional hazards: ``h(t | x) = h_0(t) exp(x . b)``, Efron's handling of ties; hazard ratios
  ``exp(b)`` with Wald confidence intervals; the proportional-hazards check is the Grambsch-Therneau
  test on scaled Schoenfeld residuals against the rank of time (``cox.zph`` in R survival).
* Cumulative incidence with competing risks (Aalen-Johansen): ``F_k(t) = sum_{t_i <= t} S(t_i-) d_ki /
  n_i``, where ``S`` is the all-cause Kaplan-Meier; death from other causes is a competing event, not
  censoring (1 - KM would overstate the risk). Tied times are split deterministically.

Every function returns a frozen result of plain numbers, so reports and tests can compare them with
lifelines' own objects and with R.

References
----------
Kaplan EL, Meier P. JASA 1958; 53:457-481. Cox DR. JRSS B 1972; 34:187-220.
Grambsch PM, Therneau TM. Biometrika 1994; 81:515-526. Aalen OO, Johansen S. Scand J Stat 1978; 5:141-150.
Davidson-Pilon C. lifelines: survival analysis in Python. JOSS 2019; 4(40):1317.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines import AalenJohansenFitter, CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test, proportional_hazard_test

from medreg.core.errors import ValidationFailed

__all__ = ["CoxResult", "CoxTerm", "CumulativeIncidence", "LogRank", "SurvivalCurve", "cox_ph",
           "cumulative_incidence", "kaplan_meier", "logrank"]


@dataclass(frozen=True)
class SurvivalCurve:
    group: str
    times: tuple[float, ...]
    survival: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    risk_times: tuple[float, ...]  # times of the at-risk table
    at_risk: tuple[int, ...]  # number still at risk at each of risk_times
    median: float  # inf when survival never falls to 0.5


@dataclass(frozen=True)
class LogRank:
    statistic: float
    degrees_of_freedom: int
    p_value: float


@dataclass(frozen=True)
class CoxTerm:
    name: str
    coefficient: float
    hazard_ratio: float
    lower: float
    upper: float
    p_value: float
    ph_statistic: float  # Grambsch-Therneau chi-square (1 df), rank(time)
    ph_p_value: float


@dataclass(frozen=True)
class CoxResult:
    terms: tuple[CoxTerm, ...]
    n: int
    events: int
    concordance: float
    log_likelihood: float
    alpha: float

    @property
    def proportional_hazards_plausible(self) -> bool:
        """No covariate rejects proportional hazards at ``alpha``."""
        return all(t.ph_p_value >= self.alpha for t in self.terms)


@dataclass(frozen=True)
class CumulativeIncidence:
    event: int
    times: tuple[float, ...]
    incidence: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]


def _arrays(durations, events) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events)
    if t.ndim != 1 or t.shape != e.shape or t.size == 0:
        raise ValidationFailed("Durations and event indicators need one value per patient.",
                               field="durations")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValidationFailed("Durations must be finite and non-negative.", field="durations")
    return t, e


def _tuple(series) -> tuple[float, ...]:
    return tuple(float(v) for v in np.asarray(series, dtype=float).ravel())


def kaplan_meier(durations, events, groups=None, *, alpha: float = 0.05,
                 risk_times=None) -> tuple[SurvivalCurve, ...]:
    """One Kaplan-Meier curve per group (one curve when ``groups`` is None)."""
    t, e = _arrays(durations, events)
    g = np.full(t.size, "all", dtype=object) if groups is None else np.asarray(groups, dtype=object)
    if g.shape != t.shape:
        raise ValidationFailed("Groups need one value per patient.", field="groups")
    if risk_times is None:
        risk_times = np.linspace(0.0, float(t.max()), 5)
    rt = np.asarray(risk_times, dtype=float)
    curves = []
    for label in sorted(set(g.tolist()), key=str):
        sel = g == label
        kmf = KaplanMeierFitter(alpha=alpha).fit(t[sel], e[sel].astype(bool), label=str(label))
        ci = kmf.confidence_interval_survival_function_
        at_risk = [int((t[sel] >= x).sum()) for x in rt]
        curves.append(SurvivalCurve(str(label), _tuple(kmf.timeline), _tuple(kmf.survival_function_),
                                    _tuple(ci.iloc[:, 0]), _tuple(ci.iloc[:, 1]), _tuple(rt),
                                    tuple(at_risk), float(kmf.median_survival_time_)))
    return tuple(curves)


def logrank(durations, events, groups) -> LogRank:
    """Log-rank test of equal survival across ``groups``."""
    t, e = _arrays(durations, events)
    g = np.asarray(groups, dtype=object)
    if g.shape != t.shape or len(set(g.tolist())) < 2:
        raise ValidationFailed("The log-rank test needs at least two groups.", field="groups")
    res = multivariate_logrank_test(t, g, e.astype(bool))
    return LogRank(float(res.test_statistic), int(res.degrees_of_freedom), float(res.p_value))


def cox_ph(durations, events, covariates: dict, *, alpha: float = 0.05) -> CoxResult:
    """Cox model with the hazard ratio, CI, p-value and the PH test of each covariate."""
    t, e = _arrays(durations, events)
    if not covariates:
        raise ValidationFailed("The Cox model needs at least one covariate.", field="covariates")
    df = pd.DataFrame({name: np.asarray(v, dtype=float) for name, v in covariates.items()})
    if len(df) != t.size:
        raise ValidationFailed("Covariates need one value per patient.", field="covariates")
    df["_T"], df["_E"] = t, e.astype(int)
    cph = CoxPHFitter(alpha=alpha).fit(df, "_T", "_E")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ph = proportional_hazard_test(cph, df, time_transform="rank")
    ph_stat = dict(zip(ph.name, np.asarray(ph.test_statistic).ravel(), strict=True))
    ph_p = dict(zip(ph.name, np.asarray(ph.p_value).ravel(), strict=True))
    s = cph.summary
    terms = tuple(
        CoxTerm(str(name), float(s.loc[name, "coef"]), float(s.loc[name, "exp(coef)"]),
                float(s.loc[name, s.columns[s.columns.str.startswith("exp(coef) lower")][0]]),
                float(s.loc[name, s.columns[s.columns.str.startswith("exp(coef) upper")][0]]),
                float(s.loc[name, "p"]), float(ph_stat[name]), float(ph_p[name]))
        for name in covariates)
    return CoxResult(terms, int(t.size), int(e.astype(bool).sum()), float(cph.concordance_index_),
                     float(cph.log_likelihood_), float(alpha))


def _untie(t: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, float]:
    """Distinct times for lifelines: within a group of equal times, events first (any type), then
    censorings, each shifted by a multiple of a step far below the smallest gap. Splitting tied events
    this way leaves the Aalen-Johansen estimate unchanged (S(t-) d/n = sum of the split jumps)."""
    order = np.lexsort((codes == 0, t))
    ts = t[order]
    distinct = np.unique(ts)
    gap = float(np.min(np.diff(distinct))) if distinct.size > 1 else 1.0
    rank = np.arange(ts.size) - np.searchsorted(ts, ts, side="left")
    step = gap / (2.0 * (rank.max() + 2))
    out = np.empty_like(t, dtype=float)
    out[order] = ts + rank * step
    return out, step * (rank.max() + 1)


def cumulative_incidence(durations, event_codes, event_of_interest: int, *, alpha: float = 0.05
                         ) -> CumulativeIncidence:
    """Aalen-Johansen cumulative incidence of ``event_of_interest`` (code 0 = censored; other codes,
    such as death, compete). Tied times are split deterministically (``_untie``), not jittered at
    random: lifelines' random jitter also moves censorings and can produce a spurious final jump."""
    t, codes = _arrays(durations, event_codes)
    codes = codes.astype(int)
    if not np.any(codes == event_of_interest):
        raise ValidationFailed("No patient has the event of interest.", field="event_of_interest")
    split, width = _untie(t.astype(float), codes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ajf = AalenJohansenFitter(alpha=alpha, jitter_level=0.0).fit(split, codes,
                                                                     event_of_interest=event_of_interest)
    times = np.unique(t.astype(float))
    index = np.asarray(ajf.cumulative_density_.index, dtype=float)
    at = np.searchsorted(index, times + width, side="right") - 1  # the value after each tie group
    cif = np.asarray(ajf.cumulative_density_.iloc[:, 0])
    ci = ajf.confidence_interval_cumulative_density_
    lo, hi = np.asarray(ci.iloc[:, 0]), np.asarray(ci.iloc[:, 1])
    at = np.clip(at, 0, len(index) - 1)
    return CumulativeIncidence(int(event_of_interest), _tuple(times), _tuple(cif[at]), _tuple(lo[at]),
                               _tuple(hi[at]))
