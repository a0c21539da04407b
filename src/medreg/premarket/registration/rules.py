"""Pure rules of registration: validity, renewal window, statutory time limits, conditional
approval, acceptance numbers. No database, no clock (``today`` is passed in). Who decides and the
certificate number format (Order 47 Art.8, Art.115) are in ``numbers``.

Order 47 = SAMR Order 47 (2021); 739 = State Council Decree 739; No.83 = NMPA 2018 No.83.
All Order 47 time limits are working days (Order 47 Art.99).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

from medreg.core.calendar import add_months, add_working_days, add_years
from medreg.core.errors import ValidationFailed


class Kind(enum.StrEnum):
    INITIAL = "initial"  # 首次注册 (Order 47 Art.52)
    CHANGE = "change"  # 变更注册 (Order 47 Art.79-81)
    RENEWAL = "renewal"  # 延续注册 (Order 47 Art.82-84)


class DeviceClass(enum.StrEnum):
    II = "II"
    III = "III"


class Origin(enum.StrEnum):
    DOMESTIC = "domestic"  # 境内 -> 准
    IMPORTED = "imported"  # 进口 -> 进
    HK_MACAO_TAIWAN = "hk_macao_taiwan"  # 香港、澳门、台湾 -> 许 (Order 47 Art.115, Art.123)


class ConditionalGround(enum.StrEnum):
    """Order 47 Art.61 / 739 Art.19: who may get a conditional approval (附条件批准)."""

    RARE_DISEASE = "rare_disease"  # 治疗罕见疾病
    LIFE_THREATENING = "life_threatening"  # 严重危及生命且尚无有效治疗手段的疾病
    PUBLIC_HEALTH_EMERGENCY = "public_health_emergency"  # 应对公共卫生事件等急需


class ConsultationTopic(enum.StrEnum):
    """No.83 Art.18 (and CMDE 2025 No.7 Art.30(5) for the supplement-notice topic)."""

    MAJOR_TECHNICAL = "major_technical"  # (一) 重大技术问题
    MAJOR_SAFETY = "major_safety"  # (二) 重大安全性问题
    CLINICAL_TRIAL_PROTOCOL = "clinical_trial_protocol"  # (三) 临床试验方案
    INTERIM_CLINICAL_RESULTS = "interim_clinical_results"  # (四) 阶段性临床试验结果的总结与评价
    SUPPLEMENT_NOTICE = "supplement_notice"  # CMDE Art.30(5) 补正资料通知内容专题沟通交流
    OTHER = "other"  # (五) 其他需要沟通交流的重要问题


# ---- statutory limits (value, unit, legal basis) -------------------------------------------------
@dataclass(frozen=True)
class Limit:
    value: int
    unit: str  # a medreg.core.calendar.ClockUnit value
    basis: str


ACCEPTANCE = Limit(5, "working_days", "Order 47 Art.53(3), Art.99")
FORWARDING = Limit(3, "working_days", "Order 47 Art.91; 739 Art.17")
SUPPLEMENT_PERIOD = Limit(1, "years", "Order 47 Art.54")
OBJECTION_PERIOD = Limit(15, "working_days", "Order 47 Art.57 (15日; working days assumed, Art.99)")
DECISION = Limit(20, "working_days", "Order 47 Art.94; 739 Art.18")
CERTIFICATE_ISSUE = Limit(10, "working_days", "Order 47 Art.95")
VALIDITY_YEARS = 5  # Order 47 Art.58 second para; 739 Art.22
RENEWAL_LEAD_MONTHS = 6  # Order 47 Art.82; 739 Art.22: apply at least 6 months before expiry
# No.83 Art.19 and CMDE 2025 No.7 Art.31 only say 及时 (promptly): NO statutory limit exists.
# medreg service target, NOT a legal time limit: answer or schedule within 20 working days.
CONSULTATION_SERVICE_TARGET = Limit(
    20, "working_days", "medreg service target (not statutory): No.83 Art.19 says 及时"
)


def review_limit(device_class: str, *, after_supplement: bool = False) -> Limit:
    """Order 47 Art.92: Class III 90 WD (60 after supplements), Class II 60 WD (60 after supplements).

    The same limits apply to initial, change and renewal applications (Art.92(2)-(3))."""
    cls = parse_class(device_class)
    if after_supplement:
        item = "(3)" if cls is DeviceClass.III else "(2)"
        return Limit(60, "working_days", f"Order 47 Art.92{item} (after supplements), Art.99")
    if cls is DeviceClass.III:
        return Limit(90, "working_days", "Order 47 Art.92(3), Art.99")
    return Limit(60, "working_days", "Order 47 Art.92(2), Art.99")


def parse_class(value: object, field: str = "device_class") -> DeviceClass:
    try:
        return DeviceClass(value)
    except ValueError:
        raise ValidationFailed(
            "'{name}' must be II or III (Class I is filed, not registered: Order 47 Art.8).",
            field=field,
            params={"name": field},
        ) from None


# ---- catalogue product category --------------------------------------------------------------------
def check_category(subcatalogue_code: str | None, category1_code: str | None, category2_code: str | None,
                   *, prefix: str = "") -> None:
    """The product category of the 医疗器械分类目录 an application is classified under (Order 47 Art.20):
    the 一级 category ``NN-NN`` lies in the sub-catalogue (its first two digits), the 二级 ``NN-NN-NN``
    in the 一级 one. Both are optional (Order 47 Art.64: a new device not yet in the catalogue), but a
    二级 category needs its 一级. ``prefix`` names the fields in a change (``changes.``). The formats are
    the schema's; whether the codes exist is asked of the catalogue by the service."""
    f1, f2 = prefix + "category1_code", prefix + "category2_code"
    if category2_code and not category1_code:
        raise ValidationFailed("A 二级 product category needs the 一级 category it belongs to ('{name}').",
                               field=f1, params={"name": "category1_code"})
    if category1_code and category1_code[:2] != subcatalogue_code:
        raise ValidationFailed(
            "The 一级 product category {code} is not in sub-catalogue {sub} (its first two digits).",
            field=f1, params={"code": category1_code, "sub": subcatalogue_code or "-"})
    if category2_code and not category2_code.startswith(f"{category1_code}-"):
        raise ValidationFailed("The 二级 product category {code} is not under the 一级 category {parent}.",
                               field=f2, params={"code": category2_code, "parent": category1_code})


