"""A small world for the innovation and expert tests: the office, a province, applicants, experts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.premarket.experts import service as experts
from medreg.premarket.innovation import service
from medreg.premarket.innovation.rules import DocType, required_documents
from tests.factories import PASSWORD, actor_for, make_org, make_user

# Monday 3 March 2025: a plain working week around it.
TODAY = date(2025, 3, 3)
PATENT = "ZL 2020 1 0123456.2"  # check character 2 (CNIPA ZC 0006-2003)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class World:
    office: Actor
    office_org_id: int
    province: Actor
    other_province: Actor
    registrant: Actor
    registrant_org_id: int
    other_registrant: Actor
    foreign: Actor
    foreign_org_id: int
    experts: list = field(default_factory=list)  # (Expert row, Actor)
    password: str = PASSWORD


def draft_data(**overrides) -> dict:
    data = dict(
        product_name="Magnetically levitated ventricular assist device",
        product_name_en="Maglev VAD",
        intended_use="Long-term circulatory support",
        working_principle="Magnetic levitation of the impeller",
        technical_field="cardiovascular",
        proposed_class="III",
        domestically_first=True,
        internationally_leading=True,
        significant_clinical_value=True,
        innovation_statement="First maglev pump designed in China.",
        patent_kind="granted",
        patent_number=PATENT,
        patent_grant_date=date(2021, 5, 10),
        avoidance_request="",
    )
    data.update(overrides)
    return data


def build(db: Session) -> World:
    office_org = make_org(db, OrgKind.REGULATOR_UNIT, name="CMDE innovation office", province=None)
    bj = make_org(db, OrgKind.PROVINCIAL_BUREAU, name="Beijing MPA", province="Beijing")
    sh = make_org(db, OrgKind.PROVINCIAL_BUREAU, name="Shanghai MPA", province="Shanghai")
    reg = make_org(db, OrgKind.REGISTRANT, name="Beijing Heart Co", province="Beijing")
    reg2 = make_org(db, OrgKind.REGISTRANT, name="Other Device Co", province="Beijing")
    foreign = make_org(db, OrgKind.REGISTRANT, name="Berlin Medical GmbH", country="DE", province=None)
    w = World(
        office=actor_for(make_user(db, Role.REVIEWER, org=office_org)),
        office_org_id=office_org.id,
        province=actor_for(make_user(db, Role.REVIEWER, org=bj)),
        other_province=actor_for(make_user(db, Role.REVIEWER, org=sh)),
        registrant=actor_for(make_user(db, Role.REGISTRANT, org=reg)),
        registrant_org_id=reg.id,
        other_registrant=actor_for(make_user(db, Role.REGISTRANT, org=reg2)),
        foreign=actor_for(make_user(db, Role.REGISTRANT, org=foreign)),
        foreign_org_id=foreign.id,
    )
    hospital = make_org(db, OrgKind.HOSPITAL, name="Fuwai Hospital", province="Beijing")
    for i, name in enumerate(["Zhang Wei", "Li Na", "Wang Fang", "Chen Jie"]):
        user = make_user(db, Role.EXPERT, org=hospital)
        row = experts.add_expert(
            db,
            w.office,
            {
                "user_id": user.id,
                "name": name,
                "title": "Chief physician",
                "organisation_id": hospital.id,
                "fields": ["cardiovascular", "active implants"],
                "birth_year": 1970 + i,
            },
        )
        w.experts.append((row, actor_for(user)))
    return w


def attach_dossier(
    db: Session,
    actor: Actor,
    app_id: int,
    *,
    is_domestic: bool = True,
    patent_kind: str = "granted",
    skip: tuple[DocType, ...] = (),
) -> None:
    for i, doc in enumerate(required_documents(is_domestic=is_domestic, patent_kind=patent_kind)):
        if doc in skip:
            continue
        service.attach_document(
            db,
            actor,
            app_id,
            doc_type=doc.value,
            title=f"{doc.value} document",
            filename=f"{doc.value}.pdf",
            data=PDF + str(i).encode(),
        )


def complete_draft(db: Session, w: World, actor: Actor | None = None, **overrides):
    actor = actor or w.registrant
    app = service.create_draft(db, actor, draft_data(**overrides))
    is_domestic = actor.organisation_id != w.foreign_org_id
    attach_dossier(
        db, actor, app.id, is_domestic=is_domestic, patent_kind=overrides.get("patent_kind", "granted")
    )
    return app


def to_accepted(db: Session, w: World, *, today: date = TODAY):
    app = complete_draft(db, w)
    service.submit(db, w.registrant, app.id, today=today)
    service.province_pass(db, w.province, app.id, "Meets Art.2 of No.83.", today=today)
    service.accept(db, w.office, app.id, today=today)
    return app


def to_notice(db: Session, w: World, *, today: date = TODAY):
    app = to_accepted(db, w, today=today)
    assignments = service.assign_experts(db, w.office, app.id, [e.id for e, _ in w.experts[:3]], today=today)
    by_expert = {e.id: a for e, a in w.experts}
    for a in assignments:
        service.give_opinion(
            db, by_expert[a.expert_id], a.id, "agree", "Truly novel and clinically valuable.", w.password
        )
    service.conclude(db, w.office, app.id, "propose", "The experts agree.", today=today)
    return app
