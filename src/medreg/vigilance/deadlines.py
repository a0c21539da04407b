"""Statutory reporting clocks of adverse-event reports (pure: no database, no clock).

Source: 医疗器械不良事件监测和再评价管理办法, SAMR/NHC Order No. 1 (2018), in force 2019-01-01
("Order 1"; text in ``medreg/data/nmpa-law/adverse_event_rules.md``, limits in ``deadlines.csv``).

Units. Order 1 writes every limit as "N日" or "N小时" and, unlike SAMR Order 47 第九十九条 ("本办法规定的
时限以工作日计算"), has no article turning days into working days; it never says 工作日. So its days are
**calendar days**, hours are hours. Counting: the day of awareness is not counted, counting starts the
next day (民法典 第二百零一条, ``medreg.core.calendar``); hour limits run from the instant of awareness
(民法典 第二百零一条 第二款).

Holidays. Order 1 does not extend a period that ends on a holiday. We do NOT roll the due date to the
next working day (the national monitoring system takes reports every day, and a report made by the
unrolled date is on time under any reading). Whether 民法典 第二百零三条 (a period ending on a statutory
holiday ends the next day) reaches these reporting duties is not settled by the text, so each deadline
also carries ``rolled_due_on`` and each verdict says whether it would still be late with that rule.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from medreg.core.calendar import DEFAULT_CALENDAR, ClockUnit, add_calendar_days
from medreg.core.clock import SHANGHAI, to_shanghai
from medreg.core.errors import ValidationFailed
from medreg.core.i18n import _

ORDER1 = "Order 1"


class Outcome(enum.StrEnum):
    """The outcome the form asks for (Order 1 Art.25; 严重伤害 as defined in Art.4(三))."""

    DEATH = "death"
    SERIOUS_INJURY = "serious_injury"  # 严重伤害, or may lead to serious injury or death (Art.25)
    OTHER = "other"


class ReporterRole(enum.StrEnum):
    REGISTRANT = "registrant"  # 持有人 (Art.4(一))
    AGENT = "agent"  # 境外持有人指定的代理人 (Art.15, Art.27)
    DISTRIBUTOR = "distributor"  # 经营企业
    USING_ENTITY = "using_entity"  # 使用单位 (hospitals)
    OTHER = "other"  # 其他单位和个人: may report, no limit (Art.7, Art.26)


@dataclass(frozen=True)
class Duty:
    key: str
    limit: int
    unit: ClockUnit  # CALENDAR_DAYS or HOURS
    article: str
    description: str  # msgid


@dataclass(frozen=True)
class Deadline:
    duty: Duty
    starts_at: datetime  # the instant of awareness (or of the report, Art.29)
    due_on: date  # Beijing date; for hour limits the date of due_at
    due_at: datetime  # end of due_on in Beijing for day limits; starts_at + hours for hour limits
    rolled_due_on: date  # due_on moved past a rest day (民法典 第二百零三条), shown, not enforced


@dataclass(frozen=True)
class Timeliness:
    deadline: Deadline
    late: bool
    late_if_rolled: bool  # still late if 民法典 第二百零三条 were applied
    overdue_by: timedelta  # zero when on time


@dataclass(frozen=True)
class NoDuty:
    """Why no statutory clock runs for a report (msgid + article)."""

    reason: str
    article: str


# -- the duties, each with its article (deadlines.csv has the same rows; a test compares them) --------
DEATH_7 = Duty("report_death", 7, ClockUnit.CALENDAR_DAYS, f"{ORDER1} Art.25",
               _("Report a suspected adverse event that caused death"))
SERIOUS_20 = Duty("report_serious", 20, ClockUnit.CALENDAR_DAYS, f"{ORDER1} Art.25",
                  _("Report a suspected adverse event that caused or may cause serious injury or death"))
OVERSEAS_30 = Duty("report_overseas", 30, ClockUnit.CALENDAR_DAYS, f"{ORDER1} Art.27",
                   _("Report an overseas adverse event that caused or may cause serious injury or death"))
CLUSTER_NOTICE_12H = Duty("cluster_first_notice", 12, ClockUnit.HOURS, f"{ORDER1} Art.31",
                          _("Notify the provincial regulator and health authority of a cluster event and "
                            "report its basic information"))
CLUSTER_CASE_24H = Duty("cluster_case_report", 24, ClockUnit.HOURS, f"{ORDER1} Art.31",
                        _("Report each case of a cluster event as an individual report"))
CLUSTER_INFORM_HOLDER_12H = Duty("cluster_inform_registrant", 12, ClockUnit.HOURS, f"{ORDER1} Art.33",
                                 _("Inform the registrant of a cluster event"))
CLUSTER_INVESTIGATION_7 = Duty("cluster_investigation", 7, ClockUnit.CALENDAR_DAYS, f"{ORDER1} Art.32",
                               _("Report the cluster investigation and quality-system self-inspection"))
EVALUATION_DEATH_30 = Duty("evaluation_death", 30, ClockUnit.CALENDAR_DAYS, f"{ORDER1} Art.29",
                           _("Report the registrant's evaluation of an event that caused death"))
EVALUATION_SERIOUS_45 = Duty("evaluation_serious", 45, ClockUnit.CALENDAR_DAYS, f"{ORDER1} Art.29",
                             _("Report the registrant's evaluation of an event that caused or may cause "
                               "serious injury or death"))
CITY_REVIEW_10 = Duty("city_review", 10, ClockUnit.CALENDAR_DAYS, f"{ORDER1} Art.28",
                      _("Review the report's authenticity, completeness and accuracy"))
PROVINCE_EVALUATION_REVIEW_10 = Duty("province_evaluation_review", 10, ClockUnit.CALENDAR_DAYS,
                                     f"{ORDER1} Art.30", _("Review the registrant's evaluation"))

ALL_DUTIES = (DEATH_7, SERIOUS_20, OVERSEAS_30, CLUSTER_NOTICE_12H, CLUSTER_CASE_24H,
              CLUSTER_INFORM_HOLDER_12H, CLUSTER_INVESTIGATION_7, EVALUATION_DEATH_30, EVALUATION_SERIOUS_45,
              CITY_REVIEW_10, PROVINCE_EVALUATION_REVIEW_10)
_OBLIGED = (ReporterRole.REGISTRANT, ReporterRole.AGENT, ReporterRole.DISTRIBUTOR, ReporterRole.USING_ENTITY)


def _parse(enum_type, value, field: str):
    try:
        return enum_type(value)
    except ValueError:
        raise ValidationFailed("'{name}' must be one of: {allowed}.", field=field,
                               params={"name": field, "allowed": ", ".join(e.value for e in enum_type)},
                               ) from None


def reporting_duties(outcome: Outcome | str, role: ReporterRole | str, *, overseas: bool = False,
                     cluster: bool = False) -> list[Duty] | NoDuty:
    """The statutory reporting clocks a report of this kind starts, or why none runs."""
    outcome = _parse(Outcome, outcome, "outcome")
    role = _parse(ReporterRole, role, "reporter_role")
    if role is ReporterRole.OTHER:
        # Art.26: others "可以" report (may report); no time limit binds them.
        return NoDuty(_("Other units and individuals may report; no time limit applies."), f"{ORDER1} Art.26")
    if cluster:
        duties = [CLUSTER_NOTICE_12H, CLUSTER_CASE_24H]
        if role is ReporterRole.REGISTRANT:
            duties.append(CLUSTER_INVESTIGATION_7)  # Art.32
        elif role in (ReporterRole.DISTRIBUTOR, ReporterRole.USING_ENTITY):
            duties.append(CLUSTER_INFORM_HOLDER_12H)  # Art.33
        return duties
    if outcome is Outcome.OTHER:
        # Art.18: serious injury or death must be reported (and every event of an innovative device in its
        # first registration cycle), but Art.25 sets limits for death and serious injury only.
        return NoDuty(_("Order 1 sets no time limit for events without death or serious injury."),
                      f"{ORDER1} Art.18, Art.25")
    if overseas:
        if role not in (ReporterRole.REGISTRANT, ReporterRole.AGENT):
            return NoDuty(_("Overseas events are reported by the registrant or the overseas registrant's "
                            "agent."), f"{ORDER1} Art.27")
        return [OVERSEAS_30]
    return [DEATH_7 if outcome is Outcome.DEATH else SERIOUS_20]


def evaluation_duty(outcome: Outcome | str) -> Duty | NoDuty:
    """Art.29: the registrant's evaluation, counted from the report (or from learning of it)."""
    outcome = _parse(Outcome, outcome, "outcome")
    if outcome is Outcome.DEATH:
        return EVALUATION_DEATH_30
    if outcome is Outcome.SERIOUS_INJURY:
        return EVALUATION_SERIOUS_45
    return NoDuty(_("Order 1 sets no time limit for events without death or serious injury."),
                  f"{ORDER1} Art.29")


