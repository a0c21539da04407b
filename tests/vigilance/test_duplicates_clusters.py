"""Duplicate scoring (hand-computed), blocking equals brute force within its criteria, cluster alerts."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from medreg.vigilance.clusters import Event, detect
from medreg.vigilance.duplicates import ReportRow, block_key, candidate_pairs, find_duplicates, score_pair

D = date(2025, 3, 2)
X = ReportRow(
    1,
    D,
    registration_number="国械注准20253030001",
    model="CVC-7F",
    lot="L1",
    age=67,
    sex="female",
    outcome="serious_injury",
    narrative="Catheter tip fractured during insertion",
)
Y = ReportRow(
    2,
    D + timedelta(days=1),
    registration_number="国械注准 20253030001",
    model="cvc-7f",
    lot="l1",
    age=67.5,
    sex="female",
    outcome="serious_injury",
    narrative="during insertion the catheter tip fractured",
)


def test_pair_score_hand_computed():
    p = score_pair(X, Y)
    # device 1.0 (certificate + model), lot 0.8, date 1 - 1/31, patient 1, outcome 1, narrative 1
    # (token_set_ratio of the same word set = 100): 0.2 + 0.12 + 0.2*(30/31) + 0.15 + 0.05 + 0.25
    assert p.score == pytest.approx(0.2 + 0.12 + 0.2 * 30 / 31 + 0.15 + 0.05 + 0.25, abs=1e-4)
    assert p.features["event_date"] == pytest.approx(30 / 31, abs=1e-4)
    assert p.matching == ("device", "lot_serial", "event_date", "patient", "outcome", "narrative")
    assert (p.a, p.b) == (1, 2)


def test_missing_features_are_left_out_of_the_mean():
    a = ReportRow(1, D, udi_di="06901234567892", narrative="screen went blank")
    b = ReportRow(2, D, udi_di="06901234567892", narrative="screen went blank")
    p = score_pair(a, b)
    assert set(p.features) == {"device", "event_date", "narrative"} and p.score == 1.0


def test_different_serials_and_patients_score_low():
    b = ReportRow(
        2,
        D + timedelta(days=20),
        registration_number=X.registration_number,
        serial="S2",
        sex="male",
        age=30,
        outcome="death",
        narrative="The pump stopped infusing",
    )
    a = ReportRow(
        1,
        D,
        registration_number=X.registration_number,
        serial="S1",
        sex="female",
        age=67,
        outcome="serious_injury",
        narrative=X.narrative,
    )
    assert score_pair(a, b).score < 0.5
    assert find_duplicates([a, b]) == []


def test_find_duplicates_and_exclusions():
    rows = [X, Y, ReportRow(3, D, registration_number="other", narrative=X.narrative)]
    pairs = find_duplicates(rows)
    assert [(p.a, p.b) for p in pairs] == [(1, 2)]
    assert find_duplicates(rows, exclude={(1, 2)}) == []


def test_blocking_equals_brute_force_within_its_criteria():
    rng = random.Random(7)
    rows = [
        ReportRow(
            i, D + timedelta(days=rng.randint(0, 120)), registration_number=rng.choice("ABCD"), narrative="x"
        )
        for i in range(300)
    ]
    fast = {tuple(sorted((a.id, b.id))) for a, b in candidate_pairs(rows, window_days=10)}
    brute = {
        (a.id, b.id)
        for a in rows
        for b in rows
        if a.id < b.id and block_key(a) == block_key(b) and abs((a.event_date - b.event_date).days) <= 10
    }
    assert fast == brute and len(brute) < 300 * 299 / 2 / 4


def _events(lot, days, device="R1", province="Beijing", start=1):
    return [Event(start + i, D + timedelta(days=d), device, lot, province) for i, d in enumerate(days)]


def test_cluster_alert_three_in_a_week():
    alerts = detect(_events("L1", [0, 1, 4, 19]) + _events("L2", [0, 1], start=10))
    assert [(a.lot, a.case_ids, a.first_date, a.last_date) for a in alerts] == [
        ("L1", (1, 2, 3), D, D + timedelta(days=4))
    ]


def test_overlapping_windows_merge_into_one_alert():
    (alert,) = detect(_events("L1", [0, 2, 7, 9]))  # {0,2,7} and {2,7,9} overlap
    assert alert.case_ids == (1, 2, 3, 4) and alert.count == 4


def test_separate_runs_give_separate_alerts():
    alerts = detect(_events("L1", [0, 1, 2, 30, 31, 32]))
    assert [a.case_ids for a in alerts] == [(1, 2, 3), (4, 5, 6)]


def test_by_province():
    events = _events("L1", [0, 1], province="Beijing") + _events("L1", [2], province="Hebei", start=5)
    assert len(detect(events)) == 1
    assert detect(events, by_province=True) == []


def test_parameters_are_checked():
    with pytest.raises(ValueError):
        detect([], min_events=1)


def test_different_devices_count_against():
    a = ReportRow(1, D, registration_number="R1", narrative="x y z")
    b = ReportRow(2, D, registration_number="R2", narrative="x y z")
    assert score_pair(a, b).features["device"] == 0.0
