"""Pure rules of registration: certificate numbers, validity, renewal window, statutory time limits,
competent authority, conditional approval. No database, no clock (``today`` is passed in).

Order 47 = SAMR Order 47 (2021); 739 = State Council Decree 739; No.83 = NMPA 2018 No.83.
All Order 47 time limits are working days (Order 47 Art.99).
"""

from __future__ import annotations

import enum
import re
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


# ---- who decides ----------------------------------------------------------------------------------
HK_MACAO_TAIWAN = frozenset({"HK", "MO", "TW"})


def origin_of(country: str) -> Origin:
    """Order 47 Art.115 (准/进/许) and Art.123 (HK, Macao, Taiwan handled like imports)."""
    c = (country or "").upper()
    if c == "CN":
        return Origin.DOMESTIC
    return Origin.HK_MACAO_TAIWAN if c in HK_MACAO_TAIWAN else Origin.IMPORTED


def decided_by_province(device_class: str, origin: str) -> bool:
    """Order 47 Art.8: only domestic Class II is registered by the provincial bureau; all else by NMPA."""
    return parse_class(device_class) is DeviceClass.II and Origin(origin) is Origin.DOMESTIC


# 31 provincial-level divisions of the mainland and the one-character abbreviation used on
# certificates (×1 of Order 47 Art.115 for domestic Class II). Keys: pinyin and Chinese names.
PROVINCE_ABBREVIATIONS: dict[str, str] = {
    "beijing": "京",
    "tianjin": "津",
    "hebei": "冀",
    "shanxi": "晋",
    "inner mongolia": "蒙",
    "liaoning": "辽",
    "jilin": "吉",
    "heilongjiang": "黑",
    "shanghai": "沪",
    "jiangsu": "苏",
    "zhejiang": "浙",
    "anhui": "皖",
    "fujian": "闽",
    "jiangxi": "赣",
    "shandong": "鲁",
    "henan": "豫",
    "hubei": "鄂",
    "hunan": "湘",
    "guangdong": "粤",
    "guangxi": "桂",
    "hainan": "琼",
    "chongqing": "渝",
    "sichuan": "川",
    "guizhou": "黔",
    "yunnan": "滇",
    "tibet": "藏",
    "xizang": "藏",
    "shaanxi": "陕",
    "gansu": "甘",
    "qinghai": "青",
    "ningxia": "宁",
    "xinjiang": "新",
    "北京": "京",
    "天津": "津",
    "河北": "冀",
    "山西": "晋",
    "内蒙古": "蒙",
    "辽宁": "辽",
    "吉林": "吉",
    "黑龙江": "黑",
    "上海": "沪",
    "江苏": "苏",
    "浙江": "浙",
    "安徽": "皖",
    "福建": "闽",
    "江西": "赣",
    "山东": "鲁",
    "河南": "豫",
    "湖北": "鄂",
    "湖南": "湘",
    "广东": "粤",
    "广西": "桂",
    "海南": "琼",
    "重庆": "渝",
    "四川": "川",
    "贵州": "黔",
    "云南": "滇",
    "西藏": "藏",
    "陕西": "陕",
    "甘肃": "甘",
    "青海": "青",
    "宁夏": "宁",
    "新疆": "新",
}
NATIONAL = "国"
FORM_CHARS = {Origin.DOMESTIC: "准", Origin.IMPORTED: "进", Origin.HK_MACAO_TAIWAN: "许"}


def province_abbreviation(province: str | None) -> str:
    key = (province or "").strip().lower()
    for suffix in (" province", "省", "市", "自治区", "壮族自治区", "回族自治区", "维吾尔自治区"):
        key = key.removesuffix(suffix)
    if key not in PROVINCE_ABBREVIATIONS:
        raise ValidationFailed(
            "Unknown province '{province}': cannot form the certificate number (Order 47 Art.115).",
            field="province",
            params={"province": province or ""},
        )
    return PROVINCE_ABBREVIATIONS[key]


