"""The made-up demo data set: loads through the services, twice without harm, in the states the
user guide describes, with a verifiable audit chain."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from medreg import demo
from medreg.core import audit, clocks
from medreg.core.audit import AuditEvent
from medreg.core.calendar import DEFAULT_CALENDAR
from medreg.core.clock import today_shanghai
from medreg.demo import cases
from medreg.premarket.experts import service as experts
from medreg.premarket.experts.models import Expert
from medreg.premarket.innovation import queries as innovation_queries
from medreg.premarket.innovation.models import InnovationApplication
from medreg.premarket.registration.models import RegistrationApplication, RegistrationCertificate
from medreg.signals import queries as signal_queries
from medreg.signals.bridge import SOURCE_MONITOR
from medreg.signals.models import SignalAnalysis, SignalCase, SignalRun, SignalStat

EXPECTED = {
    "draft": "draft",
    "province": "province_review",
    "formal": "submitted",
    "supplement": "supplement_requested",
    "experts": "expert_review",
    "notice": "public_notice",
    "approved": "approved",
    "imported": "submitted",
}


def _apps(db) -> dict[str, InnovationApplication]:
    names = {p[1]: key for key, p in cases.PRODUCTS.items()}
    rows = db.scalars(select(InnovationApplication).where(InnovationApplication.product_name.in_(names)))
    return {names[a.product_name]: a for a in rows}


def _count(db, table) -> int:
    return db.scalar(select(func.count()).select_from(table))


def test_demo_loads_twice_in_the_listed_states(db):
    demo.load(db)  # reference data, accounts, then the cases as of today
    before = (_count(db, InnovationApplication), _count(db, AuditEvent), _count(db, Expert))
    demo.load(db)
    assert (_count(db, InnovationApplication), _count(db, AuditEvent), _count(db, Expert)) == before

    apps = _apps(db)
    assert {k: a.status for k, a in apps.items()} == EXPECTED
    assert all("演示" in a.product_name and "(demo)" in a.product_name_en for a in apps.values())
    assert apps["imported"].province is None and apps["imported"].registrant.country != "CN"
    assert apps["approved"].acceptance_no.startswith("CQTS") and apps["approved"].decision_signature_id
    assert not audit.verify(db)


def test_demo_cases_load_on_a_day_just_after_the_spring_festival(db):
    """Dates are counted back in working days across the 2026 holidays (15-23 Feb 2026)."""
    demo.load_accounts(db)
    cases.load_cases(db, today=date(2026, 2, 24))
    assert {k: a.status for k, a in _apps(db).items()} == EXPECTED
    assert not audit.verify(db)


def test_demo_clocks_experts_and_registrations(db):
    demo.load(db)
    today = today_shanghai()
    apps = _apps(db)
    office = demo.demo_actor(db, "office")

    def clock(key, name):
        c = next(c for c in clocks.clocks_for(db, "innovation_application", apps[key].id) if c.name == name)
        return clocks.status(c, today)

    assert clock("province", "innovation.province_pre_review").left == 8  # No.83 Art.5: 20 WD
    assert clock("formal", "innovation.formal_check").overdue  # 8 WD used of 5
    assert clock("supplement", "innovation.formal_check").paused
    detail = innovation_queries.get_for(db, office, apps["experts"].id)
    assert sorted(a["opinion"] or "-" for a in detail.assignments) == ["-", "agree", "agree"]
    notice = innovation_queries.get_for(db, office, apps["notice"].id)
    assert notice.notices[0].open and len(notice.objections) == 1
    assert notice.objections[0].answer is None

    # expert4 declared an interest in the robotics company: conflicted on its files only.
    by_user = {c.expert.name: c for c in experts.candidate_experts(db, office, apps["experts"], today=today)}
    wu = by_user[cases.EXPERTS[3][1]]
    assert wu.conflicted and "consulting" in wu.conflicts[0].reason
    assert not any(c.conflicted for c in experts.candidate_experts(db, office, apps["notice"], today=today))

    regs = {r.product_name: r for r in db.scalars(select(RegistrationApplication))}
    in_review = regs[apps["approved"].product_name]
    assert in_review.status == "in_review" and in_review.priority and in_review.innovative
    # a real catalogue row: 01-07-03 手术控制系统 (shipped catalogue.csv); 09 has no shipped row: none
    assert (in_review.category1_code, in_review.category2_code) == ("01-07", "01-07-03")
    cert = db.scalar(
        select(RegistrationCertificate).where(RegistrationCertificate.product_name.like("%聚焦超声%"))
    )
    assert cert.number.startswith("国械注准") and cert.number[8] == "3"
    assert cert.subcatalogue_code == "09" and cert.category1_code is None
    assert sorted(o.status for o in cert.obligations) == ["fulfilled", "late", "open"]
    late = next(o for o in cert.obligations if o.status == "late")
    assert late.due_on < today


def test_wd_ago_counts_working_days_only():
    monday = date(2025, 3, 3)
    assert cases.wd_ago(monday, 1) == date(2025, 2, 28)
    assert cases.wd_ago(monday, 0) == monday
    d = cases.wd_ago(date(2025, 10, 9), 1)  # National Day holidays 1-8 October 2025
    assert d == date(2025, 9, 30) and DEFAULT_CALENDAR.is_working_day(d)


def test_demo_runs_a_signal_analysis_that_finds_the_planted_pair_once(db):
    """The demo's configured analysis (EBGM, EB05 > 2 and n11 >= 3, Szarfman et al. 2002, the published
    default of signals.criteria) runs once on the demo reports and opens the planted CT-scanner x A05
    (IMDRF Annex A level 1, from A051206 Unintended System Motion) case; a second load adds nothing."""
    demo.load(db)
    monitor = demo.demo_actor(db, "monitor")
    tables = (SignalAnalysis, SignalRun, SignalCase, SignalStat)
    counts = [_count(db, t) for t in tables]
    cases = [c for c in signal_queries.list_cases(db, monitor) if c.source != SOURCE_MONITOR]
    assert cases and all(c.stats for c in cases)  # each case carries its statistics
    planted = next(c for c in cases if (c.device, c.event) == ("国械注准20253060002", "A05"))
    stat = planted.stats[-1]
    assert stat.n11 >= 45 and stat.eb05 > 2 and stat.ebgm > stat.eb05 and stat.prr_lower > 1  # 45 planted
    (run,) = db.scalars(select(SignalRun)).all()
    assert run.analysis_id and run.flagged == run.opened == len(cases) and run.event_level == 1
    assert Path(run.snapshot_path).is_file()
    demo.load(db)
    assert [_count(db, t) for t in tables] == counts
