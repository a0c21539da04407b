"""Tenancy matrix: role x resource x action -> expected outcome, at the service/query layer.

The policy is the table ``MATRIX`` below (printed in ``docs/security-model.md``; a test keeps the two
identical). Outcomes: ``ok`` (done, or listed), ``NF`` NotFound (may not know it exists; for a list:
not listed), ``PD`` PermissionDenied (sees it, may not act), ``IT`` InvalidTransition (may act in
principle, not in this state), ``VF`` ValidationFailed (the input names something not the caller's).

One world is built per module (every state of both workflows); each test runs in a savepoint that
is rolled back, so every cell starts from the same world.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from medreg.core import files
from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from medreg.premarket.experts import queries as expert_queries
from medreg.premarket.innovation import queries as iq
from medreg.premarket.innovation import service as isvc
from medreg.premarket.innovation.web_common import document_response
from medreg.premarket.registration import queries as rq
from medreg.premarket.registration import service as rsvc
from medreg.premarket.registration.service_certificates import cancel_certificate
from tests.factories import PASSWORD, actor_for, make_org, make_user
from tests.premarket import innovation_world as iw
from tests.premarket.test_registration_world import initial, wd

ROLES = ("A", "B", "PA", "PO", "OFF", "EXA", "EXU", "HOS", "INS", "MON", "ADM", "PUB")
ROLE_NAMES = {
    "A": "registrant A (owner, Beijing)",
    "B": "registrant B (another organisation, Beijing)",
    "PA": "provincial reviewer of A's province (Beijing MPA)",
    "PO": "provincial reviewer of another province (Shanghai MPA)",
    "OFF": "office reviewer (CMDE: reviewer at a regulator unit)",
    "EXA": "expert assigned to the application",
    "EXU": "expert of the pool, not assigned",
    "HOS": "hospital user",
    "INS": "inspector (at the Beijing bureau)",
    "MON": "monitoring centre user",
    "ADM": "administrator",
    "PUB": "the public (no login)",
}
AFTER_NOTICE = date(2025, 4, 1)  # the notice opened on iw.TODAY has ended by then

MATRIX = """
resource                       action               A   B   PA  PO  OFF EXA EXU HOS INS MON ADM PUB
innovation (new)               create_draft         ok  ok  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD
innovation draft               list                 ok  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF
innovation draft               view                 ok  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF
innovation draft               update_draft         ok  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF
innovation draft               submit               ok  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF
innovation draft               withdraw             IT  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF
innovation province_review     view                 ok  NF  ok  NF  ok  NF  NF  NF  NF  NF  NF  NF
innovation province_review     province_pass        PD  NF  ok  NF  PD  NF  NF  NF  NF  NF  NF  NF
innovation province_review     province_refuse      PD  NF  ok  NF  PD  NF  NF  NF  NF  NF  NF  NF
innovation submitted           list                 ok  NF  ok  NF  ok  NF  NF  NF  NF  NF  NF  NF
innovation submitted           view                 ok  NF  ok  NF  ok  NF  NF  NF  NF  NF  NF  NF
innovation submitted           timeline             ok  NF  ok  NF  ok  NF  NF  NF  NF  NF  NF  NF
innovation submitted           accept               PD  NF  PD  NF  ok  NF  NF  NF  NF  NF  NF  NF
innovation submitted           request_supplement   PD  NF  PD  NF  ok  NF  NF  NF  NF  NF  NF  NF
innovation submitted           refuse_acceptance    PD  NF  PD  NF  ok  NF  NF  NF  NF  NF  NF  NF
innovation submitted           withdraw             ok  NF  PD  NF  PD  NF  NF  NF  NF  NF  NF  NF
innovation supplement_req.     provide_supplement   ok  NF  PD  NF  PD  NF  NF  NF  NF  NF  NF  NF
innovation accepted            assign_experts       PD  NF  PD  NF  ok  NF  NF  NF  NF  NF  NF  NF
innovation expert_review       view                 ok  NF  ok  NF  ok  ok  NF  NF  NF  NF  NF  NF
innovation expert_review       see_expert_identity  NF  NF  NF  NF  ok  ok  NF  NF  NF  NF  NF  NF
innovation expert_review       conclude             PD  NF  PD  NF  IT  PD  NF  NF  NF  NF  NF  NF
expert assignment              view                 NF  NF  NF  NF  ok  ok  NF  NF  NF  NF  ok  NF
expert assignment              give_opinion         NF  NF  NF  NF  PD  ok  NF  NF  NF  NF  NF  NF
expert pool                    list                 PD  PD  PD  PD  ok  PD  PD  PD  PD  PD  ok  PD
public notice                  list                 ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok
public notice                  file_objection       ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok
public notice                  list_objections      ok  NF  ok  NF  ok  ok  NF  NF  NF  NF  NF  NF
public notice                  answer_objection     PD  NF  PD  NF  ok  PD  NF  NF  NF  NF  NF  NF
public notice                  close_notice         PD  NF  PD  NF  IT  PD  NF  NF  NF  NF  NF  NF
innovation decision_pending    decide               PD  NF  PD  NF  ok  PD  NF  NF  NF  NF  NF  NF
innovation approved            terminate            PD  NF  PD  NF  ok  PD  NF  NF  NF  NF  NF  NF
dossier document (draft)       download             ok  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF
dossier document (submitted)   download             ok  NF  ok  NF  ok  NF  NF  NF  NF  NF  NF  NF
dossier document (submitted)   attach               IT  NF  PD  NF  PD  NF  NF  NF  NF  NF  NF  NF
registration (new)             create               ok  ok  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD
registration draft             list                 ok  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF
registration draft             view                 ok  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF
registration draft             update               ok  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF
registration draft             submit               ok  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF  NF
registration submitted         list                 ok  NF  ok  ok  ok  NF  NF  NF  NF  NF  ok  NF
registration submitted         view                 ok  NF  ok  ok  ok  NF  NF  NF  NF  NF  ok  NF
registration submitted         history              ok  NF  ok  ok  ok  NF  NF  NF  NF  NF  ok  NF
registration submitted         accept               PD  NF  PD  PD  ok  NF  NF  NF  NF  NF  PD  NF
registration submitted         withdraw             ok  NF  PD  PD  PD  NF  NF  NF  NF  NF  PD  NF
registration accepted          start_review         PD  NF  PD  PD  ok  NF  NF  NF  NF  NF  PD  NF
registration review_completed  approve              PD  NF  PD  PD  ok  NF  NF  NF  NF  NF  PD  NF
certificate                    list                 ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok
certificate                    view                 ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok
certificate                    cancel               PD  PD  PD  PD  ok  PD  PD  PD  PD  PD  ok  PD
certificate (class II)         cancel               PD  PD  ok  PD  PD  PD  PD  PD  PD  PD  ok  PD
obligation                     list                 ok  NF  ok  ok  ok  NF  NF  NF  NF  NF  ok  NF
obligation                     of_certificate       ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok
obligation                     fulfil               ok  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD
obligation                     mark_late            PD  PD  ok  ok  ok  PD  PD  PD  PD  PD  ok  PD
consultation (new)             request              ok  VF  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD
consultation                   list                 ok  NF  NF  NF  ok  NF  NF  NF  NF  NF  ok  NF
consultation                   view                 ok  NF  NF  NF  ok  NF  NF  NF  NF  NF  ok  NF
consultation                   answer               PD  NF  NF  NF  ok  NF  NF  NF  NF  NF  PD  NF
consultation                   withdraw             ok  NF  NF  NF  PD  NF  NF  NF  NF  NF  PD  NF
"""


def parse_matrix(text: str = MATRIX) -> list[tuple[str, str, dict[str, str]]]:
    rows = []
    for line in text.strip().splitlines()[1:]:
        resource, action, cells = line[:31].strip(), line[31:52].strip(), line[52:].split()
        assert len(cells) == len(ROLES), line
        rows.append((resource, action, dict(zip(ROLES, cells, strict=True))))
    return rows


# --- the world ------------------------------------------------------------------------------------
@dataclass
class World:
    w: iw.World
    actors: dict[str, Actor]
    inv: dict[str, int] = field(default_factory=dict)  # innovation application ids by state
    reg: dict[str, int] = field(default_factory=dict)  # registration application ids by state
    ids: dict[str, int] = field(default_factory=dict)  # other records


def _doc_id(db: Session, actor: Actor, app_id: int) -> int:
    return iq.get_for(db, actor, app_id).documents[0].id


def build_world(db: Session) -> World:
    w = iw.build(db)
    hospital = make_org(db, OrgKind.HOSPITAL, name="Peking Union Hospital")
    inspectorate = make_org(db, OrgKind.PROVINCIAL_BUREAU, name="Beijing inspectorate", province="Beijing")
    centre = make_org(db, OrgKind.MONITORING_CENTRE, name="National ADR monitoring centre", province=None)
    actors = {
        "A": w.registrant,
        "B": w.other_registrant,
        "PA": w.province,
        "PO": w.other_province,
        "OFF": w.office,
        "EXA": w.experts[0][1],
        "EXU": w.experts[3][1],
        "HOS": actor_for(make_user(db, Role.HOSPITAL, org=hospital)),
        "INS": actor_for(make_user(db, Role.INSPECTOR, org=inspectorate)),
        "MON": actor_for(make_user(db, Role.MONITORING_CENTRE, org=centre)),
        "ADM": actor_for(make_user(db, Role.ADMIN)),
        "PUB": Actor.public(),
    }
    t, a, off = iw.TODAY, w.registrant, w.office
    world = World(w=w, actors=actors)
    inv = world.inv
    inv["draft"] = iw.complete_draft(db, w).id
    inv["province_review"] = iw.complete_draft(db, w, product_name="Pre-review device").id
    isvc.submit(db, a, inv["province_review"], today=t)
    inv["submitted"] = iw.complete_draft(db, w, product_name="Submitted device").id
    isvc.submit(db, a, inv["submitted"], today=t)
    isvc.province_pass(db, w.province, inv["submitted"], "Meets Art.2 of No.83.", today=t)
    inv["supplement"] = iw.complete_draft(db, w, product_name="Supplement device").id
    isvc.submit(db, a, inv["supplement"], today=t)
    isvc.province_pass(db, w.province, inv["supplement"], "Meets Art.2 of No.83.", today=t)
    isvc.request_supplement(db, off, inv["supplement"], "Add the clinical summary.", today=t)
    isvc.attach_document(
        db,
        a,
        inv["supplement"],
        doc_type="supplement",
        title="Clinical summary",
        filename="summary.pdf",
        data=iw.PDF + b"supplement",
    )
    inv["accepted"] = iw.to_accepted(db, w).id
    inv["expert_review"] = iw.to_accepted(db, w).id
    rows = isvc.assign_experts(db, off, inv["expert_review"], [e.id for e, _ in w.experts[:3]], today=t)
    world.ids["assignment"] = next(r.id for r in rows if r.expert_id == w.experts[0][0].id)
    inv["notice"] = iw.to_notice(db, w).id
    notice_id = iq.get_for(db, off, inv["notice"]).notices[0].id
    world.ids["notice"] = notice_id
    obj = isvc.file_objection(
        db,
        Actor.public(),
        notice_id,
        {"name": "Dr Objector", "contact": "obj@example.org", "text": "The patent does not cover the pump."},
        today=t,
    )
    world.ids["objection"] = obj.id
    inv["decision_pending"] = iw.to_notice(db, w).id
    isvc.close_notice(db, off, inv["decision_pending"], today=AFTER_NOTICE)
    inv["approved"] = iw.to_notice(db, w).id
    isvc.close_notice(db, off, inv["approved"], today=AFTER_NOTICE)
    isvc.decide(db, off, inv["approved"], approve=True, reasons=None, password=PASSWORD, today=AFTER_NOTICE)
    world.ids["doc_draft"] = _doc_id(db, a, inv["draft"])
    world.ids["doc_submitted"] = _doc_id(db, a, inv["submitted"])
    _build_registration(db, world)
    db.flush()
    return world


def _build_registration(db: Session, world: World) -> None:
    a, off, reg, d0 = world.actors["A"], world.actors["OFF"], world.reg, iw.TODAY
    reg["draft"] = rsvc.create_application(db, a, initial(), on=d0).id
    for name in ("submitted", "accepted", "review_completed", "conditional"):
        reg[name] = rsvc.create_application(db, a, initial(product_name=f"Reg {name}"), on=d0).id
        rsvc.submit(db, a, reg[name], on=d0)
    for name in ("accepted", "review_completed", "conditional"):
        rsvc.accept(db, off, reg[name], on=wd(2, d0))
    for name in ("review_completed", "conditional"):
        rsvc.start_review(db, off, reg[name], on=wd(4, d0))
        rsvc.complete_review(db, off, reg[name], "Safe and effective.", on=wd(30, d0))
    rsvc.approve_conditionally(
        db,
        off,
        reg["conditional"],
        {
            "ground": "life_threatening",
            "conditions": [{"description": "Complete the 2-year follow-up", "due_on": "2027-06-30"}],
        },
        password=PASSWORD,
        on=wd(35, d0),
    )
    cert = rsvc.issue_certificate(db, off, reg["conditional"], on=wd(38, d0))
    world.ids["certificate"] = cert.id
    pa = world.actors["PA"]  # domestic Class II: the Beijing bureau decides (Order 47 Art.8)
    app2 = rsvc.create_application(db, a, initial(product_name="Class II pump", device_class="II"), on=d0)
    rsvc.submit(db, a, app2.id, on=d0)
    rsvc.accept(db, pa, app2.id, on=wd(2, d0))
    rsvc.start_review(db, pa, app2.id, on=wd(4, d0))
    rsvc.complete_review(db, pa, app2.id, "Safe and effective.", on=wd(30, d0))
    rsvc.approve(db, pa, app2.id, password=PASSWORD, on=wd(35, d0))
    world.ids["cert_class2"] = rsvc.issue_certificate(db, pa, app2.id, on=wd(38, d0)).id
    world.ids["obligation"] = rq.obligations_for(db, off, cert.id)[0].id
    world.ids["evidence"] = files.store(db, a, filename="follow-up.pdf", data=iw.PDF + b"evidence").id
    world.ids["consultation"] = rsvc.request_consultation(
        db,
        a,
        {
            "innovation_application_id": world.inv["approved"],
            "topic": "clinical_trial_protocol",
            "question": "Is a single-arm trial acceptable?",
        },
        on=d0,
    ).id


# --- the actions (one callable per matrix row) ------------------------------------------------------
class Hidden(Exception):
    """A list that does not contain the record: reported as NF."""


def listed(ids, wanted: int):
    if wanted not in {x.id for x in ids}:
        raise Hidden
    return True


def _ids(w: World):
    return w.inv, w.reg, w.ids


def _visible_assignments(db, w, actor):
    detail = iq.get_for(db, actor, w.inv["expert_review"])
    if not detail.assignments:
        raise Hidden
    uid = actor.user_id
    if "office" not in actor.workflow_roles:  # an expert sees only its own assignment (CMDE Art.18)
        assert {a["id"] for a in detail.assignments} == {w.ids["assignment"]}, uid
    return True


T, LATER = iw.TODAY, AFTER_NOTICE
R = "The reason is given here."
ACTIONS = {
    ("innovation (new)", "create_draft"): lambda db, w, x: isvc.create_draft(db, x, iw.draft_data()),
    ("innovation draft", "list"): lambda db, w, x: listed(iq.list_for(db, x), w.inv["draft"]),
    ("innovation draft", "view"): lambda db, w, x: iq.get_for(db, x, w.inv["draft"]),
    ("innovation draft", "update_draft"): lambda db, w, x: isvc.update_draft(
        db, x, w.inv["draft"], {"product_name": "Renamed"}
    ),
    ("innovation draft", "submit"): lambda db, w, x: isvc.submit(db, x, w.inv["draft"], today=T),
    ("innovation draft", "withdraw"): lambda db, w, x: isvc.withdraw(db, x, w.inv["draft"], R, today=T),
    ("innovation province_review", "view"): lambda db, w, x: iq.get_for(db, x, w.inv["province_review"]),
    ("innovation province_review", "province_pass"): lambda db, w, x: isvc.province_pass(
        db, x, w.inv["province_review"], R, today=T
    ),
    ("innovation province_review", "province_refuse"): lambda db, w, x: isvc.province_refuse(
        db, x, w.inv["province_review"], R, today=T
    ),
    ("innovation submitted", "list"): lambda db, w, x: listed(iq.list_for(db, x), w.inv["submitted"]),
    ("innovation submitted", "view"): lambda db, w, x: iq.get_for(db, x, w.inv["submitted"]),
    ("innovation submitted", "timeline"): lambda db, w, x: iq.timeline(db, x, w.inv["submitted"]),
    ("innovation submitted", "accept"): lambda db, w, x: isvc.accept(db, x, w.inv["submitted"], today=T),
    ("innovation submitted", "request_supplement"): lambda db, w, x: isvc.request_supplement(
        db, x, w.inv["submitted"], R, today=T
    ),
    ("innovation submitted", "refuse_acceptance"): lambda db, w, x: isvc.refuse_acceptance(
        db, x, w.inv["submitted"], R, today=T
    ),
    ("innovation submitted", "withdraw"): lambda db, w, x: isvc.withdraw(
        db, x, w.inv["submitted"], R, today=T
    ),
    ("innovation supplement_req.", "provide_supplement"): lambda db, w, x: isvc.provide_supplement(
        db, x, w.inv["supplement"], "Summary attached.", today=T
    ),
    ("innovation accepted", "assign_experts"): lambda db, w, x: isvc.assign_experts(
        db, x, w.inv["accepted"], [e.id for e, _ in w.w.experts[:3]], today=T
    ),
    ("innovation expert_review", "view"): lambda db, w, x: iq.get_for(db, x, w.inv["expert_review"]),
    ("innovation expert_review", "see_expert_identity"): _visible_assignments,
    ("innovation expert_review", "conclude"): lambda db, w, x: isvc.conclude(
        db, x, w.inv["expert_review"], "reject", R, today=T
    ),
    ("expert assignment", "view"): lambda db, w, x: expert_queries.get_assignment(db, x, w.ids["assignment"]),
    ("expert assignment", "give_opinion"): lambda db, w, x: isvc.give_opinion(
        db, x, w.ids["assignment"], "agree", "Novel and valuable.", PASSWORD
    ),
    ("expert pool", "list"): lambda db, w, x: expert_queries.list_experts(db, x),
    ("public notice", "list"): lambda db, w, x: listed(iq.public_notices(db, T), w.ids["notice"]),
    ("public notice", "file_objection"): lambda db, w, x: isvc.file_objection(
        db,
        x,
        w.ids["notice"],
        {"name": "Someone", "contact": "s@example.org", "text": "Another objection."},
        today=T,
    ),
    ("public notice", "list_objections"): lambda db, w, x: iq.objections_for(db, x, w.inv["notice"]),
    ("public notice", "answer_objection"): lambda db, w, x: isvc.answer_objection(
        db, x, w.ids["objection"], "The patent covers the pump (claim 3)."
    ),
    ("public notice", "close_notice"): lambda db, w, x: isvc.close_notice(db, x, w.inv["notice"], today=T),
    ("innovation decision_pending", "decide"): lambda db, w, x: isvc.decide(
        db, x, w.inv["decision_pending"], approve=True, reasons=None, password=PASSWORD, today=LATER
    ),
    ("innovation approved", "terminate"): lambda db, w, x: isvc.terminate(
        db, x, w.inv["approved"], "applicant_request", R
    ),
    ("dossier document (draft)", "download"): lambda db, w, x: document_response(
        db, x, w.inv["draft"], w.ids["doc_draft"]
    ),
    ("dossier document (submitted)", "download"): lambda db, w, x: document_response(
        db, x, w.inv["submitted"], w.ids["doc_submitted"]
    ),
    ("dossier document (submitted)", "attach"): lambda db, w, x: isvc.attach_document(
        db,
        x,
        w.inv["submitted"],
        doc_type="supplement",
        title="Late",
        filename="late.pdf",
        data=iw.PDF + b"late",
    ),
    ("registration (new)", "create"): lambda db, w, x: rsvc.create_application(db, x, initial(), on=T),
    ("registration draft", "list"): lambda db, w, x: listed(rq.list_applications(db, x), w.reg["draft"]),
    ("registration draft", "view"): lambda db, w, x: rq.get_application(db, x, w.reg["draft"]),
    ("registration draft", "update"): lambda db, w, x: rsvc.update_application(
        db, x, w.reg["draft"], {"model_spec": "HM-4"}
    ),
    ("registration draft", "submit"): lambda db, w, x: rsvc.submit(db, x, w.reg["draft"], on=T),
    ("registration submitted", "list"): lambda db, w, x: listed(
        rq.list_applications(db, x), w.reg["submitted"]
    ),
    ("registration submitted", "view"): lambda db, w, x: rq.get_application(db, x, w.reg["submitted"]),
    ("registration submitted", "history"): lambda db, w, x: rq.application_history(db, x, w.reg["submitted"]),
    ("registration submitted", "accept"): lambda db, w, x: rsvc.accept(
        db, x, w.reg["submitted"], on=wd(2, T)
    ),
    ("registration submitted", "withdraw"): lambda db, w, x: rsvc.withdraw(
        db, x, w.reg["submitted"], R, on=T
    ),
    ("registration accepted", "start_review"): lambda db, w, x: rsvc.start_review(
        db, x, w.reg["accepted"], on=wd(4, T)
    ),
    ("registration review_completed", "approve"): lambda db, w, x: rsvc.approve(
        db, x, w.reg["review_completed"], password=PASSWORD, on=wd(35, T)
    ),
    ("certificate", "list"): lambda db, w, x: listed(rq.list_certificates(db, x), w.ids["certificate"]),
    ("certificate", "view"): lambda db, w, x: rq.get_certificate(db, x, w.ids["certificate"]),
    ("certificate", "cancel"): lambda db, w, x: cancel_certificate(db, x, w.ids["certificate"], R),
    ("certificate (class II)", "cancel"): lambda db, w, x: cancel_certificate(db, x, w.ids["cert_class2"], R),
    ("obligation", "list"): lambda db, w, x: listed(rq.list_obligations(db, x), w.ids["obligation"]),
    ("obligation", "of_certificate"): lambda db, w, x: listed(
        rq.obligations_for(db, x, w.ids["certificate"]), w.ids["obligation"]
    ),
    ("obligation", "fulfil"): lambda db, w, x: rsvc.fulfil_obligation(
        db, x, w.ids["obligation"], evidence_file_id=w.ids["evidence"], on=date(2026, 1, 5)
    ),
    ("obligation", "mark_late"): lambda db, w, x: rsvc.mark_late_obligations(db, x, date(2027, 7, 1)),
    ("consultation (new)", "request"): lambda db, w, x: rsvc.request_consultation(
        db,
        x,
        {
            "innovation_application_id": w.inv["approved"],
            "topic": "major_safety",
            "question": "Haemolysis limits?",
        },
        on=T,
    ),
    ("consultation", "list"): lambda db, w, x: listed(rq.list_consultations(db, x), w.ids["consultation"]),
    ("consultation", "view"): lambda db, w, x: rq.get_consultation(db, x, w.ids["consultation"]),
    ("consultation", "answer"): lambda db, w, x: rsvc.answer_consultation(
        db, x, w.ids["consultation"], "A single-arm trial is acceptable.", on=T
    ),
    ("consultation", "withdraw"): lambda db, w, x: rsvc.withdraw_consultation(
        db, x, w.ids["consultation"], on=T
    ),
}


def outcome(fn) -> str:
    try:
        fn()
    except Hidden:
        return "NF"
    except NotFound:
        return "NF"
    except PermissionDenied:
        return "PD"
    except InvalidTransition:
        return "IT"
    except ValidationFailed:
        return "VF"
    return "ok"


# --- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world_session(engine: Engine):
    with engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session, build_world(session)
        finally:
            session.close()
            outer.rollback()


@pytest.fixture
def cell(world_session):
    """The module's world, inside a savepoint rolled back after the test."""
    session, world = world_session
    savepoint = session.begin_nested()
    try:
        yield session, world
    finally:
        if savepoint.is_active:
            savepoint.rollback()
        session.expire_all()