# ---- certificate numbers: Order 47 Art.115 ---------------------------------------------------------
# ×1械注×2××××3×4××5××××6: ×1 国 (domestic III, imported II/III) or the province abbreviation
# (domestic II); ×2 准/进/许; ××××3 year of first registration; ×4 class; ××5 sub-catalogue code
# (分类编码, 01-22 of the 医疗器械分类目录); ××××6 serial of first registration.
NUMBER_RE = re.compile(
    r"^(?P<x1>[\u4e00-\u9fff])械注(?P<x2>[准进许])(?P<year>\d{4})(?P<cls>[23])"
    r"(?P<code>\d{2})(?P<serial>\d{4})$"
)
_ABBREVS = frozenset(PROVINCE_ABBREVIATIONS.values())


@dataclass(frozen=True)
class CertificateNumber:
    issuer: str  # ×1: 国 or a province abbreviation
    form: str  # ×2: 准 / 进 / 许
    year: int  # ××××3
    device_class: DeviceClass  # ×4
    subcatalogue: str  # ××5
    serial: int  # ××××6

    @property
    def origin(self) -> Origin:
        return {v: k for k, v in FORM_CHARS.items()}[self.form]

    @property
    def prefix(self) -> str:
        """Everything but the serial: the serial counts within this prefix."""
        return str(self)[:-4]

    def __str__(self) -> str:
        digit = "3" if self.device_class is DeviceClass.III else "2"
        return f"{self.issuer}械注{self.form}{self.year:04d}{digit}{self.subcatalogue}{self.serial:04d}"


def certificate_number(
    *, device_class: str, origin: str, province: str | None, year: int, subcatalogue: str, serial: int
) -> CertificateNumber:
    """Build a number by Order 47 Art.115 (validated)."""
    cls, org = parse_class(device_class), Origin(origin)
    issuer = province_abbreviation(province) if decided_by_province(cls, org) else NATIONAL
    check_subcatalogue(subcatalogue)
    if not 1 <= serial <= 9999:
        raise ValidationFailed("The serial of the certificate number must be 1 to 9999.", field="serial")
    if not 1000 <= year <= 9999:
        raise ValidationFailed("The year must have four digits.", field="year")
    return CertificateNumber(issuer, FORM_CHARS[org], year, cls, subcatalogue, serial)


def check_subcatalogue(code: object, field: str = "subcatalogue_code") -> str:
    """××5: the 22 sub-catalogues of the 医疗器械分类目录 (CFDA 2017 No.104): 01-22."""
    if not isinstance(code, str) or not re.fullmatch(r"\d{2}", code) or not 1 <= int(code) <= 22:
        raise ValidationFailed(
            "'{name}' must be a sub-catalogue code 01 to 22.", field=field, params={"name": field}
        )
    return code


def parse_certificate_number(text: object, field: str = "number") -> CertificateNumber:
    """Parse and validate a number of the Order 47 Art.115 format (raises ValidationFailed)."""
    m = NUMBER_RE.match(text.strip()) if isinstance(text, str) else None
    if m is None:
        raise ValidationFailed(
            "'{value}' is not a registration certificate number of the form "
            "×1械注×2××××3×4××5××××6 (Order 47 Art.115).",
            field=field,
            params={"value": str(text)[:40]},
        )
    x1, x2 = m["x1"], m["x2"]
    cls = DeviceClass.III if m["cls"] == "3" else DeviceClass.II
    if x1 != NATIONAL and x1 not in _ABBREVS:
        raise ValidationFailed(
            "'{value}' names no issuing authority (×1 must be 国 or a province "
            "abbreviation, Order 47 Art.115).",
            field=field,
            params={"value": text},
        )
    if x1 != NATIONAL and (x2 != "准" or cls is not DeviceClass.II):
        raise ValidationFailed(
            "'{value}': a provincial number is only for domestic Class II (准, class 2; "
            "Order 47 Art.8, Art.115).",
            field=field,
            params={"value": text},
        )
    if x1 == NATIONAL and x2 == "准" and cls is DeviceClass.II:
        raise ValidationFailed(
            "'{value}': domestic Class II is registered by the province, not 国 (Order 47 Art.8, Art.115).",
            field=field,
            params={"value": text},
        )
    check_subcatalogue(m["code"], field)
    if int(m["serial"]) == 0:
        raise ValidationFailed("'{value}': the serial cannot be 0000.", field=field, params={"value": text})
    return CertificateNumber(x1, x2, int(m["year"]), cls, m["code"], int(m["serial"]))


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
