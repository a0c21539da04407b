"""Export sales certificates (出口销售证明 (I), NMPA Announcement 2025 No.126): issue, revoke, the public
check by number and verification code, and who sees the full record. Both databases."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from medreg.core.accounts import OrgKind, Role
from medreg.core.audit import AuditEvent
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from medreg.premarket.registration import queries_export, service_certificates, service_export
from medreg.premarket.registration.models import RegistrationCertificate
from tests.factories import actor_for, make_org, make_user
from tests.premarket.test_registration_world import build, initial, to_certificate, wd

ISSUE_DAY = date(2026, 6, 1)


@pytest.fixture
def world(db):
    w = build(db)
    _app, cert = to_certificate(db, w, w.registrant, initial())
    _app2, cert2 = to_certificate(db, w, w.registrant, initial(product_name="Implantable pump controller"))
    return w, cert, cert2


def _issue(db, w, *numbers, actor=None, **kw):
    return service_export.issue_export_certificate(
        db, actor or w.beijing, {"registration_numbers": list(numbers), **kw}, on=ISSUE_DAY)


def test_issue_numbers_the_certificate_after_art6_and_limits_its_validity(db, world):
    w, cert, cert2 = world
    e = _issue(db, w, cert.number, cert2.number)
    assert e.number_zh == "京药监械出2026000001号" and e.number_en == "No.MDBJ2026000001"
    # Art.7: not beyond the earliest expiry of the certificates it rests on
    assert e.valid_until == min(cert.valid_until, cert2.valid_until)
    assert [d.product_name for d in e.devices] == ["Maglev ventricular assist device",
                                                   "Implantable pump controller"]
    assert len(e.verification_code) == 14 and e.verification_code.count("-") == 2
    second = _issue(db, w, cert.number)
    assert second.number_en == "No.MDBJ2026000002"
    assert second.verification_code != e.verification_code
    event = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "export_certificate")
                       .order_by(AuditEvent.id)).first()
    assert event.action == "issue" and event.after["registration_numbers"] == [cert.number, cert2.number]
    assert e.verification_code not in str(event.after)  # the code stays out of the audit trail


def test_issue_is_refused_beyond_the_expiry_to_other_provinces_and_to_registrants(db, world):
    w, cert, _ = world
    with pytest.raises(ValidationFailed) as err:
        _issue(db, w, cert.number, valid_until=cert.valid_until + timedelta(days=1))
    assert err.value.field == "valid_until"
    with pytest.raises(PermissionDenied):
        _issue(db, w, cert.number, actor=w.shanghai)  # Art.4: the applicant's province
    with pytest.raises(PermissionDenied):
        _issue(db, w, cert.number, actor=w.registrant)
    with pytest.raises(ValidationFailed) as err:
        _issue(db, w, "国械注准20259999999")
    assert err.value.field == "registration_numbers"


def test_issue_refuses_certificates_of_two_registrants_and_of_imports(db, world):
    w, cert, _ = world
    _a, other = to_certificate(db, w, w.other, initial(product_name="Other pump"))
    with pytest.raises(ValidationFailed):
        _issue(db, w, cert.number, other.number)
    _f, foreign = to_certificate(db, w, w.foreign, initial(product_name="Imported pump"))
    with pytest.raises(ValidationFailed):
        _issue(db, w, foreign.number)


def test_verify_valid_wrong_code_and_unknown_number_give_nothing_away(db, world):
    w, cert, _ = world
    e = _issue(db, w, cert.number)
    ok = queries_export.verify_export_certificate(db, e.number_en, e.verification_code, ISSUE_DAY)
    assert ok is not None and ok.status == "valid" and ok.holder == "Beijing Heart Co"
    assert ok.devices[0].registration_number == cert.number
    # the Chinese number, lower case, spaces, O for 0 and no hyphens are all accepted
    typed = e.verification_code.replace("-", " ").lower().replace("0", "o")
    assert queries_export.verify_export_certificate(db, e.number_zh, typed, ISSUE_DAY) == ok
    wrong = ("0000-0000-0001" if e.verification_code != "0000-0000-0001" else "0000-0000-0002")
    assert queries_export.verify_export_certificate(db, e.number_en, wrong, ISSUE_DAY) is None
    assert queries_export.verify_export_certificate(db, "No.MDBJ2026000099", e.verification_code,
                                                    ISSUE_DAY) is None
    for junk in ("", "x" * 1000, None, "No.MDZZ2026000001"):
        assert queries_export.verify_export_certificate(db, junk, junk, ISSUE_DAY) is None


def test_verify_shows_expired_revoked_and_lapsed(db, world):
    w, cert, _ = world
    e = _issue(db, w, cert.number, valid_until=ISSUE_DAY + timedelta(days=30))
    after = ISSUE_DAY + timedelta(days=31)
    assert queries_export.verify_export_certificate(db, e.number_en, e.verification_code, after).status == \
        "expired"
    with pytest.raises(PermissionDenied):
        service_export.revoke_export_certificate(db, w.registrant, e.id, "no longer made")
    with pytest.raises(NotFound):
        service_export.revoke_export_certificate(db, w.other, e.id, "not mine")
    service_export.revoke_export_certificate(db, w.beijing, e.id, "Art.10: no longer made",
                                             expected_version=e.version, on=ISSUE_DAY + timedelta(days=3))
    seen = queries_export.verify_export_certificate(db, e.number_en, e.verification_code, ISSUE_DAY)
    assert seen.status == "revoked" and seen.revoked_on == ISSUE_DAY + timedelta(days=3)
    with pytest.raises(Conflict):
        service_export.revoke_export_certificate(db, w.beijing, e.id, "again")
    # Art.7 second para: the registration certificate is cancelled, the export certificate lapses
    e2 = _issue(db, w, cert.number)
    service_certificates.cancel_certificate(db, w.cmde, cert.id, "Art.63: studies late")
    assert queries_export.verify_export_certificate(db, e2.number_en, e2.verification_code,
                                                    ISSUE_DAY).status == "lapsed"


def test_who_sees_the_full_record(db, world):
    w, cert, _ = world
    e = _issue(db, w, cert.number)
    bureau = make_org(db, OrgKind.PROVINCIAL_BUREAU, name="BJ insp")
    insp = actor_for(make_user(db, Role.INSPECTOR, org=bureau))
    for actor in (w.registrant, w.beijing, w.cmde):
        assert queries_export.get_export_certificate(db, actor, e.id, ISSUE_DAY).verification_code == \
            e.verification_code
        assert [x.id for x in queries_export.list_export_certificates(db, actor, ISSUE_DAY)] == [e.id]
    for actor in (w.other, w.shanghai, insp):
        with pytest.raises(NotFound):
            queries_export.get_export_certificate(db, actor, e.id, ISSUE_DAY)
        assert queries_export.list_export_certificates(db, actor, ISSUE_DAY) == []


def test_renewed_registration_does_not_lapse_the_export_certificate(db, world):
    w, cert, _ = world
    e = _issue(db, w, cert.number)
    db.get(RegistrationCertificate, cert.id).status = "renewed"
    db.flush()
    assert queries_export.verify_export_certificate(db, e.number_en, e.verification_code,
                                                    wd(1, ISSUE_DAY)).status == "valid"
