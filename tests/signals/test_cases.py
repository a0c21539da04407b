"""Signal cases: opening from a scoring run, appended statistics, the state machine, tenancy, audit."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select

from medreg.core.accounts import OrgKind, Role
from medreg.core.audit import AuditEvent
from medreg.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from medreg.signals import queries, service
from medreg.signals.criteria import SignalCriteria
from medreg.signals.states import TABLE, Status
from tests.factories import actor_for, make_actor, make_org, make_user


def _run(n11=(5, 1, 8), eb05=(2.5, 3.0, 1.2)):
    return {"device": np.array(["DEV-A", "DEV-A", "DEV-B"], dtype=object),
            "event": np.array(["E1", "E2", "E1"], dtype=object),
            "n11": np.array(n11), "expected": np.array([0.5, 0.1, 3.0]),
            "prr": np.array([12.0, np.inf, 2.7]), "eb05": np.array(eb05), "ebgm": np.array([4.0, 3.5, 2.0])}


@pytest.fixture
def world(db):
    centre = make_actor(db, Role.MONITORING_CENTRE, OrgKind.MONITORING_CENTRE)
    maker = make_org(db, OrgKind.REGISTRANT)
    other = make_org(db, OrgKind.REGISTRANT)
    reg = actor_for(make_user(db, Role.REGISTRANT, org=maker))
    stranger = actor_for(make_user(db, Role.REGISTRANT, org=other))
    hospital = make_actor(db, Role.HOSPITAL, OrgKind.HOSPITAL)
    return {"centre": centre, "reg": reg, "stranger": stranger, "hospital": hospital, "maker": maker}


def _audit(db, action):
    return db.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_a_run_opens_cases_for_flagged_pairs_and_a_second_run_appends(db, world):
    crit = SignalCriteria("ebgm")  # EB05 > 2 and n11 >= 3
    out = service.record_run(db, world["centre"], _run(), criteria=crit, run_label="2026-11 weekly",
                             owners={"DEV-A": world["maker"].id})
    assert (out.opened, out.updated) == (1, 0)  # DEV-A|E2 has n11 = 1, DEV-B|E1 EB05 1.2
    (case,) = queries.list_cases(db, world["centre"])
    assert (case.device, case.event, case.status) == ("DEV-A", "E1", Status.NEW)
    assert case.criteria == "EB05 > 2 and n11 >= 3"
    out = service.record_run(db, world["centre"], _run(n11=(6, 1, 8)), criteria=crit, run_label="2026-12")
    assert (out.opened, out.updated) == (0, 1)
    db.refresh(case)
    assert [s.n11 for s in case.stats] == [5, 6] and [s.run_label for s in case.stats] == ["2026-11 weekly",
                                                                                             "2026-12"]
    assert case.stats[0].ebgm == 4.0 and case.stats[0].ic025 is None
    assert len(_audit(db, "signals.case.open")) == 1 and len(_audit(db, "signals.case.stats")) == 2


def test_non_finite_statistics_are_stored_as_null(db, world):
    service.record_run(db, world["centre"], _run(n11=(5, 4, 8), eb05=(2.5, 3.0, 1.2)),
                       criteria=SignalCriteria("ebgm"), run_label="r1")
    case = next(c for c in queries.list_cases(db, world["centre"]) if c.event == "E2")
    assert case.stats[0].prr is None


def test_the_case_walks_its_states_with_audit_and_locking(db, world):
    service.record_run(db, world["centre"], _run(), criteria=SignalCriteria("ebgm"), run_label="r1",
                       owners={"DEV-A": world["maker"].id})
    (case,) = queries.list_cases(db, world["centre"])
    c = world["centre"]
    service.act(db, c, case.id, "validate", expected_version=case.version)
    with pytest.raises(Conflict):
        service.act(db, c, case.id, "assess", expected_version=1)
    service.act(db, c, case.id, "assess", expected_version=case.version, reason="Cluster confirmed.")
    with pytest.raises(ValidationFailed) as err:
        service.act(db, c, case.id, "decide_action", decision="pray")
    assert err.value.field == "decision"
    with pytest.raises(ValidationFailed) as err:
        service.act(db, c, case.id, "decide_action", decision="request_evaluation")
    assert err.value.field == "due_days"
    service.act(db, c, case.id, "decide_action", decision="request_evaluation", due_days=30)
    assert (case.response_due_at - case.updated_at).days == 30 and service.response_late(case) is False
    assert queries.may_respond(world["reg"], case) and not queries.may_respond(world["stranger"], case)
    with pytest.raises(NotFound):
        service.respond(db, world["stranger"], case.id, "Not ours.")
    with pytest.raises(PermissionDenied):
        service.respond(db, c, case.id, "The centre cannot answer for the registrant.")
    with pytest.raises(ValidationFailed) as err:
        service.respond(db, world["reg"], case.id, "  ")
    assert err.value.field == "response"
    service.respond(db, world["reg"], case.id, "Root cause: a weak tip weld in lot 42; CAPA opened.",
                    expected_version=case.version)
    assert case.responded_at is not None and service.response_late(case) is False
    assert _audit(db, "signals.case.respond")[0].after["late"] is False
    with pytest.raises(ValidationFailed):
        service.respond(db, world["reg"], case.id, "Again.")
    case.response_due_at = case.responded_at - timedelta(days=1)
    assert service.response_late(case) is True
    with pytest.raises(InvalidTransition):
        service.act(db, c, case.id, "dismiss", reason="too late")
    service.act(db, c, case.id, "close")
    assert case.status == Status.CLOSED and case.decision == "request_evaluation"
    events = _audit(db, "signals.case.assess")
    assert events and events[0].before["status"] == "validated" and events[0].after["status"] == "assessed"
    # a closed case is history: the next run opens a new case for the same pair
    out = service.record_run(db, c, _run(), criteria=SignalCriteria("ebgm"), run_label="r2")
    assert out.opened == 1


def test_dismissal_needs_a_reason(db, world):
    service.record_run(db, world["centre"], _run(), criteria=SignalCriteria("ebgm"), run_label="r1")
    (case,) = queries.list_cases(db, world["centre"])
    with pytest.raises(ValidationFailed) as err:
        service.act(db, world["centre"], case.id, "dismiss", reason="  ")
    assert err.value.field == "reason"
    service.act(db, world["centre"], case.id, "dismiss", reason="Known, labelled risk.")
    assert case.status == Status.DISMISSED


def test_registrants_see_only_their_devices_and_cannot_move_cases(db, world):
    service.record_run(db, world["centre"], _run(), criteria=SignalCriteria("ebgm"), run_label="r1",
                       owners={"DEV-A": world["maker"].id})
    (case,) = queries.list_cases(db, world["centre"])
    assert [c.id for c in queries.list_cases(db, world["reg"])] == [case.id]
    assert queries.list_cases(db, world["stranger"]) == [] and queries.list_cases(db, world["hospital"]) == []
    assert queries.get_case(db, world["reg"], case.id).id == case.id
    with pytest.raises(NotFound):
        queries.get_case(db, world["stranger"], case.id)
    with pytest.raises(PermissionDenied):
        service.act(db, world["reg"], case.id, "validate")
    with pytest.raises(NotFound):
        service.act(db, world["stranger"], case.id, "validate")
    with pytest.raises(PermissionDenied):
        service.record_run(db, world["reg"], _run(), criteria=SignalCriteria("ebgm"), run_label="x")


def test_transition_table_covers_the_issue_states():
    assert TABLE.statuses == {s.value for s in Status}
    assert TABLE.allowed_actions(Status.NEW) == ["dismiss", "validate"]
