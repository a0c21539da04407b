"""Duplicate candidates and cluster alerts read from submitted cases; merge / dismiss is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from medreg.core import audit
from medreg.core.errors import Conflict, PermissionDenied, ValidationFailed
from medreg.vigilance import review, service
from tests.vigilance.world import AWARE, form, make_world


@pytest.fixture
def w(db):
    return make_world(db)


def _report(db, actor, **changes):
    case = service.create_report(db, actor, form(**changes))
    return service.submit(db, actor, case.id, now=AWARE + timedelta(days=1))


def test_hospital_and_registrant_report_the_same_event(db, w):
    a = _report(db, w.hospital)
    b = _report(
        db,
        w.registrant,
        reporter__role="registrant",
        event__description="The tip of the catheter fractured during insertion; fragment retrieved. "
        "Additional surgery was needed.",
    )
    _report(
        db,
        w.other_hospital,
        device__udi=None,
        device__lot_number="LOT99",
        event__event_date="2025-02-20",
        event__description="Patient developed fever after a dressing change.",
        patient__sex="male",
    )
    pairs = review.duplicate_candidates(db, w.national)
    assert [(p.a, p.b) for p in pairs] == [(a.id, b.id)]
    assert {"device", "lot_serial", "event_date", "patient"} <= set(pairs[0].matching)
    assert review.duplicate_candidates(db, w.other_hospital) == []  # sees only its own report
    with pytest.raises(PermissionDenied):
        review.decide_duplicate(db, w.hospital, a.id, b.id, "merged")
    review.decide_duplicate(db, w.province, b.id, a.id, "merged", note="same patient, same day")
    assert b.duplicate_of_id == a.id
    assert audit.history(db, "vigilance_case", b.id)[-1].action == "duplicate_merged"
    assert review.duplicate_candidates(db, w.national) == []
    with pytest.raises(Conflict):
        review.decide_duplicate(db, w.province, a.id, b.id, "dismissed")


def test_dismissed_pairs_are_not_proposed_again(db, w):
    a, b = _report(db, w.hospital), _report(db, w.hospital)
    review.decide_duplicate(db, w.national, a.id, b.id, "dismissed")
    assert a.duplicate_of_id is None and b.duplicate_of_id is None
    assert review.duplicate_candidates(db, w.national) == []


def test_bad_decisions(db, w):
    a = _report(db, w.hospital)
    with pytest.raises(ValidationFailed) as e:
        review.decide_duplicate(db, w.national, a.id, a.id, "merged")
    assert e.value.field == "case_b"
    with pytest.raises(ValidationFailed) as e:
        review.decide_duplicate(db, w.national, a.id, a.id + 1, "maybe")
    assert e.value.field == "decision"
    with pytest.raises(ValidationFailed):
        review.duplicate_candidates(db, w.national, threshold=1.5)


def test_cluster_alert_from_cases(db, w):
    ids = [
        _report(db, w.hospital, event__event_date=f"2025-03-0{d}", patient__age_years=30 + d).id
        for d in (1, 2, 3)
    ]
    _report(db, w.hospital, device__udi=None, device__lot_number="OTHER")
    (alert,) = review.cluster_alerts(db, w.national)
    assert alert.case_ids == tuple(ids) and alert.lot == "LOT42" and alert.count == 3
    assert review.cluster_alerts(db, w.national, min_events=4) == []
    with pytest.raises(ValidationFailed):
        review.cluster_alerts(db, w.national, min_events=1)
