"""The background import (``vigilance.import``) for XLSX and openFDA device-event JSON, the audit trail it
writes (one ``create`` event per report, the hash chain intact) and workers killed half way: during the
validation nothing is written; inside a batch that batch leaves nothing and the resumed job writes every
row exactly once. Made-up records only (the openFDA ones in the shape of ``/device/event``)."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from medreg.core import audit_verify, jobs
from medreg.core.audit import AuditEvent
from medreg.core.clock import utcnow
from medreg.core.db import session_scope
from medreg.core.errors import ValidationFailed
from medreg.vigilance import bulk
from medreg.vigilance.models import VigilanceCase
from tests.vigilance.conftest import JOBS
from tests.vigilance.test_bulk import SimulatedCrash, _count, _job
from tests.vigilance.test_import import COLUMNS, GOOD, OPENFDA


def _xlsx(n: int, bad: dict[int, tuple[int, object]] | None = None) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(COLUMNS)
    for i in range(1, n + 1):
        row: list[object] = list(GOOD)
        row[3] = f"(01)06901234567892(10)X{i}"
        row[10] = i % 90  # a number cell, as Excel stores it
        if bad and i in bad:
            col, value = bad[i]
            row[col] = value
        ws.append(row)
        if i == 5:
            ws.append([None] * len(COLUMNS))  # a blank row is skipped, as the synchronous import does
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _openfda(n: int, extra: list | None = None) -> bytes:
    first = OPENFDA["results"][0]
    records = []
    for i in range(1, n + 1):
        rec = json.loads(json.dumps(first))
        rec["device"][0]["udi_public"] = f"(01)06901234567892(10)F{i}"
        rec["device"][0]["lot_number"] = f"F{i}"
        records.append(rec)
    return json.dumps({"meta": {"note": "made up"}, "results": records + (extra or [])}).encode()


def _start(actor, data: bytes, filename: str, batch: int = 10, **kw) -> int:
    with session_scope() as s:
        return bulk.start_bulk_import(s, actor, filename=filename, data=data, batch=batch, **kw).id


def _expire_lease(engine, job_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(update(JOBS).where(JOBS.c.id == job_id)
                     .values(heartbeat_at=utcnow() - timedelta(hours=1)))


def _create_events(actor) -> tuple[list[str], list[int]]:
    """The entity ids of the ``create`` events on the organisation's cases, and the case ids."""
    with session_scope() as s:
        ids = s.scalars(select(VigilanceCase.id).where(VigilanceCase.reporter_org_id == actor.organisation_id)
                        .order_by(VigilanceCase.id)).all()
        events = s.scalars(select(AuditEvent.entity_id).where(
            AuditEvent.entity_type == "vigilance_case", AuditEvent.action == "create",
            AuditEvent.entity_id.in_([str(i) for i in ids]))).all()
    return sorted(events, key=int), list(ids)


def test_xlsx_imports_in_the_background_with_one_audit_event_per_report(hospital):
    job_id = _start(hospital, _xlsx(23), "reports.xlsx")
    assert jobs.run_once("w1") == job_id
    job = _job(job_id)
    assert (job.status, job.done, job.total) == ("succeeded", 23, 23)
    assert job.result["status"] == "imported" and job.result["format"] == "xlsx"
    assert _count(hospital) == (23, 23, 46)
    events, ids = _create_events(hospital)
    assert events == [str(i) for i in ids]  # every report has its own create event, exactly once
    with session_scope() as s:
        case = s.get(VigilanceCase, ids[0])
        assert (case.lot_number, case.aware_at.isoformat()) == ("X1", "2025-03-03T02:00:00+00:00")
        event = s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "vigilance_case",
                                                   AuditEvent.entity_id == str(ids[0]))).one()
        assert event.after["lot_number"] == "X1" and event.after["status"] == "draft"
        assert event.after["quality_score"] == case.quality_score
        assert audit_verify.verify(s) == []  # the bulk-appended events keep the hash chain intact


def test_xlsx_bad_rows_are_refused_with_row_and_field(hospital):
    data = _xlsx(12, bad={3: (7, "sort of bad"), 11: (9, "E0101")})
    job_id = _start(hospital, data, "reports.xlsx")
    jobs.run_once("w1")
    result = _job(job_id).result
    assert result["status"] == "refused" and result["bad_rows"] == 2
    # rows counted as the synchronous import counts them: the blank row after row 5 is skipped
    assert [(e["row"], e["field"]) for e in result["errors"]] == [(3, "event.outcome"),
                                                                  (11, "codes.device_problem")]
    assert _count(hospital) == (0, 0, 0)
    with pytest.raises(ValidationFailed) as err:  # the file store refuses a damaged workbook at once
        _start(hospital, b"PK\x03\x04 not really a workbook", "broken.xlsx")
    assert err.value.field == "file"


