"""Report quality score: each part and its reasons, with the points computed by hand."""

from __future__ import annotations

from datetime import date

import pytest

from medreg.vigilance import quality as q
from medreg.vigilance.aet import terminology
from medreg.vigilance.service import parse_content, stored_form
from tests.vigilance.world import form


def stored(**changes) -> dict:
    codes = changes.pop("codes", None)
    f = form(**changes)
    if codes is not None:
        f["codes"] = codes
    return stored_form(parse_content(f))


def part(result: q.Quality, name: str) -> q.Part:
    return next(p for p in result.parts if p.name == name)


def run(content, **ctx):
    return q.score(content, terminology(), q.Context(**ctx))


def test_weights_sum_to_100():
    assert sum(q.WEIGHTS.values()) == 100


def test_a_complete_consistent_timely_report_scores_100():
    r = run(stored())
    assert r.score == 100 and r.reasons == []  # lot, serial and dates come from the UDI


def test_completeness_and_coding_hand_computed():
    r = run(stored(event__description=None, codes={}))
    # completeness: 7 required x2 + 11 desirable x1 = 25; missing description (2) and two code lists (1+1)
    # -> 30 * 21/25 = 25.2
    assert part(r, "completeness").points == pytest.approx(25.2)
    assert [x.field for x in part(r, "completeness").reasons] == [
        "event.description",
        "codes.device_problem",
        "codes.health_impact",
    ]
    # coding: no A and no F code (0.6 * 0) and the narrative's "fracture" (A040101) uncovered (0.4 * 0)
    coding = part(r, "coding")
    assert coding.points == 0
    assert coding.reasons[-1].params == {"words": "fracture", "code": "A040101", "term": "Fracture"}
    assert r.score == round(25.2 + 20 + 20 + 0 + 15)


def test_coding_half_given():
    # A code given, F missing: 15 * (0.6 * 1/2 + 0.4 * 1) = 10.5
    r = run(stored(codes={"device_problem": ["A040101"]}))
    assert part(r, "coding").points == pytest.approx(10.5)


def test_dates_out_of_order():
    # 6 checks apply (event/awareness, made/expiry, made/event, UDI production and expiry dates vs entered,
    # outcome vs F codes); the event date after awareness fails one: 20 * 5/6.
    r = run(stored(event__event_date="2025-03-04"))
    c = part(r, "consistency")
    assert c.points == pytest.approx(20 * 5 / 6)
    assert [x.field for x in c.reasons] == ["event.event_date"]


def test_udi_disagrees_with_entered_lot():
    c = part(run(stored(device__lot_number="LOT43")), "consistency")
    assert c.reasons[0].params == {"name": "device.lot_number", "entered": "LOT43", "udi": "LOT42"}


@pytest.mark.parametrize(
    ("outcome", "impact", "ok"),
    [
        ("death", ["F02"], True),
        ("death", ["F1901"], False),  # a death must be coded as one
        ("serious_injury", ["F02"], False),
        ("serious_injury", ["F26"], False),  # "No Health Consequences or Impact"
        ("other", ["F1205"], False),  # F12 serious injury branch with outcome "other"
        ("other", ["F26"], True),
    ],
)
def test_outcome_vs_health_impact(outcome, impact, ok):
    c = part(run(stored(event__outcome=outcome, codes={"health_impact": impact})), "consistency")
    assert (not any(x.field == "codes.health_impact" for x in c.reasons)) is ok


def test_device_identity_vs_registration():
    c = part(
        run(stored(), registered={"product_name": "Central venous catheter", "model_spec": "CVC-5F, CVC-6F"}),
        "consistency",
    )
    assert {x.field for x in c.reasons} == {"device.generic_name", "device.model"}


def test_late_report_loses_timeliness():
    t = part(run(stored(), late=True, days_late=3), "timeliness")
    assert t.points == 0 and t.reasons[0].params == {"days": 3}


def test_follow_up():
    s = stored()
    overdue = part(run(s, evaluation_due=date(2025, 4, 19), today=date(2025, 4, 20)), "follow_up")
    assert overdue.points == 0 and overdue.reasons[0].params == {"date": "2025-04-19"}
    pending = part(run(s, evaluation_due=date(2025, 4, 19), today=date(2025, 4, 19)), "follow_up")
    assert pending.points == 15
    # final report without B/C/D codes: 15 * (1 - 3/4)
    assert part(run(s, final_submitted=True), "follow_up").points == pytest.approx(3.75)
    full = stored(
        codes={
            "device_problem": ["A040101"],
            "health_impact": ["F1901"],
            "investigation_type": ["B01"],
            "investigation_finding": ["C0101"],
            "investigation_conclusion": ["D0101"],
        }
    )
    assert part(run(full, final_submitted=True), "follow_up").points == 15
    assert part(run(stored(event__outcome="other")), "follow_up").points == 15


def test_reason_messages_fill_their_placeholders():
    r = run(stored(event__description=None, event__event_date="2025-03-04", codes={}), late=True, days_late=1)
    for reason in r.reasons:
        reason.message.format(**reason.params)
