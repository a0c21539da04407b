"""Expected risk of an adverse outcome: a logistic model fitted on a reference period.

``fit_risk_model`` fits ``logit P(y = 1 | x) = b0 + x . b`` by maximum likelihood (statsmodels
``Logit``, Newton) on the procedures of the reference period; ``RiskModel.predict`` gives each later
procedure its expected risk, which the CUSUM, the O/E chart and the Poisson MaxSPRT (expected events
= sum of risks) compare the observed outcomes against.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from medreg.core.errors import ValidationFailed

__all__ = ["RiskModel", "fit_risk_model"]


@dataclass(frozen=True)
class RiskModel:
    """Coefficients (intercept first) with their standard errors, and the reference sample size."""

    names: tuple[str, ...]  # "intercept", then the covariate names
    coefficients: tuple[float, ...]
    standard_errors: tuple[float, ...]
    n_reference: int
    events_reference: int
    c_statistic: float  # area under the ROC curve on the reference period (discrimination)

    def predict(self, covariates) -> np.ndarray:
        """Expected risk of each row of ``covariates`` (columns in the order of ``names[1:]``)."""
        x = np.asarray(covariates, dtype=float)
        if x.ndim != 2 or x.shape[1] != len(self.names) - 1:
            raise ValidationFailed("The covariates do not match the risk model.", field="covariates")
        beta = np.asarray(self.coefficients)
        return 1.0 / (1.0 + np.exp(-(beta[0] + x @ beta[1:])))


def _c_statistic(y: np.ndarray, score: np.ndarray) -> float:
    """Mann-Whitney estimate of the AUC (ties count one half)."""
    from scipy.stats import rankdata

    ranks = rankdata(score)
    n1 = y.sum()
    n0 = y.size - n1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def fit_risk_model(covariates, outcomes, names) -> RiskModel:
    """Fit the reference-period logistic model (statsmodels ``Logit``)."""
    x = np.asarray(covariates, dtype=float)
    y = np.asarray(outcomes, dtype=float)
    names = tuple(names)
    if x.ndim != 2 or x.shape[0] != y.shape[0] or x.shape[1] != len(names):
        raise ValidationFailed("The covariates do not match the risk model.", field="covariates")
    events = int(y.sum())
    if events < 5 or y.size - events < 5:
        raise ValidationFailed(
            "The reference period needs at least 5 procedures with and 5 without "
            "the outcome to fit a risk model.",
            field="outcomes",
        )
    # statsmodels takes seconds to import: only when a model is fitted, not when the web app starts.
    from statsmodels.discrete.discrete_model import Logit
    from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning
    from statsmodels.tools.tools import add_constant

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # non-convergence is checked below and reported to the user
        try:
            fit = Logit(y, add_constant(x, has_constant="add")).fit(
                disp=0, method="newton", maxiter=100
            )
            converged = bool(fit.mle_retvals.get("converged", False)) and np.all(np.isfinite(fit.bse))
        except (np.linalg.LinAlgError, PerfectSeparationWarning, PerfectSeparationError):
            converged = False
    if not converged:
        raise ValidationFailed(
            "The risk model did not converge on the reference period (too few events "
            "for its covariates, or separation); widen the reference period.",
            field="reference_end",
        )
    return RiskModel(
        ("intercept", *names),
        tuple(float(b) for b in fit.params),
        tuple(float(s) for s in fit.bse),
        int(y.size),
        events,
        _c_statistic(y, np.asarray(fit.predict())),
    )
