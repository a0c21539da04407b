"""``signals run``: the snapshot exported from the report tables (full and incremental), the event
level along the IMDRF tree, cases opened and updated with their reports, tenancy, the job and the CLI.

Made-up reports: device 国械注准D1 has 6 reports coded A040101 Fracture / A040103 Material
Fragmentation (both under A0401 Break, under A04); four other devices have 8 reports each coded A070101
Failure to Capture or A0502 Device Damaged by Another Device, and one of D2's is A040102.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from medreg.cli import app
from medreg.core import cli_support
from medreg.core.accounts import OrgKind, Role
from medreg.core.audit import AuditEvent
from medreg.core.errors import PermissionDenied, ValidationFailed
from medreg.signals import jobs, queries, snapshot
from medreg.signals.events import roll_up
from medreg.signals.models import SignalCaseReport, SignalRun
from medreg.signals.runs import RunSettings, run_all
from medreg.vigilance.aet import terminology
from medreg.vigilance.models import VigilanceCase, VigilanceReportCode
from tests.factories import actor_for, make_actor, make_org, make_user

D1 = "国械注准D1"


def _report(db, reporter, registrant, device, codes, status="submitted", year=2025):
    case = VigilanceCase(status=status, reporter_org_id=reporter.id, registrant_org_id=registrant.id,
                         registration_number=device, event_date=date(year, 5, 1))
    db.add(case)
    db.flush()
    db.add_all(VigilanceReportCode(case_id=case.id, version_no=1, field="device_problem", annex=c[0], code=c)
               for c in codes)
    db.flush()
    return case


@pytest.fixture
def world(db, tmp_path):
    hospital = make_org(db, OrgKind.HOSPITAL)
    maker, other = make_org(db, OrgKind.REGISTRANT), make_org(db, OrgKind.REGISTRANT)
    d1 = [_report(db, hospital, maker, D1, ["A040101" if i % 2 else "A040103", "F1901"]) for i in range(6)]
    others = []
    for k in range(2, 6):
        for i in range(8):
            code = "A040102" if (k, i) == (2, 0) else ("A070101" if i % 2 else "A0502")
            others.append(_report(db, hospital, other, f"国械注准D{k}", [code]))
    _report(db, hospital, maker, D1, ["A040101"], status="draft")  # drafts never count
    return {"db": db, "d1": d1, "others": others, "hospital": hospital, "maker": maker, "other": other,
            "centre": make_actor(db, Role.MONITORING_CENTRE, OrgKind.MONITORING_CENTRE),
            "reg": actor_for(make_user(db, Role.REGISTRANT, org=maker)),
            "stranger": actor_for(make_user(db, Role.REGISTRANT, org=other)),
            "folder": tmp_path / "snapshots"}


def _settings(w, **kw):
    base = {"folder": str(w["folder"]), "label": "2026-W48", "level": 2, "annexes": "A", "statistic": "prr"}
    return RunSettings(**(base | kw))


def test_roll_up_follows_the_shipped_annex_a_tree():
    aet = terminology()
    assert roll_up(["A040101", "A040103", "A0401", "A04"], 1, aet) == ["A04"] * 4
    assert roll_up(["A040101", "A040103", "A04"], 2, aet) == ["A0401", "A0401", "A04"]
    assert roll_up(["A040101", "ZZZ"], 3, aet) == ["A040101", "ZZZ"]
    with pytest.raises(ValueError):
        roll_up(["A04"], 4, aet)


def test_a_run_exports_a_snapshot_scores_it_and_opens_a_case_with_its_reports(world):
    db = world["db"]
    run = run_all(db, world["centre"], _settings(world))
    snap = snapshot.latest(world["folder"])
    assert (snap.version, snap.reports, snap.base_version) == (1, 38, None)  # the draft is left out
    assert json.loads((world["folder"] / "v000001.json").read_text())["reports"] == 38
    assert (run.snapshot_version, run.reports, run.event_level, run.annexes) == (1, 38, 2, "A")
    # level-2 pairs: D1 x A0401 and D2 x A0401, D2..D5 x A0701 and x A0502
    assert run.pairs == 10 and (run.opened, run.updated) == (1, 0)
    (case,) = queries.list_cases(db, world["centre"])
    assert (case.device, case.event, case.registration_number) == (D1, "A0401", D1)
    assert case.owner_org_id == world["maker"].id
    (stat,) = case.stats
    assert stat.run_id == run.id and stat.n11 == 6
    # PRR = (6/6) / (1/32) = 32 (a=6, b=0, c=1, d=31)
    assert stat.prr == pytest.approx(32.0, rel=1e-12)
    linked = db.scalars(select(SignalCaseReport.report_id).where(SignalCaseReport.stat_id == stat.id)).all()
    assert sorted(linked) == sorted(c.id for c in world["d1"])
    audited = db.scalars(select(AuditEvent).where(AuditEvent.action == "signals.run")).one()
    assert audited.entity_id == str(run.id)


def test_a_second_run_is_incremental_and_appends_statistics(world):
    db = world["db"]
    run_all(db, world["centre"], _settings(world))
    extra = _report(db, world["hospital"], world["maker"], D1, ["A040101"])
    world["others"][1].duplicate_of_id = world["others"][3].id  # a D2 report merged into another
    db.flush()
    run2 = run_all(db, world["centre"], _settings(world, label="2026-W49"))
    snap = snapshot.latest(world["folder"])
    assert (snap.version, snap.base_version, snap.reports) == (2, 1, 38)  # +1 new, -1 duplicate
    assert snap.changed_reports >= 2
    assert (run2.opened, run2.updated) == (0, 1)
    (case,) = queries.list_cases(db, world["centre"])
    assert [s.n11 for s in case.stats] == [6, 7] and [s.run_label for s in case.stats] == [
        "2026-W48", "2026-W49"]
    # a=7, b=0, c=1, c+d=31: PRR = 31
    assert case.stats[1].prr == pytest.approx(31.0, rel=1e-12)
    linked = db.scalars(select(SignalCaseReport.report_id)
                        .where(SignalCaseReport.stat_id == case.stats[1].id)).all()
    assert extra.id in linked and len(linked) == 7
    full = run_all(db, world["centre"], _settings(world, label="full", incremental=False))
    assert snapshot.load(world["folder"], 3).reports == 38 and full.pairs == run2.pairs


def test_levels_three_and_one(world):
    db = world["db"]
    run3 = run_all(db, world["centre"], _settings(world, level=3, statistic="ror", min_n=3))
    assert run3.pairs == 11
    events = sorted(c.event for c in queries.list_cases(db, world["centre"]))
    assert "A0401" not in events and all(len(e) == 7 for e in events)
    run1 = run_all(db, world["centre"], _settings(world, level=1, label="l1"))
    assert run1.pairs == 10 and any(c.event == "A04" for c in queries.list_cases(db, world["centre"]))


def test_tenancy_and_permissions(world):
    db = world["db"]
    run_all(db, world["centre"], _settings(world))
    assert len(queries.list_cases(db, world["reg"])) == 1
    assert queries.list_cases(db, world["stranger"]) == []
    with pytest.raises(PermissionDenied):
        run_all(db, world["stranger"], _settings(world))


@pytest.mark.parametrize("change, field", [({"level": 4}, "level"), ({"annexes": "B"}, "annexes"),
                                           ({"statistic": "xyz"}, "statistic"), ({"label": ""}, "run_label"),
                                           ({"min_n": 0}, "min_n")])
def test_bad_settings_name_the_field(world, change, field):
    with pytest.raises(ValidationFailed) as err:
        run_all(world["db"], world["centre"], _settings(world, **change))
    assert err.value.field == field
    assert not world["folder"].exists()


class FakeContext:
    """Stands in for the worker's JobContext; the unit of work is the test session."""

    def __init__(self, db, params, checkpoint=None):
        self.db, self.params, self.checkpoint, self.result, self.calls = db, params, checkpoint, None, []
        self.job_id = 1

    @contextmanager
    def session(self, *, immediate=False):
        yield self.db

    def progress(self, done, total=None, message=None):
        self.calls.append(message)

    def save_checkpoint(self, state, done=None, total=None, message=None, *, session=None):
        self.checkpoint = json.loads(json.dumps(state))
        self.calls.append(message)

    def set_result(self, result):
        self.result = result


