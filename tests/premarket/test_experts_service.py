"""Expert pool services: adding experts, candidates with explanations, assignment, signed opinions."""

from __future__ import annotations

from datetime import date

import pytest

from medreg.core import signatures
from medreg.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from medreg.premarket.experts import queries as expert_queries
from medreg.premarket.experts import service as experts
from medreg.premarket.innovation import service
from tests.factories import make_user
from tests.premarket.innovation_world import TODAY, build, complete_draft, to_accepted


@pytest.fixture
def w(db):
    return build(db)


def test_add_expert_validation(db, w):
    user = make_user(db, "expert")
    with pytest.raises(ValidationFailed) as err:
        experts.add_expert(
            db,
            w.office,
            {
                "user_id": user.id,
                "name": "A",
                "title": "Engineer",
                "senior_title": False,
                "fields": ["x"],
                "birth_year": 1970,
            },
        )
    assert "Art.9(2)" in err.value.message
    with pytest.raises(ValidationFailed) as err:
        experts.add_expert(
            db, w.office, {"user_id": user.id, "name": "A", "title": "Prof", "fields": [], "birth_year": 1970}
        )
    assert err.value.field == "fields"
    not_expert = make_user(db, "registrant")
    with pytest.raises(ValidationFailed) as err:
        experts.add_expert(
            db,
            w.office,
            {"user_id": not_expert.id, "name": "A", "title": "Prof", "fields": ["x"], "birth_year": 1970},
        )
    assert err.value.field == "user_id"
    with pytest.raises(Conflict):
        experts.add_expert(
            db,
            w.office,
            {
                "user_id": w.experts[0][0].user_id,
                "name": "A",
                "title": "Prof",
                "fields": ["x"],
                "birth_year": 1970,
            },
        )
    with pytest.raises(PermissionDenied):
        experts.add_expert(
            db,
            w.registrant,
            {"user_id": user.id, "name": "A", "title": "Prof", "fields": ["x"], "birth_year": 1970},
        )


def test_candidates_explain_and_assignment_refuses_conflicted(db, w):
    app = complete_draft(db, w, avoidance_request="Li Na (she advises a competitor)")
    service.submit(db, w.registrant, app.id, today=TODAY)
    service.province_pass(db, w.province, app.id, "Meets Art.2.", today=TODAY)
    service.accept(db, w.office, app.id, today=TODAY)
    zhang, li, wang, chen = (e for e, _ in w.experts)
    experts.declare_interest(
        db,
        w.experts[2][1],
        wang.id,
        {
            "organisation_id": w.registrant_org_id,
            "kind": "consulting",
            "description": "paid adviser",
            "since": date(2024, 1, 1),
        },
    )
    cands = {c.expert.name: c for c in experts.candidate_experts(db, w.office, app, today=TODAY)}
    assert cands["Li Na"].conflicted and "Art.7(13)2" in cands["Li Na"].conflicts[0].article
    assert cands["Wang Fang"].conflicted and "Art.10(4)" in cands["Wang Fang"].conflicts[0].article
    assert cands["Zhang Wei"].selectable and cands["Chen Jie"].selectable
    assert [c.expert.name for c in experts.candidate_experts(db, w.office, app, today=TODAY)][:2] == [
        "Chen Jie",
        "Zhang Wei",
    ]  # selectable first

    with pytest.raises(ValidationFailed) as err:
        service.assign_experts(db, w.office, app.id, [zhang.id, li.id, wang.id, chen.id], today=TODAY)
    assert err.value.field == "expert_ids"
    assert set(err.value.details["experts"]) == {str(li.id), str(wang.id)}
    with pytest.raises(ValidationFailed) as err:  # fewer than three
        service.assign_experts(db, w.office, app.id, [zhang.id, chen.id], today=TODAY)
    assert err.value.field == "expert_ids"
    assert app.status == "accepted"


def test_ineligible_expert_refused(db, w):
    app = to_accepted(db, w)
    old = w.experts[3][0]
    experts.update_expert(db, w.office, old.id, {"active": False})
    ids = [e.id for e, _ in w.experts]
    with pytest.raises(ValidationFailed) as err:
        service.assign_experts(db, w.office, app.id, ids, today=TODAY)
    assert "not active" in err.value.details["experts"][str(old.id)][0]["reason"]


def test_opinion_only_by_the_assigned_expert_signed_once(db, w):
    app = to_accepted(db, w)
    assignments = service.assign_experts(
        db, w.office, app.id, [e.id for e, _ in w.experts[:3]], leader_id=w.experts[1][0].id, today=TODAY
    )
    assert [a.is_leader for a in assignments] == [False, True, False]
    mine = assignments[0]
    zhang_actor, li_actor, outsider = w.experts[0][1], w.experts[1][1], w.experts[3][1]
    with pytest.raises(NotFound):
        service.give_opinion(db, outsider, mine.id, "agree", "I was not asked.", w.password)
    with pytest.raises(NotFound):
        service.give_opinion(db, li_actor, mine.id, "agree", "Not my assignment.", w.password)
    with pytest.raises(ValidationFailed) as err:
        service.give_opinion(db, zhang_actor, mine.id, "maybe", "Undecided opinion.", w.password)
    assert err.value.field == "opinion"
    with pytest.raises(ValidationFailed) as err:
        service.give_opinion(db, zhang_actor, mine.id, "agree", "Innovative indeed.", "wrong password")
    assert err.value.field == "password" and mine.opinion is None
    service.give_opinion(db, zhang_actor, mine.id, "agree", "Innovative indeed.", w.password)
    sig = db.get(signatures.ElectronicSignature, mine.signature_id)
    assert sig.meaning == "opinion_given" and sig.signer_user_id == zhang_actor.user_id
    assert signatures.verify_signature(sig, experts.opinion_content(mine))
    with pytest.raises(Conflict):
        service.give_opinion(db, zhang_actor, mine.id, "disagree", "Changed my mind.", w.password)
    assert expert_queries.tally(db, app.id) == {"agree": 1, "disagree": 0, "pending": 2}
    assert [a.id for a in expert_queries.my_assignments(db, li_actor, pending_only=True)] == [
        assignments[1].id
    ]


def test_opinion_only_during_expert_review(db, w):
    app = to_accepted(db, w)
    assignments = service.assign_experts(db, w.office, app.id, [e.id for e, _ in w.experts[:3]], today=TODAY)
    service.withdraw(db, w.registrant, app.id, "We withdraw.", today=TODAY)
    with pytest.raises(InvalidTransition):
        service.give_opinion(db, w.experts[0][1], assignments[0].id, "agree", "Too late now.", w.password)


def test_pool_is_visible_to_the_office_only(db, w):
    assert len(expert_queries.list_experts(db, w.office)) == 4
    assert [e.name for e in expert_queries.list_experts(db, w.office, field_of_expertise="Active implants")][
        :1
    ] == ["Chen Jie"]
    with pytest.raises(PermissionDenied):
        expert_queries.list_experts(db, w.registrant)
    with pytest.raises(PermissionDenied):
        experts.declare_interest(
            db, w.experts[0][1], w.experts[1][0].id, {"organisation_id": w.registrant_org_id, "kind": "gift"}
        )
