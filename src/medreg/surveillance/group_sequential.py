"""Group-sequential boundaries for a normal statistic by Lan-DeMets alpha spending (pure).

A statistic ``Z_k`` is looked at at information fractions ``t_1 < t_2 < ...`` (information so far over
the planned information; for DELTA, matched pairs over planned pairs). Under the null the ``Z_k`` are
jointly normal with ``cov(Z_j, Z_k) = sqrt(t_j / t_k)`` (independent increments of the score
``S_k = Z_k sqrt(t_k)``). A one-sided design rejects (alerts) at the first look with ``Z_k >= c_k``;
the boundary ``c_k`` is chosen so that the alpha spent by look ``k`` is the spending function at
``t_k`` (Lan & DeMets 1983):

.. math::

    P_0(Z_1 < c_1, ..., Z_{k-1} < c_{k-1}, Z_k >= c_k) = \\alpha(t_k) - \\alpha(t_{k-1}).

The left side is computed by the recursive numerical integration of Armitage, McPherson & Rowe
(1969) on the grid of Jennison & Turnbull (2000, chapter 19): the sub-density of ``Z_k`` on the
continuation region is carried from look to look by Simpson's rule, and each ``c_k`` is found by
Brent's method. Spending functions (``t`` capped at 1):

* ``obf``: O'Brien-Fleming type, ``2 - 2 Phi(z_{1-alpha/2} / sqrt(t))`` (Lan & DeMets 1983);
* ``pocock``: Pocock type, ``alpha log(1 + (e - 1) t)`` (Lan & DeMets 1983);
* ``hsd``: Hwang, Shih & DeCani (1990), ``alpha (1 - exp(-gamma t)) / (1 - exp(-gamma))``
  (``gamma = 0``: ``alpha t``; ``gamma = -4`` is close to O'Brien-Fleming, ``1`` to Pocock).

Information beyond the plan (``t > 1``): the spending function is 1 there, so such a look spends
all the alpha left and is the last one; its covariance still uses its actual ``t``. A look whose
information does not exceed the last analysed one, or that is marked as not analysed, spends nothing
and cannot reject (``critical_value`` infinite) - the alpha stays for the later looks.

References
----------
Armitage P, McPherson CK, Rowe BC. Repeated significance tests on accumulating data. J R Stat Soc A
1969; 132:235-244.
Lan KKG, DeMets DL. Discrete sequential boundaries for clinical trials. Biometrika 1983; 70:659-663.
Hwang IK, Shih WJ, DeCani JS. Group sequential designs using a family of type I error probability
spending functions. Stat Med 1990; 9:1439-1445.
Jennison C, Turnbull BW. Group Sequential Methods with Applications to Clinical Trials. Chapman &
Hall/CRC 2000 (chapter 7: spending functions; chapter 9: repeated confidence intervals; chapter 19:
numerical computations).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm

from medreg.core.errors import ValidationFailed

__all__ = ["SPENDING", "Boundary", "boundaries", "spending_function"]

SPENDING = ("obf", "pocock", "hsd")
_R = 32  # grid size parameter of Jennison & Turnbull (2000, section 19.2); errors well below 1e-7


def spending_function(kind: str, alpha: float, t: float, gamma: float = -4.0) -> float:
    """Cumulative alpha allowed by information fraction ``t`` (0 at 0, ``alpha`` from 1 on)."""
    if kind not in SPENDING:
        raise ValidationFailed("Unknown spending function.", field="delta_spending")
    if not 0 < alpha < 1:
        raise ValidationFailed("alpha must lie in (0, 1).", field="alpha")
    t = min(max(float(t), 0.0), 1.0)
    if t <= 0:
        return 0.0
    if t >= 1:
        return float(alpha)
    if kind == "obf":
        return float(2.0 * norm.sf(norm.isf(alpha / 2.0) / math.sqrt(t)))
    if kind == "pocock":
        return float(alpha * math.log1p((math.e - 1.0) * t))
    if gamma == 0:
        return float(alpha * t)
    return float(alpha * (-math.expm1(-gamma * t)) / (-math.expm1(-gamma)))


@dataclass(frozen=True)
class Boundary:
    """One look of a one-sided design: its information fraction, the boundary on the Z scale
    (``inf``: the look spends nothing and cannot reject), its nominal one-sided level
    ``1 - Phi(c)``, the cumulative alpha the spending function allows by it and the cumulative
    alpha the boundaries actually spend (equal up to the root finder's tolerance)."""

    information: float
    critical_value: float
    nominal_alpha: float
    alpha_target: float
    alpha_spent: float

    @property
    def analysed(self) -> bool:
        return math.isfinite(self.critical_value)


def _grid(upper: float) -> tuple[np.ndarray, np.ndarray]:
    """Jennison & Turnbull's grid for a standard normal ``Z`` truncated above at ``upper``: points
    denser near 0, widening in the tails, with Simpson's weights (each interval halved)."""
    r = _R
    i = np.arange(1, 6 * r)
    x = np.where(i < r, -3.0 - 4.0 * np.log(r / np.maximum(i, 1)),
                 np.where(i <= 5 * r, -3.0 + 3.0 * (i - r) / (2.0 * r),
                          3.0 + 4.0 * np.log(r / np.maximum(6 * r - i, 1))))
    lo = x[0]
    pts = x[(x > lo) & (x < upper)]
    pts = np.concatenate(([lo], pts, [upper])) if upper > lo else np.array([lo - 1.0, lo])
    mids = (pts[:-1] + pts[1:]) / 2.0
    z = np.empty(2 * len(pts) - 1)
    z[0::2], z[1::2] = pts, mids
    d = np.diff(pts)
    w = np.zeros_like(z)
    w[0:-1:2] += d / 6.0
    w[2::2] += d / 6.0
    w[1::2] = 4.0 * d / 6.0
    return z, w


def _cross(c: float, t: float, prev: tuple | None) -> float:
    """P(no crossing at the analysed looks so far, ``Z >= c`` at information ``t``)."""
    if prev is None:
        return float(norm.sf(c))
    z, wh, tp = prev
    sd = math.sqrt(t - tp)
    return float(np.dot(wh, norm.sf((c * math.sqrt(t) - z * math.sqrt(tp)) / sd)))


def _carry(c: float, t: float, prev: tuple | None) -> tuple:
    """The sub-density of ``Z`` at information ``t`` on ``Z < c`` (grid, weight x density, t)."""
    z, w = _grid(c)
    if prev is None:
        h = norm.pdf(z)
    else:
        zp, whp, tp = prev
        sd = math.sqrt(t - tp)
        h = (norm.pdf((z[:, None] * math.sqrt(t) - zp[None, :] * math.sqrt(tp)) / sd) @ whp) * (
            math.sqrt(t) / sd)
    return z, w * h, t


def boundaries(information: Sequence[float], alpha: float, kind: str = "obf", *, gamma: float = -4.0,
               analysed: Sequence[bool] | None = None) -> tuple[Boundary, ...]:
    """One-sided Lan-DeMets boundaries at the information fractions given (positive, in look
    order; above 1 allowed). ``analysed[k]`` False: look ``k`` spends nothing (e.g. too few pairs)."""
    if not 0 < alpha < 0.5:
        raise ValidationFailed("alpha must lie in (0, 0.5).", field="alpha")
    info = [float(t) for t in information]
    if any(not (t > 0 and math.isfinite(t)) for t in info):
        raise ValidationFailed("The information fractions must be positive.", field="information")
    flags = [True] * len(info) if analysed is None else [bool(a) for a in analysed]
    if len(flags) != len(info):
        raise ValidationFailed("One flag per look.", field="analysed")
    out: list[Boundary] = []
    prev = None  # the sub-density after the last analysed look
    spent = 0.0
    done = False  # the alpha is all spent (a look reached the planned information)
    for t, flag in zip(info, flags, strict=True):
        target = spending_function(kind, alpha, t, gamma)
        increment = target - spent
        if done or not flag or (prev is not None and t <= prev[2]) or increment <= 0:
            out.append(Boundary(t, math.inf, 0.0, max(target, spent), spent))
            continue
        c = brentq(lambda x, t=t, prev=prev, inc=increment: _cross(x, t, prev) - inc, -10.0, 40.0,
                   xtol=1e-12, rtol=1e-14, maxiter=200)
        spent += _cross(c, t, prev)
        out.append(Boundary(t, float(c), float(norm.sf(c)), target, spent))
        prev = _carry(c, t, prev)
        done = t >= 1.0
    return tuple(out)
