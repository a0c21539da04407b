"""Demo adverse-event reports (MADE UP, labelled so): ``medreg vigilance demo --count 300``.

Every device, lot, narrative and number here is invented for the demo ("（演示）" / "(demo)" in each
device name); the IMDRF codes are real codes of the shipped AET (from the imaging and AI event types and
a few common ones). Reports are filed through the service (validated, clocked, audited) by the demo
hospitals and registrants found in the database; a few share a lot within a week (a cluster alert) and
one event is reported twice (a duplicate candidate). Deterministic for a given seed.

PLANTED for the signal-detection demo: three in four reports of the CT scanner (demo) (report numbers
i with i % 20 in 1, 6, 11) carry IMDRF A051206 Unintended System Motion (Annex A level 1: A05) instead
of a drawn code, so that this certificate-event pair is disproportionate on purpose (``medreg.signals.demo``
runs an analysis that finds it). The random draws are made all the same, so the other reports keep theirs.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core.accounts import Organisation, OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.clock import SHANGHAI, today_shanghai
from medreg.core.errors import ValidationFailed
from medreg.vigilance import service
from medreg.vigilance.event_types import event_types
from medreg.vigilance.models import VigilanceCase

DEVICES = [  # (generic name, made-up certificate number, model, group)
    ("磁共振成像系统（演示）MR scanner (demo)", "国械注准20253060001", "MR-3T-D", "imaging"),
    ("X射线计算机体层摄影设备（演示）CT scanner (demo)", "国械注准20253060002", "CT-128-D", "imaging"),
    ("医用直线加速器（演示）Linear accelerator (demo)", "国械注准20253050003", "LA-6-D", "imaging"),
    ("肺结节CT影像辅助检测软件（演示）Lung nodule AI (demo)", "国械注准20253210004", "LN-AI 2.1", "ai"),
    ("眼底图像辅助诊断软件（演示）Retinal AI (demo)", "国械注准20253210005", "RA-AI 1.4", "ai"),
]
PLANTED_AT, PLANTED_CODE = (1, 6, 11), "A051206"  # i % 20 in PLANTED_AT: 3 in 4 CT reports
NARRATIVES = {
    "imaging": [
        "Image artifact appeared during the scan; the study was repeated (demo).",
        "Radiation overexposure suspected after a dose calculation error (demo).",
        "Unintended system motion of the table during positioning (demo).",
    ],
    "ai": [
        "False negative result: a nodule later confirmed was not flagged (demo).",
        "False positive result led to an unplanned biopsy (demo).",
        "Application program version upgrade problem changed the output (demo).",
    ],
}


def _actors(session: Session) -> tuple[list[Actor], list[Organisation]]:
    orgs = session.scalars(select(Organisation).order_by(Organisation.id)).all()
    hospitals = [o for o in orgs if o.kind == OrgKind.HOSPITAL]
    registrants = [o for o in orgs if o.kind == OrgKind.REGISTRANT]
    if not hospitals or not registrants:
        raise ValidationFailed("Load the demo organisations first (medreg demo load).", field="organisations")
    actors = [
        Actor(
            user_id=None,
            username="demo-loader",
            roles=frozenset({Role.HOSPITAL}),
            organisation_id=o.id,
            organisation_kind=o.kind,
            province=o.province,
        )
        for o in hospitals
    ]
    return actors, registrants


def loaded(session: Session) -> bool:
    """Whether any adverse-event report exists (``medreg demo load`` then leaves the reports alone)."""
    return session.scalar(select(VigilanceCase.id).limit(1)) is not None


def load(session: Session, count: int = 300, seed: int = 63) -> int:
    if not 1 <= count <= 5000:
        raise ValidationFailed(
            "'{name}' must be between {minimum} and {maximum}.",
            field="count",
            params={"name": "count", "minimum": 1, "maximum": 5000},
        )
    rng = random.Random(seed)
    reporters, registrants = _actors(session)
    codes = {
        g: [r for r in event_types() if r.group == g and r.imdrf_field == "device_problem"]
        for g in ("imaging", "ai")
    }
    today = today_shanghai()
    made = 0
    for i in range(count):
        cluster = i < 3  # the first three: one device, one lot, within a week
        name, number, model, group = DEVICES[0 if cluster else i % len(DEVICES)]
        reporter = reporters[i % len(reporters)]
        event_day = today - timedelta(days=(2 + i) if cluster else rng.randint(3, 180))
        aware = datetime.combine(
            event_day + timedelta(days=rng.randint(0, 2)), time(9 + i % 8), tzinfo=SHANGHAI
        )
        outcome = rng.choices(["other", "serious_injury", "death"], [70, 27, 3])[0]
        problem = rng.choice(codes[group])  # drawn always: the planted pair keeps the others' draws
        narrative = rng.choice(NARRATIVES[group])
        planted = i % 20 in PLANTED_AT
        if planted:  # the planted pair (see the module docstring)
            problem = next(r for r in codes[group] if r.imdrf_code == PLANTED_CODE)
        form = {
            "reporter": {"role": "using_entity"},
            "device": {
                "generic_name": name,
                "registration_number": number,
                "model": model,
                "lot_number": "DEMO-LOT-1" if cluster else f"DEMO-{rng.randint(100, 999)}",
                "registrant_org_id": registrants[i % len(registrants)].id,
            },
            "patient": {"age_years": rng.randint(18, 90), "sex": rng.choice(["female", "male"])},
            "event": {
                "event_date": event_day.isoformat(),
                "aware_at": aware.isoformat(),
                "province": reporter.province,
                "outcome": outcome,
                "description": NARRATIVES["imaging"][2] if planted else narrative,
            },
            "codes": {
                "device_problem": [problem.imdrf_code],
                "health_impact": ["F02"]
                if outcome == "death"
                else (["F1205"] if outcome == "serious_injury" else ["F26"]),
            },
        }
        case = service.create_report(session, reporter, form)
        if i % 10 != 9:  # one in ten stays a draft
            submitted = min(
                aware + timedelta(days=rng.choice([1, 3, 5, 12, 25])),
                datetime.combine(today, time(8), tzinfo=SHANGHAI),
            )
            if submitted > aware:
                service.submit(session, reporter, case.id, now=submitted)
        if i == 4:  # the same event reported again by the same hospital: a duplicate candidate
            again = service.create_report(session, reporter, form)
            service.submit(session, reporter, again.id, now=aware + timedelta(days=2))
            made += 1
        made += 1
    return made
