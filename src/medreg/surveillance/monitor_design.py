"""A monitor's design, checked before it is stored (pure): the planned looks of a group-sequential
monitor and the risk-adjusted CUSUM's odds ratios and false-alarm probability."""

from __future__ import annotations

from medreg.core.errors import ValidationFailed
from medreg.surveillance.group_sequential import SPENDING

__all__ = ["KINDS", "check_cusum", "check_delta", "check_delta_spending", "look_plan", "monitor_plan"]

# the monitor kinds: the Poisson MaxSPRT (counts against the risk model) and the DELTA-style
# propensity-matched comparison (``delta``)
KINDS = ("maxsprt_poisson", "delta", "maxsprt_binomial")


def look_plan(sample_size: float, planned_looks: int | None, look_at: list[float] | None) -> list | None:
    """The cumulative expected events at each planned look (None: continuous monitoring)."""
    if planned_looks is not None and look_at is not None:
        raise ValidationFailed("Give the number of looks or their timing, not both.", field="look_at")
    if planned_looks is not None:
        if not 1 <= planned_looks <= 120:
            raise ValidationFailed("The number of planned looks must be 1 to 120.", field="planned_looks")
        look_at = [k / planned_looks for k in range(1, planned_looks + 1)]
    if look_at is None:
        return None
    fractions = [float(f) for f in look_at]
    if not 1 <= len(fractions) <= 120 or any(not 0 < f <= 1 for f in fractions) or any(
        b <= a for a, b in zip(fractions, fractions[1:], strict=False)
    ) or fractions[-1] != 1:
        raise ValidationFailed(
            "The looks must be 1 to 120 increasing fractions of the length of surveillance, the last 1.",
            field="look_at",
        )
    return [sample_size * f for f in fractions[:-1]] + [sample_size]  # the last look is exactly T


def check_cusum(odds_ratio: float, null_odds_ratio: float, false_alarm: float) -> None:
    """The CUSUM design: odds ratios within [0.01, 100], R_A different from R_0, alarm in (0, 0.5]."""
    if not 0.01 <= null_odds_ratio <= 100:
        raise ValidationFailed("The odds ratio must lie between 0.01 and 100.", field="cusum_null_odds_ratio")
    if not 0.01 <= odds_ratio <= 100:
        raise ValidationFailed("The odds ratio must lie between 0.01 and 100.", field="cusum_odds_ratio")
    if odds_ratio == null_odds_ratio:
        raise ValidationFailed("The odds ratio to detect must be positive and different from the null's.",
                               field="cusum_odds_ratio")
    if not 0 < false_alarm <= 0.5:
        raise ValidationFailed("The false-alarm probability must lie in (0, 0.5].", field="cusum_false_alarm")


def monitor_plan(monitor) -> list[float] | None:
    """Cumulative expected events of the planned looks (monitors from before ``look_plan``: equal)."""
    if monitor.look_plan:
        return [float(x) for x in monitor.look_plan]
    if monitor.planned_looks:
        return look_plan(monitor.sample_size, monitor.planned_looks, None)
    return None


def check_delta(margin: float, min_pairs: int, caliper_sd: float) -> None:
    """DELTA's design: a margin of the risk difference in [0, 0.5], 2 to 100,000 matched pairs before
    an alert, a caliper of (0, 1] standard deviations of the logit score (Austin 2011 advises 0.2)."""
    if not 0 <= margin <= 0.5:
        raise ValidationFailed("The margin must lie between 0 and 0.5.", field="delta_margin")
    if not 2 <= min_pairs <= 100_000:
        raise ValidationFailed("The minimum number of matched pairs must be 2 to 100,000.",
                               field="delta_min_pairs")
    if not 0 < caliper_sd <= 1:
        raise ValidationFailed("The caliper must lie in (0, 1] standard deviations.", field="delta_caliper")


def check_delta_spending(alpha: float, spending: str | None, planned_pairs: int | None, min_pairs: int,
                         gamma: float) -> None:
    """DELTA's alpha spending across looks: a spending function (``group_sequential.SPENDING``) needs
    the planned pairs (the information horizon, at least the minimum pairs) and an overall one-sided
    alpha below 0.5; the Hwang-Shih-DeCani gamma lies in [-40, 40]. Planned pairs without spending
    only end the monitor there (alpha per look)."""
    if spending is not None and spending not in SPENDING:
        raise ValidationFailed("Unknown spending function.", field="delta_spending")
    if planned_pairs is not None and not min_pairs <= planned_pairs <= 1_000_000:
        raise ValidationFailed(
            "The planned matched pairs must be at least the minimum pairs, at most 1,000,000.",
            field="delta_planned_pairs")
    if spending is None:
        return
    if planned_pairs is None:
        raise ValidationFailed("Alpha spending needs the planned number of matched pairs.",
                               field="delta_planned_pairs")
    if not 0 < alpha < 0.5:
        raise ValidationFailed("With alpha spending, alpha (overall, one-sided) must lie in (0, 0.5).",
                               field="alpha")
    if not -40 <= gamma <= 40:
        raise ValidationFailed("The Hwang-Shih-DeCani gamma must lie between -40 and 40.",
                               field="delta_hsd_gamma")
