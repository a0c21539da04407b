"""Chinese working days and statutory clock arithmetic (pure: no database, no clock).

Working days follow the State Council's yearly holiday notices (国务院办公厅关于XXXX年部分节假日安排的
通知) as encoded in the ``holidays`` package: a day is a working day when it is Monday-Friday and not a
day off (statutory holidays, their bridge days and 调休 days off), or when it is one of the adjusted
working weekends (``holidays.China().weekend_workdays``). Only the ``public`` category counts: the
``half_day`` category (Women's Day, Youth Day, Children's Day, Army Day) gives half a day off to some
groups only and does not change the working days of an administration. The result equals the official
arrangement (and the ``chinese_calendar`` package) for every day of 2010-2026; tests check 2024-2026.

Years after the last notice the installed ``holidays`` knows (:attr:`WorkingDayCalendar.published_through`)
are counted with the library's estimate (statutory holidays moved off weekends, no 调休 Saturdays) and
flagged ``provisional``; ``strict=True`` refuses them instead. Dates before 2001 or after 2100 are refused.
The pin of ``holidays`` therefore matters: upgrade it each December after the notice for the next year
is published. Clock due dates are computed on the fly, never stored, so they follow the upgrade.

Legal basis of the counting rules (see docs/clocks.md):

- 民法典 第二百零一条: "按照年、月、日计算期间的，开始的当日不计入，自下一日开始计算。按照小时计算期间的，
  自法律规定或者当事人约定的时间开始计算。" -> the start day is never counted.
- 民法典 第二百零二条: "按照年、月计算期间的，到期月的对应日为期间的最后一日；没有对应日的，月末日为期间的
  最后一日。" -> :func:`add_months` clamps to the month end.
- 民法典 第二百零三条: "期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日。" -> day, month
  and year periods ending on a rest day end on the next working day (``roll_forward``).
- 行政许可法 第八十二条: "本法规定的行政机关实施行政许可的期限以工作日计算，不含法定节假日。" and
  SAMR Order 47 (2021) 第九十九条 "本办法规定的时限以工作日计算" -> :func:`add_working_days`.
- SAMR Order 47 (2021) 第九十八条: the applicant's supplement time (申请人补充资料…所占用的时间) is not
  counted in the working time limits -> pauses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

import holidays
from holidays.constants import PUBLIC

from medreg.core.clock import to_shanghai
from medreg.core.errors import ValidationFailed

FIRST_YEAR = 2001  # the first year ``holidays`` checked against a State Council notice
LAST_YEAR = getattr(holidays.China, "end_year", 2100)


def _published_through() -> int:
    """The last year whose State Council arrangement the installed ``holidays`` encodes."""
    from holidays.countries.china import ChinaStaticHolidays

    return max(ChinaStaticHolidays.special_public_holidays)


def _check_date(value: object, field: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationFailed("'{name}' must be a date.", field=field, params={"name": field})
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationFailed("'{name}' must fall between {first} and {last}: the working-day calendar "
                               "has no data for {value}.", field=field,
                               params={"name": field, "first": FIRST_YEAR, "last": LAST_YEAR,
                                       "value": value.isoformat()})
    return value


def _check_count(value: object, field: str, *, minimum: int | None = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed("'{name}' must be a whole number.", field=field, params={"name": field})
    if minimum is not None and value < minimum:
        raise ValidationFailed("'{name}' must be at least {minimum}.", field=field,
                               params={"name": field, "minimum": minimum})
    return value


class WorkingDayCalendar:
    """Working days of mainland China. ``extra_days_off`` / ``extra_working_days`` override the library
    (e.g. a notice published before ``holidays`` is upgraded); ``strict`` refuses provisional years."""

    def __init__(self, *, extra_days_off: Iterable[date] = (), extra_working_days: Iterable[date] = (),
                 strict: bool = False):
        self.extra_days_off = frozenset(extra_days_off)
        self.extra_working_days = frozenset(extra_working_days)
        if self.extra_days_off & self.extra_working_days:
            raise ValidationFailed("A day cannot be both a day off and a working day.",
                                   field="extra_working_days")
        self.strict = strict
        self.published_through = _published_through()
        self._years: dict[int, tuple[frozenset[date], frozenset[date]]] = {}

    def _year(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        if year not in self._years:
            # A notice may make a day of the previous year a working day: load the next year too.
            years = [y for y in (year, year + 1) if y <= LAST_YEAR]
            lib = holidays.China(years=years, categories=(PUBLIC,))
            off = frozenset(d for d in lib if d.year == year)
            work = frozenset(d for d in lib.weekend_workdays if d.year == year)
            self._years[year] = (off, work)
        return self._years[year]

    def is_provisional(self, d: date) -> bool:
        """True when ``d`` lies in a year whose holiday arrangement is not yet published (estimated)."""
        return _check_date(d, "date").year > self.published_through

    def is_working_day(self, d: date) -> bool:
        _check_date(d, "date")
        if self.strict and d.year > self.published_through:
            raise ValidationFailed("The holiday arrangement for {year} is not published yet (known through "
                                   "{known}).", field="date",
                                   params={"year": d.year, "known": self.published_through})
        if d in self.extra_working_days:
            return True
        if d in self.extra_days_off:
            return False
        off, work = self._year(d.year)
        if d in work:
            return True
        return d.weekday() < 5 and d not in off

    def roll_forward(self, d: date) -> date:
        """``d`` if it is a working day, else the next working day (民法典 第二百零三条)."""
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start``; ``start`` itself is never counted.

        民法典 第二百零一条: "按照年、月、日计算期间的，开始的当日不计入，自下一日开始计算。"
        行政许可法 第八十二条: "行政机关实施行政许可的期限以工作日计算，不含法定节假日。"
        ``n == 0`` gives ``start``. Example: 2025-09-30 + 1 -> 2025-10-09 (Oct 1-8 are days off).
        """
        _check_date(start, "start")
        remaining = _check_count(n, "n")
        d = start
        while remaining:
            d += timedelta(days=1)
            if self.is_working_day(d):
                remaining -= 1
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative if ``end`` < ``start``)."""
        _check_date(start, "start")
        _check_date(end, "end")
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for k in range(1, (end - start).days + 1)
                   if self.is_working_day(start + timedelta(days=k)))


DEFAULT_CALENDAR = WorkingDayCalendar()


def is_working_day(d: date, calendar: WorkingDayCalendar = DEFAULT_CALENDAR) -> bool:
    return calendar.is_working_day(d)


def add_working_days(start: date, n: int, calendar: WorkingDayCalendar = DEFAULT_CALENDAR) -> date:
    """See :meth:`WorkingDayCalendar.add_working_days` (民法典 第二百零一条; 行政许可法 第八十二条)."""
    return calendar.add_working_days(start, n)


def working_days_between(start: date, end: date, calendar: WorkingDayCalendar = DEFAULT_CALENDAR) -> int:
    return calendar.working_days_between(start, end)


def add_calendar_days(start: date, n: int) -> date:
    """``start`` + ``n`` days (the start day is not counted: 民法典 第二百零一条). ``n`` may be negative."""
    _check_date(start, "start")
    return _check_date(start + timedelta(days=_check_count(n, "n", minimum=None)), "n")


def add_months(start: date, n: int) -> date:
    """The corresponding day ``n`` months later (or earlier), clamped to the month end.

    民法典 第二百零二条: "到期月的对应日为期间的最后一日；没有对应日的，月末日为期间的最后一日。"
    Example: 2024-01-31 + 1 month -> 2024-02-29.
    """
    _check_date(start, "start")
    months = start.year * 12 + start.month - 1 + _check_count(n, "n", minimum=None)
    year, month = divmod(months, 12)
    month += 1
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed("'{name}' takes the date outside the years the calendar knows.", field="n",
                               params={"name": "n"})
    next_month = date(year + month // 12, month % 12 + 1, 1)
    return date(year, month, min(start.day, (next_month - timedelta(days=1)).day))


def add_years(start: date, n: int) -> date:
    """The corresponding day ``n`` years later; 29 February becomes 28 February (民法典 第二百零二条)."""
    return add_months(start, 12 * _check_count(n, "n", minimum=None))


class ClockUnit(StrEnum):
    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    HOURS = "hours"
    MONTHS = "months"
    YEARS = "years"


def parse_unit(value: object, field: str = "unit") -> ClockUnit:
    try:
        return ClockUnit(value)
    except ValueError:
        raise ValidationFailed("'{name}' must be one of: {allowed}.", field=field,
                               params={"name": field, "allowed": ", ".join(u.value for u in ClockUnit)},
                               ) from None


@dataclass(frozen=True)
class ClockStatus:
    """Where a clock stands on a day. ``used``/``left``/``paused_days`` count working days for
    ``working_days`` clocks, hours for ``hours`` clocks, and calendar days otherwise (also for months and
    years). ``left`` is negative once overdue; a clock is never overdue while paused (the case waits on
    the applicant). ``provisional``: the count touches a year whose holiday
    arrangement is estimated. ``due_at`` is set for ``hours`` clocks only."""

    started_on: date
    due_on: date
    limit: int
    unit: ClockUnit
    used: int
    left: int
    paused: bool
    paused_days: int
    stopped_on: date | None
    overdue: bool
    provisional: bool = False
    due_at: datetime | None = None


def _windows(started_on: date, pauses: Iterable[tuple[date, date | None]],
             asof: date) -> tuple[list[tuple[date, date]], bool]:
    """Validated pause windows as ``(paused_on, end]`` as of ``asof``, and whether a pause is open.

    Events after ``asof`` are ignored: a pause resumed after ``asof`` is still open on ``asof``, and
    an open pause runs through ``asof`` (so ``due_on`` is the due date if the clock resumed that day).
    """
    out, is_open, last_end = [], False, started_on
    items = list(pauses)
    for i, (p, r) in enumerate(items):
        _check_date(p, "pauses")
        if r is not None:
            _check_date(r, "pauses")
        if p < last_end or (r is not None and r < p) or (r is None and i != len(items) - 1):
            raise ValidationFailed("Pauses must be in order, start on or after the clock started and after "
                                   "the previous pause ended; only the last may be open.", field="pauses")
        last_end = r if r is not None else p
        if p > asof:
            continue
        end = r if r is not None and r <= asof else asof
        is_open = r is None or r > asof
        if end > p:
            out.append((p, end))
    return out, is_open


def clock_status(started_on: date, limit: int, unit: ClockUnit | str,
                 pauses: Iterable[tuple[date, date | None]], today: date, stopped_on: date | None = None,
                 calendar: WorkingDayCalendar = DEFAULT_CALENDAR, *,
                 roll_forward: bool = True) -> ClockStatus:
    """The status of a day-based clock on ``today`` (or on ``stopped_on`` once stopped).

    Counting: the start day is not counted (民法典 第二百零一条). A pause ``(paused_on, resumed_on)`` does
    not count the days after ``paused_on`` up to and including ``resumed_on`` (SAMR Order 47 第九十八条):
    the pause day itself is used, counting restarts the day after resumption. ``due_on`` is the
    ``limit``-th counted day. Calendar-day, month and year periods ending on a rest day end on the next
    working day when ``roll_forward`` (民法典 第二百零三条). Months/years are first turned into the
    calendar days to the corresponding day (民法典 第二百零二条), pauses then extend them day for day.
    """
    u = parse_unit(unit)
    if u is ClockUnit.HOURS:
        raise ValidationFailed("Use hour_clock_status for clocks counted in hours.", field="unit")
    _check_date(started_on, "started_on")
    _check_count(limit, "limit", minimum=1)
    _check_date(today, "today")
    if stopped_on is not None and _check_date(stopped_on, "stopped_on") < started_on:
        raise ValidationFailed("A clock cannot stop before it started.", field="stopped_on")
    asof = min(today, stopped_on) if stopped_on is not None else today
    windows, is_open = _windows(started_on, pauses, asof)
    by_working_days = u is ClockUnit.WORKING_DAYS
    if u in (ClockUnit.WORKING_DAYS, ClockUnit.CALENDAR_DAYS):
        target = limit
    else:
        months = limit if u is ClockUnit.MONTHS else 12 * limit
        target = (add_months(started_on, months) - started_on).days

    def paused_on_day(d: date) -> bool:
        return any(p < d <= e for p, e in windows)

    def counted(d: date) -> bool:
        return (not by_working_days or calendar.is_working_day(d)) and not paused_on_day(d)

    def count(a: date, b: date) -> int:  # counted days in (a, b]
        return sum(1 for k in range(1, (b - a).days + 1) if counted(a + timedelta(days=k)))

    due, n = started_on, 0
    while n < target:
        due += timedelta(days=1)
        n += counted(due)
    if not by_working_days and roll_forward:
        due = calendar.roll_forward(due)
    first = max(asof, started_on)
    left = count(first, due) if first <= due else -count(due, asof)
    paused_days = sum(1 for p, e in windows for k in range(1, (e - p).days + 1)
                      if not by_working_days or calendar.is_working_day(p + timedelta(days=k)))
    used = count(started_on, asof) if asof > started_on else 0
    uses_calendar = by_working_days or roll_forward
    return ClockStatus(
        started_on=started_on, due_on=due, limit=limit, unit=u, used=used, left=left,
        paused=is_open and stopped_on is None, paused_days=paused_days, stopped_on=stopped_on,
        overdue=asof > due and not is_open,
        provisional=uses_calendar and calendar.is_provisional(max(due, asof)))


def hour_clock_status(started_at: datetime, hours: int, now: datetime,
                      stopped_at: datetime | None = None) -> ClockStatus:
    """A clock in hours (e.g. 12 h cluster-AE reports): runs from ``started_at`` (民法典 第二百零一条 第二款),
    no pauses, no holidays. ``used`` is the whole hours elapsed (rounded down); ``started_on``, ``due_on``
    and ``stopped_on`` are Beijing dates."""
    for value, name in ((started_at, "started_at"), (now, "now"), (stopped_at, "stopped_at")):
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise ValidationFailed("'{name}' must be a date and time with a time zone.", field=name,
                                   params={"name": name})
    _check_count(hours, "limit", minimum=1)
    if stopped_at is not None and stopped_at < started_at:
        raise ValidationFailed("A clock cannot stop before it started.", field="stopped_at")
    due_at = started_at + timedelta(hours=hours)
    asof = min(now, stopped_at) if stopped_at is not None else now
    used = max(0, math.floor((asof - started_at).total_seconds() / 3600))
    return ClockStatus(
        started_on=to_shanghai(started_at).date(), due_on=to_shanghai(due_at).date(), limit=hours,
        unit=ClockUnit.HOURS, used=used, left=hours - used, paused=False, paused_days=0,
        stopped_on=to_shanghai(stopped_at).date() if stopped_at is not None else None,
        overdue=asof > due_at, due_at=due_at)
