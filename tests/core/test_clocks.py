"""Statutory clocks: the pure arithmetic (clock_status) and the tables + service (db fixture)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError

from medreg.core import clocks
from medreg.core.calendar import (
    DEFAULT_CALENDAR,
    ClockUnit,
    add_working_days,
    clock_status,
    hour_clock_status,
    working_days_between,
)
from medreg.core.errors import InvalidTransition, ValidationFailed

D = date

# ----------------------------------------------------------------------------- pure arithmetic


def test_worked_example_of_docs_pause_across_national_day():
    # 20 working days from Mon 2025-09-22; supplement notice Fri 09-26, supplements arrive Mon 10-13.
    # Counted: 23, 24, 25, 26 (pause day counts) = 4. Not counted (09-26, 10-13]: working days
    # Sep 28 (Sun, 调休), 29, 30, Oct 9, 10, 11 (Sat, 调休), 13 = 7 paused working days.
    # From Oct 14: 14..17 (8), 20..24 (13), 27..31 (18), Nov 3 (19), Nov 4 (20).
    pauses = [(D(2025, 9, 26), D(2025, 10, 13))]
    s = clock_status(D(2025, 9, 22), 20, "working_days", pauses, today=D(2025, 10, 20))
    assert (s.due_on, s.used, s.left, s.paused_days, s.paused, s.overdue) == (D(2025, 11, 4), 9, 11, 7,
                                                                               False, False)
    # Without the pause the due date is Oct 24; the pause adds exactly its 7 working days.
    assert clock_status(D(2025, 9, 22), 20, "working_days", [], D(2025, 10, 20)).due_on == D(2025, 10, 24)
    assert add_working_days(D(2025, 10, 24), 7) == D(2025, 11, 4)


def test_while_paused_due_date_is_if_resumed_today():
    pauses = [(D(2025, 9, 26), None)]
    s = clock_status(D(2025, 9, 22), 20, "working_days", pauses, today=D(2025, 10, 9))
    # paused (09-26, 10-09]: Sep 28, 29, 30, Oct 9 = 4; 16 left from Oct 9: Oct 10 .. Oct 30
    assert (s.paused, s.paused_days, s.used, s.left, s.due_on) == (True, 4, 4, 16, D(2025, 10, 30))
    # a resumption recorded after `today` is ignored: same answer
    later = [(D(2025, 9, 26), D(2025, 10, 13))]
    assert clock_status(D(2025, 9, 22), 20, "working_days", later, today=D(2025, 10, 9)) == s


def test_overdue_and_stopped():
    start = D(2025, 3, 3)  # Mon; 5 working days -> Mon Mar 10
    s = clock_status(start, 5, ClockUnit.WORKING_DAYS, [], today=D(2025, 3, 12))
    assert (s.due_on, s.used, s.left, s.overdue) == (D(2025, 3, 10), 7, -2, True)
    on_time = clock_status(start, 5, "working_days", [], today=D(2025, 6, 1), stopped_on=D(2025, 3, 7))
    assert (on_time.used, on_time.left, on_time.overdue, on_time.stopped_on) == (4, 1, False, D(2025, 3, 7))
    late = clock_status(start, 5, "working_days", [], today=D(2025, 6, 1), stopped_on=D(2025, 3, 11))
    assert (late.used, late.left, late.overdue) == (6, -1, True)
    on_due = clock_status(start, 5, "working_days", [], today=D(2025, 3, 10))
    assert (on_due.used, on_due.left, on_due.overdue) == (5, 0, False)
    before = clock_status(start, 5, "working_days", [], today=D(2025, 3, 1))
    assert (before.used, before.left, before.overdue) == (0, 5, False)


def test_pause_on_the_due_date_is_not_overdue_while_paused():
    s = clock_status(D(2025, 3, 3), 5, "working_days", [(D(2025, 3, 10), None)], today=D(2025, 3, 20))
    assert s.paused and not s.overdue and s.due_on == D(2025, 3, 10)
    resumed = clock_status(D(2025, 3, 3), 5, "working_days", [(D(2025, 3, 10), D(2025, 3, 20))],
                           today=D(2025, 3, 21))
    assert resumed.overdue and resumed.left == -1


@pytest.mark.parametrize("start, limit, unit, roll, expected", [
    (D(2025, 3, 3), 7, "calendar_days", True, D(2025, 3, 10)),
    # 7 days from Sep 24 end on Oct 1 (National Day): 民法典 第二百零三条 moves it to Oct 9
    (D(2025, 9, 24), 7, "calendar_days", True, D(2025, 10, 9)),
    (D(2025, 9, 24), 7, "calendar_days", False, D(2025, 10, 1)),
    (D(2025, 3, 1), 7, "calendar_days", True, D(2025, 3, 10)),  # Sat Mar 8 -> Mon Mar 10
    (D(2024, 1, 31), 1, "months", True, D(2024, 2, 29)),
    (D(2025, 1, 31), 6, "months", True, D(2025, 7, 31)),
    (D(2020, 2, 29), 5, "years", True, D(2025, 2, 28)),
    (D(2024, 9, 7), 1, "years", True, D(2025, 9, 8)),  # Sun Sep 7 -> Mon Sep 8
    (D(2024, 9, 7), 1, "years", False, D(2025, 9, 7)),
])
def test_calendar_units(start, limit, unit, roll, expected):
    assert clock_status(start, limit, unit, [], today=start, roll_forward=roll).due_on == expected


def test_months_with_a_pause_extend_day_for_day():
    # 1 month from Jan 10 -> Feb 10; paused (Jan 20, Jan 25] = 5 days -> Sat Feb 15 -> Mon Feb 17
    s = clock_status(D(2025, 1, 10), 1, "months", [(D(2025, 1, 20), D(2025, 1, 25))], today=D(2025, 2, 1))
    assert (s.due_on, s.paused_days, s.used, s.unit) == (D(2025, 2, 17), 5, 17, ClockUnit.MONTHS)
    assert s.left == (s.due_on - D(2025, 2, 1)).days


def test_hour_clock():
    start = datetime(2025, 10, 1, 2, 0, tzinfo=UTC)  # 10:00 Beijing; 12 h cluster-AE report
    s = hour_clock_status(start, 12, now=start + timedelta(hours=11, minutes=59))
    assert (s.used, s.left, s.overdue, s.due_at, s.started_on) == (11, 1, False, start + timedelta(hours=12),
                                                                   D(2025, 10, 1))
    assert hour_clock_status(start, 12, now=start + timedelta(hours=12, minutes=1)).overdue
    stopped = hour_clock_status(start, 12, now=start + timedelta(days=3),
                                stopped_at=start + timedelta(hours=5))
    assert (stopped.used, stopped.overdue) == (5, False)
    late_evening = datetime(2025, 10, 1, 15, 0, tzinfo=UTC)  # 23:00 Beijing -> due the next day
    assert hour_clock_status(late_evening, 12, now=late_evening).due_on == D(2025, 10, 2)
    with pytest.raises(ValidationFailed) as err:
        hour_clock_status(datetime(2025, 10, 1, 2), 12, now=start)
    assert err.value.field == "started_at"


@pytest.mark.parametrize("kwargs, field", [
    ({"pauses": [(D(2025, 3, 1), D(2025, 3, 4))]}, "pauses"),  # before the start
    ({"pauses": [(D(2025, 3, 5), D(2025, 3, 4))]}, "pauses"),  # resumed before paused
    ({"pauses": [(D(2025, 3, 5), None), (D(2025, 3, 7), None)]}, "pauses"),  # two open
    ({"pauses": [(D(2025, 3, 5), D(2025, 3, 10)), (D(2025, 3, 7), D(2025, 3, 12))]}, "pauses"),  # overlap
    ({"limit": 0}, "limit"),
    ({"unit": "weeks"}, "unit"),
    ({"unit": "hours"}, "unit"),
    ({"stopped_on": D(2025, 3, 2)}, "stopped_on"),
    ({"today": "2025-03-04"}, "today"),
])
def test_clock_status_rejects_bad_input(kwargs, field):
    args = {"started_on": D(2025, 3, 3), "limit": 5, "unit": "working_days", "pauses": [],
            "today": D(2025, 3, 4), **kwargs}
    with pytest.raises(ValidationFailed) as err:
        clock_status(**args)
    assert err.value.field == field


def test_provisional_after_the_last_published_year():
    last = DEFAULT_CALENDAR.published_through
    s = clock_status(D(last, 12, 1), 60, "working_days", [], today=D(last, 12, 1))
    assert s.due_on.year == last + 1 and s.provisional
    assert not clock_status(D(last, 3, 2), 5, "working_days", [], today=D(last, 3, 2)).provisional


@given(st.dates(min_value=D(2024, 1, 1), max_value=D(2026, 3, 31)), st.integers(1, 90),
       st.integers(0, 60), st.integers(0, 40))
def test_pause_moves_due_by_paused_working_days(start, limit, offset, length):
    paused_on = start + timedelta(days=offset)
    pauses = [(paused_on, paused_on + timedelta(days=length))]
    today = paused_on + timedelta(days=length)
    s = clock_status(start, limit, "working_days", pauses, today=today)
    plain_due = add_working_days(start, limit)
    if paused_on < plain_due:  # a pause that begins before the due date moves it
        assert s.paused_days == working_days_between(paused_on, paused_on + timedelta(days=length))
        assert s.due_on == add_working_days(start, limit + s.paused_days)
    else:
        assert s.due_on == plain_due
    if today <= s.due_on:
        assert s.used + s.left == limit


# ----------------------------------------------------------------------------- tables and service

BASIS = "NMPA 2018 No.83 Art.9"


def _start(db, subject_id="A-1", name="innovation.review", limit=60, unit="working_days",
           started_on=D(2025, 9, 22), **kw):
    return clocks.start_clock(db, subject_type="innovation_application", subject_id=subject_id, name=name,
                              limit_value=limit, limit_unit=unit, legal_basis=BASIS, started_on=started_on,
                              **kw)


def test_start_pause_resume_stop_round_trip(db):
    clock = _start(db, limit=20)
    assert clock.id and clock.is_running and clock.unit is ClockUnit.WORKING_DAYS
    clocks.pause_clock(db, clock, D(2025, 9, 26), "补正通知 (supplement notice)")
    assert clocks.status(clock, D(2025, 10, 9)).paused
    clocks.resume_clock(db, clock, D(2025, 10, 13))
    db.expire_all()
    again = clocks.running_clock(db, "innovation_application", "A-1", "innovation.review")
    assert again is not None and again.id == clock.id
    assert [(p.paused_on, p.resumed_on) for p in again.pauses] == [(D(2025, 9, 26), D(2025, 10, 13))]
    assert clocks.status(again, D(2025, 10, 20)).due_on == D(2025, 11, 4)  # the docs' worked example
    clocks.stop_clock(db, again, D(2025, 10, 31))
    db.expire_all()
    done = clocks.clocks_for(db, "innovation_application", "A-1")[0]
    assert done.stopped_on == D(2025, 10, 31)
    s = clocks.status(done, D(2026, 1, 1))
    assert (s.stopped_on, s.overdue, s.left) == (D(2025, 10, 31), False, 2)
    assert clocks.running_clock(db, "innovation_application", "A-1", "innovation.review") is None


def test_invalid_transitions(db):
    clock = _start(db)
    with pytest.raises(InvalidTransition):
        clocks.resume_clock(db, clock, D(2025, 9, 30))  # not paused
    clocks.pause_clock(db, clock, D(2025, 9, 25), "supplement")
    with pytest.raises(InvalidTransition):
        clocks.pause_clock(db, clock, D(2025, 9, 26), "again")
    with pytest.raises(ValidationFailed) as err:
        clocks.resume_clock(db, clock, D(2025, 9, 24))
    assert err.value.field == "on"
    clocks.resume_clock(db, clock, D(2025, 10, 9))
    with pytest.raises(ValidationFailed) as err:
        clocks.pause_clock(db, clock, D(2025, 10, 8), "before the last resumption")
    assert err.value.field == "on"
    clocks.stop_clock(db, clock, D(2025, 10, 10))
    for call in (lambda: clocks.stop_clock(db, clock, D(2025, 10, 11)),
                 lambda: clocks.pause_clock(db, clock, D(2025, 10, 11), "x"),
                 lambda: clocks.resume_clock(db, clock, D(2025, 10, 11))):
        with pytest.raises(InvalidTransition):
            call()


def test_one_running_clock_per_subject_and_name(db):
    first = _start(db, subject_id=7)
    assert first.subject_id == "7"
    with pytest.raises(InvalidTransition):
        _start(db, subject_id="7")
    _start(db, subject_id="7", name="innovation.formal_check", limit=5)  # another name is fine
    clocks.stop_clock(db, first, D(2025, 10, 1))
    second = _start(db, subject_id=7, started_on=D(2025, 10, 9))  # restart after stopping
    assert [c.id for c in clocks.clocks_for(db, "innovation_application", 7)][-1] == second.id
    assert len(clocks.clocks_for(db, "innovation_application", "7")) == 3


def test_database_refuses_a_second_running_clock(db):
    _start(db, subject_id="dup")
    row = clocks.StatutoryClock(subject_type="innovation_application", subject_id="dup",
                                name="innovation.review", limit_value=1, limit_unit="working_days",
                                legal_basis=BASIS, started_on=D(2025, 9, 22))
    nested = db.begin_nested()
    db.add(row)
    with pytest.raises(IntegrityError):
        db.flush()
    nested.rollback()


def test_stop_while_paused_keeps_the_pause_open(db):
    clock = _start(db, limit=5, started_on=D(2025, 3, 3))
    clocks.pause_clock(db, clock, D(2025, 3, 10), "supplement")  # on the due date
    clocks.stop_clock(db, clock, D(2026, 3, 10))  # applicant never supplied: procedure ends
    s = clocks.status(clock, D(2026, 6, 1))
    assert clock.open_pause is not None and not s.paused and not s.overdue


@pytest.mark.parametrize("kwargs, field", [
    ({"legal_basis": ""}, "legal_basis"),
    ({"limit_value": 0}, "limit_value"),
    ({"limit_value": "5"}, "limit_value"),
    ({"limit_value": 100, "limit_unit": "years"}, "limit_value"),  # due after 2100
    ({"limit_unit": "weeks"}, "limit_unit"),
    ({"name": "x" * 65}, "name"),
    ({"subject_id": None}, "subject_id"),
    ({"started_on": None}, "started_on"),
    ({"started_on": datetime(2025, 3, 3, tzinfo=UTC)}, "started_on"),
    ({"started_on": D(1999, 3, 3)}, "started_on"),
    ({"limit_unit": "hours", "started_on": D(2025, 3, 3)}, "started_at"),
    ({"started_on": None, "started_at": datetime(2025, 3, 3, 9)}, "started_at"),
])
def test_start_clock_validation(db, kwargs, field):
    args = {"subject_type": "innovation_application", "subject_id": "V-1", "name": "n", "limit_value": 5,
            "limit_unit": "working_days", "legal_basis": BASIS, "started_on": D(2025, 3, 3), **kwargs}
    with pytest.raises(ValidationFailed) as err:
        clocks.start_clock(db, **args)
    assert err.value.field == field


def test_hour_clock_service(db):
    at = datetime(2025, 10, 1, 2, 0, tzinfo=UTC)
    clock = clocks.start_clock(db, subject_type="ae_cluster", subject_id="C-1",
                               name="vigilance.cluster_phone", limit_value=12, limit_unit="hours",
                               legal_basis="SAMR-NHC Order 1 Art.31", started_at=at)
    db.expire_all()
    assert clock.started_on == D(2025, 10, 1) and clock.started_at == at
    assert not clocks.status(clock, D(2025, 10, 1), now=at + timedelta(hours=3)).overdue
    assert clocks.status(clock, D(2025, 10, 1), now=at + timedelta(hours=13)).overdue
    with pytest.raises(ValidationFailed):
        clocks.pause_clock(db, clock, D(2025, 10, 1), "no pauses in hours")
    with pytest.raises(ValidationFailed) as err:
        clocks.stop_clock(db, clock, D(2025, 10, 1))
    assert err.value.field == "at"
    clocks.stop_clock(db, clock, at=at + timedelta(hours=4))
    s = clocks.status(clock, D(2025, 10, 9), now=at + timedelta(days=8))
    assert (s.used, s.overdue, s.stopped_on) == (4, False, D(2025, 10, 1))


def test_overdue_lists_running_late_clocks_only(db):
    t = "overdue_test"

    def start(sid, limit, on=D(2025, 3, 3)):
        return clocks.start_clock(db, subject_type=t, subject_id=sid, name="review", limit_value=limit,
                                  limit_unit="working_days", legal_basis=BASIS, started_on=on)

    late_a = start("late-a", 5)                     # due Mar 10
    late_b = start("late-b", 2)                     # due Mar 5
    start("on-time", 30)                            # due in April
    stopped = start("stopped-late", 1)
    clocks.stop_clock(db, stopped, D(2025, 3, 12))
    paused = start("paused", 3)
    clocks.pause_clock(db, paused, D(2025, 3, 4), "supplement")
    found = clocks.overdue(db, D(2025, 3, 14), subject_type=t)
    assert [c.id for c, _ in found] == [late_b.id, late_a.id]
    assert [s.due_on for _, s in found] == [D(2025, 3, 5), D(2025, 3, 10)]
    assert all(s.overdue and s.left < 0 for _, s in found)
    assert clocks.overdue(db, D(2025, 3, 5), subject_type=t) == []
