"""Bulk import as a resumable background job (``vigilance.import``): the whole file is validated first
(a bad file is refused with every bad row listed and nothing written), then inserted in batches whose
checkpoint commits with the rows, so a worker killed half way resumes without duplicating or skipping
rows. Jobs commit in their own transactions, so these tests work on committed rows and remove them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from medreg.core import audit_verify, files, jobs
from medreg.core.accounts import Organisation, OrgKind, User
from medreg.core.actor import Actor
from medreg.core.audit import AuditEvent, AuditHead
from medreg.core.clock import utcnow
from medreg.core.db import session_scope
from medreg.core.errors import PermissionDenied, ValidationFailed
from medreg.vigilance import bulk
from medreg.vigilance.models import VigilanceCase, VigilanceReportCode, VigilanceReportVersion
from tests.factories import make_org
from tests.vigilance.test_import import COLUMNS, GOOD

EVENTS, HEAD = AuditEvent.__table__, AuditHead.__table__
JOBS, FILES = jobs.Job.__table__, files.StoredFile.__table__


class SimulatedCrash(BaseException):
    """Stands for the worker process dying: nothing in the worker catches it."""


def _csv(n: int, bad: dict[int, tuple[int, str]] | None = None) -> bytes:
    """n good rows (distinct lots and ages), with bad[row] = (column index, value) replacing a cell."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(COLUMNS)
    for i in range(1, n + 1):
        row = list(GOOD)
        row[3] = f"(01)06901234567892(10)L{i}"
        row[10] = str(i % 90)
        if bad and i in bad:
            col, value = bad[i]
            row[col] = value
        w.writerow(row)
    return buf.getvalue().encode()


def _start(actor: Actor, data: bytes, batch: int = 10) -> int:
    with session_scope() as s:
        return bulk.start_bulk_import(s, actor, filename="reports.csv", data=data, batch=batch).id


def _job(job_id: int) -> jobs.Job:
    with session_scope() as s:
        return jobs.get(s, Actor.system(), job_id)


def _count(actor: Actor) -> tuple[int, int, int]:
    with session_scope() as s:
        cases = select(VigilanceCase.id).where(VigilanceCase.reporter_org_id == actor.organisation_id)
        return (s.scalar(select(func.count()).select_from(cases.subquery())),
                s.scalar(select(func.count()).where(VigilanceReportVersion.case_id.in_(cases))),
                s.scalar(select(func.count()).where(VigilanceReportCode.case_id.in_(cases))))


def test_good_file_imports_in_batches_like_create_report(hospital):
    job_id = _start(hospital, _csv(25), batch=10)
    assert jobs.run_once("w1") == job_id
    job = _job(job_id)
    assert job.status == "succeeded" and (job.done, job.total) == (25, 25)
    assert job.result["status"] == "imported" and job.result["created"] == 25
    assert _count(hospital) == (25, 25, 50)  # two IMDRF codes per row
    with session_scope() as s:
        mine = VigilanceCase.reporter_org_id == hospital.organisation_id
        case = s.scalars(select(VigilanceCase).where(mine).order_by(VigilanceCase.id)).first()
        assert (case.status, case.reporter_role, case.outcome, case.udi_di, case.lot_number) == (
            "draft", "using_entity", "serious_injury", "06901234567892", "L1")
        assert case.reporter_user_id == hospital.user_id and case.quality_score is not None
        assert case.versions[0].content["udi_parsed"]["di"] == "06901234567892"
        imports = s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "vigilance_import")
                            .order_by(AuditEvent.seq)).all()
    assert [e.after["file_rows"] for e in imports[-3:]] == ["1-10", "11-20", "21-25"]


def test_bad_file_is_refused_whole_with_every_bad_row_and_nothing_written(hospital):
    data = _csv(30, bad={4: (7, "sort of bad"), 17: (9, "Z9999"), 29: (5, "2025-13-40")})
    job_id = _start(hospital, data)
    assert jobs.run_once("w1") == job_id
    job = _job(job_id)
    assert job.result["status"] == "refused" and job.result["bad_rows"] == 3
    assert [(e["row"], e["field"]) for e in job.result["errors"]] == [
        (4, "event.outcome"), (17, "codes.device_problem"), (29, "event.event_date")]
    assert _count(hospital) == (0, 0, 0)