def test_openfda_json_imports_in_the_background(hospital):
    job_id = _start(hospital, _openfda(12), "device-event.json")
    assert jobs.run_once("w1") == job_id
    job = _job(job_id)
    assert job.result["status"] == "imported" and job.result["created"] == 12
    assert job.result["unmapped_fda_terms"] == {"Unexpected Deactivation": 12, "Not a real FDA term": 12}
    with session_scope() as s:
        mine = VigilanceCase.reporter_org_id == hospital.organisation_id
        cases = s.scalars(select(VigilanceCase).where(mine).order_by(VigilanceCase.id)).all()
        assert {(c.overseas, c.outcome, c.reporter_role) for c in cases} == {
            (True, "serious_injury", "using_entity")}  # the hospital's own role by default
        assert [c.lot_number for c in cases] == [f"F{i}" for i in range(1, 13)]
        assert cases[0].versions[0].content["codes"]["device_problem"] == ["A040101", "A0401"]
    events, ids = _create_events(hospital)
    assert events == [str(i) for i in ids]


def test_openfda_bad_records_are_refused_with_row_and_field(hospital):
    bad_date = json.loads(json.dumps(OPENFDA["results"][0]))
    bad_date["device"][0]["udi_public"] = "(01)06901234567890(10)L1"  # wrong check digit
    data = _openfda(3, extra=["not a record", {"device": "a string"}, bad_date])
    job_id = _start(hospital, data, "device-event.json")
    jobs.run_once("w1")
    result = _job(job_id).result
    assert result["status"] == "refused" and result["bad_rows"] == 3
    assert [(e["row"], e["field"]) for e in result["errors"]] == [(4, "record"), (5, "record"),
                                                                  (6, "device.udi")]
    for raw, field in ((b'{"meta": {}}', "results"), (b'{"results": [{"event_type": "Death"', "file")):
        job_id = _start(hospital, raw, "device-event.json")
        jobs.run_once("w1")
        result = _job(job_id).result
        assert result["status"] == "refused" and result["errors"][-1]["field"] == field
    assert _count(hospital) == (0, 0, 0)


def test_format_and_extension_must_agree(hospital):
    with session_scope() as s, pytest.raises(ValidationFailed) as err:
        bulk.start_bulk_import(s, hospital, filename="r.csv", data=b"a,b\n", fmt="xlsx")
    assert err.value.field == "filename" and err.value.params == {"format": "xlsx", "ext": "xlsx"}
    with pytest.raises(ValidationFailed) as err:
        bulk._validate_params({"file_id": 1, "org_id": 1, "user_id": 1, "format": "pdf"})
    assert err.value.field == "params.format"


def test_killed_during_validation_writes_nothing_then_resumes(engine, hospital, monkeypatch):
    job_id = _start(hospital, _xlsx(30), "reports.xlsx")
    original = bulk._Filer.check

    def die_half_way(self, session, form, row, **kw):
        if row == 15 and kw.get("stored") is False:
            raise SimulatedCrash
        return original(self, session, form, row, **kw)

    monkeypatch.setattr(bulk._Filer, "check", die_half_way)
    with pytest.raises(SimulatedCrash):
        jobs.run_once("w1")
    assert _count(hospital) == (0, 0, 0) and _job(job_id).checkpoint is None
    with session_scope() as s:
        assert s.scalar(select(func.count()).where(AuditEvent.entity_type == "vigilance_case",
                                                   AuditEvent.actor_user_id == hospital.user_id)) == 0
    monkeypatch.setattr(bulk._Filer, "check", original)
    _expire_lease(engine, job_id)
    assert jobs.run_once("w2") == job_id
    assert _job(job_id).result["created"] == 30 and _count(hospital)[0] == 30


def test_killed_inside_a_batch_leaves_nothing_of_it_and_resumes_exactly_once(engine, hospital, monkeypatch):
    job_id = _start(hospital, _openfda(25), "device-event.json")
    original, calls = bulk._Filer.file, []

    def die_after_writing_second_batch(self, session, batch):
        calls.append(len(batch))
        ids = original(self, session, batch)  # rows and audit events written, not yet committed
        if len(calls) == 2:
            raise SimulatedCrash
        return ids

    monkeypatch.setattr(bulk._Filer, "file", die_after_writing_second_batch)
    with pytest.raises(SimulatedCrash):
        jobs.run_once("w1")
    assert _count(hospital)[0] == 10 and _job(job_id).checkpoint["next_row"] == 10
    assert len(_create_events(hospital)[0]) == 10  # the killed batch's audit events went with it
    _expire_lease(engine, job_id)
    assert jobs.run_once("w2") == job_id
    assert _job(job_id).result["created"] == 25 and calls == [10, 10, 10, 5]
    events, ids = _create_events(hospital)
    assert len(ids) == 25 and events == [str(i) for i in ids]
    with session_scope() as s:
        assert audit_verify.verify(s) == []
