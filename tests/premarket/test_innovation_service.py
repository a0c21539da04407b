"""The innovative special review through its services: happy paths, clocks, notice, signatures, locking."""

from __future__ import annotations

from datetime import date

import pytest

from medreg.core import clocks, signatures
from medreg.core.calendar import add_working_days
from medreg.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from medreg.premarket.innovation import queries, service
from medreg.premarket.innovation.rules import DocType
from medreg.premarket.innovation.states import Status
from tests.premarket.innovation_world import TODAY, build, complete_draft, to_accepted, to_notice


@pytest.fixture
def w(db):
    return build(db)


def _clock(db, app, name):
    return next(c for c in clocks.clocks_for(db, "innovation_application", app.id) if c.name == name)


def test_domestic_happy_path(db, w):
    app = complete_draft(db, w)
    assert app.status == Status.DRAFT
    service.submit(db, w.registrant, app.id, expected_version=app.version, today=TODAY)
    assert app.status == Status.PROVINCE_REVIEW and app.province == "Beijing"
    pre = _clock(db, app, "innovation.province_pre_review")
    assert pre.limit_value == 20 and "Art.5" in pre.legal_basis
    assert clocks.status(pre, TODAY).due_on == add_working_days(TODAY, 20)

    service.province_pass(db, w.province, app.id, "Meets Art.2 of No.83.", today=TODAY)
    assert app.status == Status.SUBMITTED and pre.stopped_on == TODAY
    service.accept(db, w.office, app.id, today=TODAY)
    assert app.status == Status.ACCEPTED and app.acceptance_no == "CQTS20250001"
    assert _clock(db, app, "innovation.formal_check").stopped_on == TODAY
    review = _clock(db, app, "innovation.review_opinion")
    assert review.limit_value == 60 and review.is_running

    ids = [e.id for e, _ in w.experts[:3]]
    assignments = service.assign_experts(db, w.office, app.id, ids, today=TODAY)
    assert app.status == Status.EXPERT_REVIEW and len(assignments) == 3
    by_expert = {e.id: a for e, a in w.experts}
    with pytest.raises(InvalidTransition):  # opinions missing
        service.conclude(db, w.office, app.id, "propose", "too early", today=TODAY)
    for a, op in zip(assignments, ["agree", "agree", "disagree"], strict=True):
        service.give_opinion(db, by_expert[a.expert_id], a.id, op, "Reasoned opinion text.", w.password)

    service.conclude(db, w.office, app.id, "propose", "Majority agrees.", today=TODAY)
    assert app.status == Status.PUBLIC_NOTICE and app.determined_class == "III"
    notice = app.notices[0]
    assert notice.ends_on == add_working_days(TODAY, 10)
    assert review.open_pause is not None  # No.83 Art.9: notice time not counted

    after = add_working_days(notice.ends_on, 1)
    service.close_notice(db, w.office, app.id, today=after)
    assert app.status == Status.DECISION_PENDING and notice.closed_on == after
    assert review.open_pause is None
    service.decide(
        db,
        w.office,
        app.id,
        approve=True,
        reasons=None,
        password=w.password,
        expected_version=app.version,
        today=after,
    )
    assert app.status == Status.APPROVED and app.decided_on == after and review.stopped_on == after
    sig = db.get(signatures.ElectronicSignature, app.decision_signature_id)
    assert sig.meaning == "accepted_into_special_track"
    assert signatures.verify_signature(sig, service.decision_content(app, True, None))
    actions = [e.action for e in queries.timeline(db, w.registrant, app.id).events]
    assert actions[:3] == ["create_draft", "attach_document", "attach_document"]
    assert actions[-3:] == ["close_notice", "sign", "approve"]


