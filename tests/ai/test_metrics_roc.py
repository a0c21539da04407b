"""ROC metrics against pROC's own test-suite values (tests/ai/data/SOURCE.md) and scikit-learn.

Tolerance: 1e-9 absolute against pROC (both compute the same closed forms in double precision).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from medreg.ai.metrics_roc import auc, auc_bootstrap, auc_delong, delong_paired, roc_curve

TOL = 1e-9


def test_delong_ci_equals_proc_ci_auc(asah):
    # pROC tests/testthat/test-ci.auc.R:
    # expected.ci.auc <- c(0.501244999271703, 0.611957994579946, 0.722670989888189)
    est = auc_delong(asah["y"], asah["ndka"])
    assert est.value == pytest.approx(0.611957994579946, abs=TOL)
    assert est.lower == pytest.approx(0.501244999271703, abs=TOL)
    assert est.upper == pytest.approx(0.722670989888189, abs=TOL)
    assert est.method == "delong"


def test_delong_ci_on_a_subset_equals_proc(asah):
    # pROC: ci.auc(outcome ~ ndka, data = aSAH, subset = (gender == "Female"))
    f = asah["female"]
    est = auc_delong(asah["y"][f], asah["ndka"][f])
    expected = (0.5261398281, 0.6671428571, 0.8081458862)  # given to 10 digits in pROC's test
    assert (est.lower, est.value, est.upper) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(("a", "b", "z", "p", "lo", "hi"), [
    # pROC tests/testthat/test-roc.test.R: t1 <- roc.test(r.wfns, r.s100b), etc. (roc1 - roc2)
    ("s100b", "wfns", 2.20898359144091, 0.0271757822291882, 0.0104061769564846, 0.174214419249478),
    ("ndka", "wfns", 2.79777591868904, 0.00514557970691098, 0.0634011709339876, 0.3600405634833566),
    ("s100b", "ndka", -1.39077002573558, 0.164295175223054, -0.2876917446341914, 0.0488706064228094),
])
def test_paired_delong_equals_proc_roc_test(asah, a, b, z, p, lo, hi):
    res = delong_paired(asah["y"], asah[a], asah[b])
    assert res.z == pytest.approx(z, abs=TOL)
    assert res.p_value == pytest.approx(p, abs=TOL)
    assert res.difference.lower == pytest.approx(lo, abs=TOL)
    assert res.difference.upper == pytest.approx(hi, abs=TOL)


def test_identical_scores_give_z_zero_p_one(asah):
    res = delong_paired(asah["y"], asah["wfns"], asah["wfns"])
    assert res.z == 0 and res.p_value == 1


@pytest.mark.parametrize("col", ["wfns", "s100b", "ndka"])
def test_auc_equals_sklearn(asah, col):
    assert auc(asah["y"], asah[col]) == pytest.approx(roc_auc_score(asah["y"], asah[col]), abs=1e-12)


def test_roc_curve_equals_sklearn(asah):
    ours = roc_curve(asah["y"], asah["s100b"])
    fpr, tpr, thr = sk_roc_curve(asah["y"], asah["s100b"], drop_intermediate=False)
    np.testing.assert_allclose(ours.fpr, fpr)
    np.testing.assert_allclose(ours.tpr, tpr)
    np.testing.assert_allclose(ours.thresholds[1:], thr[1:])


def test_bootstrap_is_seeded_and_matches_a_plain_loop(asah):
    y, s = asah["y"], asah["s100b"]
    one = auc_bootstrap(y, s, n_boot=200, seed=7)
    assert one == auc_bootstrap(y, s, n_boot=200, seed=7)
    assert one != auc_bootstrap(y, s, n_boot=200, seed=8)
    # the vectorised replicates equal a loop over the same draws scored by scikit-learn
    pos, neg = s[y == 1], s[y == 0]
    rng = np.random.default_rng(7)
    ip = rng.integers(0, pos.size, size=(200, pos.size))
    ineg = rng.integers(0, neg.size, size=(200, neg.size))
    loop = [roc_auc_score(np.r_[np.ones(pos.size), np.zeros(neg.size)], np.r_[pos[ip[b]], neg[ineg[b]]])
            for b in range(200)]
    lo, hi = np.quantile(loop, [0.025, 0.975])
    assert (one.lower, one.upper) == pytest.approx((lo, hi), abs=1e-12)


def test_bootstrap_interval_is_close_to_delong(asah):
    boot = auc_bootstrap(asah["y"], asah["s100b"], n_boot=2000, seed=1)
    de = auc_delong(asah["y"], asah["s100b"])
    assert abs(boot.lower - de.lower) < 0.02 and abs(boot.upper - de.upper) < 0.02


def test_auc_needs_both_classes():
    with pytest.raises(ValueError, match="two positive"):
        auc_delong([1, 1, 0], [0.2, 0.3, 0.4])
