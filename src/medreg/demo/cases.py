"""The demo cases: the expert pool and applications in different states, all made up.

Everything goes through the domain services, acting as the demo users (so every row is audited,
every clock started and every signature made with the demo password), on legal days counted back
from today so that the clocks show due dates, some of them overdue. Product names carry
"（演示）" / "(demo)"; patent numbers are syntactically valid (CNIPA ZC 0006-2003 check character)
but invented.

``load_cases(session)`` is idempotent: it does nothing once the demo draft exists.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core import files
from medreg.core.accounts import User
from medreg.core.actor import Actor
from medreg.core.calendar import DEFAULT_CALENDAR, add_years
from medreg.core.clock import today_shanghai
from medreg.demo import DEMO_PASSWORD as PASSWORD
from medreg.demo import demo_actor
from medreg.premarket.experts import service as experts
from medreg.premarket.experts.models import Expert
from medreg.premarket.innovation import service as innovation
from medreg.premarket.innovation.models import InnovationApplication
from medreg.premarket.innovation.rules import required_documents
from medreg.premarket.registration import service as registration
from medreg.premarket.registration import service_export

# The product name of the robotics draft marks a loaded demo data set.
MARKER = "腔镜手术机器人（演示）"

# username, name, title, fields of expertise (";"-separated), birth year (CMDE Art.9(2),(5))
# fmt: off
EXPERTS = [
    ("expert1", "陈立华（虚构）", "教授", "surgical robotics;medical imaging", 1968),
    ("expert2", "刘建国（虚构）", "主任医师", "surgical robotics;cardiovascular;medical imaging", 1972),
    ("expert3", "孙晓明（虚构）", "研究员", "surgical robotics;neuromodulation;medical imaging", 1975),
    ("expert4", "吴志强（虚构）", "教授", "surgical robotics;neuromodulation;medical imaging", 1966),
]
ACTORS = ["office", "province", "registrant", "registrant2", "overseas", "expert1", "expert2", "expert3",
          "expert4"]
# fmt: on


def wd_ago(today: date, n: int) -> date:
    """The working day ``n`` working days before ``today`` (Chinese calendar, core.calendar)."""
    d = today
    while n > 0:
        d -= timedelta(days=1)
        if DEFAULT_CALENDAR.is_working_day(d):
            n -= 1
    return d


def _pdf(title: str) -> bytes:
    return b"%PDF-1.4\n% medreg demo document (made up): " + title.encode() + b"\n%%EOF\n"


def _draft(name: str, name_en: str, field: str, patent: str, granted: date) -> dict:
    return {
        "product_name": name,
        "product_name_en": name_en,
        "intended_use": "演示用途：本产品为虚构示例。Made-up intended use for the demo.",
        "working_principle": "虚构的工作原理说明（演示）。Made-up working principle (demo).",
        "technical_field": field,
        "proposed_class": "III",
        "domestically_first": True,
        "internationally_leading": True,
        "significant_clinical_value": True,
        "innovation_statement": "核心技术为国内首创、国际领先，具有显著临床应用价值（演示数据）。",
        "patent_kind": "granted",
        "patent_number": patent,
        "patent_grant_date": granted,
    }


class _Demo:
    def __init__(self, session: Session, today: date) -> None:
        self.s, self.today = session, today
        self.a = {u: demo_actor(session, u) for u in ACTORS}
        self.expert_ids: dict[str, int] = {}

    def org_id(self, username: str) -> int:
        return self.a[username].organisation_id

    # --- the expert pool ------------------------------------------------------------------------
    def expert_pool(self) -> None:
        office = self.a["office"]
        for username, name, title, fields, born in EXPERTS:
            user = self.s.scalar(select(User).where(User.username == username))
            row = self.s.scalar(select(Expert).where(Expert.user_id == user.id))
            if row is None:
                row = experts.add_expert(
                    self.s,
                    office,
                    {
                        "user_id": user.id,
                        "name": name,
                        "title": title,
                        "fields": fields.split(";"),
                        "birth_year": born,
                        "organisation_id": user.organisation_id,
                    },
                )
            self.expert_ids[username] = row.id
        # CMDE Art.10(4): expert4 consults for the robotics company: excluded from its files.
        if not self.s.get(Expert, self.expert_ids["expert4"]).interests:
            experts.declare_interest(
                self.s,
                self.a["expert4"],
                self.expert_ids["expert4"],
                {
                    "organisation_id": self.org_id("registrant"),
                    "kind": "consulting",
                    "description": "有偿技术顾问（演示） paid technical adviser (demo)",
                    "since": add_years(self.today, -1),
                },
            )

    # --- innovative applications ----------------------------------------------------------------
    def draft(self, who: str, data: dict, *, complete: bool = True) -> InnovationApplication:
        actor = self.a[who]
        app = innovation.create_draft(self.s, actor, data)
        docs = required_documents(is_domestic=who != "overseas", patent_kind=data.get("patent_kind"))
        for i, doc in enumerate(docs):
            if not complete and i >= 4:
                break
            title = f"{doc.value.replace('_', ' ')} (demo)"
            innovation.attach_document(
                self.s,
                actor,
                app.id,
                doc_type=doc.value,
                title=title,
                filename=f"{doc.value}.pdf",
                data=_pdf(f"{app.product_name} {title}"),
            )
        return app

    def submitted(self, who: str, data: dict, on: date) -> InnovationApplication:
        app = self.draft(who, data)
        return innovation.submit(self.s, self.a[who], app.id, today=on)

    def at_office(self, who: str, data: dict, submitted: date, passed: date) -> InnovationApplication:
        app = self.submitted(who, data, submitted)
        return innovation.province_pass(
            self.s,
            self.a["province"],
            app.id,
            "经初审，符合创新医疗器械特别审查申请要求（演示）。",
            today=passed,
        )

    def in_review(self, who, data, days: tuple[int, int, int, int], experts_: list[str], opinions: int):
        sub, passed, accepted, assigned = (wd_ago(self.today, n) for n in days)
        app = self.at_office(who, data, sub, passed)
        innovation.accept(self.s, self.a["office"], app.id, today=accepted)
        rows = innovation.assign_experts(
            self.s, self.a["office"], app.id, [self.expert_ids[e] for e in experts_], today=assigned
        )
        by_id = {self.expert_ids[e]: e for e in experts_}
        for a in rows[:opinions]:
            innovation.give_opinion(
                self.s,
                self.a[by_id[a.expert_id]],
                a.id,
                "agree",
                "创新性明确，临床价值显著，同意进入特别审查程序（演示意见）。",
                PASSWORD,
            )
        return app

    def noticed(self, who, data, days, experts_, concluded: date) -> InnovationApplication:
        app = self.in_review(who, data, days, experts_, opinions=len(experts_))
        return innovation.conclude(
            self.s,
            self.a["office"],
            app.id,
            "propose",
            "专家组多数同意（演示）。The experts agree (demo).",
            today=concluded,
        )

    def approved(self, who, data, days, experts_, concluded: date, decided: date):
        app = self.noticed(who, data, days, experts_, concluded)
        innovation.close_notice(self.s, self.a["office"], app.id, today=decided)
        return innovation.decide(
            self.s, self.a["office"], app.id, approve=True, reasons=None, password=PASSWORD, today=decided
        )


def load_cases(session: Session, *, today: date | None = None) -> None:
    """The expert pool and the demo applications (idempotent: skipped once the demo draft exists)."""
    if session.scalar(select(InnovationApplication.id).where(InnovationApplication.product_name == MARKER)):
        return
    today = today or today_shanghai()
    d = _Demo(session, today)
    d.expert_pool()
    _innovation_cases(d, today)
    _registration_cases(d, today)
    session.flush()


# key: (registrant user, product name, English name, technical field, invented patent number)
# fmt: off
PRODUCTS = {
    "draft": ("registrant", MARKER, "Laparoscopic surgical robot (demo)", "surgical robotics",
              "ZL202110384756.0"),
    "province": ("registrant2", "光子计数能谱CT（演示）", "Photon-counting spectral CT (demo)",
                 "medical imaging", "ZL202210517293.5"),
    "formal": ("registrant", "骨科手术导航定位机器人（演示）", "Orthopaedic navigation robot (demo)",
               "surgical robotics", "ZL202010926481.4"),
    "supplement": ("registrant2", "人工智能冠脉CT血流储备分数计算软件（演示）",
                   "AI coronary CT-FFR software (demo)", "medical imaging", "ZL202111073625.7"),
    "experts": ("registrant", "血管介入手术机器人（演示）", "Vascular interventional robot (demo)",
                "surgical robotics", "ZL202210248817.5"),
    "notice": ("registrant2", "术中磁共振成像系统（演示）", "Intraoperative MRI system (demo)",
               "medical imaging", "ZL202310612704.3"),
    "approved": ("registrant", "经自然腔道柔性手术机器人（演示）",
                 "Flexible endoluminal surgical robot (demo)", "surgical robotics", "ZL202010771359.4"),
    # No.83 Art.5 second paragraph: an overseas applicant; a PCT invention (kind 8) in the national phase.
    "imported": ("overseas", "闭环脊髓电刺激系统（演示）",
                 "Closed-loop spinal cord stimulation system (demo)", "neuromodulation", "ZL202180045126.9"),
}
# fmt: on


def _product(key: str, granted: date) -> tuple[str, dict]:
    who, name, name_en, field, patent = PRODUCTS[key]
    return who, _draft(name, name_en, field, patent, granted)


def _innovation_cases(d: _Demo, t: date) -> None:
    ago = lambda n: wd_ago(t, n)  # noqa: E731
    recent = add_years(t, -2)  # grant announcement: within the 5 years of No.83 Art.2(1)
    p = {key: _product(key, recent) for key in PRODUCTS}
    d.draft(*p["draft"], complete=False)  # still missing documents
    d.submitted(*p["province"], ago(12))  # 20 WD pre-review (No.83 Art.5): 8 left
    d.at_office(*p["formal"], ago(16), ago(8))  # 5 WD formal check: overdue
    app = d.at_office(*p["supplement"], ago(20), ago(12))
    innovation.request_supplement(  # the formal-check clock pauses
        d.s, d.a["office"], app.id, "请补充：算法训练数据来源说明；说明书样稿中文版（演示）。", today=ago(10)
    )
    # 2 of 3 opinions given; expert4 could not be chosen (declared interest in the robotics company).
    d.in_review(*p["experts"], (45, 35, 30, 28), ["expert1", "expert2", "expert3"], opinions=2)
    # Public notice of >= 10 WD (No.83 Art.10) with one objection from the public (CMDE Art.24-25).
    app = d.noticed(*p["notice"], (80, 70, 65, 60), ["expert2", "expert3", "expert4"], ago(4))
    objection = {
        "name": "王某（虚构）",
        "organisation": "示例医疗器械公司（虚构）",
        "contact": "demo@example.org",
        "text": "我们认为该产品的核心技术在国外已有类似产品上市，创新性存疑（演示异议）。",
    }
    innovation.file_objection(d.s, Actor.public(), app.notices[0].id, objection, today=t)
    # Approved into the special track; its registration is in technical review (priority).
    who, data = p["approved"]
    data["patent_grant_date"] = add_years(t, -3)
    app = d.approved(who, data, (170, 160, 155, 150), ["expert1", "expert2", "expert3"], ago(125), ago(110))
    reg = registration.create_application(
        d.s,
        d.a[who],
        {
            "product_name": app.product_name,
            "model_spec": "FR-100（演示）",
            "structure_composition": "主控台、患者端机械臂、柔性内镜器械（演示）",
            "intended_use": "用于经自然腔道的内镜手术操作（演示）",
            "device_class": "III",
            "subcatalogue_code": "01",
            # 01-07 手术导航、控制系统 / 01-07-03 手术控制系统 ("用于腔内手术中帮助精确控制手术操作的设备",
            # example 内窥镜手术器械控制系统) of the shipped catalogue (2017 No.104 as adjusted by 2022 No.30)
            "category1_code": "01-07",
            "category2_code": "01-07-03",
            "innovation_application_id": app.id,
        },
    )
    registration.submit(d.s, d.a[who], reg.id, on=ago(60))
    registration.accept(d.s, d.a["office"], reg.id, on=ago(58))
    registration.start_review(d.s, d.a["office"], reg.id, on=ago(55))
    d.submitted(*p["imported"], ago(3))  # straight to the office


def _registration_cases(d: _Demo, t: date) -> None:
    """A conditional approval (Order 47 Art.61) with its certificate and obligations, one late."""
    ago = lambda n: wd_ago(t, n)  # noqa: E731
    who, office = d.a["registrant2"], d.a["office"]
    reg = registration.create_application(
        d.s,
        who,
        {
            "product_name": "磁共振引导聚焦超声治疗系统（演示）",
            "model_spec": "MRgFUS-D1（演示）",
            "structure_composition": "超声换能器、治疗床、控制软件（演示）",
            "intended_use": "用于无有效治疗手段的特发性震颤患者的丘脑毁损治疗（演示）",
            "device_class": "III",
            "subcatalogue_code": "09",
        },
    )
    registration.submit(d.s, who, reg.id, on=ago(420))
    registration.accept(d.s, office, reg.id, on=ago(418))
    registration.start_review(d.s, office, reg.id, on=ago(415))
    registration.complete_review(
        d.s, office, reg.id, "技术审评结论：符合附条件批准要求（演示）。", on=ago(340)
    )
    decided = ago(330)
    registration.approve_conditionally(
        d.s,
        office,
        reg.id,
        {
            "ground": "life_threatening",
            "reasons": "用于尚无有效治疗手段的疾病，附条件批准（演示）。",
            "conditions": [
                {
                    "description": "完成上市后首批50例患者的安全性随访报告（演示）",
                    "due_on": t - timedelta(days=200),
                },
                {
                    "description": "完成200例患者的12个月有效性确证研究（演示）",
                    "due_on": t - timedelta(days=45),
                },
                {"description": "提交5年长期随访数据（演示）", "due_on": add_years(decided, 4)},
            ],
        },
        password=PASSWORD,
        on=decided,
    )
    cert = registration.issue_certificate(d.s, office, reg.id, on=ago(325))
    first = min(cert.obligations, key=lambda o: o.due_on)
    evidence = files.store(
        d.s, who, filename="follow-up-report.pdf", data=_pdf("50-patient follow-up (demo)")
    )
    registration.fulfil_obligation(
        d.s,
        who,
        first.id,
        evidence_file_id=evidence.id,
        note="首批随访报告已提交（演示）",
        on=first.due_on - timedelta(days=10),
    )
    registration.mark_late_obligations(d.s, office, t)  # Order 47 Art.63: the second one is late
    # NMPA 2025 No.126 Art.4: the Beijing bureau certifies the device for export (出口销售证明 (I))
    service_export.issue_export_certificate(d.s, d.a["province"], {"registration_numbers": [cert.number]},
                                            on=ago(15))


__all__ = ["load_cases", "wd_ago", "MARKER", "EXPERTS"]
