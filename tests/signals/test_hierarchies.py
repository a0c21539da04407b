"""``signals run`` at every device level (certificate, registrant, sub-catalogue category, FDA product
code), with strata, on the Spark engine, and the configured analyses queued after each snapshot.

Made-up reports on made-up certificates of the Order 47 Art.115 form: registrant A holds C1 and C2
(sub-catalogue 07), registrant B holds C3 and C4 (sub-catalogue 02). C1 has 4 reports coded A040101,
C2 4 coded A040103 (both under A0401); C3 has 8 (one A040102, four A070101, three A0502), C4 8 (four
A070101, four A0502). Six imported MAUDE-style reports name no certificate, only an FDA product code:
three FOZ coded A040101, three FRN coded A070101.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import date

import numpy as np
import pytest
from sqlalchemy import select

from medreg.core import jobs as core_jobs
from medreg.core.accounts import OrgKind, Role
from medreg.core.audit import AuditEvent
from medreg.core.errors import Conflict, PermissionDenied, ValidationFailed
from medreg.signals import analyses, jobs, pipeline, queries, snapshot
from medreg.signals.models import SignalAnalysis, SignalRun
from medreg.signals.runs import RunSettings, run_all, score_step
from medreg.vigilance.models import VigilanceCase, VigilanceReportCode, VigilanceReportVersion
from medreg.vigilance.queries_signals import subcatalogue_of
from tests.factories import actor_for, make_actor, make_org, make_user
from tests.signals.test_runs import FakeContext

C1, C2, C3, C4 = "国械注准20253070001", "国械注准20253070002", "国械注准20253020001", "国械注准20253020002"
AGES = [10, 30, 50, 70, None]
BANDS = {10: "0-17", 30: "18-44", 50: "45-64", 70: "65+", None: "unknown"}


def _report(db, reporter, registrant, number, code, i, fda=None):
    sex, age = ("female" if i % 2 else "male"), AGES[i % 5]
    case = VigilanceCase(status="submitted", reporter_org_id=reporter.id,
                         registrant_org_id=registrant.id if registrant else None, registration_number=number,
                         event_date=date(2024 + i % 2, 5, 1),
                         reporter_role="hospital" if i % 3 else "registrant")
    db.add(case)
    db.flush()
    device = {"generic_name": "demo"} | ({"registration_number": number} if number else {}) | (
        {"fda_product_code": fda} if fda else {})
    db.add(VigilanceReportVersion(case_id=case.id, version_no=1, kind="initial",
                                  content={"device": device, "patient": {"sex": sex, "age_years": age}}))
    db.add(VigilanceReportCode(case_id=case.id, version_no=1, field="device_problem", annex="A", code=code))
    db.flush()
    return {"id": case.id, "device": number, "code": code, "sex": sex, "band": BANDS[age]}


@pytest.fixture
def world(db, tmp_path):
    hospital = make_org(db, OrgKind.HOSPITAL)
    a, b = make_org(db, OrgKind.REGISTRANT), make_org(db, OrgKind.REGISTRANT)
    rows = [_report(db, hospital, a, C1, "A040101", i) for i in range(4)]
    rows += [_report(db, hospital, a, C2, "A040103", i) for i in range(4)]
    rows += [_report(db, hospital, b, C3, "A040102" if i == 0 else ("A070101" if i % 2 else "A0502"), i)
             for i in range(8)]
    rows += [_report(db, hospital, b, C4, "A070101" if i % 2 else "A0502", i) for i in range(8)]
    rows += [_report(db, hospital, None, None, "A040101", i, fda="FOZ") for i in range(3)]
    rows += [_report(db, hospital, None, None, "A070101", i, fda="FRN") for i in range(3)]
    return {"db": db, "rows": rows, "a": a, "b": b, "folder": tmp_path / "snapshots",
            "centre": make_actor(db, Role.MONITORING_CENTRE, OrgKind.MONITORING_CENTRE),
            "reg_a": actor_for(make_user(db, Role.REGISTRANT, org=a)),
            "reg_b": actor_for(make_user(db, Role.REGISTRANT, org=b))}


def _settings(w, **kw):
    base = {"folder": str(w["folder"]), "label": "L", "level": 2, "annexes": "A", "statistic": "prr"}
    return RunSettings(**(base | kw))


def _case(db, actor, level):
    return [c for c in queries.list_cases(db, actor) if c.device_level == level]


def test_subcatalogue_is_read_from_the_certificate_number():
    assert [subcatalogue_of(n) for n in (C1, C3, "国械注准D1", "京械备20190001", None)] == [
        "07", "02", None, None, None]


def test_the_snapshot_carries_every_device_key_and_the_strata_inputs(world):
    snap = snapshot.export(world["db"], world["centre"], world["folder"])
    assert (snap.reports, snap.schema) == (30, snapshot.SCHEMA)  # the reports without a certificate too
    import duckdb

    rows = duckdb.sql(f"SELECT device, category, fda_product_code, sex, age_years, reporter_role "
                      f"FROM read_parquet('{snap.path}')").fetchall()
    assert Counter(r[1] for r in rows) == {"07": 8, "02": 16, None: 6}
    assert Counter(r[2] for r in rows) == {None: 24, "FOZ": 3, "FRN": 3}
    assert {r[3] for r in rows} == {"female", "male"} and {r[4] for r in rows} == {10, 30, 50, 70, None}
    assert {r[5] for r in rows} == {"hospital", "registrant"}


def test_category_level_counts_the_sub_catalogue_and_only_the_centre_sees_it(world):
    db = world["db"]
    run = run_all(db, world["centre"], _settings(world, device_level="category"))
    assert (run.device_level, run.pairs) == ("category", 4)  # 07xA0401, 02xA0401, 02xA0701, 02xA0502
    (case,) = _case(db, world["centre"], "category")
    assert (case.device, case.event, case.owner_org_id, case.registration_number) == (
        "07", "A0401", None, None)
    # a=8, b=0, c=1, c+d=16: PRR = (8/8) / (1/16) = 16
    assert case.stats[0].n11 == 8 and case.stats[0].prr == pytest.approx(16.0, rel=1e-12)
    assert queries.list_cases(db, world["reg_a"]) == [] and queries.list_cases(db, world["reg_b"]) == []
    opened = db.scalars(select(AuditEvent).where(AuditEvent.action == "signals.case.open")
                       .order_by(AuditEvent.id)).all()
    assert opened[-1].after["device_level"] == "category"


def test_registrant_level_keys_the_organisation_who_sees_its_own_case(world):
    db = world["db"]
    run = run_all(db, world["centre"], _settings(world, device_level="registrant"))
    assert run.pairs == 4
    (case,) = _case(db, world["centre"], "registrant")
    assert (case.device, case.owner_org_id) == (str(world["a"].id), world["a"].id)
    assert case.stats[0].prr == pytest.approx(16.0, rel=1e-12)
    assert [c.id for c in queries.list_cases(db, world["reg_a"])] == [case.id]
    assert queries.list_cases(db, world["reg_b"]) == []


def test_certificate_and_category_cases_of_one_event_are_distinct(world):
    db = world["db"]
    run_all(db, world["centre"], _settings(world))
    run_all(db, world["centre"], _settings(world, device_level="category", label="cat"))
    cert = _case(db, world["centre"], "certificate")
    assert {c.device for c in cert} == {C1, C2} and all(c.registration_number == c.device for c in cert)
    # C1 x A0401: a=4, b=0, c=5 (C2's four, C3's one), c+d=20: PRR = 1 / (5/20) = 4
    c1 = next(c for c in cert if c.device == C1)
    assert c1.stats[0].prr == pytest.approx(4.0, rel=1e-12) and c1.owner_org_id == world["a"].id
    assert len(_case(db, world["centre"], "category")) == 1
    assert {c.device_level for c in queries.list_cases(db, world["reg_a"])} == {"certificate"}


def test_fda_product_code_level_counts_only_reports_that_carry_one(world):
    db = world["db"]
    settings = _settings(world, device_level="fda-product-code")
    snap = snapshot.export(db, world["centre"], world["folder"])
    events, scored = score_step(settings, snap)
    assert sorted(zip(scored.columns["device"], scored.columns["event"], scored.columns["n11"].tolist(),
                      strict=True)) == [("FOZ", "A0401", 3), ("FRN", "A0701", 3)]
    assert scored.reports == 6 and scored.owners == {}
    # E = 3 * 3 / 6 = 1.5 for both pairs
    assert np.allclose(scored.columns["expected"], 1.5, rtol=1e-12)


def test_strata_give_the_stratified_expected_counts(world):
    db = world["db"]
    snap = snapshot.export(db, world["centre"], world["folder"])
    settings = _settings(world, strata="age_band,sex")
    assert settings.strata_names == ("sex", "age_band")  # a fixed order, whatever the order given
    events, scored = score_step(settings, snap)
    _, crude = score_step(_settings(world), snap)
    import duckdb

    bands = duckdb.sql(f"SELECT DISTINCT age_band FROM read_parquet('{events}')").fetchall()
    assert {r[0] for r in bands} == {"0-17", "18-44", "45-64", "65+", "unknown"}
    # an independent count from the reports themselves: E = sum_s n_dev,s n_evt,s / n_s
    rows = [r | {"event": r["code"][:5]} for r in world["rows"] if r["device"]]
    stratum = {r["id"]: (r["sex"], r["band"]) for r in rows}
    n_s = Counter(stratum.values())
    dev_s = Counter((r["device"], stratum[r["id"]]) for r in rows)
    evt_s = Counter((r["event"], stratum[r["id"]]) for r in rows)
    for d, e, got in zip(scored.columns["device"], scored.columns["event"], scored.columns["expected"],
                         strict=True):
        want = sum(dev_s[d, s] * evt_s[e, s] / n for s, n in n_s.items())
        assert got == pytest.approx(want, rel=1e-12), (d, e)
    assert not np.allclose(scored.columns["expected"], crude.columns["expected"])  # strata matter here
    assert "ror_mh" in scored.columns
    run = run_all(db, world["centre"], _settings(world, strata="sex,age_band", snapshot_version=snap.version))
    assert (run.strata, run.snapshot_version) == ("sex,age_band", snap.version)
    assert snapshot.latest(world["folder"]).version == snap.version  # scored the given one, no export


@pytest.mark.parametrize("change, field", [({"device_level": "model"}, "device_level"),
                                           ({"strata": "year,colour"}, "strata"),
                                           ({"strata": "sex,sex"}, "strata"),
                                           ({"engine": "hive"}, "engine"),
                                           ({"snapshot_version": 7}, "snapshot_version")])
def test_bad_run_settings_name_the_field(world, change, field):
    with pytest.raises(ValidationFailed) as err:
        run_all(world["db"], world["centre"], _settings(world, **change))
    assert err.value.field == field


def test_a_snapshot_of_the_old_layout_is_not_used_for_categories(world):
    snap = snapshot.export(world["db"], world["centre"], world["folder"])
    old = snapshot.Snapshot(**{**snap.__dict__, "schema": 1})
    with pytest.raises(ValidationFailed) as err:
        pipeline.prepare_events(old, 2, "A", "category")
    assert err.value.field == "snapshot_version"
    manifest = world["folder"] / "v000001.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "schema": 1}))
    again = snapshot.export(world["db"], world["centre"], world["folder"])
    assert (again.base_version, again.schema, again.reports) == (None, snapshot.SCHEMA, 30)  # rebuilt in full


# --- configured analyses and the jobs -----------------------------------------------------------------
def test_the_centre_manages_analyses_audited(world):
    db, centre = world["db"], world["centre"]
    a = analyses.create_analysis(db, centre, {"name": " weekly categories ", "device_level": "category",
                                              "strata": "age_band,year", "event_level": 2, "annexes": "ea"})
    assert (a.name, a.strata, a.annexes, a.statistic, a.threshold) == (
        "weekly categories", "year,age_band", "AE", "ebgm", None)
    b = analyses.update_analysis(db, centre, a.id, {"threshold": 3.0, "active": False}, expected_version=1)
    assert (b.threshold, b.active, b.version) == (3.0, False, 2)
    events = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "signals_analysis")
                        .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["signals.analysis.create", "signals.analysis.update"]
    assert events[1].before["active"] is True and events[1].after["threshold"] == 3.0
    with pytest.raises(Conflict):
        analyses.update_analysis(db, centre, a.id, {"min_n": 5}, expected_version=1)
    with pytest.raises(Conflict):
        analyses.create_analysis(db, centre, {"name": "weekly categories"})
    for values, field in [({"name": "x", "device_level": "lot"}, "device_level"),
                          ({"name": "x", "strata": "colour"}, "strata"), ({"name": ""}, "name"),
                          ({"name": "x", "statistic": "chi"}, "statistic"),
                          ({"name": "x", "bogus": 1}, "bogus")]:
        with pytest.raises(ValidationFailed) as err:
            analyses.create_analysis(db, centre, values)
        assert err.value.field == field
    with pytest.raises(ValidationFailed) as err:
        analyses.update_analysis(db, centre, a.id, {"active": None})
    assert err.value.field == "active"
    with pytest.raises(PermissionDenied):
        analyses.create_analysis(db, world["reg_a"], {"name": "mine"})
    assert analyses.list_analyses(db, world["reg_a"]) == []


def _analyses(w):
    db, centre = w["db"], w["centre"]
    first = analyses.create_analysis(db, centre, {"name": "certificates", "event_level": 2,
                                                  "statistic": "prr"})
    second = analyses.create_analysis(db, centre, {"name": "categories by sex", "event_level": 2,
                                                   "statistic": "prr", "device_level": "category",
                                                   "strata": "sex"})
    analyses.create_analysis(db, centre, {"name": "off", "active": False})
    return first, second


def test_the_snapshot_job_queues_the_active_analyses_once_after_a_crash(world, monkeypatch):
    db = world["db"]
    first, second = _analyses(world)
    params = jobs._validate_snapshot({"folder": str(world["folder"]), "incremental": "yes"})
    ctx = FakeContext(db, params)

    def crash(*a, **k):
        raise RuntimeError("worker died")

    monkeypatch.setattr(analyses, "enqueue_runs", crash)
    with pytest.raises(RuntimeError):
        jobs.snapshot_job(ctx)
    assert ctx.checkpoint["snapshot"] == 1 and "runs" not in ctx.checkpoint
    monkeypatch.undo()
    resumed = FakeContext(db, params, checkpoint=ctx.checkpoint)
    jobs.snapshot_job(resumed)
    assert snapshot.latest(world["folder"]).version == 1  # not exported again
    queued = [db.get(core_jobs.Job, i) for i in resumed.result["runs"]]
    assert [(j.kind, j.params["analysis_id"], j.params["snapshot_version"]) for j in queued] == [
        ("signals.run", first.id, 1), ("signals.run", second.id, 1)]
    assert queued[1].params["device_level"] == "category" and queued[1].params["strata"] == "sex"
    again = FakeContext(db, params, checkpoint=resumed.checkpoint)  # done, resumed once more: no new jobs
    jobs.snapshot_job(again)
    assert again.result["runs"] == resumed.result["runs"]
    # the queued runs score snapshot v1 with their analysis' settings
    run_ctx = FakeContext(db, queued[1].params)
    jobs.run_job(run_ctx)
    run = db.get(SignalRun, run_ctx.result["run_id"])
    assert (run.analysis_id, run.device_level, run.strata, run.snapshot_version) == (second.id, "category",
                                                                                     "sex", 1)
    assert run.label == "categories by sex v1" and snapshot.latest(world["folder"]).version == 1


def die_after_export(monkeypatch) -> None:
    """``snapshot.export`` writes its snapshot, then raises: a worker that died after the manifest."""
    real_export = snapshot.export

    def export_then_die(*a, **k):
        real_export(*a, **k)
        raise RuntimeError("worker died after the manifest was written")

    monkeypatch.setattr(snapshot, "export", export_then_die)


def test_a_worker_that_died_after_writing_the_snapshot_does_not_export_twice(world, monkeypatch):
    db = world["db"]
    _analyses(world)
    params = {"folder": str(world["folder"]), "incremental": True}
    ctx = FakeContext(db, params)
    die_after_export(monkeypatch)
    with pytest.raises(RuntimeError):
        jobs.snapshot_job(ctx)
    assert ctx.checkpoint == {"exporting_after": 0}
    monkeypatch.undo()
    resumed = FakeContext(db, params, checkpoint=ctx.checkpoint)
    jobs.snapshot_job(resumed)
    assert resumed.result["snapshot_version"] == 1 and snapshot.latest(world["folder"]).version == 1
    assert len(resumed.result["runs"]) == 2


def test_snapshot_command_and_analyses_cli(world, monkeypatch):
    from contextlib import contextmanager

    from typer.testing import CliRunner

    from medreg.cli import app
    from medreg.core import cli_support

    db = world["db"]

    @contextmanager
    def scope():
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    user = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    runner = CliRunner()
    res = runner.invoke(app, ["signals", "analyses", "add", "--user", user.username, "--name", "regs",
                              "--device-level", "registrant", "--level", "2", "--statistic", "prr"])
    assert res.exit_code == 0, res.output
    aid = db.scalar(select(SignalAnalysis.id).where(SignalAnalysis.name == "regs"))
    res = runner.invoke(app, ["signals", "analyses", "set", str(aid), "--user", user.username, "--strata",
                              "year", "--threshold", "1.5"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["signals", "analyses", "list", "--user", user.username])
    assert "regs" in res.output and "registrant" in res.output and "1.5" in res.output
    res = runner.invoke(app, ["signals", "analyses", "set", str(aid), "--user", user.username, "--strata",
                              "colour"])
    assert res.exit_code == 2 and "[strata]" in res.output
    res = runner.invoke(app, ["signals", "snapshot", "--user", user.username, "--snapshot-dir",
                              str(world["folder"])])
    assert res.exit_code == 0 and "snapshot v1 (30 reports); 1 runs queued" in res.output
    (job,) = db.scalars(select(core_jobs.Job).where(core_jobs.Job.kind == "signals.run")).all()
    assert job.params["analysis_id"] == aid and job.params["threshold"] == 1.5
    res = runner.invoke(app, ["signals", "run", "--user", user.username, "--snapshot-dir",
                              str(world["folder"]),
                              "--label", "cli", "--device-level", "category", "--strata", "year,sex",
                              "--snapshot-version", "1"])
    assert res.exit_code == 0, res.output
    assert "category x events, strata 'year,sex', duckdb: 4 pairs" in res.output


# --- the Spark engine on a run: the same cases as DuckDB --------------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("MEDREG_TEST_DB") == "postgresql",
                    reason="the engine is database-independent; runs in the SQLite pass")
def test_a_run_on_spark_records_what_the_duckdb_run_records(world):
    pytest.importorskip("pyspark")
    db = world["db"]
    snap = snapshot.export(db, world["centre"], world["folder"])
    out = {}
    for engine in ("duckdb", "spark"):
        settings = _settings(world, engine=engine, strata="year,sex", snapshot_version=snap.version)
        _, scored = score_step(settings, snap)
        out[engine] = scored
    a, b = out["duckdb"], out["spark"]
    assert a.columns.keys() == b.columns.keys() and a.prior == b.prior and a.owners == b.owners
    for name in a.columns:
        assert np.array_equal(a.columns[name], b.columns[name],
                              equal_nan=a.columns[name].dtype != object), name
    run = run_all(db, world["centre"], _settings(world, engine="spark", snapshot_version=snap.version))
    assert run.engine == "spark" and run.opened == 2  # C1 x A0401 and C2 x A0401, as on DuckDB
