"""Property tests (hypothesis) of the signal statistics: symmetry, monotonicity in n11, intervals."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from medreg.signals.bcpnn import information_component
from medreg.signals.disproportionality import chi_square, prr, ror
from medreg.signals.ebgm import GPSPrior, ebgm

counts = st.integers(min_value=0, max_value=5_000)


@st.composite
def tables(draw):
    a, b, c, d = (draw(counts) for _ in range(4))
    return a, a + b, a + c, a + b + c + d


@given(tables())
def test_ror_and_chi_square_are_symmetric_in_device_and_event(t):
    n11, nd, ne, n = t
    assert np.array_equal(ror(n11, nd, ne, n).estimate, ror(n11, ne, nd, n).estimate, equal_nan=True)
    for yates in (True, False):
        x = chi_square(n11, nd, ne, n, yates=yates).statistic
        y = chi_square(n11, ne, nd, n, yates=yates).statistic
        assert np.allclose(x, y, rtol=1e-12, equal_nan=True)
    e = nd * ne / n if n else 0.0
    assert information_component(n11, e).ic == information_component(n11, ne * nd / n if n else 0.0).ic


@given(tables())
def test_intervals_contain_the_estimate(t):
    n11, nd, ne, n = t
    for r in (prr(n11, nd, ne, n), ror(n11, nd, ne, n)):
        if np.isfinite(r.estimate) and r.estimate > 0:
            assert r.lower <= r.estimate <= r.upper
    if n > 0:
        ic = information_component(n11, nd * ne / n)
        assert ic.lower <= ic.ic <= ic.upper


@given(tables(), st.integers(min_value=1, max_value=50))
def test_more_reports_of_the_pair_raise_every_statistic(t, extra):
    """Adding reports of the pair to the pair cell only (margins grow with it) never lowers a score."""
    n11, nd, ne, n = t
    assume(n > 0 and ne - n11 > 0 and nd - n11 > 0)
    up = (n11 + extra, nd + extra, ne + extra, n + extra)
    assert prr(*up).estimate >= prr(n11, nd, ne, n).estimate
    assert ror(*up).estimate >= ror(n11, nd, ne, n).estimate
    # IC is an observed-to-expected ratio: monotone in the observed count at a fixed expected count
    e = nd * ne / n
    lo, hi = information_component(n11, e), information_component(n11 + extra, e)
    assert hi.ic > lo.ic and hi.lower > lo.lower and hi.upper > lo.upper


@settings(max_examples=50)
@given(st.floats(min_value=1e-3, max_value=50), st.integers(min_value=0, max_value=200))
def test_ebgm_rises_with_n_at_fixed_expected_and_sits_inside_its_interval(e, n):
    prior = GPSPrior(3.25379356, 0.39988854, 2.02612692, 1.90807970, 0.06534557)
    r = ebgm(prior, [n, n + 1], [e, e])
    assert r.ebgm[1] > r.ebgm[0]
    assert np.all(r.lower < r.ebgm) and np.all(r.ebgm < r.upper)
