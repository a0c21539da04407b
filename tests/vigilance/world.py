"""A small world for vigilance tests: a hospital, a registrant, provincial and national monitoring
centres, and a report form (made-up data)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime

from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.clock import SHANGHAI
from tests.factories import actor_for, make_org, make_user


@dataclass
class World:
    hospital: Actor
    other_hospital: Actor
    registrant: Actor
    other_registrant: Actor
    province: Actor  # Beijing provincial centre
    other_province: Actor  # Shanghai provincial centre
    national: Actor
    admin: Actor
    public: Actor


def make_world(db) -> World:
    def actor(role, kind, **kw):
        org = make_org(db, kind, **kw)
        return actor_for(make_user(db, role, org=org))

    return World(
        hospital=actor(Role.HOSPITAL, OrgKind.HOSPITAL, province="Beijing"),
        other_hospital=actor(Role.HOSPITAL, OrgKind.HOSPITAL, province="Beijing"),
        registrant=actor(Role.REGISTRANT, OrgKind.REGISTRANT, province="Jiangsu"),
        other_registrant=actor(Role.REGISTRANT, OrgKind.REGISTRANT, province="Jiangsu"),
        province=actor(Role.MONITORING_CENTRE, OrgKind.MONITORING_CENTRE, province="Beijing"),
        other_province=actor(Role.MONITORING_CENTRE, OrgKind.MONITORING_CENTRE, province="Shanghai"),
        national=actor(Role.MONITORING_CENTRE, OrgKind.MONITORING_CENTRE, province=None),
        admin=actor_for(make_user(db, Role.ADMIN)),
        public=Actor.public(),
    )


AWARE = datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI)

FORM = {
    "reporter": {"role": "using_entity", "department": "Interventional radiology"},
    "device": {
        "generic_name": "Central venous catheter (demo)",
        "registration_number": "国械注准20253030001",
        "udi": "(01)06901234567892(11)250101(17)271231(10)LOT42(21)SN007",
        "model": "CVC-7F",
        "manufacture_date": "2025-01-01",
        "expiry_date": "2027-12-31",
    },
    "patient": {"age_years": 67, "sex": "female"},
    "event": {
        "event_date": "2025-03-02",
        "aware_at": AWARE.isoformat(),
        "province": "Beijing",
        "outcome": "serious_injury",
        "description": "During insertion the catheter tip fractured; the fragment was retrieved. "
                       "Additional surgery was needed.",
        "device_problem": "Catheter tip fracture",
        "actions_taken": "Device quarantined; registrant informed.",
    },
    "codes": {"device_problem": ["A040101"], "health_impact": ["F1901"], "component": ["G04129"]},
}


def form(**changes) -> dict:
    """A copy of FORM with ``section__field=value`` changes."""
    out = copy.deepcopy(FORM)
    for key, value in changes.items():
        section, field = key.split("__")
        out.setdefault(section, {})[field] = value
    return out
