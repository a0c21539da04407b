"""The transition table, exhaustively: every (status, action, role) combination."""

from __future__ import annotations

import pytest

from medreg.core.errors import InvalidTransition, PermissionDenied
from medreg.premarket.innovation.states import ANYONE, TABLE, Status, next_status, submit_action

S = Status
R, P, O, E = "registrant", "province", "office", "expert"  # noqa: E741
BEFORE_DECISION = (
    S.PROVINCE_REVIEW,
    S.SUBMITTED,
    S.SUPPLEMENT_REQUESTED,
    S.ACCEPTED,
    S.EXPERT_REVIEW,
    S.PUBLIC_NOTICE,
    S.DECISION_PENDING,
    S.REJECTION_PENDING,
)

# Written out independently of states.py from No.83 and CMDE 2025 No.7 (see docs/innovation-review.md).
EXPECTED = {
    (S.DRAFT, "submit"): (S.PROVINCE_REVIEW, {R}),
    (S.DRAFT, "submit_imported"): (S.SUBMITTED, {R}),
    (S.PROVINCE_REVIEW, "province_pass"): (S.SUBMITTED, {P}),
    (S.PROVINCE_REVIEW, "province_refuse"): (S.PROVINCE_REFUSED, {P}),
    (S.SUBMITTED, "accept"): (S.ACCEPTED, {O}),
    (S.SUBMITTED, "request_supplement"): (S.SUPPLEMENT_REQUESTED, {O}),
    (S.SUPPLEMENT_REQUESTED, "provide_supplement"): (S.SUBMITTED, {R}),
    (S.SUBMITTED, "refuse_acceptance"): (S.ACCEPTANCE_REFUSED, {O}),
    (S.ACCEPTED, "assign_experts"): (S.EXPERT_REVIEW, {O}),
    (S.EXPERT_REVIEW, "give_opinion"): (S.EXPERT_REVIEW, {E}),
    (S.EXPERT_REVIEW, "conclude_propose"): (S.PUBLIC_NOTICE, {O}),
    (S.EXPERT_REVIEW, "conclude_reject"): (S.REJECTION_PENDING, {O}),
    (S.ACCEPTED, "conclude_reject"): (S.REJECTION_PENDING, {O}),
    (S.PUBLIC_NOTICE, "file_objection"): (S.PUBLIC_NOTICE, set(ANYONE)),
    (S.PUBLIC_NOTICE, "answer_objection"): (S.PUBLIC_NOTICE, {O}),
    (S.PUBLIC_NOTICE, "close_notice"): (S.DECISION_PENDING, {O}),
    (S.DECISION_PENDING, "approve"): (S.APPROVED, {O}),
    (S.DECISION_PENDING, "reject"): (S.REJECTED, {O}),
    (S.REJECTION_PENDING, "reject"): (S.REJECTED, {O}),
    (S.APPROVED, "terminate"): (S.TERMINATED, {O}),
    **{(s, "withdraw"): (S.WITHDRAWN, {R}) for s in BEFORE_DECISION},
}
ROLES = sorted(ANYONE)
CASES = [(s, a, r) for s in Status for a in sorted(TABLE.actions) for r in ROLES]


def test_table_is_exactly_the_expected_one():
    got = {(t.source, t.action): (t.target, set(t.roles)) for t in TABLE}
    assert got == {(s.value, a): (t.value, roles) for (s, a), (t, roles) in EXPECTED.items()}
    assert TABLE.statuses == {s.value for s in Status}


@pytest.mark.parametrize(("status", "action", "role"), CASES)
def test_every_status_action_role(status, action, role):
    expected = EXPECTED.get((status, action))
    if expected is None:
        with pytest.raises(InvalidTransition) as err:
            next_status(status, action, {role})
        assert err.value.field == "action"
    elif role in expected[1]:
        assert next_status(status, action, {role}) == expected[0]
    else:
        with pytest.raises(PermissionDenied):
            next_status(status, action, {role})


def test_final_statuses_have_no_way_out_but_termination():
    for s in (S.PROVINCE_REFUSED, S.ACCEPTANCE_REFUSED, S.REJECTED, S.WITHDRAWN, S.TERMINATED):
        assert TABLE.allowed_actions(s) == []
    assert TABLE.allowed_actions(S.APPROVED) == ["terminate"]


def test_submit_action_depends_on_the_applicant():
    assert submit_action(True) == "submit" and submit_action(False) == "submit_imported"


def test_the_public_may_object_but_do_nothing_else():
    allowed = {
        (s.value, a)
        for s in Status
        for a in TABLE.actions
        if TABLE.get(s, a) and "public" in TABLE.get(s, a).roles
    }
    assert allowed == {("public_notice", "file_objection")}
