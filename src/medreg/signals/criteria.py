"""Which scored pairs become signal cases: a configurable rule over the score columns. Pure.

Default thresholds: PRR025 > 1 and ROR025 > 1 (the interval forms used with PRR/ROR screening; the
full Evans rule is ``disproportionality.EvansCriteria``), IC025 > 0 (WHO-UMC), EB05 > 2 (FDA practice,
Szarfman et al., Drug Saf 2002;25:381-392), each with n11 >= 3. All are configurable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

RULES = {
    "prr": ("prr_lower", 1.0, "PRR025 > {t:g} and n11 >= {n}"),
    "ror": ("ror_lower", 1.0, "ROR025 > {t:g} and n11 >= {n}"),
    "ic": ("ic025", 0.0, "IC025 > {t:g} and n11 >= {n}"),
    "ebgm": ("eb05", 2.0, "EB05 > {t:g} and n11 >= {n}"),
}


@dataclass(frozen=True)
class SignalCriteria:
    """``statistic`` in RULES; ``threshold`` None takes the published one.

    >>> c = SignalCriteria("ic")
    >>> c.flags({"n11": np.array([5, 5, 2]), "ic025": np.array([0.3, -0.1, 1.0])}).tolist()
    [True, False, False]
    >>> c.describe()
    'IC025 > 0 and n11 >= 3'
    """

    statistic: str = "ebgm"
    threshold: float | None = None
    min_n: int = 3

    def __post_init__(self) -> None:
        if self.statistic not in RULES:
            raise ValueError(f"statistic must be one of {sorted(RULES)}")

    @property
    def column(self) -> str:
        return RULES[self.statistic][0]

    @property
    def limit(self) -> float:
        return RULES[self.statistic][1] if self.threshold is None else self.threshold

    def flags(self, columns: Mapping[str, NDArray]) -> NDArray[np.bool_]:
        values = np.asarray(columns[self.column], dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return (values > self.limit) & (np.asarray(columns["n11"]) >= self.min_n)

    def describe(self) -> str:
        return RULES[self.statistic][2].format(t=self.limit, n=self.min_n)
