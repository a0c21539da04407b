"""Evidence packs: the comparison of two runs, the change and the triage decision, kept hashed and signed
for the change registration; tenancy; tamper evidence; over HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from medreg.ai import service_evidence, service_runs
from medreg.ai.models import EvidencePack
from medreg.core.errors import NotFound, PermissionDenied, ValidationFailed
from tests.ai.world import build, make_database, run_body, scores_for, synthetic_cases


@pytest.fixture
def runs(db):
    w = build(db)
    cases = synthetic_cases(120, seed=3)
    _d, v = make_database(db, w, cases=cases)
    s1 = scores_for(cases, seed=1)
    r1 = service_runs.submit_run(db, w.reg_a, v.id, run_body(s1))
    r2 = service_runs.submit_run(db, w.reg_a, v.id, run_body(scores_for(cases, seed=9, noise=0.1), "2.0"))
    r3 = service_runs.submit_run(db, w.reg_a, v.id, run_body({k: min(1.0, x + 0.001) for k, x in s1.items()},
                                                             hardware="ARM"))
    return w, r1, r2, r3


def test_a_version_change_pack_carries_the_comparison_and_the_decision(db, runs):
    w, r1, r2, _r3 = runs
    pack = service_evidence.create_pack(db, w.reg_a, kind="version_change", run_a=r1.id, run_b=r2.id,
                                        changes=["training_data_added"],
                                        registration_reference="国械注准20263210001")
    cmp = service_runs.compare_runs(db, w.reg_a, r1.id, r2.id)
    assert pack.evidence == cmp["evidence"]
    expected = service_runs.triage_change(["training_data_added"], cmp["evidence"])
    assert pack.decision == expected
    assert service_evidence.verify_pack(db, w.reg_a, pack.id)["intact"]
    assert service_evidence.get_pack(db, w.curator, pack.id).id == pack.id
    assert [p.id for p in service_evidence.list_packs(db, w.curator, "国械注准20263210001")] == [pack.id]
    with pytest.raises(NotFound):
        service_evidence.get_pack(db, w.reg_b, pack.id)
    db.execute(update(EvidencePack).where(EvidencePack.id == pack.id)
               .values(decision={"outcome": "qms_control"}))
    db.expire_all()
    assert not service_evidence.verify_pack(db, w.reg_a, pack.id)["intact"]


def test_a_platform_pack_uses_the_equivalence_verdict(db, runs):
    w, r1, _r2, r3 = runs
    pack = service_evidence.create_pack(db, w.reg_a, kind="platform_equivalence", run_a=r1.id, run_b=r3.id,
                                        changes=["platform_incompatible"], score_margin=0.01)
    assert pack.evidence == {"platform_equivalent": True}
    assert pack.decision["outcome"] == "simplified_change" and pack.decision["decided_by"] == ["R08"]


def test_packs_are_refused_to_others_and_for_bad_input(db, runs):
    w, r1, r2, _r3 = runs
    with pytest.raises(PermissionDenied):
        service_evidence.create_pack(db, w.curator, kind="version_change", run_a=r1.id, run_b=r2.id,
                                     changes=["defect_fix"])
    with pytest.raises(NotFound):
        service_evidence.create_pack(db, w.reg_b, kind="version_change", run_a=r1.id, run_b=r2.id,
                                     changes=["defect_fix"])
    with pytest.raises(ValidationFailed) as e:
        service_evidence.create_pack(db, w.reg_a, kind="guess", run_a=r1.id, run_b=r2.id,
                                     changes=["defect_fix"])
    assert e.value.field == "kind"
    with pytest.raises(ValidationFailed) as e:
        service_evidence.create_pack(db, w.reg_a, kind="version_change", run_a=r1.id, run_b=r2.id,
                                     changes=["nonsense"])
    assert e.value.field == "changes"


def test_packs_over_http(client, db, runs):
    from medreg.core.accounts import User
    from tests.web.test_registration_support import bearer

    w, r1, r2, _r3 = runs
    db.commit()
    reg = bearer(client, db.get(User, w.reg_a.user_id).username)
    other = bearer(client, db.get(User, w.reg_b.user_id).username)
    r = client.post("/api/ai/evidence", headers=reg, json={
        "kind": "version_change", "run_a": r1.id, "run_b": r2.id, "changes": ["training_data_added"]})
    assert r.status_code == 201, r.text
    pack = r.json()
    assert pack["decision"]["outcome"] and len(pack["signature"]) == 64
    assert client.get(f"/api/ai/evidence/{pack['id']}/verify", headers=reg).json()["intact"] is True
    assert client.get(f"/api/ai/evidence/{pack['id']}", headers=other).status_code == 404
    bad = client.post("/api/ai/evidence", headers=reg, json={"kind": "version_change", "run_a": r1.id,
                                                              "run_b": r2.id, "changes": []})
    assert bad.status_code == 422 and "changes" in bad.text
