"""The working-day calendar: cross-checked day by day, hand-computed due dates, properties."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from medreg.core import calendar as cal
from medreg.core.calendar import (
    DEFAULT_CALENDAR,
    WorkingDayCalendar,
    add_calendar_days,
    add_months,
    add_working_days,
    add_years,
    is_working_day,
    working_days_between,
)
from medreg.core.errors import ValidationFailed


def _days(year: int):
    d = date(year, 1, 1)
    while d.year == year:
        yield d
        d += timedelta(days=1)


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_every_day_matches_chinese_calendar(year):
    wrong = [d for d in _days(year) if is_working_day(d) != chinese_calendar.is_workday(d)]
    assert wrong == []


@pytest.mark.parametrize("year", range(2010, 2024))
def test_earlier_years_match_chinese_calendar(year):
    wrong = [d for d in _days(year) if is_working_day(d) != chinese_calendar.is_workday(d)]
    assert wrong == []


@pytest.mark.parametrize("first, last", [
    (date(2025, 1, 28), date(2025, 2, 4)),    # 2025 Spring Festival (State Council notice, Nov 2024)
    (date(2025, 10, 1), date(2025, 10, 8)),   # 2025 National Day + Mid-Autumn
    (date(2026, 1, 1), date(2026, 1, 3)),     # 2026 New Year
    (date(2026, 2, 15), date(2026, 2, 23)),   # 2026 Spring Festival (notice of Nov 2025: 9 days)
    (date(2026, 5, 1), date(2026, 5, 5)),     # 2026 Labour Day
    (date(2026, 10, 1), date(2026, 10, 7)),   # 2026 National Day
])
def test_whole_breaks_are_days_off(first, last):
    d = first
    while d <= last:
        assert not is_working_day(d), d
        d += timedelta(days=1)
    assert is_working_day(last + timedelta(days=1)) or (last + timedelta(days=1)).weekday() >= 5


@pytest.mark.parametrize("d", [
    date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27), date(2025, 9, 28), date(2025, 10, 11),
    date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9), date(2026, 9, 20),
    date(2026, 10, 10),
])
def test_adjusted_weekends_are_working_days(d):
    assert d.weekday() >= 5
    assert is_working_day(d)


@pytest.mark.parametrize("d", [date(2024, 3, 8), date(2023, 5, 4), date(2026, 6, 1), date(2025, 8, 1)])
def test_half_day_observances_are_working_days(d):
    # Women's Day, Youth Day, Children's Day, Army Day (holidays' half_day category): half a day off
    # for some groups only, so a working day for the administration.
    assert d.weekday() < 5
    assert is_working_day(d)


@pytest.mark.parametrize("start, n, expected", [
    # 2025 Spring Festival: off Jan 28-Feb 4; Sun Jan 26 and Sat Feb 8 are working days.
    # Fri Jan 24 -> 26(Sun)=1, 27=2, Feb 5=3, 6=4, 7=5
    (date(2025, 1, 24), 5, date(2025, 2, 7)),
    # ... 8(Sat)=6, 10-14=7..11, 17-21=12..16, 24-27=17..20
    (date(2025, 1, 24), 20, date(2025, 2, 27)),
    # 2025 National Day: off Oct 1-8; Sun Sep 28 and Sat Oct 11 are working days.
    # Fri Sep 26 -> 28(Sun)=1, 29=2, 30=3, Oct 9=4, 10=5
    (date(2025, 9, 26), 5, date(2025, 10, 10)),
    # ... Oct 11(Sat)=6, 13-17=7..11, 20-24=12..16, 27-30=17..20
    (date(2025, 9, 26), 20, date(2025, 10, 30)),
    (date(2025, 9, 30), 1, date(2025, 10, 9)),
    # 2026 New Year: off Jan 1-3; Sun Jan 4 is a working day. Dec 31 -> Jan 4=1
    (date(2025, 12, 31), 1, date(2026, 1, 4)),
    # 2026 Spring Festival: off Feb 15-23; Sat Feb 14 and Sat Feb 28 are working days.
    # Wed Feb 11 -> 12=1, 13=2, 14(Sat)=3, 24=4, 25=5
    (date(2026, 2, 11), 5, date(2026, 2, 25)),
    # ... 26=6, 27=7, 28(Sat)=8, Mar 2-6=9..13, 9-13=14..18, 16=19, 17=20
    (date(2026, 2, 11), 20, date(2026, 3, 17)),
    # 2026 Mid-Autumn Sep 25-27 and National Day Oct 1-7; Sun Sep 20 and Sat Oct 10 are working days.
    # Fri Sep 18 -> 20(Sun)=1, 21=2, 22=3, 23=4, 24=5
    (date(2026, 9, 18), 5, date(2026, 9, 24)),
    # ... 25 off, 28=6, 29=7, 30=8, Oct 8=9, 9=10, 10(Sat)=11, 12-16=12..16, 19-22=17..20
    (date(2026, 9, 18), 20, date(2026, 10, 22)),
    # Mon Sep 28 -> 29=1, 30=2, Oct 8=3, 9=4, 10(Sat)=5: a Saturday due date
    (date(2026, 9, 28), 5, date(2026, 10, 10)),
    (date(2025, 3, 3), 0, date(2025, 3, 3)),
])
def test_add_working_days_by_hand(start, n, expected):
    assert add_working_days(start, n) == expected
    if n:
        assert working_days_between(start, expected) == n
        assert working_days_between(start, expected - timedelta(days=1)) == n - 1


def test_working_days_between():
    assert working_days_between(date(2025, 9, 30), date(2025, 10, 8)) == 0
    assert working_days_between(date(2025, 9, 30), date(2025, 10, 9)) == 1
    assert working_days_between(date(2025, 10, 9), date(2025, 9, 30)) == -1
    assert working_days_between(date(2025, 3, 3), date(2025, 3, 3)) == 0
    # 2025: 261 weekdays - 18 weekdays off + 5 working weekends = 248
    assert working_days_between(date(2024, 12, 31), date(2025, 12, 31)) == 248


@pytest.mark.parametrize("start, n, expected", [
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2025, 1, 31), 1, date(2025, 2, 28)),
    (date(2025, 3, 31), -1, date(2025, 2, 28)),
    (date(2025, 8, 31), 1, date(2025, 9, 30)),
    (date(2025, 12, 15), 1, date(2026, 1, 15)),
    (date(2025, 12, 15), 13, date(2027, 1, 15)),
    (date(2026, 1, 15), -13, date(2024, 12, 15)),
    (date(2025, 5, 20), 0, date(2025, 5, 20)),
])
def test_add_months_clamps_to_month_end(start, n, expected):
    assert add_months(start, n) == expected


def test_add_years_and_calendar_days():
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert add_years(date(2021, 6, 1), 5) == date(2026, 6, 1)
    assert add_calendar_days(date(2025, 2, 27), 2) == date(2025, 3, 1)
    assert add_calendar_days(date(2025, 3, 1), -1) == date(2025, 2, 28)


@pytest.mark.parametrize("call, field", [
    (lambda: is_working_day(date(2000, 12, 31)), "date"),
    (lambda: is_working_day(date(2101, 1, 3)), "date"),
    (lambda: is_working_day(datetime(2025, 1, 2, 9)), "date"),
    (lambda: is_working_day("2025-01-02"), "date"),
    (lambda: add_working_days(date(2025, 1, 2), -1), "n"),
    (lambda: add_working_days(date(2025, 1, 2), 1.5), "n"),
    (lambda: add_working_days(date(2025, 1, 2), True), "n"),
    (lambda: add_months(date(2099, 12, 1), 24), "n"),
    (lambda: working_days_between(None, date(2025, 1, 2)), "start"),
])
def test_bad_input_is_a_validation_error(call, field):
    with pytest.raises(ValidationFailed) as err:
        call()
    assert err.value.field == field


def test_unpublished_years_are_provisional_or_refused():
    known = DEFAULT_CALENDAR.published_through
    assert known >= 2026
    later = date(known + 1, 3, 2)
    assert DEFAULT_CALENDAR.is_provisional(later)
    assert not DEFAULT_CALENDAR.is_provisional(date(known, 12, 31))
    assert not is_working_day(date(known + 1, 1, 1))  # New Year's Day is statutory every year
    with pytest.raises(ValidationFailed) as err:
        WorkingDayCalendar(strict=True).is_working_day(later)
    assert err.value.field == "date"
    assert WorkingDayCalendar(strict=True).is_working_day(date(2026, 3, 2))


def test_overrides_take_precedence():
    c = WorkingDayCalendar(extra_days_off=[date(2025, 3, 3)], extra_working_days=[date(2025, 3, 8)])
    assert not c.is_working_day(date(2025, 3, 3))
    assert c.is_working_day(date(2025, 3, 8))
    assert c.add_working_days(date(2025, 2, 28), 1) == date(2025, 3, 4)
    with pytest.raises(ValidationFailed):
        WorkingDayCalendar(extra_days_off=[date(2025, 3, 3)], extra_working_days=[date(2025, 3, 3)])


def test_roll_forward():
    assert DEFAULT_CALENDAR.roll_forward(date(2025, 10, 1)) == date(2025, 10, 9)
    assert DEFAULT_CALENDAR.roll_forward(date(2025, 10, 11)) == date(2025, 10, 11)  # working Saturday
    assert DEFAULT_CALENDAR.roll_forward(date(2025, 3, 8)) == date(2025, 3, 10)


days = st.dates(min_value=date(2023, 1, 1), max_value=date(2026, 6, 30))


@given(days, st.integers(min_value=1, max_value=120))
def test_add_working_days_properties(d, n):
    due = add_working_days(d, n)
    assert due > d
    assert is_working_day(due)
    assert add_working_days(d, n + 1) > due
    assert working_days_between(d, due) == n
    # no working day is skipped: the day before the due date is n-1 working days away
    assert working_days_between(d, due - timedelta(days=1)) == n - 1


@given(days, st.integers(min_value=-36, max_value=36))
def test_add_months_properties(d, n):
    out = add_months(d, n)
    assert (out.year * 12 + out.month) - (d.year * 12 + d.month) == n
    assert out.day == d.day or (out.day < d.day and (out + timedelta(days=1)).day == 1)


def test_module_functions_use_the_default_calendar():
    assert cal.is_working_day(date(2025, 10, 11), DEFAULT_CALENDAR)
    assert cal.add_working_days(date(2025, 9, 30), 1, WorkingDayCalendar()) == date(2025, 10, 9)
