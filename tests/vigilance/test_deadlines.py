"""Statutory reporting clocks of Order 1 (SAMR/NHC Order No. 1, 2018): which limit applies, calendar
days from the day after awareness, hour limits from the instant, late flags. Every due date below was
computed by hand (the comment shows the arithmetic)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from medreg.core.calendar import ClockUnit
from medreg.core.clock import SHANGHAI
from medreg.core.errors import ValidationFailed
from medreg.core.reference import time_limits
from medreg.vigilance import deadlines as d


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


# -- each limit in code equals its row in nmpa-law/deadlines.csv (article and unit) ----------------------
CSV_ROWS = [
    (d.DEATH_7, "25", "causing death"),
    (d.SERIOUS_20, "25", "causing serious injury"),
    (d.OVERSEAS_30, "27", "overseas AE"),
    (d.CITY_REVIEW_10, "28", "receipt of an AE report"),
    (d.EVALUATION_DEATH_30, "29", "(death)"),
    (d.EVALUATION_SERIOUS_45, "29", "(serious injury"),
    (d.PROVINCE_EVALUATION_REVIEW_10, "30", "holder evaluation"),
    (d.CLUSTER_NOTICE_12H, "31", "cluster AE"),
    (d.CLUSTER_INVESTIGATION_7, "32", "cluster AE of its product"),
    (d.CLUSTER_INFORM_HOLDER_12H, "33", "cluster AE"),
]


@pytest.mark.parametrize(("duty", "article", "trigger"), CSV_ROWS, ids=[r[0].key for r in CSV_ROWS])
def test_limit_equals_the_article_row(duty, article, trigger):
    rows = {(r.limit_value, r.limit_unit) for r in time_limits()
            if r.law.startswith("SAMR-NHC Order 1") and r.article == article and trigger in r.trigger}
    assert (duty.limit, duty.unit.value) in rows
    assert duty.article == f"Order 1 Art.{article}"


def test_cluster_case_24h_row():
    rows = [r for r in time_limits() if r.article == "31" and "individual" in r.duty]
    assert [(r.limit_value, r.limit_unit) for r in rows] == [(24, "hours")]


def test_order1_says_days_not_working_days():
    """The unit decision rests on the text: Order 1 never says 工作日 (Order 47 Art.99 does)."""
    from importlib.resources import files
    text = (files("medreg") / "data" / "nmpa-law" / "adverse_event_rules.md").read_text("utf-8")
    assert "工作日" not in text
    assert "导致死亡的应当在7日内报告；导致严重伤害、可能导致严重伤害或者死亡的应当在20日内报告" in text
    assert "自发现或者获知之日起30日内报告" in text
    assert "应当在12小时内" in text and "对每一事件还应当在24小时内按个例事件报告" in text
    assert all(duty.unit in (ClockUnit.CALENDAR_DAYS, ClockUnit.HOURS) for duty in d.ALL_DUTIES)


# -- which duties apply ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("outcome", "role", "overseas", "cluster", "keys"), [
    ("death", "registrant", False, False, ["report_death"]),
    ("death", "using_entity", False, False, ["report_death"]),  # Art.25 second para
    ("serious_injury", "distributor", False, False, ["report_serious"]),
    ("death", "agent", True, False, ["report_overseas"]),  # Art.27 replaces 7/20 days abroad
    ("serious_injury", "registrant", True, False, ["report_overseas"]),
    ("serious_injury", "registrant", False, True,
     ["cluster_first_notice", "cluster_case_report", "cluster_investigation"]),  # Art.31, 32
    ("other", "using_entity", False, True,
     ["cluster_first_notice", "cluster_case_report", "cluster_inform_registrant"]),  # Art.31, 33
])
def test_duties(outcome, role, overseas, cluster, keys):
    duties = d.reporting_duties(outcome, role, overseas=overseas, cluster=cluster)
    assert [x.key for x in duties] == keys


@pytest.mark.parametrize(("outcome", "role", "overseas", "article"), [
    ("other", "registrant", False, "Order 1 Art.18, Art.25"),
    ("death", "other", False, "Order 1 Art.26"),
    ("death", "using_entity", True, "Order 1 Art.27"),
])
def test_no_duty_says_why(outcome, role, overseas, article):
    out = d.reporting_duties(outcome, role, overseas=overseas)
    assert isinstance(out, d.NoDuty) and out.article == article


def test_bad_enum_is_a_field_error():
    with pytest.raises(ValidationFailed) as e:
        d.reporting_duties("fatal", "registrant")
    assert e.value.field == "outcome"
    with pytest.raises(ValidationFailed) as e:
        d.reporting_duties("death", "patient")
    assert e.value.field == "reporter_role"


# -- due dates (hand computed) --------------------------------------------------------------------------
def test_death_7_calendar_days_from_the_day_after_awareness():
    dl = d.deadline(d.DEATH_7, bj(2025, 3, 3, 10, 0))  # Mon 3 Mar + 7 days = Mon 10 Mar
    assert dl.due_on == date(2025, 3, 10)
    assert dl.due_at == bj(2025, 3, 11, 0, 0)
    assert not d.timeliness(dl, bj(2025, 3, 10, 23, 59)).late
    late = d.timeliness(dl, bj(2025, 3, 11, 0, 0))
    assert late.late and late.late_if_rolled and d.days_late(late) == 1
    assert d.days_late(d.timeliness(dl, bj(2025, 3, 13, 9, 0))) == 3


def test_awareness_day_is_the_beijing_day():
    # 2025-03-02 20:00 UTC is 2025-03-03 04:00 in Beijing: the clock starts on 3 Mar, due 10 Mar.
    dl = d.deadline(d.DEATH_7, datetime(2025, 3, 2, 20, 0, tzinfo=UTC))
    assert dl.due_on == date(2025, 3, 10)


def test_serious_20_days_across_february_and_a_weekend():
    # 20 Jan 2025 + 20 days: 11 days to 31 Jan, 9 more = Sun 9 Feb 2025 (a rest day).
    dl = d.deadline(d.SERIOUS_20, bj(2025, 1, 20, 15, 30))
    assert dl.due_on == date(2025, 2, 9)
    assert dl.rolled_due_on == date(2025, 2, 10)  # Mon 10 Feb, shown only
    t = d.timeliness(dl, bj(2025, 2, 10, 9, 0))
    assert t.late and not t.late_if_rolled


def test_leap_year():
    # 20 Feb 2024 + 20 days: 9 days to 29 Feb, 11 more = 11 Mar 2024.
    assert d.deadline(d.SERIOUS_20, bj(2024, 2, 20, 8, 0)).due_on == date(2024, 3, 11)


def test_days_run_through_national_day_without_extension():
    # 24 Sep 2025 + 7 = Wed 1 Oct 2025 (National Day); 2025 break 1-8 Oct, 9 Oct is a working day.
    dl = d.deadline(d.DEATH_7, bj(2025, 9, 24, 11, 0))
    assert dl.due_on == date(2025, 10, 1)
    assert dl.rolled_due_on == date(2025, 10, 9)


def test_overseas_30_days():
    # 15 Dec 2025 + 30 days: 16 days to 31 Dec, 14 more = 14 Jan 2026.
    assert d.deadline(d.OVERSEAS_30, bj(2025, 12, 15, 9, 0)).due_on == date(2026, 1, 14)


def test_cluster_hours_run_from_the_instant():
    aware = bj(2025, 5, 1, 8, 0)  # a holiday: hours do not care
    notice = d.deadline(d.CLUSTER_NOTICE_12H, aware)
    case = d.deadline(d.CLUSTER_CASE_24H, aware)
    assert notice.due_at == bj(2025, 5, 1, 20, 0) and case.due_at == bj(2025, 5, 2, 8, 0)
    assert not d.timeliness(notice, bj(2025, 5, 1, 20, 0)).late
    late = d.timeliness(notice, bj(2025, 5, 1, 20, 0, 1))
    assert late.late and late.late_if_rolled and late.overdue_by == timedelta(seconds=1)
    assert d.days_late(late) == 1
    assert d.overdue(case, bj(2025, 5, 2, 8, 1)) and not d.overdue(case, bj(2025, 5, 2, 7, 59))


def test_registrant_evaluation_art29():
    reported = bj(2025, 3, 10, 16, 0)
    # 10 Mar + 30 = 9 Apr; 10 Mar + 45 = 24 Apr 2025.
    assert d.deadline(d.evaluation_duty("death"), reported).due_on == date(2025, 4, 9)
    assert d.deadline(d.evaluation_duty("serious_injury"), reported).due_on == date(2025, 4, 24)
    assert isinstance(d.evaluation_duty("other"), d.NoDuty)


def test_naive_times_are_refused():
    with pytest.raises(ValidationFailed) as e:
        d.deadline(d.DEATH_7, datetime(2025, 3, 3, 10, 0))
    assert e.value.field == "aware_at"
    dl = d.deadline(d.DEATH_7, bj(2025, 3, 3, 10, 0))
    with pytest.raises(ValidationFailed) as e:
        d.timeliness(dl, datetime(2025, 3, 4))
    assert e.value.field == "submitted_at"
