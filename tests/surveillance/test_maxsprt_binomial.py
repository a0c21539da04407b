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
