"""The minimum follow-up of a study's cohort (both databases): a patient whose follow-up ended by the
study's outcome or by death before N days is kept, a patient censored before N days (lost to follow-up,
or at the end of the data) is excluded. Protocols registered with the older ``days_followed >= N``
keep their hash and their meaning (early events excluded too)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from medreg.evidence import service as evidence
from medreg.evidence.protocol import Criterion, protocol_hash, select_cohort
from medreg.surveillance.demo import DEVICES, PLANTED_DI
from medreg.surveillance.models import Outcome, Procedure, SentinelHospital
from medreg.surveillance.protocol_form import build_protocol
from medreg.surveillance.service_studies import _protocol, _rows, run_study
from tests.surveillance.factories import small_protocol, stent_d_protocol

CUTOFF = date(2026, 6, 30)
START = CUTOFF - timedelta(days=400)
N = 30
OTHER_DI = DEVICES[0][1]
TLF = "target_lesion_failure"


def _add(db, hospital_id, name, di, day, followed, events=(), age=70):
    p = Procedure(hospital_id=hospital_id, patient_pseudonym=name, procedure_date=day,
                  device_group="coronary_stent", udi_raw="-", udi_di=di, age=age, sex="M" if age % 2 else "F",
                  diabetes=age % 3 == 0, follow_up_end=followed)
    db.add(p)
    db.flush()
    for kind, d in events:
        db.add(Outcome(procedure_id=p.id, kind=kind, event_date=d))
    db.flush()


def _registry(db):
    """20 patients of stent D and 20 of stent A followed to the cut-off (some with TLF at day 100),
    and the patients whose follow-up ended before N days."""
    hospital = db.scalar(select(SentinelHospital.id).where(SentinelHospital.code == "H1"))
    for i in range(40):
        di = PLANTED_DI if i % 2 else OTHER_DI
        events = [(TLF, START + timedelta(days=100 + i))] if i % 5 == 0 else []
        _add(db, hospital, f"base-{i}", di, START + timedelta(days=i), CUTOFF, events, age=50 + i)
    day = START

    def at(n):
        return day + timedelta(days=n)

    _add(db, hospital, "early-tlf", PLANTED_DI, day, at(12), [(TLF, at(10))])  # lost 2 days after its TLF
    _add(db, hospital, "early-death", OTHER_DI, day, at(5), [("death", at(5))])
    _add(db, hospital, "early-lost", PLANTED_DI, day, day + timedelta(days=20))
    # another outcome than the study's does not end its follow-up: lost at day 15, excluded
    _add(db, hospital, "early-bleeding-lost", OTHER_DI, day, day + timedelta(days=15),
         [("major_bleeding", day + timedelta(days=3))])
    # procedures less than N days before the cut-off: excluded, with or without an early event
    recent = CUTOFF - timedelta(days=10)
    _add(db, hospital, "recent-tlf", PLANTED_DI, recent, CUTOFF, [(TLF, recent + timedelta(days=3))])
    _add(db, hospital, "recent", OTHER_DI, recent, CUTOFF)


def _kept(db, protocol) -> set[str]:
    rows, _ = select_cohort(_rows(db, "coronary_stent", CUTOFF, protocol.outcomes[0]), protocol)
    names = dict(db.execute(select(Procedure.id, Procedure.patient_pseudonym)).all())
    return {names[r["id"]] for r in rows}


BODY = {
    "title": "Stent D: TLF at 180 days, followed at least 30 days",
    "question": "TLF with stent D?",
    "device_group": "coronary_stent",
    "device_dis": [PLANTED_DI],
    "comparator": "other stents",
    "outcomes": [TLF],
    "analyses": ["kaplan_meier", "logrank"],
    "follow_up_days": 180,
    "covariates": ["age"],
    "min_follow_up_days": N,
}


def test_the_minimum_follow_up_keeps_early_events_and_excludes_early_censoring(db, world):
    centre, _ = world
    _registry(db)
    protocol = build_protocol(BODY)
    assert protocol.inclusion == (Criterion("days_followed_or_event", ">=", N),)
    kept = _kept(db, protocol)
    base = {f"base-{i}" for i in range(40)}
    assert kept == base | {"early-tlf", "early-death"}
    row = evidence.register_protocol(db, centre, protocol)
    db.commit()
    db.expire_all()
    stored = evidence.get_protocol(db, centre, row.id)
    assert stored.content["inclusion"] == [{"field": "days_followed_or_event", "op": ">=", "value": N}]
    assert protocol_hash(_protocol(stored.content)) == stored.sha256
    r = run_study(db, centre, row.id, data_cutoff=CUTOFF).results
    assert (r["n"], r["n_device"]) == (42, 21)
    assert dict(r["flow"]) == {f"include days_followed_or_event >= {N}": 4}
    # the early TLF is an event of stent D's curve at day 10: its survival drops there
    device = next(c for c in r["kaplan_meier"] if c["group"] == "device")["curve"]
    assert device["times"][1] == 10 and device["survival"][1] < 1.0
    # the older criterion: early events excluded too (its registered meaning is kept)
    old = stent_d_protocol(outcomes=(TLF,), analyses=("logrank",), covariates=("age",),
                           inclusion=(Criterion("days_followed", ">=", N),))
    assert _kept(db, old) == base


def test_an_outcome_other_than_the_studys_or_a_death_after_the_cut_off_does_not_end_follow_up(db, world):
    _registry(db)
    # with major bleeding as the study's outcome, the bleeding patient's follow-up ended by its outcome
    bleeding = build_protocol({**BODY, "outcomes": ["major_bleeding"]})
    assert "early-bleeding-lost" in _kept(db, bleeding) and "early-tlf" not in _kept(db, bleeding)
    # at a cut-off 2 days after the procedure the death on day 5 is not in the data: the patient is
    # censored at the cut-off (2 days), as if the death were unknown
    day = START + timedelta(days=2)
    rows = _rows(db, "coronary_stent", day, TLF)
    early = next(r for r in rows if r["events"].get("death") == START + timedelta(days=5))
    assert early["days_followed_or_event"] == early["days_followed"] == 2


def test_protocols_registered_with_days_followed_keep_their_hash():
    """The canonical JSON of a protocol naming ``days_followed`` is unchanged (hash computed with the
    code before ``days_followed_or_event`` existed)."""
    p = small_protocol(inclusion=(Criterion("days_followed", ">=", 30),))
    assert p.canonical().count('{"field":"days_followed","op":">=","value":30}') == 1
    assert protocol_hash(p) == HASH_BEFORE


HASH_BEFORE = "b6ec88e260fdba09d206d53957c5c8ad191ec964a2793e7a21b2b57a54693d79"  # commit 2afe16c
