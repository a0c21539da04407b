"""Due times of schedules (pure): interval, daily, weekly and monthly in Beijing time, month and year ends.

Reference: Asia/Shanghai is UTC+08:00 all year, no daylight saving time since 1991 (IANA tz database,
``asiazone``: "Rule Shang ... 1991"), so 02:15 Beijing time is 18:15 UTC of the previous day in
January and in July alike. Weekdays checked against the Gregorian calendar (2026-11-30 is a Monday).
Month lengths: Gregorian calendar (April, June, September, November 30 days; February 28, 29 in a leap
year: 2024 and 2028 are leap years, 2100 is not, being divisible by 100 but not by 400).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from medreg.core.errors import ValidationFailed
from medreg.core.recurrence import Recurrence, missed, next_due, weekday_number


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


DAILY = Recurrence("daily", at="02:15")
MONDAY = Recurrence("weekly", at="02:15", weekday=1)


@pytest.mark.parametrize("rec, after, expected", [
    # daily 02:15 Beijing = 18:15 UTC the day before
    (DAILY, utc(2026, 11, 30, 8, 0), utc(2026, 11, 30, 18, 15)),
    (DAILY, utc(2026, 11, 30, 18, 15), utc(2026, 12, 1, 18, 15)),  # strictly after a due time
    (DAILY, utc(2026, 11, 30, 18, 14, 59, 999999), utc(2026, 11, 30, 18, 15)),
    # month ends on the Beijing calendar: 1 March 02:15 is 28 or 29 February in UTC
    (DAILY, utc(2024, 2, 28, 19, 0), utc(2024, 2, 29, 18, 15)),  # leap year: 29 Feb 03:00 -> 1 Mar 02:15
    (DAILY, utc(2025, 2, 28, 0, 0), utc(2025, 2, 28, 18, 15)),
    (DAILY, utc(2026, 4, 30, 17, 0), utc(2026, 4, 30, 18, 15)),  # 1 May 01:00 Beijing -> 1 May 02:15
    # year end: 23:30 Beijing on 31 December and on 1 January
    (Recurrence("daily", at="23:30"), utc(2026, 12, 31, 15, 0), utc(2026, 12, 31, 15, 30)),
    (Recurrence("daily", at="23:30"), utc(2026, 12, 31, 16, 0), utc(2027, 1, 1, 15, 30)),
    (Recurrence("daily", at="00:00"), utc(2026, 12, 31, 15, 59), utc(2026, 12, 31, 16, 0)),
    # weekly Monday 02:15 Beijing = Sunday 18:15 UTC, the same in January and July (no DST)
    (MONDAY, utc(2026, 11, 30, 8, 0), utc(2026, 12, 6, 18, 15)),  # Monday 16:00 Beijing: next Monday
    (MONDAY, utc(2026, 11, 29, 18, 0), utc(2026, 11, 29, 18, 15)),  # Monday 02:00 Beijing: today
    (MONDAY, utc(2026, 12, 25, 0, 0), utc(2026, 12, 27, 18, 15)),  # across the month end: 28 Dec
    (MONDAY, utc(2026, 1, 1, 0, 0), utc(2026, 1, 4, 18, 15)),  # Monday 5 January
    (MONDAY, utc(2026, 7, 1, 0, 0), utc(2026, 7, 5, 18, 15)),  # Monday 6 July
    (Recurrence("weekly", at="09:00", weekday=5), utc(2026, 12, 30, 0, 0), utc(2027, 1, 1, 1, 0)),  # Fri
    # every 360 minutes: anchored at 2000-01-01 00:00 Beijing, i.e. 00, 06, 12, 18 h Beijing
    (Recurrence("interval", interval_minutes=360), utc(2026, 11, 30, 8, 0), utc(2026, 11, 30, 10, 0)),
    (Recurrence("interval", interval_minutes=360), utc(2026, 11, 30, 10, 0), utc(2026, 11, 30, 16, 0)),
    (Recurrence("interval", interval_minutes=5), utc(2026, 11, 30, 8, 2, 30), utc(2026, 11, 30, 8, 5)),
    (Recurrence("interval", interval_minutes=1440), utc(2026, 2, 28, 16, 0), utc(2026, 3, 1, 16, 0)),
])
def test_next_due(rec, after, expected):
    assert next_due(rec.check(), after) == expected
    assert next_due(rec.check(), after).tzinfo is UTC


def test_next_due_accepts_any_zone_and_refuses_naive():
    from medreg.core.clock import SHANGHAI

    beijing = datetime(2026, 12, 1, 2, 0, tzinfo=SHANGHAI)
    assert next_due(DAILY, beijing) == utc(2026, 11, 30, 18, 15)
    with pytest.raises(ValueError):
        next_due(DAILY, datetime(2026, 12, 1))


def test_missed_counts_the_due_times_folded_into_one_catch_up():
    # due 26 Nov 02:15 Beijing (25 Nov 18:15 UTC); now 30 Nov 16:00 Beijing: 27, 28, 29, 30 Nov missed
    assert missed(DAILY, utc(2026, 11, 25, 18, 15), utc(2026, 11, 30, 8, 0)) == 4
    assert missed(DAILY, utc(2026, 11, 29, 18, 15), utc(2026, 11, 30, 8, 0)) == 0
    assert missed(Recurrence("interval", interval_minutes=5), utc(2026, 1, 1), utc(2027, 1, 1), cap=50) == 50


@pytest.mark.parametrize("rec, field", [
    (Recurrence("yearly", at="02:15"), "every"),
    (Recurrence("monthly", at="02:15"), "day_of_month"),
    (Recurrence("monthly", at="02:15", day_of_month=0), "day_of_month"),
    (Recurrence("monthly", at="02:15", day_of_month=32), "day_of_month"),
    (Recurrence("monthly", at="02:15", day_of_month=True), "day_of_month"),
    (Recurrence("monthly", day_of_month=5), "at"),
    (Recurrence("daily", at="24:00"), "at"),
    (Recurrence("daily", at="2:15"), "at"),
    (Recurrence("daily"), "at"),
    (Recurrence("weekly", at="02:15"), "weekday"),
    (Recurrence("weekly", at="02:15", weekday=8), "weekday"),
    (Recurrence("interval", interval_minutes=4), "interval_minutes"),
    (Recurrence("interval", interval_minutes=44641), "interval_minutes"),
    (Recurrence("interval", interval_minutes=True), "interval_minutes"),
    (Recurrence("interval"), "interval_minutes"),
])
def test_bad_recurrences_name_the_field(rec, field):
    with pytest.raises(ValidationFailed) as err:
        rec.check()
    assert err.value.field == field


def test_check_keeps_only_the_fields_of_the_kind():
    assert Recurrence("daily", 60, " 02:15 ", 3).check() == Recurrence("daily", at="02:15")
    assert Recurrence("interval", 60, "02:15", 3).check() == Recurrence("interval", interval_minutes=60)
    assert MONDAY.check().describe() == "weekly on mon at 02:15 (Asia/Shanghai)"


def test_weekday_names():
    assert weekday_number("Mon") == 1 and weekday_number("sunday") == 7 and weekday_number("3") == 3
    with pytest.raises(ValidationFailed):
        weekday_number("8")


M31 = Recurrence("monthly", at="02:15", day_of_month=31)
M29 = Recurrence("monthly", at="02:15", day_of_month=29)
M1 = Recurrence("monthly", at="00:00", day_of_month=1)


@pytest.mark.parametrize("rec, after, expected", [
    # the 31st clamps to each month's last day (02:15 Beijing = 18:15 UTC the day before)
    (M31, utc(2026, 1, 1), utc(2026, 1, 30, 18, 15)),            # 31 Jan
    (M31, utc(2026, 1, 30, 18, 15), utc(2026, 2, 27, 18, 15)),    # 28 Feb 2026 (common year)
    (M31, utc(2028, 1, 30, 18, 15), utc(2028, 2, 28, 18, 15)),    # 29 Feb 2028 (leap year)
    (M31, utc(2026, 2, 27, 18, 15), utc(2026, 3, 30, 18, 15)),    # back to 31 Mar: no drift
    (M31, utc(2026, 3, 30, 18, 15), utc(2026, 4, 29, 18, 15)),    # 30 Apr
    (M31, utc(2026, 4, 29, 18, 15), utc(2026, 5, 30, 18, 15)),    # 31 May
    (M31, utc(2026, 12, 30, 18, 15), utc(2027, 1, 30, 18, 15)),   # 31 Dec -> 31 Jan over the year end
    (M31, utc(2100, 2, 1), utc(2100, 2, 27, 18, 15)),             # 2100 is not a leap year: 28 Feb
    # the 29th: 28 Feb in a common year, 29 Feb in a leap year
    (M29, utc(2026, 2, 1), utc(2026, 2, 27, 18, 15)),
    (M29, utc(2028, 2, 1), utc(2028, 2, 28, 18, 15)),
    (M29, utc(2028, 2, 28, 18, 15), utc(2028, 3, 28, 18, 15)),    # 29 Mar
    # the 1st at midnight Beijing: 16:00 UTC on the last day of the month before
    (M1, utc(2026, 2, 28, 15, 59), utc(2026, 2, 28, 16, 0)),
    (M1, utc(2026, 2, 28, 16, 0), utc(2026, 3, 31, 16, 0)),       # strictly after a due time
    (M1, utc(2026, 12, 31, 16, 0), utc(2027, 1, 31, 16, 0)),
])
def test_monthly_due_times_clamp_to_the_months_last_day(rec, after, expected):
    assert next_due(rec.check(), after) == expected


def test_monthly_describe_and_missed():
    assert M31.check().describe() == "monthly on day 31 at 02:15 (Asia/Shanghai)"
    assert Recurrence("monthly", 60, "02:15", 3, 31).check() == M31
    # due 31 Jan 2026; now 15 May 2026: 28 Feb, 31 Mar, 30 Apr missed
    assert missed(M31, utc(2026, 1, 30, 18, 15), utc(2026, 5, 15)) == 3
