"""Pure rules of who registers a device and how its certificate is numbered (SAMR Order 47, 2021):
the competent authority (Art.8, Art.123), the province abbreviations and the certificate number
×1械注×2××××3×4××5××××6 (Art.115). No database, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medreg.core.errors import ValidationFailed
from medreg.premarket.registration.rules import DeviceClass, Origin, parse_class

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
