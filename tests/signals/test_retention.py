"""Removing old snapshot versions (``retention.py``, ``medreg signals prune``, the snapshot job's
``keep``): what is kept, what is removed, the audit, and that a run on a kept version still works."""

from __future__ import annotations

import os
import time

import pytest
from typer.testing import CliRunner

from medreg.core import audit
from medreg.core import jobs as core_jobs
from medreg.core.accounts import OrgKind, Role
from medreg.core.errors import PermissionDenied, ValidationFailed
from medreg.signals import jobs, retention, snapshot
from medreg.signals.runs import run_all
from tests.factories import make_actor, make_org, make_user
from tests.signals.test_hierarchies import _settings, world  # noqa: F401  (fixture)
from tests.signals.test_runs import FakeContext


def _export(w, n):
    return [snapshot.export(w["db"], w["centre"], w["folder"]) for _ in range(n)]


def _names(folder):  # the export lock (an empty file, kept) aside
    return sorted(p.name for p in folder.iterdir() if p.name != snapshot.LOCK_NAME)


def test_prune_keeps_the_newest_and_the_busy_versions(world):  # noqa: F811 (the fixture)
    db, folder = world["db"], world["folder"]
    _export(world, 4)
    run_all(db, world["centre"], _settings(world, snapshot_version=2))  # an analysis table on v2 and v4
    run_all(db, world["centre"], _settings(world, snapshot_version=4))
    (folder / "v000004.certificate.L2A.crude.parquet.999.tmp").write_bytes(b"x")  # a dead worker's
    old = time.time() - 2 * retention.STALE_TEMPORARY_S
    os.utime(folder / "v000004.certificate.L2A.crude.parquet.999.tmp", (old, old))
    (folder / "v000004.certificate.L2A.crude.json.1.tmp").write_bytes(b"x")  # being written now
    (folder / "v000005.parquet").write_bytes(b"x")  # an export in progress (no manifest yet)
    (folder / "notes.txt").write_text("not ours")
    core_jobs.enqueue(db, world["centre"], "signals.run", jobs._validate(
        _settings(world, snapshot_version=1, label="queued").__dict__))
    prune = retention.plan(db, world["centre"], folder, 2)
    assert (prune.kept, prune.busy) == ([4, 3, 1], [1])
    assert [v["version"] for v in prune.removed] == [2]
    assert prune.files == ["v000002.json", "v000002.certificate.L2A.crude.json",
                           "v000002.certificate.L2A.crude.parquet", "v000002.parquet",
                           "v000004.certificate.L2A.crude.parquet.999.tmp"]
    assert prune.bytes == sum((folder / f).stat().st_size for f in prune.files)
    before = _names(folder)
    retention.record(db, world["centre"], prune)
    assert _names(folder) == before  # recording removes nothing
    assert retention.remove(folder, prune.files) == prune.files
    assert retention.remove(folder, prune.files) == []  # idempotent
    assert sorted(set(before) - set(_names(folder))) == sorted(prune.files)
    assert [s.version for s in snapshot.versions(folder)] == [4, 3, 1]
    (event,) = audit.history(db, "signals_snapshot", 2)[-1:]
    assert event.action == "signals.snapshot_removed" and event.note == "keep 2"
    assert event.before["folder"] == str(folder) and event.before["reports"] == 30 and event.after is None
    # a kept version still runs (its analysis table rebuilt or reused), the next export follows v4
    assert run_all(db, world["centre"], _settings(world, snapshot_version=1)).pairs > 0
    assert snapshot.export(db, world["centre"], folder).version == 5


def test_prune_checks_its_input(world):  # noqa: F811 (the fixture)
    db, folder = world["db"], world["folder"]
    _export(world, 1)
    for keep in (0, -1, True, "2"):
        with pytest.raises(ValidationFailed) as err:
            retention.plan(db, world["centre"], folder, keep)
        assert err.value.field == "keep"
    with pytest.raises(ValidationFailed) as err:
        retention.plan(db, world["centre"], folder / "nowhere", 1)
    assert err.value.field == "snapshot_dir"
    with pytest.raises(PermissionDenied):
        retention.plan(db, world["reg_a"], folder, 1)
    hospital = make_actor(db, Role.HOSPITAL, OrgKind.HOSPITAL)
    with pytest.raises(PermissionDenied):
        retention.record(db, hospital, retention.plan(db, world["centre"], folder, 1))
    assert retention.plan(db, world["centre"], folder, 5).files == []  # fewer versions than keep


def test_the_snapshot_job_prunes_with_keep(world):  # noqa: F811 (the fixture)
    db, folder = world["db"], world["folder"]
    _export(world, 2)
    with pytest.raises(ValidationFailed) as err:
        jobs._validate_snapshot({"folder": str(folder), "keep": 0})
    assert err.value.field == "keep"
    params = jobs._validate_snapshot({"folder": str(folder), "keep": "1"})
    assert params["keep"] == 1
    ctx = FakeContext(db, params)
    jobs.snapshot_job(ctx)
    assert ctx.result["snapshot_version"] == 3 and ctx.result["removed_versions"] == [2, 1]
    assert _names(folder) == ["v000003.json", "v000003.parquet"]
    assert ctx.calls[-1] == "prune"
    # resumed after the checkpoint (the worker died while removing): removes what is left, no new event
    (folder / "v000001.parquet").write_bytes(b"left over")
    again = FakeContext(db, params, checkpoint=ctx.checkpoint)
    jobs.snapshot_job(again)
    assert _names(folder) == ["v000003.json", "v000003.parquet"]
    assert [e.action for e in audit.history(db, "signals_snapshot", 1)].count("signals.snapshot_removed") == 1
    # without keep (and no setting) nothing is removed
    plain = FakeContext(db, jobs._validate_snapshot({"folder": str(folder)}))
    jobs.snapshot_job(plain)
    assert "removed_versions" not in plain.result and len(snapshot.versions(folder)) == 2


def test_prune_command(world, monkeypatch):  # noqa: F811 (the fixture)
    from contextlib import contextmanager

    from medreg.cli import app
    from medreg.core import cli_support

    db, folder = world["db"], world["folder"]
    _export(world, 3)

    @contextmanager
    def scope():  # the command's unit of work is the test session
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    user = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE)).username
    runner = CliRunner()
    base = ["signals", "prune", "--user", user, "--snapshot-dir", str(folder), "--keep"]
    out = runner.invoke(app, [*base, "1", "--dry-run"])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("would remove versions v2, v1: 4 files") and "kept v3" in out.output
    assert len(snapshot.versions(folder)) == 3
    out = runner.invoke(app, [*base, "1"])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("removed versions v2, v1: 4 files") and "kept v3" in out.output
    assert _names(folder) == ["v000003.json", "v000003.parquet"]
    out = runner.invoke(app, [*base, "0"])  # a clear error, not a traceback
    assert out.exit_code != 0 and "keep" in out.output and "Traceback" not in out.output