def test_imported_goes_straight_to_the_office(db, w):
    app = complete_draft(db, w, actor=w.foreign)
    service.submit(db, w.foreign, app.id, today=TODAY)
    assert app.status == Status.SUBMITTED and app.province is None
    names = {c.name for c in clocks.clocks_for(db, "innovation_application", app.id)}
    assert names == {"innovation.formal_check"}
    service.accept(db, w.office, app.id, today=TODAY)
    assert app.status == Status.ACCEPTED


def test_imported_dossier_needs_agent_documents(db, w):
    app = service.create_draft(
        db, w.foreign, __import__("tests.premarket.innovation_world", fromlist=["draft_data"]).draft_data()
    )
    from tests.premarket.innovation_world import attach_dossier

    attach_dossier(db, w.foreign, app.id, is_domestic=True)  # the domestic list lacks agent documents
    with pytest.raises(ValidationFailed) as err:
        service.submit(db, w.foreign, app.id, today=TODAY)
    assert err.value.field == "eligibility"
    dossier = next(c for c in err.value.details["criteria"] if c["key"] == "dossier")
    assert "agent_documents" in dossier["reason"]


def test_supplement_pauses_and_resumes_the_formal_check_clock(db, w):
    app = complete_draft(db, w, actor=w.foreign)
    service.submit(db, w.foreign, app.id, today=TODAY)
    service.request_supplement(
        db, w.office, app.id, "Translate the IFU into Chinese (No.83 Art.4).", today=date(2025, 3, 4)
    )
    clock = _clock(db, app, "innovation.formal_check")
    assert app.status == Status.SUPPLEMENT_REQUESTED and clock.open_pause is not None
    # Paused: never overdue however long the applicant takes.
    assert not clocks.status(clock, date(2025, 6, 30)).overdue
    with pytest.raises(ValidationFailed) as err:  # a supplement needs a document
        service.provide_supplement(db, w.foreign, app.id, "Done.", today=date(2025, 3, 20))
    assert err.value.field == "documents"
    service.attach_document(
        db,
        w.foreign,
        app.id,
        doc_type="supplement",
        title="Chinese IFU",
        filename="ifu.pdf",
        data=b"%PDF-1.4\nsupplement\n%%EOF\n",
    )
    service.provide_supplement(db, w.foreign, app.id, "Chinese IFU attached.", today=date(2025, 3, 20))
    assert app.status == Status.SUBMITTED and clock.open_pause is None
    st = clocks.status(clock, date(2025, 3, 21))
    assert st.used == 2 and st.paused_days > 0  # 4 Mar counted, 5-20 Mar not, 21 Mar counted


def test_objections_must_be_answered_before_close(db, w):
    app = to_notice(db, w)
    notice = app.notices[0]
    from medreg.core.actor import Actor

    obj = service.file_objection(
        db,
        Actor.public(),
        notice.id,
        {
            "name": "Dr Objector",
            "contact": "objector@example.org",
            "text": "A similar product is on the market in Europe since 2019.",
        },
        today=TODAY,
    )
    with pytest.raises(Conflict):  # CMDE Art.27: the same objection twice
        service.file_objection(
            db,
            Actor.public(),
            notice.id,
            {
                "name": "Someone else",
                "contact": "else@example.org",
                "text": "A similar  product is on the market in Europe since 2019.",
            },
            today=TODAY,
        )
    after = add_working_days(notice.ends_on, 1)
    with pytest.raises(InvalidTransition) as err:
        service.close_notice(db, w.office, app.id, today=after)
    assert err.value.details["unanswered"] == [obj.id]
    with pytest.raises(PermissionDenied):
        service.answer_objection(db, w.registrant, obj.id, "Not your call.")
    service.answer_objection(db, w.office, obj.id, "The European product works on another principle.")
    service.close_notice(db, w.office, app.id, today=after)
    assert app.status == Status.DECISION_PENDING