# ---- validity and renewal --------------------------------------------------------------------------
def validity(start: date, *, years: int = VALIDITY_YEARS) -> tuple[date, date]:
    """(valid_from, valid_until): 5 years (Order 47 Art.58; 739 Art.22). The period counts from the start
    day, so it ends the day before the corresponding day (e.g. 2021-03-15 -> 2026-03-14)."""
    return start, add_years(start, years) - timedelta(days=1)


def renewal_deadline(valid_until: date) -> date:
    """The last day to apply for renewal: 6 months before expiry (Order 47 Art.82; 739 Art.22)."""
    return add_months(valid_until, -RENEWAL_LEAD_MONTHS)


def renewal_applied_in_time(valid_until: date, applied_on: date) -> bool:
    return applied_on <= renewal_deadline(valid_until)


def renewed_validity(old_valid_until: date, approved_on: date) -> tuple[date, date]:
    """Order 47 Art.84: approved within the old validity -> starts the day after the old expiry;
    approved later -> starts on the approval day."""
    start = old_valid_until + timedelta(days=1) if approved_on <= old_valid_until else approved_on
    return validity(start)


def renewal_deemed_granted(*, valid_until: date, applied_on: date, decided: bool, today: date) -> bool:
    """Order 47 Art.82 second para / 739 Art.22: an application made in time and not decided before
    expiry is deemed granted once the certificate has expired."""
    return renewal_applied_in_time(valid_until, applied_on) and not decided and today > valid_until


