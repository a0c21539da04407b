"""When a schedule is due: pure functions over tz-aware datetimes (no database, no clock).

A recurrence is one of three kinds, all in Beijing time (Asia/Shanghai, UTC+8 all year: China has
kept no daylight saving time since 1991, so every local time exists exactly once):

* ``interval``: every ``interval_minutes`` (5 to 44,640, i.e. 31 days), at the instants
  ``ANCHOR + k * interval`` where ``ANCHOR`` is 2000-01-01 00:00 Beijing time. Anchoring (rather than
  "N minutes after the last run") keeps the times fixed whatever the worker's delays: every 360
  minutes is always 00:00, 06:00, 12:00 and 18:00 Beijing time.
* ``daily``: every day at ``at`` (``HH:MM``, Beijing time).
* ``weekly``: every week on ``weekday`` (ISO: 1 = Monday ... 7 = Sunday) at ``at``.
* ``monthly``: every month on ``day_of_month`` (1 to 31, on the Beijing calendar) at ``at``. **A day
  beyond the month's length is clamped to its last day**: the 31st runs on 30 April, 28 February, 29
  February in a leap year and 31 March; the 29th runs on 28 February in a common year. The next month
  goes back to the chosen day (a schedule on the 31st runs on 31 May after 30 April), so the clamping
  never drifts.

:func:`next_due` is the first due time strictly after a given instant. Month and year ends need no
rule of their own: days are counted on the Beijing calendar (a daily run at 02:15 on 1 March is 18:15
UTC on the last day of February, 28 or 29).

**Catch-up rule** (applied by ``medreg.core.schedules.tick``): when a worker finds a schedule due at
``now`` (its ``next_run_at`` <= now), it starts one job for that due time and sets the next due time to
``next_due(recurrence, now)``. After any downtime a schedule therefore runs once, at once, however many
due times were missed (:func:`missed` counts them for the record), then keeps its usual times.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from medreg.core.clock import SHANGHAI
from medreg.core.errors import ValidationFailed

KINDS = ("interval", "daily", "weekly", "monthly")
MIN_INTERVAL, MAX_INTERVAL = 5, 31 * 24 * 60  # minutes
ANCHOR = datetime(2000, 1, 1, tzinfo=SHANGHAI)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # ISO order: index + 1
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Recurrence:
    every: str
    interval_minutes: int | None = None
    at: str | None = None  # "HH:MM", Beijing time
    weekday: int | None = None  # ISO 1-7
    day_of_month: int | None = None  # 1-31 (monthly; clamped to the month's last day)

    def check(self) -> Recurrence:
        """The recurrence with only the fields its kind uses, or ``ValidationFailed`` naming the field."""
        if self.every not in KINDS:
            raise ValidationFailed("Choose how often: {kinds}.", field="every",
                                   params={"kinds": ", ".join(KINDS)})
        if self.every == "interval":
            n = self.interval_minutes
            if not isinstance(n, int) or isinstance(n, bool) or not MIN_INTERVAL <= n <= MAX_INTERVAL:
                raise ValidationFailed("The interval must be a whole number of minutes from {low} to {high}.",
                                       field="interval_minutes",
                                       params={"low": MIN_INTERVAL, "high": MAX_INTERVAL})
            return Recurrence("interval", interval_minutes=n)
        if not isinstance(self.at, str) or not _HHMM.match(self.at.strip()):
            raise ValidationFailed("Give the time as HH:MM (Beijing time, 00:00 to 23:59).", field="at")
        at = self.at.strip()
        if self.every == "daily":
            return Recurrence("daily", at=at)
        if self.every == "monthly":
            d = self.day_of_month
            if not isinstance(d, int) or isinstance(d, bool) or not 1 <= d <= 31:
                raise ValidationFailed("The day of the month must be 1 to 31 (a day beyond the month's "
                                       "length runs on its last day).", field="day_of_month")
            return Recurrence("monthly", at=at, day_of_month=d)
        w = self.weekday
        if not isinstance(w, int) or isinstance(w, bool) or not 1 <= w <= 7:
            raise ValidationFailed("The weekday must be 1 (Monday) to 7 (Sunday).", field="weekday")
        return Recurrence("weekly", at=at, weekday=w)

    @property
    def local_time(self) -> time:
        hours, minutes = (int(x) for x in (self.at or "00:00").split(":"))
        return time(hours, minutes)

    def describe(self) -> str:
        """Plain English, for the CLI (the pages translate their own wording)."""
        if self.every == "interval":
            return f"every {self.interval_minutes} minutes"
        if self.every == "daily":
            return f"daily at {self.at} (Asia/Shanghai)"
        if self.every == "monthly":
            return f"monthly on day {self.day_of_month} at {self.at} (Asia/Shanghai)"
        return f"weekly on {WEEKDAYS[(self.weekday or 1) - 1]} at {self.at} (Asia/Shanghai)"


def weekday_number(text: str | int) -> int:
    """``mon``..``sun`` (or 1-7) as an ISO weekday; ``ValidationFailed`` otherwise."""
    raw = str(text).strip().lower()[:3]
    if raw in WEEKDAYS:
        return WEEKDAYS.index(raw) + 1
    if raw.isdigit() and 1 <= int(raw) <= 7:
        return int(raw)
    raise ValidationFailed("The weekday must be 1 (Monday) to 7 (Sunday).", field="weekday")


def next_due(rec: Recurrence, after: datetime) -> datetime:
    """The first due time strictly after ``after`` (tz-aware), in UTC."""
    if after.tzinfo is None:
        raise ValueError("next_due needs a tz-aware datetime")
    if rec.every == "interval":
        step = timedelta(minutes=rec.interval_minutes or 0)
        k = (after - ANCHOR) // step + 1
        return (ANCHOR + k * step).astimezone(UTC)
    local = after.astimezone(SHANGHAI)
    if rec.every == "monthly":
        year, month = local.year, local.month
        while True:  # this month's due time, else the next month's (always later)
            due = _monthly(rec, year, month)
            if due > local:
                return due.astimezone(UTC)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    due = datetime.combine(local.date(), rec.local_time, tzinfo=SHANGHAI)
    if rec.every == "weekly":
        due += timedelta(days=((rec.weekday or 1) - due.isoweekday()) % 7)
    if due <= local:
        due += timedelta(days=1 if rec.every == "daily" else 7)
    return due.astimezone(UTC)


def _monthly(rec: Recurrence, year: int, month: int) -> datetime:
    """The due time of a monthly recurrence in one month: its day, clamped to the month's last day."""
    day = min(rec.day_of_month or 1, calendar.monthrange(year, month)[1])
    return datetime.combine(datetime(year, month, day).date(), rec.local_time, tzinfo=SHANGHAI)


def missed(rec: Recurrence, due: datetime, now: datetime, cap: int = 1000) -> int:
    """How many due times after ``due`` up to ``now`` (inclusive) the catch-up rule folds into one run
    (at most ``cap``)."""
    count, t = 0, due
    while count < cap and (t := next_due(rec, t)) <= now:
        count += 1
    return count

