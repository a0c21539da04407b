"""Calibration of predicted probabilities: Brier score, calibration slope and intercept.

* Brier score (Brier 1950): mean((p_i - y_i)^2).
* Calibration slope and intercept (Cox 1958): the logistic regression
  logit P(y = 1) = a + b * logit(p); b = 1 and a = 0 for a perfectly calibrated model.
* Calibration-in-the-large: the intercept a of logit P(y = 1) = a + logit(p) (slope fixed at 1,
  logit(p) as an offset); Van Calster et al. (2016), J Clin Epidemiol 74:167-176.

Both fits are maximum likelihood by Newton-Raphson, with Wald intervals from the inverse observed
information; they equal statsmodels ``Logit`` / ``GLM(..., offset=...)`` fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from medreg.ai.metrics_common import Estimate, as_binary, z_crit

EPS = 1e-12


@dataclass(frozen=True)
class Calibration:
    brier: float
    slope: Estimate
    intercept: Estimate
    calibration_in_the_large: Estimate


def _logistic_fit(X: np.ndarray, y: np.ndarray, offset: np.ndarray, max_iter: int = 100):
    beta = np.zeros(X.shape[1])
    for _ in range(max_iter):
        eta = X @ beta + offset
        mu = 1 / (1 + np.exp(-eta))
        w = mu * (1 - mu)
        info = X.T @ (X * w[:, None])
        step = np.linalg.solve(info, X.T @ (y - mu))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12:
            break
    else:
        raise ValueError("the calibration fit did not converge (separated data?)")
    mu = 1 / (1 + np.exp(-(X @ beta + offset)))
    cov = np.linalg.inv(X.T @ (X * (mu * (1 - mu))[:, None]))
    return beta, np.sqrt(np.diag(cov))


def calibration(labels, probabilities, alpha: float = 0.05) -> Calibration:
    """Brier score, calibration slope/intercept and calibration-in-the-large with Wald intervals.

    Probabilities must lie in [0, 1]; they are clipped to [1e-12, 1 - 1e-12] before the logit.
    """
    y = as_binary(labels).astype(float)
    p = np.asarray(probabilities, dtype=float)
    if p.shape != y.shape:
        raise ValueError("probabilities and labels must have the same length")
    if not (np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()):
        raise ValueError("probabilities must lie within [0, 1]")
    if y.min() == y.max():
        raise ValueError("calibration needs both positive and negative cases")
    brier = float(np.mean((p - y) ** 2))
    lp = np.log(np.clip(p, EPS, 1 - EPS) / (1 - np.clip(p, EPS, 1 - EPS)))
    z = z_crit(alpha)
    ones = np.ones_like(y)
    (a, b), (se_a, se_b) = _logistic_fit(np.column_stack([ones, lp]), y, np.zeros_like(y))
    (citl,), (se_c,) = _logistic_fit(ones[:, None], y, lp)

    def est(name: str, v: float, se: float, method: str) -> Estimate:
        return Estimate(name, float(v), float(v - z * se), float(v + z * se), method, conf_level=1 - alpha)

    return Calibration(
        brier=brier,
        slope=est("calibration_slope", b, se_b, "logistic regression on logit(p), Wald"),
        intercept=est("calibration_intercept", a, se_a, "logistic regression on logit(p), Wald"),
        calibration_in_the_large=est("calibration_in_the_large", citl, se_c,
                                     "logistic regression with logit(p) offset, Wald"),
    )


def brier_score(labels, probabilities) -> float:
    """Mean squared difference between the probability and the 0/1 outcome."""
    y = as_binary(labels).astype(float)
    p = np.asarray(probabilities, dtype=float)
    if p.shape != y.shape:
        raise ValueError("probabilities and labels must have the same length")
    return float(np.mean((p - y) ** 2)) if y.size else math.nan