def renewal_refusal_grounds(
    *, valid_until: date, applied_on: date, open_conditions: int, new_standard_unmet: bool = False
) -> list[str]:
    """Order 47 Art.83 / 739 Art.22 third para: why a renewal must be refused (empty: none)."""
    out = []
    if not renewal_applied_in_time(valid_until, applied_on):
        out.append("Order 47 Art.83(1): renewal not applied for 6 months before expiry")
    if new_standard_unmet:
        out.append("Order 47 Art.83(2): the device does not meet a new mandatory standard")
    if open_conditions:
        out.append("Order 47 Art.83(3): conditions of the conditional approval not completed in time")
    return out


# ---- acceptance and supplements --------------------------------------------------------------------
def acceptance_due(received_on: date) -> date:
    """Order 47 Art.53(3): corrections must be notified within 5 working days of receipt."""
    return add_working_days(received_on, ACCEPTANCE.value)


def deemed_accepted(received_on: date, today: date) -> bool:
    """Order 47 Art.53(3): no correction notice within 5 WD -> accepted from the day of receipt."""
    return today > acceptance_due(received_on)


def supplement_due(notice_on: date) -> date:
    """Order 47 Art.54: supplements within 1 year of receiving the notice."""
    return add_years(notice_on, SUPPLEMENT_PERIOD.value)


def objection_due(notice_on: date) -> date:
    """Order 47 Art.57: objection within 15 (working, Art.99) days of the notice."""
    return add_working_days(notice_on, OBJECTION_PERIOD.value)


# ---- conditional approval ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Condition:
    description: str
    due_on: date


def check_conditions(
    ground: object, conditions: list[Condition], *, decided_on: date, valid_until: date
) -> ConditionalGround:
    """Order 47 Art.61: a conditional approval needs a ground and states the post-market studies and
    their deadlines on the certificate; each deadline falls after the decision, within the validity."""
    try:
        g = ConditionalGround(ground)
    except ValueError:
        raise ValidationFailed(
            "'conditional_ground' must be one of: {allowed} (Order 47 Art.61).",
            field="conditional_ground",
            params={"allowed": ", ".join(x.value for x in ConditionalGround)},
        ) from None
    if not conditions:
        raise ValidationFailed(
            "A conditional approval must state the studies to complete and their "
            "deadlines (Order 47 Art.61).",
            field="conditions",
        )
    for i, c in enumerate(conditions):
        if not c.description.strip():
            raise ValidationFailed(
                "Each condition needs a description.", field=f"conditions[{i}].description"
            )
        if not decided_on < c.due_on <= valid_until:
            raise ValidationFailed(
                "The deadline of a condition must fall after the decision and within the "
                "certificate's validity (until {until}).",
                field=f"conditions[{i}].due_on",
                params={"until": valid_until.isoformat()},
            )
    return g


def obligation_is_late(due_on: date, fulfilled_on: date | None, today: date) -> bool:
    """Order 47 Art.62-63: a study not completed by its deadline is late."""
    return (fulfilled_on is None and today > due_on) or (fulfilled_on is not None and fulfilled_on > due_on)


# ---- acceptance numbers (not set by Order 47) --------------------------------------------------------
_KIND_LETTER = {Kind.INITIAL: "Z", Kind.CHANGE: "B", Kind.RENEWAL: "Y"}


def acceptance_number(*, kind: str, origin: str, year: int, serial: int) -> str:
    """受理号 in the style of NMPA notices (e.g. CQZ2100123): C domestic / J imported, Q 器械,
    Z registration / B change / Y renewal, 2-digit year, 5-digit serial. A medreg convention:
    Order 47 Art.53 requires an acceptance notice but sets no number format."""
    first = "C" if Origin(origin) is Origin.DOMESTIC else "J"
    return f"{first}Q{_KIND_LETTER[Kind(kind)]}{year % 100:02d}{serial:05d}"
