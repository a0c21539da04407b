"""A real crash of the worker running a ``signals.run`` job (issue 4): a worker process
(``tests/crash_worker.py``, through ``tests.crashing``) is killed with SIGKILL while scoring (the score
file written, its checkpoint not yet) or while recording (the run and the first case flushed, not
committed), its lease (one second) runs out, and

(a) the next worker re-runs the job from its checkpoint and records exactly what an uninterrupted run of
    the same job records: the run record, the cases, their statistics rows and linked reports, once;
(b) on the last allowed attempt the next worker marks the job failed and its ``on_abandon`` hook removes
    the score file of that run (and its side file): nothing of it stays next to the snapshot.

The reports are those of ``test_snapshot_crash`` (30 made-up reports on four certificates), committed,
because the worker is another process.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from medreg.core import audit_verify, jobs, worker
from medreg.core.actor import Actor
from medreg.core.db import session_scope
from medreg.signals import jobs as signal_jobs
from medreg.signals import pipeline, snapshot
from medreg.signals.models import SignalCase, SignalCaseReport, SignalRun, SignalStat
from tests.crashing import crash_while_blocked, short_lease, until  # noqa: F401  (fixture)
from tests.signals.test_snapshot_crash import reports  # noqa: F401  (fixture)

LABEL = "crash run"
BLOCKS = {  # (target, block_at): where the worker is killed
    "scoring": ("medreg.core.jobs:JobContext.save_checkpoint", 2),  # the scores written, not checkpointed
    "recording": ("medreg.signals.service:SignalCaseReport", 1),  # the run and a case flushed
}
SNAPSHOT_FILES = [".export.lock", "v000001.certificate.L2A.crude.json",
                  "v000001.certificate.L2A.crude.parquet", "v000001.json", "v000001.parquet"]


@pytest.fixture
def folder(reports, engine, tmp_path):  # noqa: F811
    """Snapshot v1 of the reports; the signal rows the test records are removed afterwards."""
    with engine.connect() as conn:
        ids = {m: conn.execute(select(func.max(m.id))).scalar() or 0
               for m in (SignalRun, SignalCase, SignalStat, SignalCaseReport)}
    target = tmp_path / "snapshots"
    with session_scope() as s:
        snapshot.export(s, Actor.system(), target)
    yield target
    with engine.begin() as conn:
        for model in (SignalCaseReport, SignalStat, SignalCase, SignalRun):
            conn.execute(delete(model.__table__).where(model.id > ids[model]))


def _enqueue(folder: Path, attempts: int = 0) -> int:
    with session_scope() as s:
        job = jobs.enqueue(s, Actor.system(), "signals.run",
                           {"folder": str(folder), "label": LABEL, "level": 2, "annexes": "A",
                            "statistic": "prr", "snapshot_version": 1})
        job.attempts = attempts  # attempts already spent: 2 makes the next one the last
        return job.id


def _job(job_id: int) -> jobs.Job:
    with session_scope() as s:
        return s.get(jobs.Job, job_id)


def _recorded(run_id: int) -> dict:
    """What a run recorded, without ids and times: the run, and per case its statistics and reports."""
    with session_scope() as s:
        run = s.get(SignalRun, run_id)
        fields = ("label", "snapshot_version", "reports", "event_level", "annexes", "device_level", "strata",
                  "engine", "criteria", "pairs", "flagged", "opened", "updated", "prior")
        rows = s.execute(select(SignalCase, SignalStat).join(SignalStat, SignalStat.case_id == SignalCase.id)
                         .where(SignalStat.run_id == run_id)).all()
        stats = sorted(
            (case.device_level, case.device, case.event, case.status, case.owner_org_id,
             case.registration_number, case.criteria, stat.run_label, stat.n11, stat.expected, stat.prr,
             stat.prr_lower, stat.ror, stat.ror_lower, stat.ic, stat.ic025, stat.ebgm, stat.eb05,
             tuple(sorted(s.scalars(select(SignalCaseReport.report_id)
                                    .where(SignalCaseReport.stat_id == stat.id)))))
            for case, stat in rows)
        return {"run": {f: getattr(run, f) for f in fields}, "stats": stats,
                "runs_of_label": s.scalar(select(func.count()).select_from(SignalRun)
                                          .where(SignalRun.label == LABEL)),
                "cases": len({case.id for case, _ in rows})}


def _forget(run_id: int) -> None:
    """Remove what a run recorded, so that the next run opens the same cases again."""
    with session_scope() as s:
        stats = select(SignalStat.id).where(SignalStat.run_id == run_id)
        cases = list(s.scalars(select(SignalStat.case_id).where(SignalStat.run_id == run_id)))
        s.execute(delete(SignalCaseReport).where(SignalCaseReport.stat_id.in_(stats)))
        s.execute(delete(SignalStat).where(SignalStat.run_id == run_id))
        s.execute(delete(SignalCase).where(SignalCase.id.in_(cases)))
        s.execute(delete(SignalRun).where(SignalRun.id == run_id))


def _score_files(folder: Path, job_id: int | None = None) -> list[str]:
    tag = ".scores." if job_id is None else f".job{job_id}.scores."
    return sorted(p.name for p in folder.iterdir() if tag in p.name)


def _blocked(job_id: int, folder: Path, where: str):
    def check() -> None:
        job = _job(job_id)
        assert (job.status, job.worker_id) == ("running", "crash-victim")
        if where == "scoring":  # the score file is written, the checkpoint does not name it yet
            assert job.checkpoint == {"snapshot": 1}
            assert _score_files(folder, job_id) == [f"v000001.certificate.L2A.crude.job{job_id}.scores.json",
                                                    f"v000001.certificate.L2A.crude.job{job_id}.scores.parquet"]
        else:
            assert set(job.checkpoint) == {"snapshot", "events", "scores"}
        with session_scope() as s:  # nothing of the run is committed
            assert s.scalar(select(func.count()).select_from(SignalRun).where(SignalRun.label == LABEL)) == 0

    return check


@pytest.mark.parametrize("where", list(BLOCKS))
@pytest.mark.usefixtures("short_lease")
def test_killed_mid_run_the_next_worker_records_what_an_uninterrupted_run_records(folder, where):
    reference_job = _enqueue(folder)
    assert worker.run_once("w0") == reference_job
    reference = _recorded(_job(reference_job).result["run_id"])
    assert reference["runs_of_label"] == 1 and reference["cases"] == reference["run"]["flagged"] >= 2
    _forget(_job(reference_job).result["run_id"])

    job_id = _enqueue(folder)
    target, block_at = BLOCKS[where]
    crash_while_blocked(folder.parent, target, block_at, imports=("medreg.signals.jobs",),
                        while_blocked=_blocked(job_id, folder, where))
    assert until(lambda: worker.run_once("w2") == job_id, "the lease to expire and w2 to take over")
    job = _job(job_id)
    assert (job.status, job.attempts, job.worker_id) == ("succeeded", 2, "w2"), job.error
    assert _recorded(job.result["run_id"]) == reference  # once: one run, each case and statistic once
    assert job.result["opened"] == reference["run"]["opened"]
    # the recorded runs' score files are removed; the snapshot and its analysis table stay
    assert sorted(p.name for p in folder.iterdir()) == SNAPSHOT_FILES
    with session_scope() as s:
        assert audit_verify.verify(s) == []


@pytest.mark.usefixtures("short_lease")
def test_killed_mid_scoring_on_the_last_attempt_the_job_fails_and_its_scores_are_removed(folder):
    job_id = _enqueue(folder, attempts=2)
    crash_while_blocked(folder.parent, *BLOCKS["scoring"], imports=("medreg.signals.jobs",),
                        while_blocked=_blocked(job_id, folder, "scoring"))
    until(lambda: worker.run_once("w2") is None and _job(job_id).status == "failed",
          "the next worker to fail the job")
    job = _job(job_id)
    assert (job.attempts, job.worker_id, job.result) == (3, None, None) and "lease expired" in job.error
    stem = f"v000001.certificate.L2A.crude.job{job_id}.scores"
    assert job.message == f"failed: scores of the unrecorded run removed ({stem}.parquet, {stem}.json)"
    assert sorted(p.name for p in folder.iterdir()) == SNAPSHOT_FILES  # the snapshot and its table stay
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(SignalRun).where(SignalRun.label == LABEL)) == 0
        assert audit_verify.verify(s) == []
        jobs.rerun_abandon(s, Actor.system(), job_id)  # idempotent
    assert sorted(p.name for p in folder.iterdir()) == SNAPSHOT_FILES


def _failed(job_id: int, folder: Path, checkpoint: dict) -> jobs.Job:
    params = signal_jobs._validate({"folder": str(folder), "label": LABEL, "level": 2, "annexes": "A",
                                    "statistic": "prr", "snapshot_version": 1})
    return jobs.Job(id=job_id, kind="signals.run", status="failed", params=params, checkpoint=checkpoint)


def test_the_hook_removes_the_checkpointed_scores_and_keeps_those_of_a_recorded_run(tmp_path):
    """The hook alone (no database): the score file named by the checkpoint is removed; a job that
    recorded its run (failed after recording) keeps it, as a succeeded one does."""
    events = pipeline.events_path(tmp_path / "v000001.parquet", 2, "A", "certificate", ())
    for job_id in (7, 8):
        for suffix in (".parquet", ".json"):
            pipeline.scores_path(events, job_id).with_suffix(suffix).write_text("x")
    scores = str(pipeline.scores_path(events, 7))
    job = _failed(7, tmp_path, {"snapshot": 1, "events": str(events), "scores": scores})
    signal_jobs.remove_unrecorded_scores(None, job, "failed")
    recorded = _failed(8, tmp_path, {"snapshot": 1, "scores": str(pipeline.scores_path(events, 8)),
                                     "result": {"run_id": 1}})
    signal_jobs.remove_unrecorded_scores(None, recorded, "failed")
    assert _score_files(tmp_path) == [f"{events.stem}.job8.scores.json", f"{events.stem}.job8.scores.parquet"]
    assert job.message.startswith("failed: scores of the unrecorded run removed") and recorded.message is None
    signal_jobs.remove_unrecorded_scores(None, job, "failed")  # idempotent
