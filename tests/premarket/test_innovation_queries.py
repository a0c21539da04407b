"""Read side: lists with tenancy, the reviewer queue, public notices, the registrant's tasks."""

from __future__ import annotations

from datetime import date

import pytest

from medreg.core.actor import Actor
from medreg.core.calendar import add_working_days
from medreg.premarket.innovation import queries, service
from tests.premarket.innovation_world import TODAY, build, complete_draft, to_accepted, to_notice


@pytest.fixture
def w(db):
    return build(db)


def test_list_for_each_kind_of_actor(db, w):
    draft = complete_draft(db, w)
    submitted = complete_draft(db, w)
    service.submit(db, w.registrant, submitted.id, today=TODAY)
    foreign = complete_draft(db, w, actor=w.foreign)
    service.submit(db, w.foreign, foreign.id, today=TODAY)

    def ids(actor, **kw):
        return {a.id for a in queries.list_for(db, actor, **kw)}

    assert ids(w.registrant) == {draft.id, submitted.id}
    assert ids(w.registrant, status="draft") == {draft.id}
    assert ids(w.other_registrant) == set()
    assert ids(w.province) == {submitted.id}
    assert ids(w.other_province) == set()
    assert ids(w.office) == {submitted.id, foreign.id}
    assert ids(Actor.public()) == set()
    assert ids(w.office, q="maglev") == {submitted.id, foreign.id}


def test_reviewer_queue_sorted_by_due_date_with_overdue_flag(db, w):
    late = complete_draft(db, w, actor=w.foreign)
    service.submit(db, w.foreign, late.id, today=date(2025, 2, 3))
    fresh = complete_draft(db, w, actor=w.foreign)
    service.submit(db, w.foreign, fresh.id, today=TODAY)
    queue = queries.reviewer_queue(db, w.office, TODAY)
    assert [i.application_id for i in queue] == [late.id, fresh.id]
    assert queue[0].overdue and not queue[1].overdue
    assert queue[0].clock == "innovation.formal_check" and "Art.53" in queue[0].legal_basis
    assert queries.reviewer_queue(db, w.registrant, TODAY) == []


def test_expert_queue_and_province_queue(db, w):
    app = to_accepted(db, w)
    service.assign_experts(db, w.office, app.id, [e.id for e, _ in w.experts[:3]], today=TODAY)
    q = queries.reviewer_queue(db, w.experts[0][1], TODAY)
    assert [i.application_id for i in q] == [app.id] and q[0].assignment_id is not None
    assert queries.reviewer_queue(db, w.experts[3][1], TODAY) == []
    other = complete_draft(db, w)
    service.submit(db, w.registrant, other.id, today=TODAY)
    pq = queries.reviewer_queue(db, w.province, TODAY)
    assert [i.application_id for i in pq] == [other.id] and pq[0].due_on == add_working_days(TODAY, 20)
    assert queries.reviewer_queue(db, w.other_province, TODAY) == []


def test_public_notices_need_no_login(db, w):
    app = to_notice(db, w)
    current = queries.public_notices(db, TODAY, current_only=True)
    assert [n.application_id for n in current] == [app.id]
    assert current[0].applicant == "Beijing Heart Co" and current[0].open
    later = add_working_days(current[0].ends_on, 1)
    assert queries.public_notices(db, later, current_only=True) == []
    past = queries.public_notices(db, later)
    assert [n.application_id for n in past] == [app.id] and not past[0].open


def test_objection_contact_is_for_the_office_only(db, w):
    app = to_notice(db, w)
    service.file_objection(
        db,
        Actor.public(),
        app.notices[0].id,
        {"name": "Dr X", "contact": "x@example.org", "text": "Not first in China: see product Y."},
        today=TODAY,
    )
    assert queries.objections_for(db, w.office, app.id)[0].contact == "x@example.org"
    assert queries.objections_for(db, w.registrant, app.id)[0].contact is None
    detail = queries.get_for(db, w.office, app.id, today=TODAY)
    assert "answer_objection" in detail.allowed_actions and len(detail.objections) == 1


def test_what_is_asked_of_the_registrant(db, w):
    incomplete = service.create_draft(db, w.registrant, {"product_name": "Half-done device"})
    ready = complete_draft(db, w)
    tasks = {t.application_id: t for t in queries.what_is_asked_of(db, w.registrant, TODAY)}
    assert tasks[ready.id].details["eligible"] is True
    assert tasks[incomplete.id].details["eligible"] is False
    foreign = complete_draft(db, w, actor=w.foreign)
    service.submit(db, w.foreign, foreign.id, today=TODAY)
    service.request_supplement(db, w.office, foreign.id, "Provide the Chinese translation.", today=TODAY)
    ftasks = queries.what_is_asked_of(db, w.foreign, TODAY)
    assert [(t.action, t.message) for t in ftasks] == [
        ("provide_supplement", "Provide the Chinese translation.")
    ]
    assert queries.what_is_asked_of(db, w.office, TODAY) == []


def test_timeline_has_events_and_clocks(db, w):
    app = to_accepted(db, w)
    tl = queries.timeline(db, w.registrant, app.id, today=TODAY)
    assert [e.action for e in tl.events if e.action in ("submit", "province_pass", "accept")] == [
        "submit",
        "province_pass",
        "accept",
    ]
    assert {c.name for c in tl.clocks} == {
        "innovation.province_pre_review",
        "innovation.formal_check",
        "innovation.review_opinion",
    }
