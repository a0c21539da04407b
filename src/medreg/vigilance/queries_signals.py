"""Report-level rows for signal detection (issue 4): one row per (report, IMDRF code) of the submitted,
non-duplicate reports, with what the device hierarchies and the strata need.

Device hierarchies (each row carries every key; a level leaves out the rows whose key is empty):

- ``registration_number``: the 注册证编号 the report names;
- ``registrant_org_id``: the device's registrant (named in the report or found from the certificate);
- ``category``: the sub-catalogue code ××5 of the certificate number (01-22 of the 医疗器械分类目录,
  Order 47 Art.115; a certificate's ``subcatalogue_code`` is this same code); a filing number (备案编号,
  Class I) or a number not of the Art.115 form has no category. The finer 一级/二级 product categories
  are recorded on the certificate, not on the report: ``medreg.signals.snapshot`` joins them on by
  certificate number at each export;
- ``fda_product_code``: the FDA product code of the report's form (``device.fda_product_code``, filled
  from openFDA ``device_report_product_code`` by the MAUDE import).

Strata: the event year, the patient's sex and age in years (from the report's current version) and the
reporter's role. Only the monitoring centre (and administrators) read the whole report base this way.
Incremental exports ask for the reports changed since the previous export: ``changed_ids`` lists every
case touched since then (including those that became drafts' follow-ups, duplicates or lost their
codes), so that the caller can drop their old rows before adding the new ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.errors import PermissionDenied, ValidationFailed
from medreg.premarket.registration.numbers import parse_certificate_number
from medreg.vigilance.models import VigilanceCase, VigilanceReportCode, VigilanceReportVersion
from medreg.vigilance.states import Status


@dataclass(frozen=True)
class ReportRows:
    """Columns of one row per (report, code); ``None`` where the report does not say."""

    report_id: list[int]
    registration_number: list[str | None]
    registrant_org_id: list[int | None]
    annex: list[str]
    code: list[str]
    year: list[int | None]
    changed_ids: list[int] | None  # None: a full export
    category: list[str | None] = field(default_factory=list)
    fda_product_code: list[str | None] = field(default_factory=list)
    sex: list[str | None] = field(default_factory=list)
    age_years: list[float | None] = field(default_factory=list)
    reporter_role: list[str | None] = field(default_factory=list)


@lru_cache(maxsize=65536)
def subcatalogue_of(number: str | None) -> str | None:
    """××5 of an Order 47 Art.115 certificate number, or None (a filing number, a malformed number).

    >>> subcatalogue_of("国械注准20253070001"), subcatalogue_of("京械备20190001")
    ('07', None)
    """
    if not number:
        return None
    try:
        return parse_certificate_number(number).subcatalogue
    except ValidationFailed:
        return None


def _text(value, n: int) -> str | None:
    return value.strip()[:n] or None if isinstance(value, str) else None


def report_rows(session: Session, actor: Actor, *, annexes: str = "ACDEFG",
                changed_since: datetime | None = None) -> ReportRows:
    """The coded rows of every submitted, non-duplicate report."""
    if not (actor.has(Role.MONITORING_CENTRE) or actor.has(Role.ADMIN)):
        raise PermissionDenied("Only the monitoring centre exports reports for signal detection.",
                               field="actor")
    c, k, v = VigilanceCase, VigilanceReportCode, VigilanceReportVersion
    stmt = (select(c.id, c.registration_number, c.registrant_org_id, k.annex, k.code, c.event_date,
                   c.reporter_role, v.content)
            .join(k, k.case_id == c.id)
            .outerjoin(v, and_(v.case_id == c.id, v.version_no == c.latest_version_no))
            .where(c.status != Status.DRAFT, c.duplicate_of_id.is_(None),
                   k.annex.in_(sorted(set(annexes.upper()))))
            .order_by(c.id, k.annex, k.code))
    changed = None
    if changed_since is not None:
        stmt = stmt.where(c.updated_at >= changed_since)
        changed = list(session.scalars(select(c.id).where(c.updated_at >= changed_since).order_by(c.id)))
    out = ReportRows([], [], [], [], [], [], changed_ids=changed)
    last_id, facts = None, ()
    for rid, reg, org, annex, code, when, role, content in session.execute(stmt):
        if rid != last_id:  # the form's facts once per report, not once per code
            content = content if isinstance(content, dict) else {}
            device = content.get("device") or {}
            patient = content.get("patient") or {}
            age = patient.get("age_years")
            reg = _text(reg, 40)
            facts = (reg, org, when.year if when else None, subcatalogue_of(reg),
                     _text(device.get("fda_product_code"), 3), _text(patient.get("sex"), 8),
                     float(age) if isinstance(age, int | float) else None, _text(role, 20))
            last_id = rid
        reg, org, year, category, fda, sex, age, role = facts
        for col, value in ((out.report_id, rid), (out.registration_number, reg), (out.registrant_org_id, org),
                           (out.annex, annex), (out.code, code), (out.year, year), (out.category, category),
                           (out.fda_product_code, fda), (out.sex, sex), (out.age_years, age),
                           (out.reporter_role, role)):
            col.append(value)
    return out
