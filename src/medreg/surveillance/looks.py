"""The MaxSPRT applied to accumulating data: the LLR after each look and the first crossing.

A monitoring run passes the cumulative counts at each look (Poisson: observed and expected events;
binomial: cases and all events) and the critical value of the design (``maxsprt``,
``maxsprt_binomial``). Looks after the upper limit on the length of surveillance are not analysed:
the surveillance has ended. The result keeps every look, so that the boundary chart (LLR against the
critical value over the looks) can be drawn and a run can append its new points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medreg.core.errors import ValidationFailed
from medreg.surveillance.maxsprt import poisson_llr
from medreg.surveillance.maxsprt_binomial import binomial_llr

__all__ = ["SequentialLooks", "binomial_looks", "poisson_looks"]


@dataclass(frozen=True)
class SequentialLooks:
    """LLR after each analysed look and the signal decision.

    ``signal_look`` is the 0-based index of the first look with ``LLR >= CV`` and at least
    ``min_events`` events (None if no signal); ``ended`` is True when the upper limit on the length of
    surveillance was reached without a signal. ``relative_risk`` is the maximum likelihood estimate
    at each look (observed/expected for Poisson; ``z c / (n - c)`` for binomial).
    """

    method: str  # "poisson" | "binomial"
    critical_value: float
    observed: tuple[float, ...]
    expected: tuple[float, ...]  # Poisson: expected events; binomial: all events (cases + controls)
    llr: tuple[float, ...]
    relative_risk: tuple[float, ...]
    signal_look: int | None
    ended: bool

    @property
    def signalled(self) -> bool:
        return self.signal_look is not None


def _cumulative(values, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValidationFailed("Cumulative counts must be finite and non-negative.", field=name)
    if np.any(np.diff(arr) < 0):
        raise ValidationFailed("Cumulative counts cannot decrease from one look to the next.", field=name)
    return arr


def _decide(llr: np.ndarray, observed: np.ndarray, cv: float, min_events: int) -> int | None:
    hits = np.flatnonzero((llr >= cv) & (observed >= min_events))
    return int(hits[0]) if hits.size else None


def poisson_looks(observed, expected, critical_value: float, *, sample_size: float | None = None,
                  min_events: int = 1) -> SequentialLooks:
    """Poisson MaxSPRT over looks with cumulative ``observed`` and ``expected`` events."""
    c = _cumulative(observed, "observed")
    mu = _cumulative(expected, "expected")
    if c.shape != mu.shape:
        raise ValidationFailed("Observed and expected counts need one value per look.", field="expected")
    if sample_size is not None:  # looks up to (and including) the one that reaches T
        keep = int(np.searchsorted(mu, sample_size, side="left")) + 1
        c, mu = c[:keep], mu[:keep]
    llr = poisson_llr(c, mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = np.where(mu > 0, c / mu, np.nan)
    signal = _decide(llr, c, critical_value, min_events)
    if signal is not None:
        c, mu, llr, rr = c[: signal + 1], mu[: signal + 1], llr[: signal + 1], rr[: signal + 1]
    ended = signal is None and sample_size is not None and len(mu) > 0 and mu[-1] >= sample_size
    return SequentialLooks("poisson", float(critical_value), tuple(c.tolist()), tuple(mu.tolist()),
                           tuple(llr.tolist()), tuple(rr.tolist()), signal, bool(ended))


def binomial_looks(cases, events, z: float, critical_value: float, *, sample_size: int | None = None,
                   min_events: int = 1) -> SequentialLooks:
    """Binomial MaxSPRT over looks with cumulative ``cases`` among cumulative ``events``."""
    c = _cumulative(cases, "cases")
    n = _cumulative(events, "events")
    if c.shape != n.shape or np.any(c > n):
        raise ValidationFailed("Cases must not exceed events at any look.", field="cases")
    if sample_size is not None:
        keep = int(np.searchsorted(n, sample_size, side="left")) + 1
        c, n = c[:keep], n[:keep]
    llr = binomial_llr(c, n, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = np.where(n - c > 0, z * c / (n - c), np.inf)
    signal = _decide(llr, c, critical_value, min_events)
    if signal is not None:
        c, n, llr, rr = c[: signal + 1], n[: signal + 1], llr[: signal + 1], rr[: signal + 1]
    ended = signal is None and sample_size is not None and len(n) > 0 and n[-1] >= sample_size
    return SequentialLooks("binomial", float(critical_value), tuple(c.tolist()), tuple(n.tolist()),
                           tuple(llr.tolist()), tuple(rr.tolist()), signal, bool(ended))
