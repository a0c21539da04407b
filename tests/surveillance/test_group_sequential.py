"""Lan-DeMets alpha-spending boundaries (``group_sequential``) against published values, a seeded
Monte Carlo check of the overall alpha, and properties of the spending."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from medreg.core.errors import ValidationFailed
from medreg.surveillance.group_sequential import boundaries, spending_function

# Expected one-sided critical values of R's rpact (Wassmer & Pahlke, CRAN; validated package), from its
# test suite tests/testthat/test-f_design_group_sequential.R (getDesignGroupSequential /
# getDesignInverseNormal, ``sided = 1``; the futility bounds of those designs are non-binding, so
# they do not move the critical values), printed to 8 significant digits, rpact's tolerance 1e-7.
RPACT = [
    # Lan-DeMets O'Brien-Fleming type ("asOF"), alpha 0.13, information (0.4, 0.75, 1) and
    # (0.4, 0.75, 0.85, 1): x7a
    ("obf", 0.13, 0, (0.4, 0.75, 1), (2.1280732, 1.4368565, 1.2468994),
     (0.016665509, 0.080406163, 0.12999999)),
    ("obf", 0.13, 0, (0.4, 0.75, 0.85, 1), (2.1280732, 1.4368565, 1.422873, 1.2970881),
     (0.016665509, 0.080406163, 0.10053322, 0.13)),
    # Lan-DeMets Pocock type ("asP"), alpha 0.13, information (0.35, 0.7, 1): x6a
    ("pocock", 0.13, 0, (0.35, 0.7, 1), (1.5446617, 1.4828682, 1.4620058), (0.061214062, 0.10266465, 0.13)),
    # "asP", alpha 0.025, information (0.4, 0.7), the last look short of the plan: x6b
    ("pocock", 0.025, 0, (0.4, 0.7), (2.223875, 2.3050796), (0.013078429, 0.0197432)),
    # Hwang-Shih-DeCani ("asHSD"), gamma 0 (linear spending), alpha 0.03, information (0.2, 0.4, 1): x1
    ("hsd", 0.03, 0, (0.2, 0.4, 1), (2.5121443, 2.4228747, 2.0280392), (0.006, 0.012, 0.03)),
    # "asHSD", gamma -1, alpha 0.07, information (0.2, 0.4, 1): x2
    ("hsd", 0.07, -1, (0.2, 0.4, 1), (2.364813, 2.1928805, 1.5660474), (0.0090195874, 0.020036136, 0.07)),
]


@pytest.mark.parametrize(("kind", "alpha", "gamma", "info", "critical", "spent"), RPACT)
def test_boundaries_equal_rpact(kind, alpha, gamma, info, critical, spent):
    b = boundaries(info, alpha, kind, gamma=gamma)
    assert [x.critical_value for x in b] == pytest.approx(critical, abs=1e-7)
    assert [x.alpha_spent for x in b] == pytest.approx(spent, rel=1e-7)


def test_spending_functions_are_lan_demets_and_hwang_shih_decani():
    """Lan & DeMets (1983): alpha_1(t) = 2 - 2 Phi(z_{1-a/2} / sqrt t), alpha_2(t) = a log(1 + (e-1) t);
    Hwang, Shih & DeCani (1990); all reach alpha at t = 1 and stay there beyond."""
    a = 0.05
    assert spending_function("obf", a, 0.25) == pytest.approx(2 - 2 * norm.cdf(norm.ppf(1 - a / 2) / 0.5))
    assert spending_function("pocock", a, 0.5) == pytest.approx(a * math.log(1 + (math.e - 1) * 0.5))
    hsd = a * (1 - math.exp(2)) / (1 - math.exp(4))
    assert spending_function("hsd", a, 0.5, gamma=-4) == pytest.approx(hsd)
    for kind in ("obf", "pocock", "hsd"):
        assert spending_function(kind, a, 1.0) == a == spending_function(kind, a, 1.7)
        assert spending_function(kind, a, 0.0) == 0.0
    # a single look at full information is the fixed-sample one-sided test
    assert boundaries([1.0], 0.025)[0].critical_value == pytest.approx(norm.isf(0.025), abs=1e-9)


@pytest.mark.parametrize("kind", ["obf", "pocock", "hsd"])
def test_cumulative_alpha_spent_equals_the_spending_function(kind):
    info = (0.1, 0.23, 0.4, 0.55, 0.81, 1.0)
    b = boundaries(info, 0.05, kind)
    for x, t in zip(b, info, strict=True):
        assert x.alpha_spent == pytest.approx(spending_function(kind, 0.05, t), rel=1e-9, abs=1e-15)
        assert x.alpha_target == spending_function(kind, 0.05, t)
        assert x.nominal_alpha == pytest.approx(norm.sf(x.critical_value))
    if kind == "obf":  # O'Brien-Fleming boundaries decrease
        assert all(x.critical_value > y.critical_value for x, y in zip(b, b[1:], strict=False))


def _simulate(info, crit, n=200_000, seed=20261130):
    """Brownian motion at the information times; fraction of paths crossing a boundary."""
    rng = np.random.default_rng(seed)
    t = np.asarray(info)
    inc = rng.standard_normal((n, len(t))) * np.sqrt(np.diff(np.concatenate(([0.0], t))))
    z = np.cumsum(inc, axis=1) / np.sqrt(t)
    return float(np.mean((z >= np.asarray(crit)).any(axis=1)))


DESIGNS = [("obf", (0.2, 0.45, 0.7, 1.0)), ("pocock", (0.15, 0.3, 0.6, 0.8, 1.0)), ("hsd", (0.3, 0.5, 1.3))]


@pytest.mark.parametrize(("kind", "info"), DESIGNS)
def test_overall_alpha_by_monte_carlo(kind, info):
    """200,000 seeded null paths cross with probability alpha (within 3 binomial standard errors);
    the last design has more information than planned (t = 1.3: the alpha left is spent there)."""
    alpha = 0.05
    b = boundaries(info, alpha, kind)
    p = _simulate(info, [x.critical_value for x in b])
    assert abs(p - alpha) < 3 * math.sqrt(alpha * (1 - alpha) / 200_000)
    naive = _simulate(info, [norm.isf(alpha)] * len(info))  # the same looks each at alpha: inflated
    assert naive > 1.5 * alpha


def test_looks_that_spend_nothing():
    """A look not analysed (too few pairs), or without more information than the last analysed one,
    spends nothing and cannot reject; the alpha stays for the later looks. Past t = 1 nothing is left."""
    b = boundaries((0.2, 0.5, 0.5, 1.0, 1.2), 0.05, "pocock", analysed=(False, True, True, True, True))
    assert not b[0].analysed and b[0].alpha_spent == 0 and b[0].nominal_alpha == 0
    assert b[1].alpha_spent == pytest.approx(spending_function("pocock", 0.05, 0.5))  # all of it by t=0.5
    assert not b[2].analysed and b[2].alpha_spent == b[1].alpha_spent
    assert b[3].alpha_spent == pytest.approx(0.05) and not b[4].analysed
    assert boundaries((1.4,), 0.05)[0].critical_value == pytest.approx(norm.isf(0.05), abs=1e-9)


@pytest.mark.parametrize(("args", "field"), [(((0.5, 1), 0.6), "alpha"), (((0, 1), 0.05), "information"),
                                             (((0.5, 1), 0.05, "linear"), "delta_spending")])
def test_bad_input_names_the_field(args, field):
    with pytest.raises(ValidationFailed) as exc:
        boundaries(*args)
    assert exc.value.field == field