def test_unknown_column_and_role_the_organisation_cannot_hold_are_refused(hospital):
    job_id = _start(hospital, b"device.generic_name,colour\nX,red\n")
    jobs.run_once("w1")
    assert _job(job_id).result["errors"] == [{"row": 0, "field": "colour", "reason": "unknown column"}]
    job_id = _start(hospital, _csv(3, bad={2: (0, "registrant")}))
    jobs.run_once("w1")
    assert [(e["row"], e["field"]) for e in _job(job_id).result["errors"]] == [(2, "reporter.role")]
    assert _count(hospital) == (0, 0, 0)


def test_killed_worker_resumes_after_the_last_batch_without_duplicates(engine, hospital, monkeypatch):
    job_id = _start(hospital, _csv(47), batch=10)
    original, calls = bulk._Filer.file, []

    def die_on_third_batch(self, session, contents):
        calls.append(len(contents))
        if len(calls) == 3:
            raise SimulatedCrash  # mid-batch: this batch's rows are rolled back with its checkpoint
        return original(self, session, contents)

    monkeypatch.setattr(bulk._Filer, "file", die_on_third_batch)
    with pytest.raises(SimulatedCrash):
        jobs.run_once("w1")
    assert _count(hospital)[0] == 20 and _job(job_id).checkpoint["next_row"] == 20
    with engine.begin() as conn:  # the dead worker's lease runs out
        conn.execute(update(JOBS).where(JOBS.c.id == job_id)
                     .values(heartbeat_at=utcnow() - timedelta(hours=1)))
    assert jobs.run_once("w2") == job_id
    job = _job(job_id)
    assert (job.status, job.attempts, job.done, job.total) == ("succeeded", 2, 47, 47)
    assert job.result["created"] == 47 and _count(hospital) == (47, 47, 94)
    with session_scope() as s:  # every file row exactly once: the lots L1..L47
        lots = s.scalars(select(VigilanceCase.lot_number)
                         .where(VigilanceCase.reporter_org_id == hospital.organisation_id)).all()
    assert sorted(lots) == sorted(f"L{i}" for i in range(1, 48))
    assert calls == [10, 10, 10] + [10, 10, 7]  # attempt 2 resumed at row 21 (from row 1: 5 batches)


def test_start_checks_the_caller_and_the_file(hospital, db):
    with session_scope() as s, pytest.raises(PermissionDenied):
        bulk.start_bulk_import(s, Actor.system(), filename="r.csv", data=b"a,b\n")
    with session_scope() as s, pytest.raises(ValidationFailed) as err:
        bulk.start_bulk_import(s, hospital, filename="r.txt", data=b"a,b\n")
    assert err.value.field == "filename"
    with pytest.raises(ValidationFailed) as err:
        bulk._validate_params({"file_id": 1, "org_id": 1, "user_id": 1, "batch": 10**6})
    assert err.value.field == "params.batch"


def test_a_job_enqueued_for_another_organisation_is_not_run_as_it(hospital):
    with session_scope() as s:
        other = make_org(s, OrgKind.HOSPITAL)
        stored = files.store(s, hospital, filename="r.csv", data=_csv(2))
        job_id = jobs.enqueue(s, hospital, bulk.KIND, {"file_id": stored.id, "org_id": other.id,
                                                       "user_id": hospital.user_id}).id
        other_id = other.id
    jobs.run_once("w1"), jobs.run_once("w1"), jobs.run_once("w1")
    assert _job(job_id).status == "failed" and "PermissionDenied" in _job(job_id).error
    assert _count(hospital) == (0, 0, 0)
    with session_scope() as s:
        s.execute(delete(Organisation.__table__).where(Organisation.id == other_id))


def test_cli_background_import_queues_a_job_the_worker_runs(hospital, tmp_path):
    from typer.testing import CliRunner

    from medreg.cli import app as medreg_app

    path = tmp_path / "reports.csv"
    path.write_bytes(_csv(12))
    with session_scope() as s:
        username = s.get(User, hospital.user_id).username
    out = CliRunner().invoke(medreg_app, ["vigilance", "report", "import", str(path), "--user", username,
                                          "--background", "--batch", "10"])
    assert out.exit_code == 0, out.output
    job_id = int(out.output.split()[1])
    assert _job(job_id).status == "queued" and _job(job_id).kind == bulk.KIND
    assert jobs.run_once("w1") == job_id
    assert _job(job_id).result["created"] == 12 and _count(hospital)[0] == 12


