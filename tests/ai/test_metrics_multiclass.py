"""Multi-class metrics and calibration against scikit-learn and statsmodels (tolerance 1e-10)."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.metrics import brier_score_loss, cohen_kappa_score, precision_recall_fscore_support
from statsmodels.stats.inter_rater import cohens_kappa

from medreg.ai.metrics_calibration import brier_score, calibration
from medreg.ai.metrics_multiclass import (
    accuracy,
    cohen_kappa,
    cohen_kappa_table,
    contingency,
    per_class_metrics,
)

GRADES = [0, 1, 2, 3, 4]  # e.g. diabetic-retinopathy grades


def _ratings(seed: int, n: int = 300):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 5, n)
    b = np.clip(a + rng.choice([-2, -1, 0, 0, 0, 1], n), 0, 4)
    return a, b


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_kappa_equals_sklearn_and_statsmodels(seed, weights):
    a, b = _ratings(seed)
    est = cohen_kappa(a, b, GRADES, weights=weights)
    assert est.value == pytest.approx(cohen_kappa_score(a, b, weights=weights), abs=1e-10)
    table = contingency(a, b, GRADES)
    ref = cohens_kappa(table, wt=weights) if weights else cohens_kappa(table)
    assert est.value == pytest.approx(ref.kappa, abs=1e-10)
    assert est.lower == pytest.approx(ref.kappa_low, abs=1e-10)
    assert est.upper == pytest.approx(ref.kappa_upp, abs=1e-10)


def test_kappa_of_perfect_agreement_is_one_and_of_one_category_undefined():
    assert cohen_kappa([0, 1, 2], [0, 1, 2], [0, 1, 2]).value == pytest.approx(1.0)
    assert np.isnan(cohen_kappa_table([[5, 0], [0, 0]]).value)


def test_per_class_metrics_equal_sklearn():
    a, b = _ratings(4)
    ours = per_class_metrics(a, b, GRADES)
    prec, rec, _f, support = precision_recall_fscore_support(a, b, labels=GRADES, zero_division=0)
    for m, p, r, s in zip(ours, prec, rec, support, strict=True):
        assert m.sensitivity.value == pytest.approx(r) and m.ppv.value == pytest.approx(p)
        assert m.support == s
    assert accuracy(a, b, GRADES).value == pytest.approx(np.mean(a == b))


def test_unknown_category_is_refused():
    with pytest.raises(ValueError, match="not one of the categories"):
        contingency([0, 9], [0, 1], [0, 1])


def _probabilities(seed: int, n: int = 400):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + 1.4 * x)))).astype(int)
    p = 1 / (1 + np.exp(-x))  # miscalibrated on purpose
    return y, p


@pytest.mark.parametrize("seed", [5, 6])
def test_calibration_equals_statsmodels(seed):
    y, p = _probabilities(seed)
    cal = calibration(y, p)
    lp = np.log(p / (1 - p))
    fit = sm.Logit(y, sm.add_constant(lp)).fit(disp=0)
    ci = fit.conf_int(0.05)
    assert cal.intercept.value == pytest.approx(fit.params[0], abs=1e-8)
    assert cal.slope.value == pytest.approx(fit.params[1], abs=1e-8)
    assert (cal.slope.lower, cal.slope.upper) == pytest.approx(tuple(ci[1]), abs=1e-8)
    assert (cal.intercept.lower, cal.intercept.upper) == pytest.approx(tuple(ci[0]), abs=1e-8)
    glm = sm.GLM(y, np.ones((y.size, 1)), family=sm.families.Binomial(), offset=lp).fit()
    assert cal.calibration_in_the_large.value == pytest.approx(glm.params[0], abs=1e-8)
    assert cal.calibration_in_the_large.upper == pytest.approx(glm.conf_int(0.05)[0][1], abs=1e-8)
    assert cal.brier == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    assert brier_score(y, p) == pytest.approx(brier_score_loss(y, p), abs=1e-12)


def test_calibration_refuses_out_of_range_probabilities():
    with pytest.raises(ValueError, match="within"):
        calibration([0, 1], [0.2, 1.2])
