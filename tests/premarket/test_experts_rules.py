"""Pure expert rules: conflicts of interest (CMDE Art.10-11) and fitness (CMDE Art.9)."""

from __future__ import annotations

from datetime import date

from medreg.premarket.experts.rules import (
    ExpertProfile,
    Interest,
    conflicts,
    fitness,
    split_avoidance,
)

TODAY = date(2025, 3, 3)
APPLICANT = 10


def _expert(**kw) -> ExpertProfile:
    base = dict(
        id=1,
        name="Zhang Wei",
        organisation_id=20,
        organisation_name="Fuwai Hospital",
        senior_title=True,
        birth_year=1970,
        age_exempt=False,
        active=True,
        fields=("cardiovascular",),
    )
    base.update(kw)
    return ExpertProfile(**base)


def test_no_conflict():
    assert conflicts(_expert(), APPLICANT, [], [], TODAY) == []


def test_expert_of_the_applicant_itself():
    found = conflicts(_expert(organisation_id=APPLICANT), APPLICANT, [], [], TODAY)
    assert len(found) == 1 and "Art.10" in found[0].article and "own organisation" in found[0].reason


def test_current_consulting_conflicts_and_ended_one_does_not():
    current = Interest(APPLICANT, "consulting", "advisory board", date(2024, 1, 1), None)
    ended = Interest(APPLICANT, "consulting", "advisory board", date(2018, 1, 1), date(2020, 12, 31))
    assert [c.article for c in conflicts(_expert(), APPLICANT, [current], [], TODAY)] == [
        "CMDE Art.10(4); Art.11"
    ]
    assert conflicts(_expert(), APPLICANT, [ended], [], TODAY) == []


def test_past_gift_and_research_collaboration_conflict_forever():
    gift = Interest(APPLICANT, "gift", "conference travel", date(2015, 1, 1), date(2015, 1, 2))
    research = Interest(
        APPLICANT, "research_collaboration", "animal study", date(2016, 1, 1), date(2017, 1, 1)
    )
    found = conflicts(_expert(), APPLICANT, [gift, research], [], TODAY)
    assert [c.article for c in found] == ["CMDE Art.10(2); Art.11", "CMDE Art.10(1); Art.11"]


def test_interest_in_another_organisation_is_not_a_conflict():
    other = Interest(99, "shareholding", "shares", None, None)
    assert conflicts(_expert(), APPLICANT, [other], [], TODAY) == []


def test_future_interest_is_not_yet_a_conflict():
    future = Interest(APPLICANT, "employment", "", date(2026, 1, 1), None)
    assert conflicts(_expert(), APPLICANT, [future], [], TODAY) == []


def test_avoidance_request_by_name_or_organisation():
    entries = split_avoidance("张三；Zhang  Wei (competitor's adviser)\nother person")
    assert entries == ["张三", "Zhang  Wei (competitor's adviser)", "other person"]
    found = conflicts(_expert(), APPLICANT, [], entries, TODAY)
    assert len(found) == 1 and "Art.7(13)2" in found[0].article
    by_org = conflicts(_expert(name="Li Na"), APPLICANT, [], split_avoidance("all of Fuwai Hospital"), TODAY)
    assert len(by_org) == 1 and "Fuwai Hospital" in by_org[0].reason
    assert conflicts(_expert(name="Li Na"), APPLICANT, [], split_avoidance("Wang Fang"), TODAY) == []


def test_fitness_age_boundary_and_exemption():
    assert fitness(_expert(birth_year=1961), "cardiovascular", TODAY).eligible  # 64 this year
    too_old = fitness(_expert(birth_year=1960), "cardiovascular", TODAY)  # 65 this year
    assert not too_old.eligible and too_old.problems[0].article == "CMDE Art.9(5)"
    assert fitness(_expert(birth_year=1940, age_exempt=True), "cardiovascular", TODAY).eligible


def test_fitness_field_title_and_activity():
    problems = fitness(
        _expert(senior_title=False, active=False, fields=("orthopaedics",)), "Cardiovascular", TODAY
    ).problems
    assert [p.article for p in problems] == ["CMDE Art.9(4); Art.10(7)", "CMDE Art.9(2)", "CMDE Art.9(2)"]
    assert fitness(_expert(), " cardiovascular ", TODAY).eligible  # case and spaces do not matter
    assert fitness(_expert(), None, TODAY).eligible  # no field given: not checked
