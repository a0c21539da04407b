"""Unit tests of the pure signal statistics: worked examples, the zero-cell rule, doctests.

Independent references: SciPy (``chi2_contingency``, ``contingency.odds_ratio``) and statsmodels
(``StratifiedTable``) compute the same quantities here; pvda 0.0.4 and vigicaen print the worked examples.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from scipy.stats import chi2_contingency
from scipy.stats.contingency import odds_ratio
from statsmodels.stats.contingency_tables import StratifiedTable

from medreg.signals import bcpnn, criteria, disproportionality, ebgm, ebgm_fit, squashing, stratified
from medreg.signals.bcpnn import information_component
from medreg.signals.disproportionality import EvansCriteria, cells, chi_square, prr, ror
from medreg.signals.ebgm import GPSPrior, posterior_weight
from medreg.signals.ebgm import ebgm as ebgm_scores
from medreg.signals.stratified import expected_count, mh_prr, mh_ror


@pytest.mark.parametrize("module", [disproportionality, bcpnn, ebgm, ebgm_fit, squashing, stratified,
                                    criteria])
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_chi_square_matches_scipy_with_and_without_yates():
    rng = np.random.default_rng(4)
    for _ in range(200):
        a, b, c, d = rng.integers(0, 60, size=4) + np.array([1, 0, 1, 1])
        table = np.array([[a, b], [c, d]])
        for yates in (True, False):
            expected = chi2_contingency(table, correction=yates)[0] if b > 0 else None
            got = chi_square(a, a + b, a + c, a + b + c + d, yates=yates).statistic
            if expected is not None:
                assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_ror_interval_matches_scipy_odds_ratio_wald():
    # scipy's sample odds ratio is a*d/(b*c); its log-scale Wald interval needs all cells > 0
    table = np.array([[12, 40], [300, 9000]])
    ref = odds_ratio(table, kind="sample")
    got = ror(12, 52, 312, 9352)
    assert float(got.estimate) == pytest.approx(ref.statistic, rel=1e-12)
    se = np.sqrt((1 / table).sum())
    assert float(got.upper) == pytest.approx(ref.statistic * np.exp(1.959963984540054 * se), rel=1e-12)


def test_zero_cells_follow_the_stated_rule_and_never_raise():
    # a = 0: PRR and ROR are 0, interval [0, inf]
    p, r = prr(0, 10, 20, 1000), ror(0, 10, 20, 1000)
    assert float(p.estimate) == 0 and float(p.lower) == 0 and float(p.upper) == np.inf
    assert float(r.estimate) == 0 and float(r.upper) == np.inf
    # c = 0 (no other device has the event): PRR = inf, as openEBGM prints Inf
    p = prr(3, 10, 3, 1000)
    assert float(p.estimate) == np.inf and float(p.lower) == 0 and float(p.upper) == np.inf
    # empty device margin: nan everywhere
    p = prr(0, 0, 5, 100)
    assert np.isnan(p.estimate) and np.isnan(p.lower) and np.isnan(p.upper)
    # n = 0: nothing at all
    assert np.isnan(chi_square(0, 0, 0, 0).statistic)
    ic = information_component(0, 0)
    assert float(ic.ic) == 0.0 and np.isfinite(ic.lower) and np.isfinite(ic.upper)
    scores = ebgm_scores(GPSPrior(1, 1, 2, 2, 0.5), [0, 1, 3], [0.0, 0.5, 0.0])
    assert np.isnan(scores.ebgm[0]) and np.isfinite(scores.ebgm[1]) and np.isnan(scores.lower[2])


def test_zero_cell_correction_only_touches_tables_with_a_zero():
    t = cells([0, 5], [10, 10], [20, 20], [1000, 1000], zero_cell_correction=0.5)
    assert t.a.tolist() == [0.5, 5.0] and t.b.tolist() == [10.5, 5.0]


def test_impossible_tables_raise_value_error():
    with pytest.raises(ValueError, match="2x2"):
        prr(5, 3, 10, 100)


def test_evans_criteria_are_configurable():
    n11, nd, ne, n = np.array([3, 2, 30]), np.array([10, 10, 300]), np.array([40, 40, 400]), 10_000
    assert EvansCriteria().flags(n11, nd, ne, n).tolist() == [True, False, True]
    assert EvansCriteria(min_n=2).flags(n11, nd, ne, n).tolist() == [True, True, True]
    assert EvansCriteria(min_prr=100).flags(n11, nd, ne, n).tolist() == [False, False, False]


def test_ic_matches_vigicaen_ic_tail():
    # vigicaen reference page ic_tail(n_obs=12, n_exp=5) = log2(qgamma(0.025, 12.5, 5.5)) = 0.2542334
    assert float(information_component(12, 5).lower) == pytest.approx(0.2542334, abs=5e-8)


def test_stratified_expected_and_mh_match_statsmodels():
    rng = np.random.default_rng(7)
    a, b, c, d = (rng.integers(1, 50, size=(3, 4)) for _ in range(4))
    nd, ne, n = a + b, a + c, a + b + c + d
    for k in range(3):
        tables = [np.array([[a[k, s], b[k, s]], [c[k, s], d[k, s]]]) for s in range(4)]
        st = StratifiedTable(tables)
        assert mh_ror(a, nd, ne, n).estimate[k] == pytest.approx(st.oddsratio_pooled, rel=1e-12)
        assert mh_ror(a, nd, ne, n).se_log[k] == pytest.approx(st.logodds_pooled_se, rel=1e-12)
        assert mh_prr(a, nd, ne, n).estimate[k] == pytest.approx(st.riskratio_pooled, rel=1e-12)
    assert expected_count(nd, ne, n) == pytest.approx((nd * ne / n).sum(axis=1), rel=1e-14)


def test_mh_with_one_stratum_equals_the_crude_estimate():
    one = mh_prr([[10]], [[1000]], [[210]], [[11000]])
    crude = prr(10, 1000, 210, 11000)
    assert one.estimate[0] == pytest.approx(float(crude.estimate), rel=1e-14)
    assert one.se_log[0] == pytest.approx(float(crude.se_log), rel=1e-12)
    assert mh_ror([[10]], [[30]], [[210]], [[10230]]).estimate[0] == pytest.approx(25.0, rel=1e-14)


def test_empty_strata_are_ignored():
    with_empty = mh_ror([[10, 0]], [[30, 0]], [[210, 0]], [[10230, 0]])
    assert with_empty.estimate[0] == pytest.approx(25.0, rel=1e-14)


def test_posterior_weight_and_quantiles_are_consistent():
    prior = GPSPrior(3.25379356, 0.39988854, 2.02612692, 1.90807970, 0.06534557)
    n = np.array([1, 2, 5, 20, 0])
    e = np.array([0.01, 0.5, 1.0, 3.0, 2.0])
    r = ebgm_scores(prior, n, e)
    assert np.all((r.qn > 0) & (r.qn < 1))
    assert np.all(r.lower < r.ebgm) and np.all(r.ebgm < r.upper)
    # the 5th percentile really has posterior mass 0.05 below it
    from scipy import special
    q = posterior_weight(prior, n, e)
    mass = (q * special.gammainc(prior.alpha1 + n, r.lower * (prior.beta1 + e))
            + (1 - q) * special.gammainc(prior.alpha2 + n, r.lower * (prior.beta2 + e)))
    assert mass == pytest.approx(np.full(5, 0.05), abs=1e-9)


def test_log_likelihood_matches_scipy_negative_binomials():
    from scipy.stats import nbinom

    from medreg.signals.ebgm import log_likelihood

    prior = GPSPrior(3.25597, 0.39999, 2.02376, 1.90614, 0.06531)
    n, e, w = np.array([1, 2, 7, 3]), np.array([0.5, 0.1, 2.0, 0.03]), np.array([1, 3, 1, 2])

    def comp(a, b, n_star):
        p = b / (b + e)
        return nbinom.pmf(n, a, p) / (nbinom.sf(n_star - 1, a, p) if n_star else 1.0)

    for n_star in (0, 1, 2):
        ref = np.sum(w * np.log(prior.p * comp(prior.alpha1, prior.beta1, n_star)
                                + (1 - prior.p) * comp(prior.alpha2, prior.beta2, n_star)))
        assert log_likelihood(prior, n, e, w, n_star=n_star) == pytest.approx(ref, rel=1e-12)


def test_prior_fit_on_data_without_heterogeneity_stops_or_falls_back_to_the_bound():
    from medreg.signals.ebgm_fit import fit_prior

    rng = np.random.default_rng(3)
    e = rng.lognormal(-1, 1, 20_000)
    n = rng.poisson(e)  # every pair has ratio exactly 1: the gamma prior wants alpha = beta -> infinity
    with pytest.raises(ValueError, match="parameter space"):
        fit_prior(n, e, param_limit=10)
    fit = fit_prior(n, e, param_limit=10, boundary_fallback=True)
    assert not fit.inside and not fit.consistent and np.isfinite(fit.neg_log_lik)


def test_posterior_quantiles_solve_the_mixture_cdf_over_a_wide_range():
    from scipy import special

    from medreg.signals.ebgm import posterior_quantile

    rng = np.random.default_rng(12)
    prior = GPSPrior(0.99, 0.46, 4.28, 4.64, 0.075)
    n = rng.integers(0, 400, size=5000).astype(float)
    e = np.exp(rng.uniform(-9, 6, size=5000))
    q = posterior_weight(prior, n, e)
    assert q.max() > 1 - 1e-6 and np.sum((q > 0.05) & (q < 0.95)) > 100  # pure and mixed posteriors
    for p in (0.05, 0.95):
        x = posterior_quantile(prior, n, e, p, q)
        mass = (q * special.gammainc(prior.alpha1 + n, x * (prior.beta1 + e))
                + (1 - q) * special.gammainc(prior.alpha2 + n, x * (prior.beta2 + e)))
        assert np.all(np.isfinite(x)) and mass == pytest.approx(np.full(n.size, p), abs=1e-10)
