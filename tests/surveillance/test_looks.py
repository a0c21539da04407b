"""The LLR after each look and the first crossing of the critical value."""

from __future__ import annotations

import numpy as np
import pytest

from medreg.core.errors import ValidationFailed
from medreg.surveillance.looks import binomial_looks, poisson_looks


def test_poisson_looks_signal_at_first_crossing_and_stop():
    cv = 3.467952  # Kulldorff 2011 Table 1, T = 10
    r = poisson_looks([0, 2, 5, 9, 12], [1, 2, 3, 4, 5], cv, sample_size=10)
    # LLR at look 4 (9 observed, 4 expected) = 4 - 9 + 9 log(9/4) = 2.298 < CV; at look 5: 12 vs 5.
    assert r.llr[3] == pytest.approx(4 - 9 + 9 * np.log(9 / 4))
    assert r.llr[4] == pytest.approx(5 - 12 + 12 * np.log(12 / 5))
    assert r.signal_look == 4 and r.signalled and not r.ended
    assert r.relative_risk[4] == pytest.approx(12 / 5)


def test_poisson_looks_minimum_events_holds_back_an_early_signal():
    # One event at 0.01 expected: LLR = 0.01 - 1 + log(100) = 3.615 > CV, but M = 2.
    r = poisson_looks([1, 1], [0.01, 0.5], 3.467952, min_events=2)
    assert r.llr[0] > 3.467952 and r.signal_look is None


def test_poisson_looks_end_at_the_upper_limit():
    r = poisson_looks([1, 2, 4, 6], [2, 4, 6, 8], 3.0, sample_size=6)
    assert len(r.llr) == 3 and r.ended and not r.signalled


def test_binomial_looks():
    r = binomial_looks([1, 3, 6, 9], [2, 4, 7, 10], 1.0, 1.9)
    assert r.signal_look == 2  # 6 cases of 7 events: LLR = 6 log(6/7) + log(1/7) + 7 log 2 = 1.98
    assert r.llr[2] == pytest.approx(6 * np.log(6 / 7) + np.log(1 / 7) + 7 * np.log(2))


def test_decreasing_cumulative_counts_are_refused():
    with pytest.raises(ValidationFailed) as err:
        poisson_looks([3, 2], [1, 2], 3.0)
    assert err.value.field == "observed"
