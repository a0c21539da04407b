"""Pure rules of the innovative special review: eligibility, numbering, notice dates.

Patent numbers are parsed in ``patents`` (re-exported here).
No database, no clock: ``today`` / the application date are passed in. Each criterion names the
article that sets it (NMPA 2018 No.83 = "No.83", CMDE Notice 2025 No.7 = "CMDE").
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from medreg.core.calendar import add_working_days, add_years
from medreg.core.said import _, english, said
from medreg.premarket.innovation.doc_names import DOC_NAMES
from medreg.premarket.innovation.patents import (  # noqa: F401  (parse_patent_number, patent_check_char: API)
    KIND_NAMES,
    PatentNumber,
    parse_patent,
    parse_patent_number,
    patent_check_char,
)


class DeviceClass(enum.StrEnum):
    I = "I"  # noqa: E741 - the legal name of the class
    II = "II"
    III = "III"


class PatentKind(enum.StrEnum):
    GRANTED = "granted"  # 已获得中国发明专利权 (CMDE Art.7(3)1)
    LICENSED = "licensed"  # 通过受让取得发明专利使用权 (CMDE Art.7(3)2)
    PUBLISHED_WITH_SEARCH_REPORT = "published_with_search_report"  # 已公开、未授权 (CMDE Art.7(3)3)


class DocType(enum.StrEnum):
    """The dossier of No.83 Art.4 as detailed by CMDE Art.7."""

    APPLICATION_FORM = "application_form"  # 申请表, CMDE Art.7(1)
    QUALIFICATION = "qualification"  # 企业资质证明文件, No.83 Art.4(1)
    IP_EVIDENCE = "ip_evidence"  # 知识产权情况及证明文件, No.83 Art.4(2)
    RD_SUMMARY = "rd_summary"  # 研发过程及结果综述, No.83 Art.4(3)
    TECHNICAL_FILE = "technical_file"  # 产品技术文件, No.83 Art.4(4)
    INNOVATION_EVIDENCE = "innovation_evidence"  # 产品创新的证明性文件, No.83 Art.4(5)
    RISK_ANALYSIS = "risk_analysis"  # 风险分析资料, No.83 Art.4(6)
    IFU_DRAFT = "ifu_draft"  # 说明书样稿, No.83 Art.4(7)
    OTHER_EVIDENCE = "other_evidence"  # 其他证明资料, No.83 Art.4(8) (optional)
    AUTHENTICITY_DECLARATION = "authenticity_declaration"  # 真实性自我保证声明, No.83 Art.4(9)
    DEVICE_STATUS_EVIDENCE = "device_status_evidence"  # 按照医疗器械管理的证明, CMDE Art.7(12)
    AGENT_DOCUMENTS = "agent_documents"  # 代理人资料, No.83 Art.4 second para, CMDE Art.7(10)
    PATENT_LICENCE_RECORD = "patent_licence_record"  # 专利实施许可合同备案证明, CMDE Art.7(3)2
    SEARCH_REPORT = "search_report"  # 检索报告, No.83 Art.2(1), CMDE Art.7(3)3
    SUPPLEMENT = "supplement"  # documents filed in answer to a supplement request


BASE_DOSSIER: dict[DocType, str] = {
    DocType.APPLICATION_FORM: "CMDE Art.7(1)",
    DocType.QUALIFICATION: "No.83 Art.4(1); CMDE Art.7(2)",
    DocType.IP_EVIDENCE: "No.83 Art.4(2); CMDE Art.7(3)",
    DocType.RD_SUMMARY: "No.83 Art.4(3); CMDE Art.7(4)",
    DocType.TECHNICAL_FILE: "No.83 Art.4(4); CMDE Art.7(5)",
    DocType.INNOVATION_EVIDENCE: "No.83 Art.4(5); CMDE Art.7(6)",
    DocType.RISK_ANALYSIS: "No.83 Art.4(6); CMDE Art.7(7)",
    DocType.IFU_DRAFT: "No.83 Art.4(7); CMDE Art.7(8)",
    DocType.AUTHENTICITY_DECLARATION: "No.83 Art.4(9); CMDE Art.7(11)",
    DocType.DEVICE_STATUS_EVIDENCE: "CMDE Art.7(12)",
}

# No.83 Art.2(1), CMDE Art.7(3)1-2: the application falls within 5 years of the grant announcement.
PATENT_WINDOW_YEARS = 5


def required_documents(*, is_domestic: bool, patent_kind: str | None) -> dict[DocType, str]:
    """The dossier this applicant must file, each with its article."""
    out = dict(BASE_DOSSIER)
    if not is_domestic:
        out[DocType.AGENT_DOCUMENTS] = "No.83 Art.4 second paragraph; CMDE Art.7(10)"
    if patent_kind == PatentKind.LICENSED:
        out[DocType.PATENT_LICENCE_RECORD] = "CMDE Art.7(3)2"
    if patent_kind == PatentKind.PUBLISHED_WITH_SEARCH_REPORT:
        out[DocType.SEARCH_REPORT] = "No.83 Art.2(1); CMDE Art.7(3)3"
    return out


# --- eligibility ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Criterion:
    key: str
    met: bool
    article: str
    reason_said: dict  # said(msgid, **params), translated at display
    english_text: str | None = None  # the English reason when it is not the msgid filled (kept as it was)

    @property
    def reason(self) -> str:
        return self.english_text or english(self.reason_said)


@dataclass(frozen=True)
class Eligibility:
    criteria: tuple[Criterion, ...]

    @property
    def eligible(self) -> bool:
        return all(c.met for c in self.criteria)

    @property
    def unmet(self) -> list[Criterion]:
        return [c for c in self.criteria if not c.met]

    def as_dict(self) -> dict:
        return {
            "eligible": self.eligible,
            "criteria": [
                {"key": c.key, "met": c.met, "article": c.article, "reason": c.reason,
                 "reason_msgid": c.reason_said["msgid"], "reason_params": c.reason_said["params"]}
                for c in self.criteria
            ],
        }


@dataclass(frozen=True)
class EligibilityInput:
    proposed_class: str | None
    domestically_first: bool
    internationally_leading: bool
    significant_clinical_value: bool
    innovation_statement: str | None
    patent_kind: str | None
    patent_number: str | None
    patent_grant_date: date | None
    search_report_no: str | None
    search_report_confirms: bool
    is_domestic: bool
    document_types: frozenset[str] = field(default_factory=frozenset)


def input_from(app, *, is_domestic: bool, document_types: Iterable[str]) -> EligibilityInput:
    """The eligibility facts of any object carrying the application's attributes (e.g. the table row)."""
    return EligibilityInput(
        proposed_class=app.proposed_class,
        domestically_first=bool(app.domestically_first),
        internationally_leading=bool(app.internationally_leading),
        significant_clinical_value=bool(app.significant_clinical_value),
        innovation_statement=app.innovation_statement,
        patent_kind=app.patent_kind,
        patent_number=app.patent_number,
        patent_grant_date=app.patent_grant_date,
        search_report_no=app.search_report_no,
        search_report_confirms=bool(app.search_report_confirms),
        is_domestic=is_domestic,
        document_types=frozenset(document_types),
    )


