"""A registered RWE study run on the made-up demo registry: the planted stent's excess risk shows as
a hazard ratio above 1; matching balances the arms; results are stored under the protocol hash."""

from __future__ import annotations

from datetime import date

import pytest

from medreg.core import audit
from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, PermissionDenied
from medreg.evidence import service as evidence
from medreg.evidence.protocol import protocol_hash
from medreg.surveillance import service
from medreg.surveillance.demo import generate, to_csv
from medreg.surveillance.service_studies import run_study
from tests.factories import actor_for, make_org, make_user
from tests.surveillance.factories import small_protocol, stent_d_protocol


def _load_registry(db, actor):
    reg = generate(7, 4000)
    for code, rows in reg.rows_by_hospital.items():
        org = make_org(db, OrgKind.HOSPITAL)
        service.enrol_hospital(
            db,
            actor,
            organisation_id=org.id,
            code=code,
            device_groups=["coronary_stent", "tavr_valve"],
            enrolled_on=reg.start,
        )
        service.import_extract(db, actor, to_csv(rows), filename=code, today=reg.cutoff, hospital_code=code)
    return reg


@pytest.mark.slow
def test_registered_study_finds_the_planted_excess_and_is_hash_linked(db):
    _load_registry(db, Actor.system())
    centre = actor_for(make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE)))
    protocol = stent_d_protocol()
    registered = evidence.register_protocol(db, centre, protocol)
    assert registered.sha256 == protocol_hash(protocol)
    with pytest.raises(Conflict):
        evidence.register_protocol(db, centre, protocol)
    analysis = run_study(db, centre, registered.id, data_cutoff=date(2026, 6, 30))
    r = analysis.results
    device_hr = next(t for t in r["cox_ph"] if t["name"] == "device")
    assert device_hr["hazard_ratio"] > 1.5 and device_hr["lower"] > 1.0  # planted odds ratio 2.5
    assert r["logrank"]["p_value"] < 0.001
    assert r["cumulative_incidence"]["device"] > r["cumulative_incidence"]["comparator"]
    assert max(abs(v) for v in r["balance"]["smd_after"]) < 0.1
    assert analysis.protocol_sha256 == registered.sha256 and len(analysis.results_sha256) == 64
    assert [e.action for e in audit.history(db, "evidence_analysis", analysis.id)] == [
        "evidence.analysis.record"
    ]
    hospital = actor_for(make_user(db, Role.HOSPITAL, org=make_org(db, OrgKind.HOSPITAL)))
    with pytest.raises(PermissionDenied):
        run_study(db, hospital, registered.id, data_cutoff=date(2026, 6, 30))


def test_a_tampered_protocol_is_refused(db):
    centre = actor_for(make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE)))
    p = small_protocol()
    row = evidence.register_protocol(db, centre, p)
    row.content = {**row.content, "follow_up_days": 365}
    db.flush()
    with pytest.raises(Conflict) as err:
        evidence.record_analysis(db, centre, row.id, data_cutoff=date(2026, 1, 1), results={})
    assert err.value.field == "protocol_id"
