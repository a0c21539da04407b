"""Propensity scores, nearest-neighbour matching and standardised mean differences (pure).

* Propensity score: ``e(x) = P(new device | x)`` from a logistic regression (statsmodels ``Logit``).
* Matching: 1:1 greedy nearest-neighbour on the logit of the propensity score, without replacement,
  treated procedures taken from the largest score down, within a caliper of ``0.2`` standard
  deviations of the logit score (Austin 2011). Treated procedures without a control in the caliper
  stay unmatched (and are counted).
* Balance: the standardised mean difference of each covariate (Austin 2009)
  ``SMD = (mean_T - mean_C) / sqrt((s_T^2 + s_C^2) / 2)``; after matching the same denominator as
  before matching is used, so that the two columns differ only by the means. ``|SMD| < 0.1`` is the
  usual threshold of negligible imbalance.

References
----------
Rosenbaum PR, Rubin DB. The central role of the propensity score in observational studies for causal
effects. Biometrika 1983; 70:41-55.
Austin PC. Balance diagnostics for comparing the distribution of baseline covariates between treatment
groups in propensity-score matched samples. Stat Med 2009; 28:3083-3107.
Austin PC. Optimal caliper widths for propensity-score matching when estimating differences in means
and differences in proportions in observational studies. Pharm Stat 2011; 10:150-161.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm

from medreg.core.errors import ValidationFailed

__all__ = ["Balance", "Matching", "match_nearest", "propensity_scores", "standardized_mean_differences"]


@dataclass(frozen=True)
class Matching:
    treated: tuple[int, ...]  # row indices of matched treated procedures
    control: tuple[int, ...]  # row index of the control matched to each (same order)
    unmatched_treated: int
    caliper: float  # on the logit scale


@dataclass(frozen=True)
class Balance:
    names: tuple[str, ...]
    before: tuple[float, ...]  # SMD in the whole cohort
    after: tuple[float, ...]  # SMD in the matched sample (nan when nothing was matched)

    @property
    def max_abs_after(self) -> float:
        return float(np.nanmax(np.abs(self.after))) if self.after else float("nan")


def _arrays(covariates, treated) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(covariates, dtype=float)
    t = np.asarray(treated).astype(bool)
    if x.ndim != 2 or x.shape[0] != t.shape[0]:
        raise ValidationFailed("Covariates and the treatment indicator need one row per procedure.",
                               field="covariates")
    if t.all() or not t.any():
        raise ValidationFailed("Both the device and its comparators need procedures.", field="treated")
    return x, t


def propensity_scores(covariates, treated) -> np.ndarray:
    """``P(treated | covariates)`` from a logistic regression with an intercept."""
    x, t = _arrays(covariates, treated)
    fit = sm.Logit(t.astype(float), sm.add_constant(x, has_constant="add")).fit(
        disp=0, method="newton", maxiter=100)
    return np.clip(np.asarray(fit.predict()), 1e-12, 1 - 1e-12)


def match_nearest(scores, treated, *, caliper_sd: float = 0.2) -> Matching:
    """Greedy 1:1 nearest-neighbour matching on the logit score, without replacement."""
    ps = np.asarray(scores, dtype=float)
    t = np.asarray(treated).astype(bool)
    logit = np.log(ps / (1.0 - ps))
    caliper = caliper_sd * float(np.std(logit, ddof=1)) if caliper_sd > 0 else np.inf
    controls = np.flatnonzero(~t)
    free = np.ones(controls.size, dtype=bool)
    c_logit = logit[controls]
    pairs_t: list[int] = []
    pairs_c: list[int] = []
    for i in np.flatnonzero(t)[np.argsort(-logit[t], kind="stable")]:
        dist = np.where(free, np.abs(c_logit - logit[i]), np.inf)
        j = int(np.argmin(dist))
        if dist[j] <= caliper:
            free[j] = False
            pairs_t.append(int(i))
            pairs_c.append(int(controls[j]))
    return Matching(tuple(pairs_t), tuple(pairs_c), int(t.sum()) - len(pairs_t), float(caliper))


def _smd(x_t: np.ndarray, x_c: np.ndarray, denom: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, (x_t.mean(axis=0) - x_c.mean(axis=0)) / denom, 0.0)


def standardized_mean_differences(covariates, treated, names, matching: Matching | None = None) -> Balance:
    """SMD of each covariate before matching and, when given, in the matched sample."""
    x, t = _arrays(covariates, treated)
    denom = np.sqrt((x[t].var(axis=0, ddof=1) + x[~t].var(axis=0, ddof=1)) / 2.0)
    before = _smd(x[t], x[~t], denom)
    if matching is None or not matching.treated:
        after = np.full(x.shape[1], np.nan)
    else:
        after = _smd(x[list(matching.treated)], x[list(matching.control)], denom)
    return Balance(tuple(names), tuple(before.tolist()), tuple(after.tolist()))
