"""Binomial MaxSPRT against the published examples of the R package Sequential (CRAN, 4.5.1).

* man/CV.Binomial.Rd Examples 2 and 3 (group sequential critical values, printed to 5 decimals).
* man/SampleSize.Binomial.Rd: RR = 5, alpha = 0.01, power = 0.88, z = 2 gives N = 25, cv = 4.59581,
  Type_I_Error = 0.009755004, Actual_power = 0.8855869 (continuous critical value for N = 25).
* man/Performance.Binomial.Rd Examples 1 and 2 (power, expected events at signal, expected events).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from medreg.core.errors import ValidationFailed
from medreg.surveillance.maxsprt_binomial import (
    binomial_critical_value,
    binomial_llr,
    binomial_performance,
)


def test_group_critical_value_equals_cv_binomial_example_2():
    r = binomial_critical_value(25, 7 / 2, 0.05, looks=5)
    assert r.critical_value == pytest.approx(1.9852, abs=5e-6)
    assert r.alpha == pytest.approx(0.04775995, abs=5e-9)
    assert r.looks == (5, 10, 15, 20, 25)


def test_irregular_group_critical_value_equals_cv_binomial_example_3():
    r = binomial_critical_value(50, 7 / 2, 0.05, looks=[10, 10, 15, 15])
    assert r.critical_value == pytest.approx(1.99202, abs=5e-6)


def test_continuous_critical_value_equals_samplesize_binomial_example():
    r = binomial_critical_value(25, 2, 0.01)
    assert r.critical_value == pytest.approx(4.59581, abs=5e-6)
    assert r.alpha == pytest.approx(0.009755004, abs=5e-10)
    assert binomial_performance(r.critical_value, 25, 2, 5.0).power == pytest.approx(0.8855869, abs=5e-8)


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"critical_value": 2, "sample_size": 30, "z": 1, "relative_risk": 2},
     (0.658732, 10.7893, 17.3453)),
    ({"critical_value": 2.5, "sample_size": 40, "z": 1, "relative_risk": 2, "looks": 2},
     (0.6594118, 17.18626, 24.95635)),
])
def test_performance_equals_performance_binomial_examples(kwargs, expected):
    r = binomial_performance(**kwargs)
    assert (r.power, r.expected_signal_time, r.expected_sample_size) == pytest.approx(expected, abs=1e-5)


def test_alpha_equals_brute_force_enumeration_of_all_paths():
    # Independent check: enumerate all 2^N case/control sequences for N = 12 under the null.
    n_max, z, cv = 12, 1.0, 1.5
    p = 1 / (1 + z)
    total = 0.0
    for seq in itertools.product((0, 1), repeat=n_max):
        c = np.cumsum(seq)
        n = np.arange(1, n_max + 1)
        if np.any(binomial_llr(c, n, z) >= cv):
            total += p ** c[-1] * (1 - p) ** (n_max - c[-1])
    assert binomial_performance(cv, n_max, z, 1.0).power == pytest.approx(total, rel=1e-12)


def test_llr_is_zero_at_or_below_the_null_proportion():
    assert binomial_llr(2, 4, 1.0) == 0.0
    assert binomial_llr(4, 4, 1.0) == pytest.approx(4 * np.log(2))
    assert binomial_llr(3, 4, 1.0) == pytest.approx(3 * np.log(0.75) + np.log(0.25) - 4 * np.log(0.5))


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"sample_size": 3, "z": 1}, "sample_size"),  # even 3 cases of 3 are not significant
    ({"sample_size": 20, "z": 1, "looks": [7, 7]}, "looks"),
    ({"sample_size": 20, "z": 1, "alpha": 0}, "alpha"),
    ({"sample_size": 20, "z": 1, "min_events": 0}, "min_events"),
])
def test_bad_designs_name_the_field(kwargs, field):
    with pytest.raises(ValidationFailed) as err:
        binomial_critical_value(**kwargs)
    assert err.value.field == field


def test_monitor_design_plans_reproduce_cv_g_binomial_examples():
    """The monitor design's plan (fractions of N rounded to whole events) gives CV.G.Binomial's help
    examples (man/CV.G.Binomial.Rd, CRAN Sequential 4.5.1, printed to 5 decimals; z = 7/2 as a
    self-controlled design would have it): Example 1 N = 25, GroupSizes = 5 -> 1.9852 (Type I error
    0.04775995); Example 2 N = 50, GroupSizes = (10, 10, 15, 15) -> 1.99202."""
    from medreg.surveillance.service_binomial import binomial_design

    one = binomial_design(0.05, 25, 1, 3.5, 5, None)
    assert one["look_plan"] == [5.0, 10.0, 15.0, 20.0, 25.0]
    assert one["critical_value"] == pytest.approx(1.9852, abs=5e-6)
    two = binomial_design(0.05, 50, 1, 3.5, None, [0.2, 0.4, 0.7, 1])
    assert two["look_plan"] == [10.0, 20.0, 35.0, 50.0] and two["planned_looks"] == 4
    assert two["critical_value"] == pytest.approx(1.99202, abs=5e-6)


def _plain_alpha(thresholds: list[int], p: float) -> float:
    """P(cases >= threshold[n-1] at some n | H0), one event at a time, in plain Python lists."""
    alive, crossed = [1.0], 0.0
    for a in thresholds:
        nxt = [0.0] * (len(alive) + 1)
        for c, q in enumerate(alive):
            nxt[c] += q * (1 - p)
            nxt[c + 1] += q * p
        crossed += sum(nxt[a:])
        alive = nxt[:a]
    return crossed


def test_large_n_critical_value_is_the_largest_attainable_llr_keeping_alpha():
    """N = 1,000 (above the old limit of 500): no published value, so checked independently - the
    thresholds by scanning every count with math.log, alpha by a plain-list chain: alpha at the CV is
    <= 0.05, and at the largest attainable LLR below the CV (found by scanning all c <= n <= N) > 0.05."""
    import math

    n_max, z, m = 1000, 2.0, 4
    p = 1 / (1 + z)
    r = binomial_critical_value(n_max, z, 0.05, min_events=m)

    def llr(c: int, n: int) -> float:
        if c <= n * p:
            return 0.0
        out = c * math.log(c / n / p)
        return out + ((n - c) * math.log((n - c) / n / (1 - p)) if c < n else 0.0)

    def thresholds(cv: float) -> list[int]:
        return [next((c for c in range(m, n + 1) if llr(c, n) >= cv), n + 1) for n in range(1, n_max + 1)]

    below = max(v for n in range(1, n_max + 1) for c in range(int(n * p), n + 1)
                if (v := llr(c, n)) < r.critical_value)
    assert _plain_alpha(thresholds(r.critical_value), p) == pytest.approx(r.alpha, abs=1e-12)
    assert r.alpha <= 0.05 < _plain_alpha(thresholds(below), p)
    assert r.critical_value - below < 1e-3  # reported as Sequential does: rounded up in the 5th decimal
