"""Poisson MaxSPRT against published critical values and operating characteristics.

Sources of the reference values (never typed from memory):

* KULLDORFF_2011_T1: Kulldorff M, Davis RL, Kolczak M, et al. Sequential Analysis 2011; 30:58-78,
  Table 1 (critical values, continuous Poisson MaxSPRT, M = 1), printed to 6 decimals. The alpha = 0.05
  column is also stored, to 14 digits, as ``TableCV.PoissonM[, "1"]`` in the CRAN package Sequential
  4.5.1, file R/CV.Poisson.R.
* KS_MIN_EVENTS: CRAN Sequential 4.5.1, R/CV.Poisson.R, ``TableCV.PoissonM`` (alpha = 0.05, minimum
  number of events M = 1, 2, 3, 4, 6, 8, 10), the table of Kulldorff and Silva, REVSTAT 2017; 15:373-394.
* KS_DELAY: same file, ``TableCV.PoissonD`` (alpha = 0.05, delayed start D), printed to 6 decimals;
  the package computed it with a secant search stopped at 1e-8 in alpha, hence a 2e-6 tolerance.
* Performance.Poisson help page (Sequential 4.5.1, man/Performance.Poisson.Rd, Example 1) and the
  package overview (man/Sequential-package.Rd): power and expected times.
* KULLDORFF_2011_T2/T3: the same paper, Table 2 (power, 3 decimals) and Table 3 (expected time to
  signal and expected length of surveillance, 2 decimals).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import poisson

from medreg.core.errors import ValidationFailed
from medreg.surveillance.maxsprt import (
    poisson_boundary_times,
    poisson_critical_value,
    poisson_llr,
    poisson_performance,
)

# (T, alpha, CV) from Kulldorff et al. 2011 Table 1.
KULLDORFF_2011_T1 = [
    (0.1, 0.05, 2.044069), (0.5, 0.05, 2.637928), (1, 0.05, 2.853937), (2, 0.05, 3.046977),
    (5, 0.05, 3.297183), (10, 0.05, 3.467952), (20, 0.05, 3.628123), (50, 0.05, 3.819903),
    (100, 0.05, 3.952321),
    (1, 0.01, 4.670428), (10, 0.01, 5.260513), (100, 0.01, 5.738974),
    (1, 0.001, 7.172614), (10, 0.001, 7.724863), (100, 0.001, 8.199403),
]

# (T, M, CV) from Sequential's TableCV.PoissonM (alpha = 0.05), 14 digits.
KS_MIN_EVENTS = [
    (2, 2, 2.68935364101625), (2, 3, 2.34967932492501), (2, 4, 2.00015758807598),
    (10, 2, 3.23800870652229), (10, 3, 3.06424796686384), (10, 4, 2.92156132978567),
    (10, 6, 2.69058633468102), (10, 8, 2.4848340056375), (10, 10, 2.2814406139523),
    (50, 4, 3.4555214311217), (50, 10, 3.11755331874543), (100, 4, 3.63650814981748),
]

# (T, D, CV) from Sequential's TableCV.PoissonD (alpha = 0.05, M = 1).
KS_DELAY = [(10, 1, 2.799333), (10, 2, 2.591675), (10, 4, 2.298373), (10, 8, 1.834621),
            (20, 4, 2.717137)]


@pytest.mark.parametrize(("horizon", "alpha", "expected"), KULLDORFF_2011_T1)
def test_critical_value_equals_kulldorff_2011_table_1(horizon, alpha, expected):
    result = poisson_critical_value(horizon, alpha)
    assert result.critical_value == pytest.approx(expected, abs=5e-7)  # half a unit of the 6th decimal
    assert result.alpha == pytest.approx(alpha, abs=1e-9)


@pytest.mark.parametrize(("horizon", "min_events", "expected"), KS_MIN_EVENTS)
def test_critical_value_with_minimum_events_equals_sequential_table(horizon, min_events, expected):
    assert poisson_critical_value(horizon, 0.05, min_events=min_events).critical_value == pytest.approx(
        expected, abs=1e-8)


@pytest.mark.parametrize(("horizon", "delay", "expected"), KS_DELAY)
def test_critical_value_with_delayed_start_equals_sequential_table(horizon, delay, expected):
    assert poisson_critical_value(horizon, 0.05, delay=delay).critical_value == pytest.approx(
        expected, abs=2e-6)


@pytest.mark.slow
def test_critical_value_at_the_largest_tabulated_length():
    # Sequential TableCV.PoissonM[T = 1000, M = 1]; Kulldorff 2011 Table 1 prints 4.324917.
    assert poisson_critical_value(1000, 0.05).critical_value == pytest.approx(4.32491732176988, abs=1e-8)


def test_performance_equals_sequential_help_examples():
    # man/Performance.Poisson.Rd Example 1: SampleSize = 10, cv = CV.Poisson(10), RR = 2.
    cv = poisson_critical_value(10, 0.05).critical_value
    r = poisson_performance(cv, 10, 2.0)
    assert (r.power, r.expected_signal_time, r.expected_sample_size) == pytest.approx(
        (0.6850634, 4.130985, 5.979353), abs=1e-6)
    # man/Sequential-package.Rd: SampleSize = 10, M = 3, RR = 2.
    cv3 = poisson_critical_value(10, 0.05, min_events=3).critical_value
    r3 = poisson_performance(cv3, 10, 2.0, min_events=3)
    assert (r3.power, r3.expected_signal_time, r3.expected_sample_size) == pytest.approx(
        (0.7329625, 4.071636, 5.654732), abs=1e-6)


@pytest.mark.parametrize(("horizon", "cv", "rr", "power", "signal", "length"), [
    # Kulldorff 2011 Table 2 (power) and Table 3 (time to signal, length of surveillance).
    (1, 2.853937, 2.0, 0.185, 0.35, 0.88),
    (10, 3.467952, 2.0, 0.685, 4.13, 5.98),
    (100, 3.952321, 1.5, 0.978, 29.93, 31.46),
    (10, 3.467952, 3.0, 0.989, 2.45, 2.53),
])
def test_power_and_times_equal_kulldorff_2011_tables_2_and_3(horizon, cv, rr, power, signal, length):
    r = poisson_performance(cv, horizon, rr)
    assert r.power == pytest.approx(power, abs=5e-4)
    assert r.expected_signal_time == pytest.approx(signal, abs=5e-3)
    assert r.expected_sample_size == pytest.approx(length, abs=5e-3)


def test_type_one_error_is_alpha_by_definition_of_the_null():
    r = poisson_performance(3.467952, 10, 1.0)
    assert r.power == pytest.approx(0.05, abs=1e-6)


def test_boundary_times_solve_the_llr_equation():
    cv = 3.467952
    mu = poisson_boundary_times(cv, 30)
    k = np.arange(1, 31)
    assert np.all(mu < k) and np.all(np.diff(mu) > 0)
    np.testing.assert_allclose(poisson_llr(k, mu), cv, rtol=1e-10)


def test_llr_formula_and_zero_below_expectation():
    assert poisson_llr(9, 4) == pytest.approx(4 - 9 + 9 * np.log(9 / 4))
    assert poisson_llr(3, 4) == 0.0
    assert poisson_llr(0, 0) == 0.0


def test_single_look_group_design_is_the_exact_poisson_test():
    # One look at T = 30: reject when C >= k*, the smallest k with P(Poisson(30) >= k) <= alpha.
    k_star = int(poisson.isf(0.05, 30)) + 1
    while poisson.sf(k_star - 2, 30) <= 0.05:
        k_star -= 1
    result = poisson_critical_value(30, 0.05, looks=[30])
    assert result.alpha == pytest.approx(poisson.sf(k_star - 1, 30), rel=1e-9)
    assert poisson_llr(k_star - 1, 30) < result.critical_value <= poisson_llr(k_star, 30)


def test_group_design_is_the_largest_alpha_not_above_target():
    r = poisson_critical_value(30, 0.05, looks=[6, 6, 6, 6, 6])
    assert r.alpha <= 0.05
    looser = poisson_performance(r.critical_value - 2e-5, 30, 1.0, looks=[6] * 5)
    assert looser.power > 0.05 or looser.power == pytest.approx(r.alpha)


def test_group_looks_are_a_subset_of_continuous_monitoring():
    # Looking less often can only miss signals: at the continuous CV, alpha grows towards 0.05 as the
    # looks get denser and never exceeds it.
    cv = poisson_critical_value(10, 0.05).critical_value
    alphas = [poisson_performance(cv, 10, 1.0, looks=[10 / n] * n).power for n in (10, 200, 1000)]
    assert alphas[0] < alphas[1] < alphas[2] <= 0.05
    assert alphas[2] > 0.045


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"sample_size": 0}, "sample_size"), ({"sample_size": 5, "alpha": 0.7}, "alpha"),
    ({"sample_size": 1, "min_events": 6}, "min_events"), ({"sample_size": 5, "delay": 6}, "delay"),
    ({"sample_size": 5, "looks": [2, 2]}, "looks"),
])
def test_bad_designs_name_the_field(kwargs, field):
    with pytest.raises(ValidationFailed) as err:
        poisson_critical_value(**kwargs)
    assert err.value.field == field