def test_notice_cannot_close_before_its_end_and_objections_only_during_it(db, w):
    app = to_notice(db, w)
    notice = app.notices[0]
    with pytest.raises(InvalidTransition) as err:
        service.close_notice(db, w.office, app.id, today=notice.ends_on)
    assert err.value.field == "today"
    from medreg.core.actor import Actor

    late = add_working_days(notice.ends_on, 1)
    with pytest.raises(InvalidTransition):
        service.file_objection(
            db,
            Actor.public(),
            notice.id,
            {"name": "Late", "contact": "late@example.org", "text": "Filed after the notice ended."},
            today=late,
        )
    with pytest.raises(ValidationFailed) as err:
        service.file_objection(
            db, Actor.public(), notice.id, {"name": "X", "contact": "x@y.z", "text": "short"}, today=TODAY
        )
    assert err.value.field == "text"


def test_reject_is_signed_and_needs_reasons(db, w):
    app = to_accepted(db, w)
    # No.83 Art.8: no expert review for a false or confused file -> reject straight away.
    service.conclude(
        db, w.office, app.id, "reject", "The dossier contradicts itself (Art.8(2)).", today=TODAY
    )
    assert app.status == Status.REJECTION_PENDING
    with pytest.raises(InvalidTransition):
        service.decide(db, w.office, app.id, approve=True, reasons=None, password=w.password, today=TODAY)
    with pytest.raises(ValidationFailed) as err:
        service.decide(db, w.office, app.id, approve=False, reasons="", password=w.password, today=TODAY)
    assert err.value.field == "reasons"
    with pytest.raises(ValidationFailed) as err:
        service.decide(
            db,
            w.office,
            app.id,
            approve=False,
            reasons="Contradictory dossier.",
            password="wrong",
            today=TODAY,
        )
    assert err.value.field == "password" and app.status == Status.REJECTION_PENDING
    service.decide(
        db,
        w.office,
        app.id,
        approve=False,
        reasons="Contradictory dossier.",
        password=w.password,
        today=TODAY,
    )
    sig = db.get(signatures.ElectronicSignature, app.decision_signature_id)
    assert app.status == Status.REJECTED and sig.meaning == "rejected"
    assert signatures.verify_signature(sig, service.decision_content(app, False, "Contradictory dossier."))


def test_withdraw_and_terminate(db, w):
    app = to_notice(db, w)
    service.withdraw(db, w.registrant, app.id, "Design changed.", today=TODAY)
    assert app.status == Status.WITHDRAWN and app.notices[0].closed_on == TODAY
    assert all(not c.is_running for c in clocks.clocks_for(db, "innovation_application", app.id))

    other = to_notice(db, w)
    after = add_working_days(other.notices[0].ends_on, 1)
    service.close_notice(db, w.office, other.id, today=after)
    service.decide(db, w.office, other.id, approve=True, reasons=None, password=w.password, today=after)
    with pytest.raises(InvalidTransition):
        service.withdraw(db, w.registrant, other.id, "Too late.", today=after)
    with pytest.raises(ValidationFailed) as err:
        service.terminate(db, w.office, other.id, "bored", "No reason.")
    assert err.value.field == "ground"
    service.terminate(db, w.office, other.id, "patent_rights_lost", "The core patent was invalidated.")
    assert other.status == Status.TERMINATED and other.termination_ground == "patent_rights_lost"
    last = queries.timeline(db, w.office, other.id).events[-1]
    assert last.action == "terminate" and last.note == "No.83 Art.22(五)"


def test_tenancy(db, w):
    app = complete_draft(db, w)
    with pytest.raises(NotFound):
        queries.get_for(db, w.other_registrant, app.id)
    with pytest.raises(NotFound):
        service.submit(db, w.other_registrant, app.id, today=TODAY)
    with pytest.raises(NotFound):  # the office does not see drafts
        queries.get_for(db, w.office, app.id)
    service.submit(db, w.registrant, app.id, today=TODAY)
    with pytest.raises(NotFound):  # another province
        service.province_pass(db, w.other_province, app.id, "Looks fine.", today=TODAY)
    with pytest.raises(PermissionDenied):  # the registrant cannot pass its own file
        service.province_pass(db, w.registrant, app.id, "Looks fine.", today=TODAY)
    assert queries.get_for(db, w.province, app.id).application.id == app.id


