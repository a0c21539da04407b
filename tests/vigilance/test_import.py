"""Bulk import: CSV and openFDA device-event JSON (made-up records in the openFDA shape) become draft
reports; a file with bad rows is refused whole with every bad row listed; a failure half way writes
nothing."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from medreg.core.errors import ValidationFailed
from medreg.vigilance import service, service_import
from medreg.vigilance.imports import fda_to_imdrf, parse_csv
from medreg.vigilance.models import VigilanceCase
from tests.vigilance.world import make_world

COLUMNS = [
    "reporter.role",
    "device.generic_name",
    "device.registration_number",
    "device.udi",
    "device.model",
    "event.event_date",
    "event.aware_at",
    "event.outcome",
    "event.description",
    "codes.device_problem",
    "patient.age_years",
]


def _csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(COLUMNS)
    w.writerows(rows)
    return buf.getvalue().encode()


GOOD = [
    "using_entity",
    "Infusion pump (demo)",
    "国械注准20253140001",
    "(01)06901234567892(10)LOT42",
    "P-1",
    "2025-03-02",
    "2025-03-03T10:00:00+08:00",
    "serious_injury",
    "The pump stopped; under-infusion.",
    "A0401|A040101",
    "55",
]


@pytest.fixture
def w(db):
    return make_world(db)


def _count(db) -> int:
    return db.scalar(select(func.count()).select_from(VigilanceCase))


def test_good_csv_creates_drafts(db, w):
    raw = _csv([GOOD, [*GOOD[:4], "P-2", *GOOD[5:]]])
    result = service_import.import_reports(db, w.hospital, service_import.parse_file(raw, "csv"))
    assert len(result.created) == 2
    cases = [db.get(VigilanceCase, i) for i in result.created]
    assert {c.model for c in cases} == {"P-1", "P-2"} and {c.status for c in cases} == {"draft"}
    assert cases[0].udi_di == "06901234567892"


def test_bad_rows_refuse_the_whole_file(db, w):
    before = _count(db)
    bad_code = [*GOOD[:9], "E0101", "55"]
    bad_udi = [*GOOD[:3], "(01)06901234567890", *GOOD[4:]]
    bad_age = [*GOOD[:10], "old"]
    raw = _csv([GOOD, bad_code, GOOD, bad_udi, bad_age])
    with pytest.raises(ValidationFailed) as e:
        service_import.import_reports(db, w.hospital, service_import.parse_file(raw, "csv"))
    rows = [(x["row"], x["field"]) for x in e.value.details["errors"]]
    assert rows == [(2, "codes.device_problem"), (4, "device.udi"), (5, "patient.age_years")]
    assert e.value.params == {"count": 3}
    assert _count(db) == before


def test_unknown_column_and_bad_format(db, w):
    with pytest.raises(ValidationFailed) as e:
        service_import.import_reports(db, w.hospital, parse_csv("patient.name,event.outcome\nZhang,death\n"))
    assert e.value.details["errors"][0]["field"] == "patient.name"
    with pytest.raises(ValidationFailed) as e:
        service_import.parse_file(b"x", "xml")
    assert e.value.field == "format"
    with pytest.raises(ValidationFailed):
        service_import.parse_file(b"\xff\xfe", "csv")


def test_failure_half_way_writes_nothing(db, w, monkeypatch):
    before = _count(db)
    real = service.create_report
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("killed half way")
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "create_report", dying)
    with pytest.raises(RuntimeError):
        service_import.import_reports(db, w.hospital, service_import.parse_file(_csv([GOOD] * 5), "csv"))
    assert calls["n"] == 3 and _count(db) == before


OPENFDA = {
    "meta": {"note": "made-up records in the openFDA device/event shape"},
    "results": [
        {
            "report_number": "0000000-2025-00001",
            "event_type": "Injury",
            "date_of_event": "20250302",
            "date_received": "20250310",
            "date_manufacturer_received": "20250303",
            "device": [
                {
                    "generic_name": "CATHETER, INTRAVASCULAR (demo)",
                    "brand_name": "DEMOCATH",
                    "model_number": "DC-7",
                    "lot_number": "L7",
                    "udi_public": "(01)06901234567892(10)L7",
                    "device_report_product_code": "FOZ",
                }
            ],
            "patient": [{"patient_sex": "Female"}],
            "mdr_text": [
                {
                    "text_type_code": "Description of Event or Problem",
                    "text": "It was reported that the catheter tip fractured during insertion.",
                }
            ],
            "product_problems": ["Fracture", "Break", "Unexpected Deactivation", "Not a real FDA term"],
        },
        {
            "report_number": "0000000-2025-00002",
            "event_type": "Death",
            "date_of_event": "20250401",
            "date_received": "20250405",
            "device": [{"generic_name": "PUMP (demo)", "udi_public": "+H123456",
                        "device_report_product_code": "not a code"}],
            "mdr_text": [],
            "product_problems": [],
        },
    ],
}


def test_openfda_records_become_overseas_drafts(db, w):
    raw = json.dumps(OPENFDA).encode()
    parsed = service_import.parse_file(raw, "openfda")
    result = service_import.import_reports(db, w.registrant, parsed)
    first, second = (db.get(VigilanceCase, i) for i in result.created)
    assert first.overseas and first.outcome == "serious_injury" and first.lot_number == "L7"
    assert first.aware_at == datetime(2025, 3, 2, 16, 0, tzinfo=UTC)  # 3 Mar 00:00 Beijing
    content = first.versions[0].content
    assert content["codes"]["device_problem"] == ["A040101", "A0401"]
    assert content["patient"]["sex"] == "female"
    assert content["device"]["fda_product_code"] == "FOZ"
    assert second.versions[0].content["device"].get("fda_product_code") is None  # not three letters
    # A150106 is in the FDA map but not in the shipped IMDRF release: listed, not guessed.
    assert result.unmapped == {"Unexpected Deactivation": 1, "Not a real FDA term": 1}
    assert second.outcome == "death" and second.udi_di is None  # a HIBCC UDI is left out
    assert fda_to_imdrf()["fracture"] == "A040101"


def test_openfda_without_results(db, w):
    with pytest.raises(ValidationFailed) as e:
        service_import.import_reports(db, w.registrant, service_import.parse_file(b'{"x": 1}', "openfda"))
    assert e.value.details["errors"][0]["field"] == "results"
    with pytest.raises(ValidationFailed) as e:
        service_import.parse_file(b"{not json", "openfda")
    assert e.value.field == "file"


def test_import_over_http_and_cli(db, tmp_path, monkeypatch):
    from contextlib import contextmanager

    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from medreg.cli import app as cli_app
    from medreg.core import auth, cli_support
    from medreg.core.actor import Actor
    from medreg.web.app import create_app
    from tests.web.conftest import bind_session

    w = make_world(db)
    token = auth.issue_token(db, Actor.system(), w.hospital.user_id, "t")
    db.commit()
    app = create_app()
    bind_session(app, db)
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
        r = client.post(
            "/api/vigilance/import?format=csv&reporter_role=using_entity",
            content=_csv([GOOD]),
            headers=headers,
        )
        assert r.status_code == 201 and len(r.json()["created"]) == 1
        bad = _csv([[*GOOD[:9], "E0101", "55"]])
        r = client.post("/api/vigilance/import?format=csv", content=bad, headers=headers)
        assert r.status_code == 422 and r.json()["details"]["errors"][0]["row"] == 1

    @contextmanager
    def scope():
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    path = tmp_path / "f.csv"
    path.write_bytes(_csv([GOOD, [*GOOD[:9], "E0101", "55"]]))
    res = CliRunner().invoke(
        cli_app, ["vigilance", "report", "import", str(path), "--user", w.hospital.username]
    )
    assert res.exit_code == 2 and "row 2 [codes.device_problem]" in res.output
    path.write_bytes(_csv([GOOD]))
    res = CliRunner().invoke(
        cli_app, ["vigilance", "report", "import", str(path), "--user", w.hospital.username]
    )
    assert res.exit_code == 0 and "1 reports imported" in res.output


def _xlsx(rows) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(COLUMNS)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_with_excel_dates_and_numbers(db, w):
    from datetime import date as d

    row = [*GOOD[:5], d(2025, 3, 2), datetime(2025, 3, 3, 10, 0), *GOOD[7:10], 55]  # naive: Beijing time
    result = service_import.import_reports(
        db, w.hospital, service_import.parse_file(_xlsx([row, row]), "xlsx")
    )
    case = db.get(VigilanceCase, result.created[0])
    assert case.aware_at == datetime(2025, 3, 3, 2, 0, tzinfo=UTC) and case.event_date == d(2025, 3, 2)
    bad = [*row[:9], "E0101", 55]
    with pytest.raises(ValidationFailed) as e:
        service_import.import_reports(db, w.hospital, service_import.parse_file(_xlsx([row, bad]), "xlsx"))
    assert [(x["row"], x["field"]) for x in e.value.details["errors"]] == [(2, "codes.device_problem")]
    with pytest.raises(ValidationFailed) as e:
        service_import.import_reports(db, w.hospital, service_import.parse_file(b"not a workbook", "xlsx"))
    assert e.value.details["errors"][0]["field"] == "file"