CASES = [(res, act, role, exp[role]) for res, act, exp in parse_matrix() for role in ROLES]


@pytest.mark.parametrize(
    "resource,action,role,expected", CASES, ids=[f"{r}|{a}|{who}" for r, a, who, _ in CASES]
)
def test_matrix(cell, resource, action, role, expected):
    db, world = cell
    fn = ACTIONS[(resource, action)]
    got = outcome(lambda: fn(db, world, world.actors[role]))
    assert got == expected, f"{ROLE_NAMES[role]} / {resource} / {action}: expected {expected}, got {got}"


def test_every_row_has_an_action_and_every_action_a_row():
    assert {(r, a) for r, a, _ in parse_matrix()} == set(ACTIONS)


def test_objector_contact_is_shown_to_the_office_only(cell):
    db, world = cell
    for role in ("A", "PA", "EXA", "OFF"):
        rows = iq.objections_for(db, world.actors[role], world.inv["notice"])
        assert [o.id for o in rows] == [world.ids["objection"]]
        assert (rows[0].contact is not None) is (role == "OFF"), role


def test_queues_and_dashboards_do_not_leak(cell):
    db, world = cell
    ids = set(world.inv.values())
    for role in ("B", "EXU", "HOS", "INS", "MON", "ADM", "PUB"):
        actor = world.actors[role]
        assert not {i.application_id for i in iq.reviewer_queue(db, actor, T)} & ids, role
        assert iq.what_is_asked_of(db, actor, T) == [] or role == "B", role
        assert rq.reviewer_queue(db, actor, T) == [] or role == "ADM", role
    for t in iq.what_is_asked_of(db, world.actors["B"], T):
        assert t.application_id not in ids