def _aware(value: datetime, field: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationFailed("'{name}' must be a date and time with a time zone.", field=field,
                               params={"name": field})
    return value


def deadline(duty: Duty, starts_at: datetime) -> Deadline:
    """When ``duty`` falls due, counted from ``starts_at`` (tz-aware)."""
    _aware(starts_at, "aware_at")
    if duty.unit is ClockUnit.HOURS:
        due_at = starts_at + timedelta(hours=duty.limit)
        day = to_shanghai(due_at).date()
        return Deadline(duty, starts_at, day, due_at, day)
    start_day = to_shanghai(starts_at).date()
    due_on = add_calendar_days(start_day, duty.limit)  # start day not counted (民法典 201)
    end_of_day = datetime.combine(due_on + timedelta(days=1), time.min, tzinfo=SHANGHAI)
    return Deadline(duty, starts_at, due_on, end_of_day, DEFAULT_CALENDAR.roll_forward(due_on))


def timeliness(dl: Deadline, submitted_at: datetime) -> Timeliness:
    """Was the duty met by ``submitted_at``? (Day limits: any time on the due day in Beijing.)"""
    _aware(submitted_at, "submitted_at")
    late = submitted_at >= dl.due_at if dl.duty.unit is not ClockUnit.HOURS else submitted_at > dl.due_at
    if dl.duty.unit is ClockUnit.HOURS:
        late_if_rolled = late
    else:
        late_if_rolled = to_shanghai(submitted_at).date() > dl.rolled_due_on
    overdue_by = submitted_at - dl.due_at if late else timedelta(0)
    return Timeliness(dl, late, late_if_rolled, overdue_by)


def overdue(dl: Deadline, now: datetime) -> bool:
    """An unmet duty is overdue once ``now`` is past its due instant."""
    _aware(now, "now")
    return now >= dl.due_at if dl.duty.unit is not ClockUnit.HOURS else now > dl.due_at


def days_late(t: Timeliness) -> int:
    """Whole calendar days after the due date (0 when on time; hour limits: started days)."""
    if not t.late:
        return 0
    return max(1, -(-int(t.overdue_by.total_seconds()) // 86400))
