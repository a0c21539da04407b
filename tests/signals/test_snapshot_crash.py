"""A real crash of the worker running the ``signals.snapshot`` job (issue 4): a worker process
(``tests/crash_worker.py``, through ``tests.crashing``) is killed with SIGKILL in the middle of the
snapshot export (the Parquet file written, its manifest not yet), its lease (one second) runs out, and

(a) the next worker resumes the job from its checkpoint: it exports the same version again and produces
    the same snapshot (report and row counts, Parquet content) as an uninterrupted export of the same
    reports, then queues the active analyses on it once;
(b) on the last allowed attempt the next worker marks the job failed and its ``on_abandon`` hook removes
    the unfinished export: no half snapshot stays in the folder, no run is queued, nothing is audited
    as exported.

The reports are those of ``test_hierarchies`` (30 made-up reports on four certificates), committed,
because the worker is another process."""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import delete, func, select, update

from medreg.core import audit_verify, jobs, worker
from medreg.core.accounts import Organisation, OrgKind, Role, User, UserRole
from medreg.core.actor import Actor
from medreg.core.audit import AuditEvent, AuditHead
from medreg.core.db import session_scope
from medreg.signals import analyses, snapshot
from medreg.signals import jobs as signal_jobs  # noqa: F401  (registers the kinds in this process)
from medreg.signals.models import SignalAnalysis
from medreg.vigilance.models import VigilanceCase, VigilanceReportCode, VigilanceReportVersion
from tests.crashing import crash_while_blocked, short_lease, until  # noqa: F401  (fixture)
from tests.factories import actor_for, make_org, make_user
from tests.signals.test_hierarchies import C1, C2, C3, C4, _report

EVENTS, HEAD, JOBS = AuditEvent.__table__, AuditHead.__table__, jobs.Job.__table__
BLOCK = "medreg.signals.snapshot:_write_manifest"  # the export's last step: the data file is written


@pytest.fixture
def reports(engine):
    """30 submitted reports, a centre user and two active analyses (one inactive), committed; removed
    after the test with the jobs and audit events it made."""
    with engine.connect() as conn:
        head = conn.execute(select(HEAD)).first()
        max_event = conn.execute(select(func.max(EVENTS.c.id))).scalar() or 0
        max_job = conn.execute(select(func.max(JOBS.c.id))).scalar() or 0
    with session_scope() as s:
        hospital = make_org(s, OrgKind.HOSPITAL)
        a, b = make_org(s, OrgKind.REGISTRANT), make_org(s, OrgKind.REGISTRANT)
        for registrant, number, codes in ((a, C1, "A040101"), (a, C2, "A040103"), (b, C3, "A070101"),
                                          (b, C4, "A0502")):
            for i in range(6):
                _report(s, hospital, registrant, number, codes if i % 3 else "A070101", i)
        for i in range(6):
            _report(s, hospital, None, None, "A040101", i, fda="FOZ")
        user = make_user(s, Role.MONITORING_CENTRE, org=make_org(s, OrgKind.MONITORING_CENTRE),
                         username=f"crash-centre-{uuid.uuid4().hex[:8]}")
        s.refresh(user)
        centre = actor_for(user)
        ids = [analyses.create_analysis(s, centre, {"name": f"crash {uuid.uuid4().hex[:8]} {n}", "active": on,
                                                    "event_level": 2, "statistic": "prr"}).id
               for n, on in ((1, True), (2, True), (3, False))]
        orgs = [hospital.id, a.id, b.id, user.organisation_id]
    yield {"centre": centre, "analyses": ids}
    with engine.begin() as conn:
        cases = select(VigilanceCase.id).where(VigilanceCase.reporter_org_id == orgs[0])
        conn.execute(delete(VigilanceReportCode.__table__).where(VigilanceReportCode.case_id.in_(cases)))
        conn.execute(delete(VigilanceReportVersion.__table__).where(VigilanceReportVersion.case_id.in_(cases)))
        conn.execute(delete(VigilanceCase.__table__).where(VigilanceCase.id.in_(cases)))
        conn.execute(delete(SignalAnalysis.__table__).where(SignalAnalysis.id.in_(ids)))
        conn.execute(delete(JOBS).where(JOBS.c.id > max_job))
        conn.execute(delete(EVENTS).where(EVENTS.c.id > max_event))
        if head is None:
            conn.execute(delete(HEAD))
        else:
            conn.execute(update(HEAD).values(last_seq=head.last_seq, last_hash=head.last_hash))
        conn.execute(delete(UserRole.__table__).where(UserRole.user_id == centre.user_id))
        conn.execute(delete(User.__table__).where(User.id == centre.user_id))
        conn.execute(delete(Organisation.__table__).where(Organisation.id.in_(orgs)))


