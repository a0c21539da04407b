"""Cohort criteria on dates run on the registry (both databases): a study whose protocol has a
procedure-date window and a minimum follow-up analyses exactly the procedures a direct count of the
registry finds; the form/API input is checked at its field (bad dates, a window that ends before it
starts, criteria leaving no date)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.errors import ValidationFailed
from medreg.evidence import service as evidence
from medreg.evidence.protocol import protocol_hash
from medreg.surveillance import service
from medreg.surveillance.demo import PLANTED_DI, generate, to_csv
from medreg.surveillance.models import Outcome, Procedure
from medreg.surveillance.protocol_form import build_protocol
from medreg.surveillance.service_studies import _protocol, run_study
from tests.factories import actor_for, make_org, make_user

CUTOFF = date(2026, 6, 30)
BODY = {
    "title": "Stent D, 2025 procedures",
    "question": "TLF with stent D?",
    "device_group": "coronary_stent",
    "device_dis": [PLANTED_DI],
    "comparator": "other stents",
    "outcomes": ["target_lesion_failure"],
    "analyses": ["kaplan_meier", "logrank"],
    "follow_up_days": 180,
    "inclusion": [{"field": "age", "op": ">=", "value": "18"}],
}


def _registry(db):
    reg = generate(11, 1500)
    for code, rows in reg.rows_by_hospital.items():
        org = make_org(db, OrgKind.HOSPITAL)
        service.enrol_hospital(
            db,
            Actor.system(),
            organisation_id=org.id,
            code=code,
            device_groups=["coronary_stent", "tavr_valve"],
            enrolled_on=reg.start,
        )
        service.import_extract(
            db, Actor.system(), to_csv(rows), filename=code, today=reg.cutoff, hospital_code=code
        )


def _expected(db, start, end, min_days) -> int:
    """The cohort counted directly: stents in the window, adults, followed at least ``min_days`` or
    whose follow-up ended by target-lesion failure or death (then the cut-off is ``min_days`` away)."""
    rows = db.execute(
        select(Procedure.id, Procedure.procedure_date, Procedure.follow_up_end).where(
            Procedure.device_group == "coronary_stent",
            Procedure.procedure_date >= start,
            Procedure.procedure_date <= min(end, CUTOFF),
            Procedure.age >= 18,
        )
    ).all()
    by_id: dict[int, list[date]] = {}
    for i, d in db.execute(select(Outcome.procedure_id, Outcome.event_date).where(
            Outcome.kind.in_(("target_lesion_failure", "death")))):
        by_id.setdefault(i, []).append(d)
    kept = 0
    for i, d, f in rows:
        end_of = min(f, CUTOFF)
        if any(d <= e <= end_of for e in by_id.get(i, [])):
            kept += (CUTOFF - d).days >= min_days
        else:
            kept += (end_of - d).days >= min_days
    return kept


@pytest.mark.slow
def test_a_study_with_a_date_window_and_minimum_follow_up_analyses_exactly_that_cohort(db):
    _registry(db)
    centre = actor_for(make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE)))
    protocol = build_protocol(
        {
            **BODY,
            "procedure_date_from": "2025-01-01",
            "procedure_date_to": date(2025, 6, 30),
            "min_follow_up_days": 200,
            "exclusion": [{"field": "procedure_date", "op": ">", "value": "2025-06-15"}],
        }
    )
    row = evidence.register_protocol(db, centre, protocol)
    assert row.content["inclusion"][:3] == [
        {"field": "procedure_date", "op": ">=", "value": "2025-01-01", "type": "date"},
        {"field": "procedure_date", "op": "<=", "value": "2025-06-30", "type": "date"},
        {"field": "days_followed_or_event", "op": ">=", "value": 200},
    ]
    db.commit()
    db.expire_all()
    stored = evidence.get_protocol(db, centre, row.id)
    assert protocol_hash(_protocol(stored.content)) == stored.sha256  # round trip through the DB's JSON
    r = run_study(db, centre, row.id, data_cutoff=CUTOFF).results
    expected = _expected(db, date(2025, 1, 1), date(2025, 6, 15), 200)
    assert 50 < r["n"] == expected
    total = db.scalar(
        select(func.count()).select_from(Procedure).where(Procedure.device_group == "coronary_stent")
    )
    flow = dict(r["flow"])
    assert (
        flow["include procedure_date >= 2025-01-01"] > 0 and flow["exclude procedure_date > 2025-06-15"] > 0
    )
    assert total - sum(flow.values()) == r["n"]
    # the same protocol without dates takes every stent procedure (the window really filtered)
    wide = evidence.register_protocol(db, centre, build_protocol({**BODY, "title": "all"}))
    assert run_study(db, centre, wide.id, data_cutoff=CUTOFF).results["n"] == _expected(
        db, date(1990, 1, 1), CUTOFF, 0
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"procedure_date_from": "2025-02-30"}, "procedure_date_from"),
        ({"procedure_date_to": "30/06/2025"}, "procedure_date_to"),
        ({"procedure_date_from": "1900-01-01"}, "procedure_date_from"),
        ({"procedure_date_from": "2025-07-01", "procedure_date_to": "2025-06-30"}, "procedure_date_to"),
        ({"min_follow_up_days": "0"}, "min_follow_up_days"),
        ({"min_follow_up_days": "a year"}, "min_follow_up_days"),
        ({"inclusion": [{"field": "procedure_date", "op": ">=", "value": "2025"}]}, "inclusion-1"),
        (
            {
                "inclusion": [
                    {"field": "procedure_date", "op": ">", "value": "2025-06-30"},
                    {"field": "procedure_date", "op": "<", "value": "2025-07-01"},
                ]
            },
            "inclusion",
        ),
        (
            {
                "procedure_date_from": "2025-07-01",
                "inclusion": [{"field": "procedure_date", "op": "<=", "value": "2025-06-01"}],
            },
            "inclusion",
        ),
        ({"inclusion": [{"field": "days_followed", "op": ">=", "value": "-1"}]}, "inclusion-1"),
    ],
)
def test_bad_dates_are_refused_at_their_field(changes, field):
    with pytest.raises(ValidationFailed) as err:
        build_protocol({**BODY, **changes})
    assert err.value.field == field


def test_a_one_day_window_is_accepted():
    p = build_protocol({**BODY, "procedure_date_from": "2025-03-01", "procedure_date_to": "2025-03-01"})
    assert json.loads(p.canonical())["inclusion"][1]["value"] == "2025-03-01"
