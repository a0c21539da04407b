"""XLSX registry extracts: the same checks and all-or-nothing import as CSV; a failed or killed import
leaves nothing behind."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import uuid
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import create_engine, func, select

from medreg.core.errors import ValidationFailed
from medreg.surveillance import importer_xlsx, service
from medreg.surveillance.demo import DEVICES, to_csv
from medreg.surveillance.importer import COLUMNS
from medreg.surveillance.models import ImportBatch, Outcome, Procedure
from tests.surveillance.test_registry_service import TODAY, _row

DI = DEVICES[0][1]
ROOT = Path(__file__).resolve().parents[2]


def xlsx(rows: list[dict], header=COLUMNS, blank_rows_after: int | None = None) -> bytes:
    """A workbook whose first sheet holds ``rows`` under ``header`` (cells keep the given types)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "procedures"
    ws.append(list(header))
    for i, r in enumerate(rows):
        ws.append([r.get(c) for c in header])
        if blank_rows_after is not None and i == blank_rows_after:
            ws.append([None] * len(header))
    wb.create_sheet("notes").append(["ignored: only the first sheet is read"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def typed(i: int, **over) -> dict:
    """A row as Excel stores it: dates as dates, numbers as numbers, flags as booleans or 0/1."""
    r = {
        "patient_pseudonym": f"PX-{i:04d}",
        "procedure_date": date(2025, 3, 1),
        "device_group": "coronary_stent",
        "udi": f"(01){DI}(17)271231(10)LOT{i}",
        "age": 66.0,  # Excel keeps every number as a float
        "sex": "M",
        "diabetes": False,
        "renal_failure": 0,
        "prior_mi": "yes",
        "ejection_fraction": 52.5,
        "follow_up_end": datetime(2026, 1, 1),  # a date cell openpyxl reads back as midnight
    }
    r.update(over)
    return r


def _count(db, table) -> int:
    return db.scalar(select(func.count()).select_from(table))


def test_xlsx_import_stores_the_same_rows_as_the_csv(db, world):
    _, sites = world
    data = xlsx([typed(1), typed(2, target_lesion_failure_date=date(2025, 5, 1))])
    batch = service.import_extract(db, sites["H1"], data, filename="h1.xlsx", today=TODAY)
    assert batch.rows == 2 and len(batch.sha256) == 64
    got = db.scalars(select(Procedure).where(Procedure.batch_id == batch.id).order_by(Procedure.id)).all()
    assert [(p.patient_pseudonym, p.procedure_date, p.age, p.diabetes, p.renal_failure, p.prior_mi,
             p.ejection_fraction, p.follow_up_end, p.udi_lot) for p in got] == [
        ("PX-0001", date(2025, 3, 1), 66, False, False, True, 52.5, date(2026, 1, 1), "LOT1"),
        ("PX-0002", date(2025, 3, 1), 66, False, False, True, 52.5, date(2026, 1, 1), "LOT2"),
    ]
    assert db.scalar(select(Outcome.event_date)) == date(2025, 5, 1)
    # the CSV of the same rows is refused as a duplicate: same data, same natural key
    with pytest.raises(ValidationFailed) as err:
        service.import_extract(db, sites["H1"], to_csv([_row(1)]), filename="again.csv", today=TODAY)
    assert err.value.details["errors"][0]["reason"] == "already in the registry"


def test_bad_xlsx_rows_are_reported_by_spreadsheet_row_and_column_and_nothing_is_saved(db, world):
    _, sites = world
    rows = [typed(1), typed(2, age=17), typed(3, sex="X"), typed(4, procedure_date="2025-13-01"),
            typed(5, follow_up_end=datetime(2026, 1, 1, 14, 30)),  # a date-time is not a date
            typed(6, udi=int(f"01{DI}"[:15])),  # a UDI typed as a number has lost digits
            typed(7, patient_pseudonym=13800138000)]  # a mobile number
    # an empty row after the first data row is skipped but keeps the numbering of the sheet
    data = xlsx(rows, blank_rows_after=0)
    with pytest.raises(ValidationFailed) as err:
        service.import_extract(db, sites["H1"], data, filename="bad.xlsx", today=TODAY)
    assert err.value.field == "file"
    report = [(e["row"], e["field"]) for e in err.value.details["errors"]]
    assert report == [(4, "age"), (5, "sex"), (6, "procedure_date"), (7, "follow_up_end"), (8, "udi"),
                      (9, "patient_pseudonym")]
    assert _count(db, Procedure) == 0 and _count(db, ImportBatch) == 0


def test_a_missing_column_is_reported_on_the_header_row(db, world):
    _, sites = world
    header = [c for c in COLUMNS if c != "udi"]
    with pytest.raises(ValidationFailed) as err:
        service.import_extract(db, sites["H1"], xlsx([typed(1)], header), filename="x.xlsx", today=TODAY)
    assert [(e["row"], e["field"], e["reason"]) for e in err.value.details["errors"]] == [
        (1, "udi", "missing column")]


@pytest.mark.parametrize("data", [
    b"PK\x03\x04" + b"\x00" * 200,  # a ZIP header and nothing behind it
    b"\xff\xfe\x00not utf-8",  # neither a workbook nor UTF-8 text
])
def test_unreadable_files_are_a_problem_with_the_file(db, world, data):
    _, sites = world
    with pytest.raises(ValidationFailed) as err:
        service.import_extract(db, sites["H1"], data, filename="x", today=TODAY)
    assert err.value.field == "file"
    assert _count(db, ImportBatch) == 0


def test_a_zip_that_is_not_a_workbook_is_refused(db, world):
    _, sites = world
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    with pytest.raises(ValidationFailed) as err:
        service.import_extract(db, sites["H1"], buf.getvalue(), filename="x.xlsx", today=TODAY)
    assert err.value.field == "file" and "XLSX" in err.value.template


def test_a_workbook_that_would_expand_too_far_is_refused_before_parsing(db, world, monkeypatch):
    _, sites = world
    data = xlsx([typed(1)])
    monkeypatch.setattr(importer_xlsx, "MAX_UNPACKED", 1000)
    with pytest.raises(ValidationFailed) as err:
        service.import_extract(db, sites["H1"], data, filename="x.xlsx", today=TODAY)
    assert err.value.field == "file" and "expands" in err.value.template


def test_a_failure_half_way_through_writing_leaves_nothing(engine, monkeypatch):
    """Procedures are flushed, then the outcomes fail: the unit of work rolls back as a whole."""
    from medreg.core.db import session_scope

    code = _committed_site(engine)
    try:
        calls = []

        def broken_outcome(**kw):
            calls.append(kw)
            raise RuntimeError("disk full")

        monkeypatch.setattr(service, "Outcome", broken_outcome)
        data = xlsx([typed(1, target_lesion_failure_date=date(2025, 5, 1)), typed(2)])
        with pytest.raises(RuntimeError), session_scope() as s:
            from medreg.core.actor import Actor

            service.import_extract(s, Actor.system(), data, filename="x.xlsx", today=TODAY,
                                   hospital_code=code)
        assert calls, "the import did not reach the outcomes"
        assert _rows_of(engine, code) == (0, 0)
    finally:
        _drop_site(engine, code)


def test_an_import_killed_half_way_leaves_nothing(engine, tmp_path):
    """A separate process imports a workbook and is killed (SIGKILL) once its procedures are flushed
    to the database and before the commit; the database then holds nothing of that import."""
    code = _committed_site(engine)
    try:
        path = tmp_path / "extract.xlsx"
        path.write_bytes(xlsx([typed(i, target_lesion_failure_date=date(2025, 5, 1)) for i in range(1, 41)]))
        script = textwrap.dedent(f"""
            import os, signal, sys
            from datetime import date
            from sqlalchemy import func, select
            from medreg.core.actor import Actor
            from medreg.core.db import session_scope
            from medreg.surveillance import service
            from medreg.surveillance.models import Procedure

            def kill_when_outcomes_are_written(**kw):
                s = service_session[0]
                n = s.scalar(select(func.count()).select_from(Procedure)
                             .where(Procedure.batch_id.isnot(None)))
                print(f"flushed {{n}}", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)

            service.Outcome = kill_when_outcomes_are_written
            service_session = []
            with session_scope() as s:
                service_session.append(s)
                service.import_extract(s, Actor.system(), open({str(path)!r}, "rb").read(),
                                       filename="extract.xlsx", today=date(2026, 6, 30),
                                       hospital_code={code!r})
            print("committed", flush=True)
        """)
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
        proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
        flushed = [int(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("flushed")]
        assert flushed and flushed[0] >= 40  # the rows were in the database's transaction when killed
        assert "committed" not in proc.stdout
        assert _rows_of(engine, code) == (0, 0)
    finally:
        _drop_site(engine, code)


# ---- committed fixtures for the tests that need a real commit boundary ----------------------------
def _committed_site(engine) -> str:
    from sqlalchemy.orm import Session

    from medreg.core.accounts import Organisation, OrgKind
    from medreg.surveillance.models import SentinelHospital

    code = "K" + uuid.uuid4().hex[:8]
    with Session(engine) as s:
        org = Organisation(kind=OrgKind.HOSPITAL, name=f"kill-test {code}")
        s.add(org)
        s.flush()
        s.add(SentinelHospital(organisation_id=org.id, code=code, device_groups=["coronary_stent"],
                               enrolled_on=date(2024, 1, 1)))
        s.commit()
    return code


def _rows_of(engine, code: str) -> tuple[int, int]:
    """(procedures, batches) of the site, read on a fresh connection (what another user would see)."""
    from medreg.surveillance.models import SentinelHospital

    fresh = create_engine(engine.url)
    try:
        with fresh.connect() as c:
            site = c.scalar(select(SentinelHospital.id).where(SentinelHospital.code == code))
            procs = c.scalar(select(func.count()).select_from(Procedure).where(Procedure.hospital_id == site))
            batches = c.scalar(select(func.count()).select_from(ImportBatch)
                               .where(ImportBatch.hospital_id == site))
    finally:
        fresh.dispose()
    return procs, batches


def _drop_site(engine, code: str) -> None:
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    from medreg.core.accounts import Organisation
    from medreg.surveillance.models import SentinelHospital

    with Session(engine) as s:
        site = s.scalar(select(SentinelHospital).where(SentinelHospital.code == code))
        if site is not None:
            ids = select(Procedure.id).where(Procedure.hospital_id == site.id)
            s.execute(delete(Outcome).where(Outcome.procedure_id.in_(ids)))
            s.execute(delete(Procedure).where(Procedure.hospital_id == site.id))
            s.execute(delete(ImportBatch).where(ImportBatch.hospital_id == site.id))
            org_id = site.organisation_id
            s.delete(site)
            s.flush()
            s.execute(delete(Organisation).where(Organisation.id == org_id))
        s.commit()