def check_eligibility(app: EligibilityInput, application_date: date) -> Eligibility:
    """Every criterion of No.83 Art.2 and Art.4 that can be checked on the file, met or not."""
    return Eligibility(
        tuple(
            [
                _class_criterion(app.proposed_class),
                _claims_criterion(app),
                *_patent_criteria(app, application_date),
                _dossier_criterion(app),
            ]
        )
    )


def _class_criterion(proposed_class: str | None) -> Criterion:
    art = "No.83 Art.4"
    if proposed_class in (DeviceClass.II, DeviceClass.III):
        return Criterion("device_class", True, art, said(_("class {device_class} device"),
                                                         device_class=str(proposed_class)))
    if proposed_class == DeviceClass.I:
        return Criterion("device_class", False, art,
                         said(_("class I devices cannot use the special review (class II or III only)")))
    return Criterion("device_class", False, art, said(_("the proposed class (II or III) is missing")))


def _claims_criterion(app: EligibilityInput) -> Criterion:
    missing = [
        name
        for name, ok in (
            (_("domestically first"), app.domestically_first),
            (_("internationally leading"), app.internationally_leading),
            (_("significant clinical value"), app.significant_clinical_value),
        )
        if not ok
    ]
    if not (app.innovation_statement or "").strip():
        missing.append(_("a statement of the innovation"))
    if missing:
        return Criterion(
            "innovation_claims",
            False,
            "No.83 Art.2(3)",
            said(_("all three innovation criteria are required; missing: {missing}"),
                 missing=_listed([said(m) for m in missing], ", ")),
        )
    return Criterion(
        "innovation_claims",
        True,
        "No.83 Art.2(3)",
        said(_("domestically first, internationally leading, significant clinical value")),
    )


def _patent_criteria(app: EligibilityInput, application_date: date) -> list[Criterion]:
    art = "No.83 Art.2(1); CMDE Art.7(3)"
    kind = app.patent_kind
    if kind not in set(PatentKind):
        return [Criterion("patent", False, art, said(_("the kind of patent evidence is missing")))]
    parsed = parse_patent(app.patent_number or "")
    if isinstance(parsed, dict):
        return [Criterion("patent_number", False, art, parsed)]
    if not parsed.is_invention:
        return [
            Criterion(
                "patent_number",
                False,
                art,
                said(_("{number} is a {kind} application; an invention patent (发明专利) is required"),
                     number=str(parsed), kind=said(KIND_NAMES[parsed.kind])),
            )
        ]
    out = [Criterion("patent_number", True, art, said(_("{number}: invention patent application"),
                                                      number=str(parsed)))]
    if kind in (PatentKind.GRANTED, PatentKind.LICENSED):
        out.append(_grant_window(app.patent_grant_date, application_date))
    else:
        ok = bool((app.search_report_no or "").strip()) and app.search_report_confirms
        out.append(
            Criterion(
                "search_report",
                ok,
                "No.83 Art.2(1); CMDE Art.7(3)3",
                said(_("search report of the CNIPA search and consultation centre confirms novelty and "
                       "inventiveness")) if ok
                else said(_("a CNIPA search report number confirming novelty and inventiveness of the core "
                            "technical solution is required")),
            )
        )
    return out