def test_docs_print_the_same_matrix():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "security-model.md").read_text(encoding="utf-8")
    cells = {re.sub(r"\s+", " ", line.strip(" |")) for line in doc.splitlines() if line.startswith("|")}
    cells = {c.replace(" | ", " ") for c in cells}
    for res, act, exp in parse_matrix():
        row = " ".join([res, act, *(exp[r] for r in ROLES)])
        assert re.sub(r"\s+", " ", row) in cells, f"docs/security-model.md lacks the row: {row}"
    for route, exp in parse_http_matrix():
        row = " ".join([f"`{route}`", *(str(exp[r]) for r in ROLES)])
        assert row in cells, f"docs/security-model.md lacks the HTTP row: {row}"


# --- the same policy over HTTP, for a sample of routes ----------------------------------------------
# Status codes as each role (bearer token for /api, session cookie for pages): 401 = API without
# login, 303 = a page redirecting the public to /login. Placeholders name ids of the world.
HTTP_MATRIX = """
route                                                   A   B   PA  PO  OFF EXA EXU HOS INS MON ADM PUB
/api/innovation/applications/{inv.submitted}            200 404 200 404 200 404 404 404 404 404 404 401
/api/innovation/applications/{inv.expert_review}        200 404 200 404 200 200 404 404 404 404 404 401
/api/innovation/applications/{inv.draft}                200 404 404 404 404 404 404 404 404 404 404 401
/innovation/{inv.submitted}                             200 404 200 404 200 404 404 404 404 404 404 303
/innovation/{inv.draft}                                 200 404 404 404 404 404 404 404 404 404 404 303
/innovation/{inv.submitted}/documents/{doc_submitted}   200 404 200 404 200 404 404 404 404 404 404 303
/api/innovation/applications/{inv.notice}/objections    200 404 200 404 200 200 404 404 404 404 404 401
/public/notices                                         200 200 200 200 200 200 200 200 200 200 200 200
/api/registration/applications/{reg.submitted}          200 404 200 200 200 404 404 404 404 404 200 401
/api/registration/applications/{reg.draft}              200 404 404 404 404 404 404 404 404 404 404 401
/registration/{reg.submitted}                           200 404 200 200 200 404 404 404 404 404 200 303
/api/registration/certificates/{certificate}            200 200 200 200 200 200 200 200 200 200 200 200
/api/registration/consultations/{consultation}          200 404 404 404 200 404 404 404 404 404 200 401
/registration/consultations/{consultation}              200 404 404 404 200 404 404 404 404 404 200 303
/api/experts                                            403 403 403 403 200 403 403 403 403 403 200 401
/api/experts/assignments/{assignment}                   404 404 404 404 200 200 404 404 404 404 200 401
"""