def test_expert_sees_only_assigned(db, w):
    app = to_accepted(db, w)
    other = to_accepted(db, w)
    service.assign_experts(db, w.office, app.id, [e.id for e, _ in w.experts[:3]], today=TODAY)
    first, fourth = w.experts[0][1], w.experts[3][1]
    assert [a.id for a in queries.list_for(db, first)] == [app.id]
    assert queries.list_for(db, fourth) == []
    with pytest.raises(NotFound):
        queries.get_for(db, first, other.id)
    detail = queries.get_for(db, first, app.id)
    assert [a["expert"] for a in detail.assignments] == ["Zhang Wei"]  # not the other experts (CMDE Art.18)
    assert len(queries.get_for(db, w.office, app.id).assignments) == 3
    assert queries.get_for(db, w.registrant, app.id).assignments == []


def test_optimistic_locking(db, w):
    app = complete_draft(db, w)
    seen = app.version
    service.update_draft(
        db, w.registrant, app.id, {"product_name_en": "Maglev VAD II"}, expected_version=seen
    )
    with pytest.raises(Conflict) as err:
        service.submit(db, w.registrant, app.id, expected_version=seen, today=TODAY)
    assert err.value.field == "expected_version"
    service.submit(db, w.registrant, app.id, expected_version=app.version, today=TODAY)


def test_bad_input_names_the_field(db, w):
    with pytest.raises(ValidationFailed) as err:
        service.create_draft(db, w.registrant, {"product_name": ""})
    assert err.value.field == "product_name"
    with pytest.raises(ValidationFailed) as err:
        service.create_draft(db, w.registrant, {"product_name": "X", "patent_number": "ZL202010123456.7"})
    assert err.value.field == "patent_number" and "check character should be 2" in err.value.message
    with pytest.raises(ValidationFailed) as err:
        service.create_draft(db, w.registrant, {"product_name": "X", "proposed_class": "IV"})
    assert err.value.field == "proposed_class"
    app = complete_draft(db, w)
    with pytest.raises(ValidationFailed) as err:
        service.attach_document(
            db, w.registrant, app.id, doc_type="selfie", title="t", filename="a.pdf", data=b"%PDF-1.4\n"
        )
    assert err.value.field == "doc_type"
    with pytest.raises(PermissionDenied):
        service.create_draft(db, w.office, {"product_name": "X"})


def test_class_one_and_old_patent_cannot_be_submitted(db, w):
    app = complete_draft(db, w, proposed_class="I", patent_grant_date=date(2020, 3, 2))
    with pytest.raises(ValidationFailed) as err:
        service.submit(db, w.registrant, app.id, today=TODAY)
    unmet = {c["key"] for c in err.value.details["criteria"] if not c["met"]}
    assert unmet == {"device_class", "patent_grant_window"}
    assert app.status == Status.DRAFT


def test_documents_only_in_draft_or_supplement(db, w):
    app = to_accepted(db, w)
    with pytest.raises(InvalidTransition):
        service.attach_document(
            db,
            w.registrant,
            app.id,
            doc_type=DocType.OTHER_EVIDENCE.value,
            title="late",
            filename="late.pdf",
            data=b"%PDF-1.4\nlate\n",
        )


def test_acceptance_numbers_run_per_year(db, w):
    a = to_accepted(db, w)
    b = to_accepted(db, w)
    c = to_accepted(db, w, today=date(2026, 1, 5))
    assert (a.acceptance_no, b.acceptance_no, c.acceptance_no) == (
        "CQTS20250001",
        "CQTS20250002",
        "CQTS20260001",
    )