def _enqueue(folder: Path, attempts: int = 0) -> int:
    with session_scope() as s:
        job = jobs.enqueue(s, Actor.system(), "signals.snapshot", {"folder": str(folder)})
        job.attempts = attempts  # attempts already spent: 2 makes the next one the last
        return job.id


def _job(job_id: int) -> jobs.Job:
    with session_scope() as s:
        return s.get(jobs.Job, job_id)


def _rows(path: str) -> list[tuple]:
    """Every row of a snapshot's Parquet file, in a total order."""
    con = duckdb.connect()
    try:
        return con.execute("SELECT * FROM read_parquet(?) ORDER BY ALL", [path]).fetchall()
    finally:
        con.close()


def _exports() -> list[dict]:
    with session_scope() as s:
        return list(s.scalars(select(AuditEvent.after).where(AuditEvent.action == "signals.snapshot")
                              .order_by(AuditEvent.id)))


def _blocked_mid_export(job_id: int, folder: Path):
    def check() -> None:  # the data file is written, the manifest is not: the version is invisible
        job = _job(job_id)
        assert (job.status, job.worker_id) == ("running", "crash-victim")
        assert job.checkpoint == {"exporting_after": 0}
        assert (folder / "v000001.parquet").exists() and not (folder / "v000001.json").exists()
        assert snapshot.latest(folder) is None

    return check


@pytest.mark.slow
@pytest.mark.usefixtures("short_lease")
def test_killed_mid_snapshot_the_next_worker_resumes_and_exports_the_same_snapshot(reports, tmp_path):
    folder = tmp_path / "snapshots"
    job_id = _enqueue(folder)
    crash_while_blocked(tmp_path, BLOCK, 1, imports=("medreg.signals.jobs",),
                        while_blocked=_blocked_mid_export(job_id, folder))
    assert _exports() == []  # the dead worker's export committed nothing
    assert until(lambda: worker.run_once("w2") == job_id, "the lease to expire and w2 to take over")
    job = _job(job_id)
    assert (job.status, job.attempts, job.worker_id) == ("succeeded", 2, "w2"), job.error
    assert job.result["snapshot_version"] == 1 and len(job.result["runs"]) == 2
    resumed = snapshot.latest(folder)
    # the same reports exported without interruption
    with session_scope() as s:
        reference = snapshot.export(s, Actor.system(), tmp_path / "reference")
    assert (resumed.version, resumed.reports, resumed.rows, resumed.base_version, resumed.schema) == (
        reference.version, reference.reports, reference.rows, reference.base_version, reference.schema)
    assert resumed.reports == 30 and _rows(resumed.path) == _rows(reference.path)
    assert sorted(p.name for p in folder.iterdir()) == [".export.lock", "v000001.json", "v000001.parquet"]
    (exported,) = _exports()
    assert (exported["version"], exported["reports"]) == (1, 30)
    with session_scope() as s:  # the active analyses queued once on the resumed snapshot
        runs = [s.get(jobs.Job, i) for i in job.result["runs"]]
        assert sorted(j.params["analysis_id"] for j in runs) == reports["analyses"][:2]
        assert {(j.kind, j.status, j.params["snapshot_version"]) for j in runs} == {
            ("signals.run", "queued", 1)}
        assert s.scalar(select(func.count()).select_from(jobs.Job).where(jobs.Job.kind == "signals.run")
                        .where(jobs.Job.id > job_id)) == 2
        assert audit_verify.verify(s) == []


@pytest.mark.slow
@pytest.mark.usefixtures("short_lease")
def test_killed_mid_snapshot_on_the_last_attempt_the_job_fails_and_leaves_no_half_snapshot(reports, tmp_path):
    folder = tmp_path / "snapshots"
    job_id = _enqueue(folder, attempts=2)
    crash_while_blocked(tmp_path, BLOCK, 1, imports=("medreg.signals.jobs",),
                        while_blocked=_blocked_mid_export(job_id, folder))
    until(lambda: worker.run_once("w2") is None and _job(job_id).status == "failed",
          "the next worker to fail the job")
    job = _job(job_id)
    assert (job.attempts, job.worker_id, job.result) == (3, None, None) and "lease expired" in job.error
    assert job.message == "failed: unfinished snapshot v1 removed (v000001.parquet)"
    assert [p.name for p in folder.iterdir()] == [snapshot.LOCK_NAME] and snapshot.latest(folder) is None
    assert _exports() == []
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(jobs.Job).where(jobs.Job.id > job_id)) == 0
        assert audit_verify.verify(s) == []
    # the hook is idempotent, and the next export starts again at version 1
    with session_scope() as s:
        jobs.rerun_abandon(s, Actor.system(), job_id)
    assert [p.name for p in folder.iterdir()] == [snapshot.LOCK_NAME]
    with session_scope() as s:
        assert snapshot.export(s, Actor.system(), folder).version == 1
