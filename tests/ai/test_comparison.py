"""Version comparison and platform equivalence (composition of the checked metrics)."""

from __future__ import annotations

import numpy as np
import pytest

from medreg.ai.comparison import compare_versions, platform_equivalence
from medreg.ai.metrics_roc import delong_paired


def test_compare_versions_on_asah(asah):
    res = {c.metric: c for c in compare_versions(asah["y"], asah["s100b"], asah["wfns"] / 5, threshold=0.4,
                                                   margin=0.05)}
    assert set(res) == {"sensitivity", "specificity", "auc"}
    d = delong_paired(asah["y"], asah["s100b"], asah["wfns"] / 5)
    assert res["auc"].p_value == pytest.approx(d.p_value)
    # pROC: wfns - s100b AUC difference CI (0.0104, 0.1742) lies above 0 -> superior
    assert res["auc"].non_inferiority.verdict == "superior"
    sens = res["sensitivity"]
    y = asah["y"] == 1
    assert sens.a == pytest.approx(np.mean(asah["s100b"][y] >= 0.4))
    assert sens.b == pytest.approx(np.mean(asah["wfns"][y] / 5 >= 0.4))
    assert sens.to_dict()["test"]["method"].startswith("mcnemar")


def test_identical_platforms_are_equivalent():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    a = np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1)
    b = a + rng.normal(scale=0.002, size=400)
    eq = platform_equivalence(a, b, threshold=0.5, score_margin=0.01, metric_margin=0.02, labels=y)
    assert eq.equivalent, eq.reasons
    assert eq.call_agreement.value > 0.98 and eq.call_kappa.value > 0.95
    assert len(eq.metric_differences) == 3


def test_a_shifted_platform_is_not_equivalent():
    rng = np.random.default_rng(1)
    a = rng.random(300)
    b = a + 0.05
    eq = platform_equivalence(a, b, score_margin=0.02)
    assert not eq.equivalent
    assert "not shown" in eq.reasons[0]
    assert eq.bland_altman.bias.value == pytest.approx(0.05)
