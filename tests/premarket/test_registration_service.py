"""Registration use cases on the database: the whole path, clocks with pauses, certificates, jurisdiction."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from medreg.core import audit, clocks, files
from medreg.core.calendar import add_working_days
from medreg.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from medreg.core.signatures import signatures_for
from medreg.premarket.registration import numbers, queries, rules, service
from medreg.premarket.registration.models import RegistrationCertificate
from tests.premarket.test_registration_world import (
    DAY0,
    build,
    initial,
    to_certificate,
    to_review_completed,
    wd,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def w(db):
    return build(db)


def _clock(db, app, name):
    return [c for c in clocks.clocks_for(db, "registration_application", app.id) if c.name == name][-1]


def test_full_path_of_an_innovative_class_iii_device(db, w):
    app = service.create_application(
        db, w.registrant, initial(innovation_application_id=w.innovation_id), on=DAY0
    )
    assert (app.status, app.innovative, app.priority) == ("draft", True, True)
    assert "No.83 Art.20-21" in app.priority_basis
    service.submit(db, w.registrant, app.id, expected_version=app.version, on=DAY0)
    acc = _clock(db, app, "registration.acceptance")
    assert clocks.status(acc, DAY0).due_on == add_working_days(DAY0, 5)  # Order 47 Art.53
    service.accept(db, w.cmde, app.id, on=wd(1))
    assert app.acceptance_number == "CQZ2500001" and app.accepted_on == wd(1)
    assert clocks.status(_clock(db, app, "registration.forwarding"), wd(1)).due_on == wd(4)  # Art.91
    service.start_review(db, w.cmde, app.id, on=wd(3))
    review = _clock(db, app, "registration.review")
    assert clocks.status(review, wd(3)).due_on == wd(93)  # Art.92(3): 90 WD for Class III
    service.complete_review(db, w.cmde, app.id, "Favourable.", on=wd(50))
    assert clocks.status(_clock(db, app, "registration.decision"), wd(50)).due_on == wd(70)  # Art.94
    service.approve(db, w.cmde, app.id, password=w.password, on=wd(55))
    assert clocks.status(_clock(db, app, "registration.certificate"), wd(55)).due_on == wd(65)  # Art.95
    cert = service.issue_certificate(db, w.cmde, app.id, on=wd(57))
    assert app.status == "certificate_issued"
    assert cert.number == "国械注准20253120001"
    assert numbers.parse_certificate_number(cert.number).device_class == "III"
    assert (cert.valid_from, cert.valid_until) == rules.validity(wd(55))
    assert cert.innovative and cert.innovation_application_id == w.innovation_id
    assert [c.is_running for c in clocks.clocks_for(db, "registration_application", app.id)] == [False] * 5
    actions = [e.action for e in audit.history(db, "registration_application", app.id)]
    assert actions == [
        "create",
        "submit",
        "accept",
        "start_review",
        "complete_review",
        "sign",
        "approve",
        "issue_certificate",
    ]
    sig = signatures_for(db, "registration_application", app.id)[0]
    assert sig.meaning == "approved" and app.decision_signature_id == sig.id
    assert [e.action for e in audit.history(db, "registration_certificate", cert.id)] == ["issue_initial"]


def test_serials_count_within_the_prefix(db, w):
    _, c1 = to_certificate(db, w, w.registrant, initial())
    _, c2 = to_certificate(db, w, w.registrant, initial(product_name="Second pump"))
    _, c3 = to_certificate(db, w, w.registrant, initial(product_name="Scanner", subcatalogue_code="06"))
    assert [c1.number, c2.number, c3.number] == [
        "国械注准20253120001",
        "国械注准20253120002",
        "国械注准20253060001",
    ]


def test_review_clock_pauses_for_supplements_and_restarts_with_60_days(db, w):
    app = service.create_application(db, w.registrant, initial(), on=DAY0)
    service.submit(db, w.registrant, app.id, on=DAY0)
    service.accept(db, w.cmde, app.id, on=DAY0)
    service.start_review(db, w.cmde, app.id, on=DAY0)
    service.request_supplement(db, w.cmde, app.id, "Provide the 2-year follow-up data.", on=wd(10))
    assert app.supplement_due_on == date(2026, 3, 17)  # Art.54: one year from the notice
    review = _clock(db, app, "registration.review")
    later = date(2025, 4, 30)
    st = clocks.status(review, later)
    assert st.paused and st.used == 10
    assert st.due_on == add_working_days(later, 80)  # 80 WD left, counted from the day it would resume
    with pytest.raises(InvalidTransition):  # Art.54: once, all at once
        service.request_supplement(db, w.cmde, app.id, "more", on=wd(11))
    service.provide_supplement(db, w.registrant, app.id, on=date(2025, 5, 6))
    after = _clock(db, app, "registration.review_after_supplement")
    assert clocks.status(after, date(2025, 5, 6)).due_on == add_working_days(date(2025, 5, 6), 60)
    assert not review.is_running and app.status == "in_review"
    queue = queries.reviewer_queue(db, w.cmde, date(2025, 5, 7))
    assert queue[0].clock.name == "registration.review_after_supplement"


def test_no_supplement_within_a_year_terminates_the_review(db, w):
    app = service.create_application(db, w.registrant, initial(), on=DAY0)
    service.submit(db, w.registrant, app.id, on=DAY0)
    service.accept(db, w.cmde, app.id, on=DAY0)
    service.start_review(db, w.cmde, app.id, on=DAY0)
    service.request_supplement(db, w.cmde, app.id, "Everything.", on=DAY0)
    with pytest.raises(InvalidTransition):
        service.terminate_review(db, w.cmde, app.id, on=date(2026, 3, 3))
    with pytest.raises(InvalidTransition):
        service.provide_supplement(db, w.registrant, app.id, on=date(2026, 3, 4))
    service.terminate_review(db, w.cmde, app.id, on=date(2026, 3, 4))
    assert (app.status, app.decision) == ("refused", "refused")
    assert "Art.54" in app.decision_reasons


def test_acceptance_corrections_and_deemed_acceptance(db, w):
    app = service.create_application(db, w.registrant, initial(), on=DAY0)
    service.submit(db, w.registrant, app.id, on=DAY0)
    service.request_corrections(db, w.cmde, app.id, "Sign the declaration.", on=wd(5))
    service.provide_corrections(db, w.registrant, app.id, on=wd(8))
    with pytest.raises(InvalidTransition):
        service.deem_accepted(db, w.cmde, app.id, on=wd(13))
    with pytest.raises(InvalidTransition):  # Art.53(3): too late for corrections
        service.request_corrections(db, w.cmde, app.id, "More.", on=wd(14))
    service.deem_accepted(db, w.cmde, app.id, on=wd(14))
    assert app.accepted_on == wd(8)  # accepted as of receipt


def test_negative_conclusion_objection_and_signed_refusal(db, w):
    app = service.create_application(db, w.registrant, initial(), on=DAY0)
    service.submit(db, w.registrant, app.id, on=DAY0)
    service.accept(db, w.cmde, app.id, on=DAY0)
    service.start_review(db, w.cmde, app.id, on=DAY0)
    service.propose_negative(db, w.cmde, app.id, "Clinical data insufficient.", on=wd(20))
    assert app.objection_due_on == wd(35)  # Art.57: 15 days
    assert clocks.status(_clock(db, app, "registration.review"), wd(30)).paused  # not counted
    with pytest.raises(InvalidTransition):
        service.close_objection_window(db, w.cmde, app.id, on=wd(35))
    service.file_objection(db, w.registrant, app.id, "The registry data cover this.", on=wd(30))
    service.uphold_objection(db, w.cmde, app.id, "Accepted; review continues.", on=wd(40))
    st = clocks.status(_clock(db, app, "registration.review"), wd(40))
    assert not st.paused and st.used == 20
    service.propose_negative(db, w.cmde, app.id, "Still insufficient.", on=wd(50))
    with pytest.raises(InvalidTransition):
        service.file_objection(db, w.registrant, app.id, "late", on=wd(66))
    service.close_objection_window(db, w.cmde, app.id, on=wd(66))
    assert app.review_opinion == "unfavourable"
    with pytest.raises(InvalidTransition):
        service.approve(db, w.cmde, app.id, password=w.password, on=wd(67))
    with pytest.raises(ValidationFailed) as e:
        service.refuse(db, w.cmde, app.id, password="wrong", reasons="Safety not demonstrated (Art.59(1)).")
    assert e.value.field == "password"
    service.refuse(
        db, w.cmde, app.id, password=w.password, reasons="Safety not demonstrated (Art.59(1)).", on=wd(67)
    )
    assert app.status == "refused"
    assert signatures_for(db, "registration_application", app.id)[-1].meaning == "rejected"


def test_class_ii_domestic_is_handled_by_its_province(db, w):
    data = initial(device_class="II", subcatalogue_code="07", product_name="Patient monitor")
    app = service.create_application(db, w.registrant, data, on=DAY0)
    service.submit(db, w.registrant, app.id, on=DAY0)
    for wrong in (w.cmde, w.shanghai):
        with pytest.raises(PermissionDenied):
            service.accept(db, wrong, app.id, on=DAY0)
    service.accept(db, w.beijing, app.id, on=DAY0)
    service.start_review(db, w.beijing, app.id, on=DAY0)
    assert clocks.status(_clock(db, app, "registration.review"), DAY0).due_on == wd(60)  # Art.92(2)
    service.complete_review(db, w.beijing, app.id, "Favourable.", on=wd(20))
    service.approve(db, w.beijing, app.id, password=w.password, on=wd(21))
    cert = service.issue_certificate(db, w.beijing, app.id, on=wd(22))
    assert cert.number == "京械注准20252070001"


@pytest.mark.parametrize(
    "who,cls,expected",
    [
        ("foreign", "III", "国械注进20253120001"),
        ("foreign", "II", "国械注进20252120001"),
        ("hk", "III", "国械注许20253120001"),
    ],
)
def test_imported_and_hk_macao_taiwan_numbers(db, w, who, cls, expected):
    _, cert = to_certificate(db, w, getattr(w, who), initial(device_class=cls))
    assert cert.number == expected


def test_change_registration_of_an_innovative_device(db, w):
    app, cert = to_certificate(db, w, w.registrant, initial(innovation_application_id=w.innovation_id))
    change = service.create_application(
        db,
        w.registrant,
        {
            "kind": "change",
            "registration_id": cert.id,
            "changes": {"model_spec": "HM-3; HM-3S; HM-3P", "intended_use": "Also bridge to transplant"},
        },
        on=wd(60),
    )
    assert change.registration_id == cert.id and change.innovation_application_id == w.innovation_id
    assert change.priority and "No.83 Art.24" in change.priority_basis
    with pytest.raises(Conflict):  # one open change per certificate
        service.create_application(
            db,
            w.registrant,
            {"kind": "change", "registration_id": cert.id, "changes": {"product_name": "X"}},
            on=wd(60),
        )
    service.submit(db, w.registrant, change.id, on=wd(60))
    service.accept(db, w.cmde, change.id, on=wd(61))
    assert change.acceptance_number == "CQB2500001"
    service.start_review(db, w.cmde, change.id, on=wd(62))
    service.complete_review(db, w.cmde, change.id, "Changed parts reviewed (Art.80).", on=wd(70))
    service.approve(db, w.cmde, change.id, password=w.password, on=wd(71))
    same = service.issue_certificate(db, w.cmde, change.id, on=wd(72))
    assert same.id == cert.id and same.number == "国械注准20253120001"  # number kept
    assert same.model_spec == "HM-3; HM-3S; HM-3P" and same.valid_until == rules.validity(wd(35))[1]
    doc = same.change_documents[0]
    assert doc.changes["model_spec"] == {"before": "HM-3; HM-3S", "after": "HM-3; HM-3S; HM-3P"}
    read = queries.get_certificate(db, w.other, cert.id)
    assert len(read.change_documents) == 1


def test_renewal_keeps_the_number_and_art84_dates(db, w):
    app, cert = to_certificate(db, w, w.registrant, initial())
    applied = rules.renewal_deadline(cert.valid_until)
    ren = service.create_application(
        db, w.registrant, {"kind": "renewal", "registration_id": cert.id}, on=applied
    )
    service.submit(db, w.registrant, ren.id, on=applied)
    service.accept(db, w.cmde, ren.id, on=applied)
    service.start_review(db, w.cmde, ren.id, on=applied)
    service.complete_review(db, w.cmde, ren.id, "Nothing against renewal.", on=add_working_days(applied, 20))
    service.approve(db, w.cmde, ren.id, password=w.password, on=add_working_days(applied, 25))
    new = service.issue_certificate(db, w.cmde, ren.id, on=add_working_days(applied, 26))
    assert new.number == cert.number and new.id != cert.id and cert.status == "renewed"
    assert (new.valid_from, new.valid_until) == rules.renewed_validity(cert.valid_until, ren.decided_on)
    assert new.valid_from == cert.valid_until + timedelta(days=1)  # approved within validity (Art.84)
    assert queries.certificate_by_number(db, w.other, cert.number).id == new.id


def test_late_renewal_must_be_refused_and_timely_undecided_is_deemed_granted(db, w):
    _, late_cert = to_certificate(db, w, w.registrant, initial())
    late = rules.renewal_deadline(late_cert.valid_until).replace(day=28)
    ren = service.create_application(
        db, w.registrant, {"kind": "renewal", "registration_id": late_cert.id}, on=late
    )
    service.submit(db, w.registrant, ren.id, on=late)
    service.accept(db, w.cmde, ren.id, on=late)
    service.start_review(db, w.cmde, ren.id, on=late)
    service.complete_review(db, w.cmde, ren.id, "ok", on=add_working_days(late, 5))
    with pytest.raises(ValidationFailed) as e:
        service.approve(db, w.cmde, ren.id, password=w.password, on=add_working_days(late, 6))
    assert "Art.83(1)" in e.value.message
    # A second certificate, renewal applied in time, never decided: deemed granted after expiry.
    _, cert = to_certificate(db, w, w.registrant, initial(product_name="Pump 2"))
    applied = rules.renewal_deadline(cert.valid_until)
    ren2 = service.create_application(
        db, w.registrant, {"kind": "renewal", "registration_id": cert.id}, on=applied
    )
    service.submit(db, w.registrant, ren2.id, on=applied)
    service.accept(db, w.cmde, ren2.id, on=applied)
    from medreg.core.actor import Actor

    assert service.apply_deemed_renewals(db, Actor.system(), cert.valid_until) == []
    done = service.apply_deemed_renewals(
        db, Actor.system(), date.fromordinal(cert.valid_until.toordinal() + 1)
    )
    assert [c.number for c in done] == [cert.number] and done[0].deemed_renewal
    assert (
        ren2.status == "certificate_issued"
        and done[0].valid_from.toordinal() == cert.valid_until.toordinal() + 1
    )


def test_conditional_approval_obligations_and_late_flag(db, w):
    app = to_review_completed(db, w, w.registrant, initial())
    with pytest.raises(ValidationFailed) as e:
        service.approve_conditionally(
            db, w.cmde, app.id, {"ground": "rare_disease", "conditions": []}, password=w.password, on=wd(35)
        )
    assert e.value.field == "conditions"
    service.approve_conditionally(
        db,
        w.cmde,
        app.id,
        {
            "ground": "life_threatening",
            "conditions": [
                {"description": "Complete the 2-year pivotal follow-up", "due_on": "2027-06-30"},
                {"description": "Registry of the first 500 implants", "due_on": "2026-12-31"},
            ],
        },
        password=w.password,
        on=wd(35),
    )
    cert = service.issue_certificate(db, w.cmde, app.id, on=wd(36))
    assert cert.conditional and cert.conditional_ground == "life_threatening"
    assert [o.due_on for o in cert.obligations] == [date(2026, 12, 31), date(2027, 6, 30)]
    assert queries.late_obligations(db, w.cmde, date(2026, 12, 31)) == []
    late = queries.late_obligations(db, w.cmde, date(2027, 1, 1))
    assert [o.due_on for o in late] == [date(2026, 12, 31)]
    assert queries.late_obligations(db, w.other, date(2027, 1, 1)) == []
    assert len(queries.late_obligations(db, w.registrant, date(2027, 1, 1))) == 1
    flagged = service.mark_late_obligations(db, w.cmde, date(2027, 1, 1))
    assert [o.status for o in flagged] == ["late"]
    ob = flagged[0]
    report = files.store(db, w.registrant, filename="follow-up.pdf", data=PDF)
    with pytest.raises(PermissionDenied):
        service.fulfil_obligation(db, w.other, ob.id, evidence_file_id=report.id)
    with pytest.raises(ValidationFailed) as e:
        service.fulfil_obligation(db, w.registrant, ob.id, evidence_file_id=987654)
    assert e.value.field == "evidence_file_id"
    service.fulfil_obligation(db, w.registrant, ob.id, evidence_file_id=report.id, on=date(2027, 2, 1))
    assert ob.status == "fulfilled" and ob.evidence_sha256 == report.sha256
    assert queries.late_obligations(db, w.cmde, date(2027, 2, 2)) == []
    assert audit.history(db, "post_approval_obligation", ob.id)[-1].note == "done late (Order 47 Art.63)"


def test_withdrawal_stops_every_clock(db, w):
    app = service.create_application(db, w.registrant, initial(), on=DAY0)
    service.submit(db, w.registrant, app.id, on=DAY0)
    service.accept(db, w.cmde, app.id, on=DAY0)
    with pytest.raises(ValidationFailed):
        service.withdraw(db, w.registrant, app.id, "", on=wd(1))
    service.withdraw(db, w.registrant, app.id, "Strategy changed.", on=wd(1))
    assert app.status == "withdrawn"
    assert not any(c.is_running for c in clocks.clocks_for(db, "registration_application", app.id))


def test_certificate_rows_are_public(db, w):
    from medreg.core.actor import Actor

    _, cert = to_certificate(db, w, w.registrant, initial())
    pub = Actor.public()
    assert [c.number for c in queries.list_certificates(db, pub)] == [cert.number]
    read = queries.certificate_by_number(db, pub, cert.number)
    assert read.renewal_deadline == rules.renewal_deadline(cert.valid_until)
    assert db.get(RegistrationCertificate, cert.id).status == "valid"