# --- whole-file atomicity: a cancelled or finally failed job removes what it inserted (issue 7) ------


def _job_cases(job_id: int) -> list[int]:
    with session_scope() as s:
        return list(s.scalars(select(VigilanceCase.id).where(VigilanceCase.import_job_id == job_id)))


def _events(action: str, ids: list[int]) -> list[tuple[str, str]]:
    with session_scope() as s:
        rows = s.execute(select(EVENTS.c.action, EVENTS.c.entity_id).where(
            EVENTS.c.entity_type == "vigilance_case", EVENTS.c.action == action,
            EVENTS.c.entity_id.in_([str(i) for i in ids]))).all()
    return sorted((a, e) for a, e in rows)


def test_cancel_during_the_insert_phase_removes_every_report_of_the_job(hospital, monkeypatch):
    job_id = _start(hospital, _csv(47), batch=10)
    original, calls, seen = bulk._Filer.file, [], []

    def cancel_on_third_batch(self, session, contents):
        calls.append(len(contents))
        if len(calls) == 3:  # two batches are committed; the user cancels while the third is written
            seen.extend(_job_cases(job_id))
            with session_scope() as s:
                jobs.cancel(s, hospital, job_id)
        return original(self, session, contents)

    monkeypatch.setattr(bulk._Filer, "file", cancel_on_third_batch)
    assert jobs.run_once("w1") == job_id
    assert len(seen) == 20  # the first two batches were committed before the cancel
    job = _job(job_id)
    assert job.status == "cancelled" and job.result == {"status": "rolled_back", "rolled_back": 20, "kept": 0}
    assert job.message == "cancelled: 20 imported reports rolled back"
    assert _job_cases(job_id) == [] and _count(hospital) == (0, 0, 0)
    assert len(_events("create", seen)) == 20 and len(_events("rollback", seen)) == 20
    with session_scope() as s:
        assert audit_verify.verify(s) == []


def test_last_failed_attempt_removes_the_reports_of_every_attempt(engine, hospital, monkeypatch):
    job_id = _start(hospital, _csv(47), batch=10)
    original, ok = bulk._Filer.file, []

    def fail_after_two_batches(self, session, contents):
        if len(ok) >= 2:
            raise RuntimeError("disk full")
        ok.append(len(contents))
        return original(self, session, contents)

    monkeypatch.setattr(bulk._Filer, "file", fail_after_two_batches)
    assert jobs.run_once("w1") == job_id
    job = _job(job_id)
    assert (job.status, job.attempts) == ("queued", 1)  # a retry resumes: nothing is removed yet
    ids = _job_cases(job_id)
    assert len(ids) == 20
    with engine.begin() as conn:  # a reviewer submitted one of them meanwhile: that report is kept
        conn.execute(update(VigilanceCase.__table__).where(VigilanceCase.id == ids[0])
                     .values(status="submitted"))
    assert jobs.run_once("w1") == job_id and _job(job_id).status == "queued"
    assert jobs.run_once("w1") == job_id
    job = _job(job_id)
    assert (job.status, job.attempts) == ("failed", 3) and "disk full" in job.error
    assert job.message == ("failed: 19 imported reports rolled back; 1 kept (submitted or the original "
                           "of a duplicate meanwhile)")
    assert job.result == {"status": "rolled_back", "rolled_back": 19, "kept": 1}
    assert _job_cases(job_id) == [ids[0]] and _count(hospital) == (1, 1, 2)
    assert len(_events("create", ids)) == 20
    assert [e for _, e in _events("rollback", ids)] == sorted(str(i) for i in ids[1:])
    with session_scope() as s:
        assert audit_verify.verify(s) == []


def test_a_successful_import_keeps_its_reports_and_rolls_nothing_back(hospital):
    job_id = _start(hospital, _csv(25), batch=10)
    assert jobs.run_once("w1") == job_id and _job(job_id).status == "succeeded"
    ids = _job_cases(job_id)
    assert len(ids) == 25 and _count(hospital) == (25, 25, 50)
    assert _events("rollback", ids) == [] and _job(job_id).result["created"] == 25