def test_the_job_checkpoints_each_step_and_resumes(world, monkeypatch):
    params = {"folder": str(world["folder"]), "label": "job", "level": 2, "annexes": "A", "statistic": "prr"}
    assert jobs._validate(params)["min_n"] == 3
    with pytest.raises(ValidationFailed):
        jobs._validate(params | {"bogus": 1})
    ctx = FakeContext(world["db"], params)

    def crash(*a, **k):
        raise RuntimeError("worker died")

    monkeypatch.setattr(jobs, "record_step", crash)
    with pytest.raises(RuntimeError):
        jobs.run_job(ctx)
    assert set(ctx.checkpoint) == {"snapshot", "events", "scores"}
    monkeypatch.undo()
    resumed = FakeContext(world["db"], params, checkpoint=ctx.checkpoint)
    jobs.run_job(resumed)
    assert snapshot.latest(world["folder"]).version == 1  # not exported twice
    assert resumed.result["opened"] == 1 and resumed.result["reports"] == 38
    assert world["db"].get(SignalRun, resumed.result["run_id"]).label == "job"


def test_cli_run_and_list(world, monkeypatch):
    db = world["db"]

    @contextmanager
    def scope():
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    centre_user = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    reg_user = make_user(db, Role.REGISTRANT, org=world["other"])
    runner = CliRunner()
    res = runner.invoke(app, ["signals", "run", "--user", centre_user.username, "--snapshot-dir",
                              str(world["folder"]), "--label", "cli", "--level", "2", "--statistic", "prr"])
    assert res.exit_code == 0, res.output
    assert "38 reports" in res.output and "1 cases opened" in res.output
    res = runner.invoke(app, ["signals", "list", "--user", centre_user.username])
    assert res.exit_code == 0 and "A0401" in res.output
    res = runner.invoke(app, ["signals", "list", "--user", centre_user.username, "--runs"])
    assert res.exit_code == 0 and "cli" in res.output
    res = runner.invoke(app, ["signals", "list", "--user", reg_user.username])
    assert res.exit_code == 0 and "A0401" not in res.output
    res = runner.invoke(app, ["signals", "run", "--user", centre_user.username, "--snapshot-dir",
                              str(world["folder"]), "--label", "x", "--level", "5"])
    assert res.exit_code == 2 and "[level]" in res.output