def parse_http_matrix() -> list[tuple[str, dict[str, int]]]:
    rows = []
    for line in HTTP_MATRIX.strip().splitlines()[1:]:
        route, *cells = line.split()
        rows.append((route, dict(zip(ROLES, map(int, cells), strict=True))))
    return rows


def resolve(route: str, world: World) -> str:
    def value(m: re.Match) -> str:
        group, _, key = m.group(1).rpartition(".")
        return str({"inv": world.inv, "reg": world.reg, "": world.ids}[group][key])

    return re.sub(r"\{([\w.]+)\}", value, route)


@pytest.fixture(scope="module")
def http(world_session):
    """An app bound to the module's world; a client per role (token for /api, cookie for pages)."""
    from fastapi.testclient import TestClient

    from medreg.core import auth
    from medreg.web.app import create_app
    from tests.web.conftest import bind_session, login

    session, world = world_session
    app = create_app()
    bind_session(app, session)
    tokens = {
        r: auth.issue_token(session, a, a.user_id, "matrix") for r, a in world.actors.items() if a.user_id
    }
    session.commit()
    clients = {}
    for role, actor in world.actors.items():
        client = TestClient(app, follow_redirects=False, raise_server_exceptions=False).__enter__()
        if actor.user_id is not None:
            assert login(client, actor.username).status_code == 303, role
        clients[role] = client
    yield world, clients, tokens
    for client in clients.values():
        client.__exit__(None, None, None)


HTTP_CASES = [(route, role, exp[role]) for route, exp in parse_http_matrix() for role in ROLES]


@pytest.mark.parametrize("route,role,expected", HTTP_CASES, ids=[f"{r}|{who}" for r, who, _ in HTTP_CASES])
def test_http_matrix(http, route, role, expected):
    world, clients, tokens = http
    headers = (
        {"Authorization": f"Bearer {tokens[role]}"} if route.startswith("/api/") and role in tokens else {}
    )
    client = clients[role]
    if route.startswith("/api/") and headers:  # API as a token client (no cookie session involved)
        client = clients["PUB"]
    response = client.get(resolve(route, world), headers=headers)
    assert response.status_code == expected, f"{ROLE_NAMES[role]} GET {route}: {response.text[:300]}"
    if expected == 303:
        assert response.headers["location"].startswith("/login?next=")
