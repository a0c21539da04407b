"""A small world for the registration tests (no tests here): CMDE, provinces, registrants at home and
abroad, an innovative application accepted into the special track, and helpers to walk a case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.calendar import add_working_days
from medreg.premarket.innovation.models import InnovationApplication
from medreg.premarket.registration import service
from tests.factories import PASSWORD, actor_for, make_org, make_user

DAY0 = date(2025, 3, 3)  # a Monday in an ordinary working month


def wd(n: int, start: date = DAY0) -> date:
    return add_working_days(start, n)


@dataclass
class World:
    cmde: Actor  # reviewer at a regulator unit: roles reviewer + office
    beijing: Actor  # reviewer at the Beijing bureau: reviewer + province
    shanghai: Actor
    registrant: Actor
    other: Actor
    foreign: Actor
    hk: Actor
    innovation_id: int
    password: str = PASSWORD


def build(db: Session) -> World:
    cmde = make_org(db, OrgKind.REGULATOR_UNIT, name="CMDE", province=None)
    bj = make_org(db, OrgKind.PROVINCIAL_BUREAU, name="Beijing MPA", province="Beijing")
    sh = make_org(db, OrgKind.PROVINCIAL_BUREAU, name="Shanghai MPA", province="Shanghai")
    reg = make_org(db, OrgKind.REGISTRANT, name="Beijing Heart Co", province="Beijing")
    other = make_org(db, OrgKind.REGISTRANT, name="Other Device Co", province="Beijing")
    foreign = make_org(db, OrgKind.REGISTRANT, name="Berlin Medical GmbH", country="DE", province=None)
    hk = make_org(db, OrgKind.REGISTRANT, name="Kowloon Devices Ltd", country="HK", province=None)
    inn = InnovationApplication(
        registrant_org_id=reg.id,
        product_name="Maglev ventricular assist device",
        proposed_class="III",
        status="approved",
    )
    db.add(inn)
    db.flush()
    return World(
        cmde=actor_for(make_user(db, Role.REVIEWER, org=cmde)),
        beijing=actor_for(make_user(db, Role.REVIEWER, org=bj)),
        shanghai=actor_for(make_user(db, Role.REVIEWER, org=sh)),
        registrant=actor_for(make_user(db, Role.REGISTRANT, org=reg)),
        other=actor_for(make_user(db, Role.REGISTRANT, org=other)),
        foreign=actor_for(make_user(db, Role.REGISTRANT, org=foreign)),
        hk=actor_for(make_user(db, Role.REGISTRANT, org=hk)),
        innovation_id=inn.id,
    )


def initial(**over) -> dict:
    data = dict(
        kind="initial",
        product_name="Maglev ventricular assist device",
        model_spec="HM-3; HM-3S",
        structure_composition="Pump, controller, driveline, batteries",
        intended_use="Long-term circulatory support in advanced heart failure",
        device_class="III",
        subcatalogue_code="12",
    )
    data.update(over)
    return data


def to_review_completed(
    db: Session, w: World, applicant: Actor, data: dict, *, regulator: Actor | None = None, start: date = DAY0
):
    """Create, submit, accept, review and complete with a favourable opinion; returns the application."""
    reg = regulator or w.cmde
    app = service.create_application(db, applicant, data, on=start)
    service.submit(db, applicant, app.id, on=start)
    service.accept(db, reg, app.id, on=wd(2, start))
    service.start_review(db, reg, app.id, on=wd(4, start))
    service.complete_review(
        db, reg, app.id, "Safe and effective; technical requirements agreed.", on=wd(30, start)
    )
    return app


def to_certificate(
    db: Session, w: World, applicant: Actor, data: dict, *, regulator: Actor | None = None, start: date = DAY0
):
    reg = regulator or w.cmde
    app = to_review_completed(db, w, applicant, data, regulator=reg, start=start)
    service.approve(db, reg, app.id, password=w.password, on=wd(35, start))
    return app, service.issue_certificate(db, reg, app.id, on=wd(38, start))
