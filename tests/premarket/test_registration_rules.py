"""Pure rules and the transition tables of registration (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from medreg.core.calendar import add_working_days
from medreg.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from medreg.premarket.registration import numbers, rules
from medreg.premarket.registration.states import (
    CONSULTATION_TABLE,
    FINAL,
    TABLE,
    ConsultationStatus,
    Status,
    next_status,
)

ALL_ROLES = ["registrant", "office", "province", "reviewer", "admin", "public", "expert"]

# The complete expected table: (status, action) -> (target, roles).
AUTH = {"office", "province"}
EXPECTED = {
    ("draft", "submit"): ("submitted", {"registrant"}),
    ("submitted", "accept"): ("accepted", AUTH),
    ("submitted", "request_corrections"): ("correction_requested", AUTH),
    ("submitted", "refuse_acceptance"): ("acceptance_refused", AUTH),
    ("submitted", "deem_accepted"): ("accepted", AUTH | {"admin"}),
    ("correction_requested", "provide_corrections"): ("submitted", {"registrant"}),
    ("accepted", "start_review"): ("in_review", {"reviewer"}),
    ("in_review", "request_supplement"): ("supplement_requested", {"reviewer"}),
    ("supplement_requested", "provide_supplement"): ("in_review", {"registrant"}),
    ("supplement_requested", "terminate_review"): ("refused", AUTH | {"admin"}),
    ("in_review", "propose_negative"): ("negative_notice", {"reviewer"}),
    ("negative_notice", "file_objection"): ("objection_review", {"registrant"}),
    ("negative_notice", "close_objection_window"): ("review_completed", {"reviewer"}),
    ("objection_review", "uphold_objection"): ("in_review", {"reviewer"}),
    ("objection_review", "dismiss_objection"): ("review_completed", {"reviewer"}),
    ("in_review", "complete_review"): ("review_completed", {"reviewer"}),
    ("review_completed", "approve"): ("approved", AUTH),
    ("review_completed", "approve_conditionally"): ("approved", AUTH),
    ("review_completed", "refuse"): ("refused", AUTH),
    ("approved", "issue_certificate"): ("certificate_issued", AUTH),
}
WITHDRAWABLE = [
    "draft",
    "submitted",
    "correction_requested",
    "accepted",
    "in_review",
    "supplement_requested",
    "negative_notice",
    "objection_review",
    "review_completed",
]
for _s in WITHDRAWABLE:
    EXPECTED[(_s, "withdraw")] = ("withdrawn", {"registrant"})
for _s in WITHDRAWABLE[1:]:
    EXPECTED[(_s, "deem_renewed")] = ("certificate_issued", AUTH | {"admin"})


def test_table_is_exactly_the_expected_one():
    got = {(t.source, t.action): (t.target, set(t.roles)) for t in TABLE}
    assert got == EXPECTED


@pytest.mark.parametrize("status", [s.value for s in Status])
@pytest.mark.parametrize("action", sorted(TABLE.actions))
def test_every_status_action_role(status, action):
    """Every (status, action, role) combination: allowed exactly when the table says so."""
    expected = EXPECTED.get((status, action))
    for role in ALL_ROLES:
        if expected is None:
            with pytest.raises(InvalidTransition):
                next_status(status, action, {role})
        elif role in expected[1]:
            assert next_status(status, action, {role}) == Status(expected[0])
        else:
            with pytest.raises(PermissionDenied):
                next_status(status, action, {role})


def test_final_statuses_have_no_way_out():
    for s in FINAL:
        assert TABLE.allowed_actions(s) == []
    # and every non-final status has one
    for s in set(Status) - FINAL:
        assert TABLE.allowed_actions(s), s


def test_consultation_table():
    assert CONSULTATION_TABLE.next_status("submitted", "answer", {"office"}) == "answered"
    assert (
        CONSULTATION_TABLE.next_status("meeting_scheduled", "issue_minutes", {"reviewer"}) == "minutes_issued"
    )
    assert CONSULTATION_TABLE.next_status("minutes_issued", "confirm_minutes", {"registrant"}) == "closed"
    with pytest.raises(PermissionDenied):
        CONSULTATION_TABLE.next_status("submitted", "answer", {"registrant"})
    with pytest.raises(InvalidTransition):
        CONSULTATION_TABLE.next_status("answered", "answer", {"office"})
    for s in (
        ConsultationStatus.ANSWERED,
        ConsultationStatus.CLOSED,
        ConsultationStatus.DECLINED,
        ConsultationStatus.WITHDRAWN,
    ):
        assert CONSULTATION_TABLE.allowed_actions(s) == []


# ---- certificate numbers (Order 47 Art.115) ----------------------------------------------------------
@pytest.mark.parametrize(
    "cls,origin,province,expected",
    [
        ("III", "domestic", "Beijing", "国械注准20243060007"),
        ("II", "imported", None, "国械注进20242060007"),
        ("III", "imported", None, "国械注进20243060007"),
        ("III", "hk_macao_taiwan", None, "国械注许20243060007"),
        ("II", "hk_macao_taiwan", None, "国械注许20242060007"),
        ("II", "domestic", "Beijing", "京械注准20242060007"),
        ("II", "domestic", "广东省", "粤械注准20242060007"),
        ("II", "domestic", "Shanghai", "沪械注准20242060007"),
    ],
)
def test_certificate_number_format(cls, origin, province, expected):
    n = numbers.certificate_number(
        device_class=cls, origin=origin, province=province, year=2024, subcatalogue="06", serial=7
    )
    assert str(n) == expected
    back = numbers.parse_certificate_number(expected)
    assert back == n and back.origin == rules.Origin(origin)
    assert n.prefix == expected[:-4]


def test_origin_from_country():
    assert numbers.origin_of("CN") is rules.Origin.DOMESTIC
    assert numbers.origin_of("DE") is rules.Origin.IMPORTED
    for c in ("HK", "MO", "TW"):
        assert numbers.origin_of(c) is rules.Origin.HK_MACAO_TAIWAN


@pytest.mark.parametrize(
    "bad",
    [
        "国械注准2024306000",
        "国械注准202430600071",
        "X械注准20243060007",
        "京械注准20243060007",
        "京械注进20242060007",
        "国械注准20242060007",
        "国械注准20243230007",
        "国械注准20243000007",
        "国械注准20244060007",
        "国械注准20243060000",
        "国械备20240001",
        "",
        None,
        123,
    ],
)
def test_bad_certificate_numbers(bad):
    with pytest.raises(ValidationFailed) as e:
        numbers.parse_certificate_number(bad)
    assert e.value.field == "number"


def test_number_needs_known_province_and_valid_parts():
    with pytest.raises(ValidationFailed) as e:
        numbers.certificate_number(
            device_class="II", origin="domestic", province="Atlantis", year=2024, subcatalogue="01", serial=1
        )
    assert e.value.field == "province"
    with pytest.raises(ValidationFailed) as e:
        numbers.certificate_number(
            device_class="III", origin="domestic", province=None, year=2024, subcatalogue="23", serial=1
        )
    assert e.value.field == "subcatalogue_code"
    with pytest.raises(ValidationFailed) as e:
        numbers.certificate_number(
            device_class="I", origin="domestic", province=None, year=2024, subcatalogue="01", serial=1
        )
    assert e.value.field == "device_class"


# ---- validity and renewal ------------------------------------------------------------------------------
def test_validity_five_years():
    assert rules.validity(date(2021, 3, 15)) == (date(2021, 3, 15), date(2026, 3, 14))
    assert rules.validity(date(2024, 2, 29)) == (date(2024, 2, 29), date(2029, 2, 27))


def test_renewal_window():
    until = date(2026, 3, 14)
    assert rules.renewal_deadline(until) == date(2025, 9, 14)
    assert rules.renewal_applied_in_time(until, date(2025, 9, 14))
    assert not rules.renewal_applied_in_time(until, date(2025, 9, 15))
    assert rules.renewal_deadline(date(2026, 8, 31)) == date(2026, 2, 28)  # clamped to month end


def test_renewed_validity_art84():
    old = date(2026, 3, 14)
    assert rules.renewed_validity(old, date(2026, 1, 10)) == (date(2026, 3, 15), date(2031, 3, 14))
    assert rules.renewed_validity(old, date(2026, 4, 1)) == (date(2026, 4, 1), date(2031, 3, 31))


def test_deemed_renewal_and_refusal_grounds():
    until = date(2026, 3, 14)
    kw = dict(valid_until=until, applied_on=date(2025, 6, 1), decided=False)
    assert not rules.renewal_deemed_granted(**kw, today=until)
    assert rules.renewal_deemed_granted(**kw, today=date(2026, 3, 15))
    assert not rules.renewal_deemed_granted(**{**kw, "decided": True}, today=date(2026, 3, 15))
    assert not rules.renewal_deemed_granted(
        **{**kw, "applied_on": date(2025, 10, 1)}, today=date(2026, 3, 15)
    )
    assert (
        rules.renewal_refusal_grounds(valid_until=until, applied_on=date(2025, 6, 1), open_conditions=0) == []
    )
    grounds = rules.renewal_refusal_grounds(
        valid_until=until, applied_on=date(2025, 12, 1), open_conditions=2
    )
    assert [g.split(":")[0] for g in grounds] == ["Order 47 Art.83(1)", "Order 47 Art.83(3)"]


# ---- time limits --------------------------------------------------------------------------------------
def test_review_limits_art92():
    assert rules.review_limit("III").value == 90
    assert rules.review_limit("II").value == 60
    assert rules.review_limit("III", after_supplement=True).value == 60
    assert rules.review_limit("II", after_supplement=True).value == 60
    assert "Art.92(3)" in rules.review_limit("III").basis


def test_acceptance_deadline_counts_working_days_across_national_day():
    received = date(2024, 9, 27)  # Friday before the 2024 National Day holiday (Oct 1-7)
    due = rules.acceptance_due(received)
    assert due == add_working_days(received, 5)
    # Working days after Fri 27 Sep: Sun 29 Sep (调休 working day), Mon 30 Sep, then 1-7 Oct off,
    # Tue 8, Wed 9, Thu 10 Oct -> the 5th working day is 10 Oct.
    assert due == date(2024, 10, 10)
    assert not rules.deemed_accepted(received, due)
    assert rules.deemed_accepted(received, date(2024, 10, 11))


def test_supplement_and_objection_periods():
    assert rules.supplement_due(date(2024, 2, 29)) == date(2025, 2, 28)
    assert rules.objection_due(date(2024, 5, 6)) == add_working_days(date(2024, 5, 6), 15)


def test_conditions_checked():
    dec, until = date(2024, 1, 10), date(2029, 1, 9)
    ok = [rules.Condition("complete the 2-year follow-up study", date(2026, 1, 10))]
    assert (
        rules.check_conditions("rare_disease", ok, decided_on=dec, valid_until=until)
        is rules.ConditionalGround.RARE_DISEASE
    )
    with pytest.raises(ValidationFailed) as e:
        rules.check_conditions("cheap", ok, decided_on=dec, valid_until=until)
    assert e.value.field == "conditional_ground"
    with pytest.raises(ValidationFailed) as e:
        rules.check_conditions("rare_disease", [], decided_on=dec, valid_until=until)
    assert e.value.field == "conditions"
    with pytest.raises(ValidationFailed) as e:
        rules.check_conditions(
            "rare_disease", [rules.Condition("x", date(2030, 1, 1))], decided_on=dec, valid_until=until
        )
    assert e.value.field == "conditions[0].due_on"


def test_obligation_late_flag():
    due = date(2025, 6, 30)
    assert not rules.obligation_is_late(due, None, date(2025, 6, 30))
    assert rules.obligation_is_late(due, None, date(2025, 7, 1))
    assert not rules.obligation_is_late(due, date(2025, 6, 1), date(2025, 9, 1))
    assert rules.obligation_is_late(due, date(2025, 7, 2), date(2025, 9, 1))


def test_acceptance_number_convention():
    assert rules.acceptance_number(kind="initial", origin="domestic", year=2024, serial=12) == "CQZ2400012"
    assert rules.acceptance_number(kind="change", origin="imported", year=2025, serial=3) == "JQB2500003"
    assert (
        rules.acceptance_number(kind="renewal", origin="hk_macao_taiwan", year=2025, serial=3) == "JQY2500003"
    )
