"""Pure rules: eligibility (No.83 Art.2, Art.4), patent numbers, acceptance numbers, notice dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from medreg.premarket.innovation import rules
from medreg.premarket.innovation.rules import DocType, EligibilityInput, check_eligibility

GRANT = date(2021, 5, 10)


def _input(**kw) -> EligibilityInput:
    base = EligibilityInput(
        proposed_class="III",
        domestically_first=True,
        internationally_leading=True,
        significant_clinical_value=True,
        innovation_statement="Maglev pump",
        patent_kind="granted",
        patent_number="ZL202010123456.2",
        patent_grant_date=GRANT,
        search_report_no=None,
        search_report_confirms=False,
        is_domestic=True,
        document_types=frozenset(d.value for d in rules.BASE_DOSSIER),
    )
    return replace(base, **kw)


def _unmet(result) -> dict[str, str]:
    return {c.key: c.reason for c in result.unmet}


def test_complete_application_is_eligible_and_every_criterion_cites_an_article():
    result = check_eligibility(_input(), date(2025, 3, 3))
    assert result.eligible
    assert {c.key for c in result.criteria} == {
        "device_class",
        "innovation_claims",
        "patent_number",
        "patent_grant_window",
        "dossier",
    }
    assert all(c.article for c in result.criteria)
    assert result.as_dict()["eligible"] is True


@pytest.mark.parametrize(
    ("application_date", "ok"),
    [
        (date(2026, 5, 10), True),  # exactly five years after the grant announcement: still in time
        (date(2026, 5, 11), False),  # one day later: too late (No.83 Art.2(1), CMDE Art.7(3))
        (GRANT, True),
        (date(2021, 5, 9), False),  # before the grant: the date is wrong
    ],
)
def test_five_year_patent_window(application_date, ok):
    result = check_eligibility(_input(), application_date)
    assert result.eligible is ok
    crit = next(c for c in result.criteria if c.key == "patent_grant_window")
    assert crit.met is ok and "Art.2(1)" in crit.article


def test_leap_day_grant_window_ends_on_28_february():
    result = check_eligibility(_input(patent_grant_date=date(2020, 2, 29)), date(2025, 2, 28))
    assert result.eligible
    assert not check_eligibility(_input(patent_grant_date=date(2020, 2, 29)), date(2025, 3, 1)).eligible


def test_class_one_is_refused():
    unmet = _unmet(check_eligibility(_input(proposed_class="I"), date(2025, 3, 3)))
    assert set(unmet) == {"device_class"} and "class I" in unmet["device_class"]
    assert "device_class" in _unmet(check_eligibility(_input(proposed_class=None), date(2025, 3, 3)))


@pytest.mark.parametrize(
    "missing", ["domestically_first", "internationally_leading", "significant_clinical_value"]
)
def test_all_three_innovation_claims_are_required(missing):
    unmet = _unmet(check_eligibility(_input(**{missing: False}), date(2025, 3, 3)))
    assert set(unmet) == {"innovation_claims"}
    assert missing.replace("_", " ") in unmet["innovation_claims"]


def test_published_application_needs_a_confirming_search_report():
    kw = dict(
        patent_kind="published_with_search_report",
        patent_grant_date=None,
        document_types=frozenset(d.value for d in rules.BASE_DOSSIER) | {"search_report"},
    )
    unmet = _unmet(check_eligibility(_input(**kw, search_report_no="JS2024-001"), date(2025, 3, 3)))
    assert set(unmet) == {"search_report"}
    ok = check_eligibility(
        _input(**kw, search_report_no="JS2024-001", search_report_confirms=True), date(2025, 3, 3)
    )
    assert ok.eligible


def test_licensed_patent_needs_the_licence_record():
    unmet = _unmet(check_eligibility(_input(patent_kind="licensed"), date(2025, 3, 3)))
    assert set(unmet) == {"dossier"} and "patent_licence_record" in unmet["dossier"]
    docs = frozenset(d.value for d in rules.BASE_DOSSIER) | {DocType.PATENT_LICENCE_RECORD.value}
    assert check_eligibility(_input(patent_kind="licensed", document_types=docs), date(2025, 3, 3)).eligible


def test_dossier_lists_every_missing_document_with_its_article():
    unmet = _unmet(
        check_eligibility(_input(document_types=frozenset({"application_form"})), date(2025, 3, 3))
    )
    assert "risk_analysis (No.83 Art.4(6); CMDE Art.7(7))" in unmet["dossier"]
    assert "agent_documents" not in unmet["dossier"]
    foreign = _unmet(check_eligibility(_input(is_domestic=False), date(2025, 3, 3)))
    assert "agent_documents" in foreign["dossier"]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("ZL 2017 1 0601862.3", True),
        ("ZL201710601862.3", True),
        ("CN2017106018623", True),
        ("201710601862.3", True),
        ("ZL95115608.X", True),  # pre-2003 eight-digit number, check character X
        ("ZL 2020 1 0123456.2", True),
        ("ZL 2020 1 0123456.7", False),  # wrong check character
        ("ZL2020101234", False),
        ("US10123456B2", False),
        ("", False),
    ],
)
def test_patent_numbers(text, ok):
    parsed = rules.parse_patent_number(text)
    assert isinstance(parsed, rules.PatentNumber) is ok


def test_utility_model_is_not_an_invention_patent():
    digits = "201720123456"
    number = f"ZL{digits}.{rules.patent_check_char(digits)}"
    unmet = _unmet(check_eligibility(_input(patent_number=number), date(2025, 3, 3)))
    assert "utility model" in unmet["patent_number"]
    pct = "201780012345"
    assert check_eligibility(
        _input(patent_number=f"{pct}.{rules.patent_check_char(pct)}"), date(2025, 3, 3)
    ).eligible


def test_acceptance_number():
    assert rules.acceptance_number(2025, 7) == "CQTS20250007"
    assert rules.ACCEPTANCE_RE.match(rules.acceptance_number(2025, 9999))
    with pytest.raises(ValueError):
        rules.acceptance_number(2025, 10000)


def test_notice_end_date_counts_working_days_after_publication():
    # CMDE notice published Thursday 2023-11-09 ran to Thursday 2023-11-23.
    assert rules.notice_end_date(date(2023, 11, 9)) == date(2023, 11, 23)
    # Across the 2025 National Day holiday (1-8 October off, 28 September and 11 October worked).
    assert rules.notice_end_date(date(2025, 9, 26)) == date(2025, 10, 16)
    assert rules.notice_end_date(date(2023, 11, 9), 15) == date(2023, 11, 30)
    with pytest.raises(ValueError):
        rules.notice_end_date(date(2023, 11, 9), 9)
    assert rules.notice_is_open(date(2023, 11, 9), date(2023, 11, 23), date(2023, 11, 23))
    assert not rules.notice_is_open(date(2023, 11, 9), date(2023, 11, 23), date(2023, 11, 24))


def test_tenancy_predicate():
    common = dict(
        actor_org_id=1, actor_province="Beijing", registrant_org_id=1, province="Beijing", assigned=False
    )
    assert rules.may_see(roles=frozenset({"registrant"}), status="draft", **common)
    assert not rules.may_see(roles=frozenset({"office"}), status="draft", **common)
    assert rules.may_see(roles=frozenset({"office"}), status="submitted", **common)
    assert not rules.may_see(
        roles=frozenset({"province"}), status="submitted", **{**common, "actor_province": "Shanghai"}
    )
    assert not rules.may_see(roles=frozenset({"expert"}), status="expert_review", **common)
    assert rules.may_see(roles=frozenset({"expert"}), status="expert_review", **{**common, "assigned": True})
    assert not rules.may_see(roles=frozenset({"public"}), status="approved", **common)