def _grant_window(grant: date | None, application_date: date) -> Criterion:
    art = "No.83 Art.2(1); CMDE Art.7(3)1-2"
    if grant is None:
        return Criterion("patent_grant_window", False, art, said(_("the grant announcement date is missing")))
    if grant > application_date:
        return Criterion("patent_grant_window", False, art,
                         said(_("the grant announcement date is in the future")))
    limit = add_years(grant, PATENT_WINDOW_YEARS)
    if application_date > limit:
        return Criterion(
            "patent_grant_window",
            False,
            art,
            said(_("more than {years} years since the grant announcement ({grant}; last day {last_day})"),
                 years=PATENT_WINDOW_YEARS, grant=grant.isoformat(), last_day=limit.isoformat()),
        )
    return Criterion(
        "patent_grant_window",
        True,
        art,
        said(_("granted {grant}, within {years} years (last day {last_day})"), grant=grant.isoformat(),
             years=PATENT_WINDOW_YEARS, last_day=limit.isoformat()),
    )


def _dossier_criterion(app: EligibilityInput) -> Criterion:
    required = required_documents(is_domestic=app.is_domestic, patent_kind=app.patent_kind)
    missing = [said(_("{document} ({article})"), document=said(DOC_NAMES.get(doc.value, doc.value)),
                    article=article)
               for doc, article in required.items() if doc.value not in app.document_types]
    if missing:
        # the English text names the document types by their values, as the API always did
        by_value = "missing: " + "; ".join(f"{doc.value} ({article})" for doc, article in required.items()
                                           if doc.value not in app.document_types)
        return Criterion("dossier", False, "No.83 Art.4; CMDE Art.7",
                         said(_("missing: {documents}"), documents=_listed(missing, "; ")), by_value)
    return Criterion("dossier", True, "No.83 Art.4; CMDE Art.7", said(_("all required documents filed")))


def _listed(items: list[dict], sep: str) -> dict:
    """Several said texts as one (``a; b; c``), each translated at display."""
    out = items[-1]
    for item in reversed(items[:-1]):
        out = said("{first}" + sep + "{rest}", first=item, rest=out)
    return out


# --- numbering and dates ----------------------------------------------------------------------
def acceptance_number(year: int, serial: int) -> str:
    """No.83 Art.6: CQTS + year (4 digits) + product serial number (4 digits, zero padded)."""
    if not 2000 <= year <= 9999 or not 1 <= serial <= 9999:
        raise ValueError(f"acceptance number out of range: year {year}, serial {serial}")
    return f"CQTS{year:04d}{serial:04d}"


ACCEPTANCE_RE = re.compile(r"^CQTS(\d{4})(\d{4})$")

# No.83 Art.10 / CMDE Art.20: the notice lasts at least 10 working days.
MIN_NOTICE_WORKING_DAYS = 10


def notice_end_date(starts_on: date, working_days: int = MIN_NOTICE_WORKING_DAYS) -> date:
    """Last day of a notice published on ``starts_on``: ``working_days`` working days after it.

    The publication day itself is not counted, as in CMDE practice (a notice published Thursday
    2023-11-09 ran to Thursday 2023-11-23). Raises ValueError below the statutory minimum."""
    if working_days < MIN_NOTICE_WORKING_DAYS:
        raise ValueError(f"a notice lasts at least {MIN_NOTICE_WORKING_DAYS} working days (No.83 Art.10)")
    return add_working_days(starts_on, working_days)


def notice_is_open(starts_on: date, ends_on: date, today: date) -> bool:
    return starts_on <= today <= ends_on


# --- tenancy (pure: the service checks one record, the queries build the same filter in SQL) -----
def may_see(
    *,
    roles: frozenset[str],
    actor_org_id: int | None,
    actor_province: str | None,
    registrant_org_id: int,
    province: str | None,
    status: str,
    assigned: bool,
) -> bool:
    """Who may see an application: the registrant its own organisation's; a provincial reviewer those
    of its province that reached it; the office every submitted one; an expert those assigned to it."""
    if "registrant" in roles and actor_org_id == registrant_org_id:
        return True
    if "office" in roles and status != "draft":
        return True
    if "province" in roles and actor_province and actor_province == province and status != "draft":
        return True
    return "expert" in roles and assigned
