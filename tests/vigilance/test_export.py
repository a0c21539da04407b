"""Export: CSV / JSON rows and FHIR R5 AdverseEvent resources (validated by fhir.resources), limited to
what the user may see."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from fhir.resources.bundle import Bundle
from typer.testing import CliRunner

from medreg.core import auth
from medreg.core.actor import Actor
from medreg.vigilance import export, service
from tests.vigilance.world import AWARE, form, make_world
from tests.web.conftest import app, client  # noqa: F401  (fixtures)


@pytest.fixture
def w(db):
    return make_world(db)


def test_rows_csv_and_fhir(db, w):
    case = service.create_report(db, w.hospital, form(event__outcome="death", codes__health_impact=["F02"]))
    service.submit(db, w.hospital, case.id, now=AWARE + timedelta(days=1))
    service.create_report(db, w.other_hospital, form())
    items = export.cases(db, w.hospital)
    assert [c.id for c in items] == [case.id]  # only its own
    rows = [export.row(c) for c in items]
    parsed = list(csv.DictReader(io.StringIO(export.to_csv(rows))))
    assert parsed[0]["udi_di"] == "06901234567892" and parsed[0]["device_problem_codes"] == "A040101"
    assert parsed[0]["late"] == "False" and parsed[0]["outcome"] == "death"
    resource = export.to_fhir(case)
    assert resource["resourceType"] == "AdverseEvent" and resource["status"] == "in-progress"
    assert resource["seriousness"]["coding"][0]["code"] == "serious"
    assert resource["code"]["coding"] == [{"code": "A040101", "display": "Fracture"}]
    assert resource["outcome"][0]["coding"] == [{"code": "F02", "display": "Death"}]
    assert resource["occurrenceDateTime"] == "2025-03-02"
    assert "LOT42" in resource["suspectEntity"][0]["instanceCodeableConcept"]["text"]
    bundle = Bundle.model_validate(export.to_fhir_bundle(items))  # the whole bundle validates
    assert len(bundle.entry) == 1


def test_export_api(client, db, w):  # noqa: F811
    service.create_report(db, w.hospital, form())
    token = auth.issue_token(db, Actor.system(), w.hospital.user_id, "t")
    db.commit()
    h = {"Authorization": f"Bearer {token}"}
    r = client.get("/api/vigilance/export?format=csv", headers=h)
    assert r.status_code == 200 and r.text.startswith("id,status,")
    r = client.get("/api/vigilance/export?format=fhir", headers=h)
    assert r.headers["content-type"].startswith("application/fhir+json")
    assert r.json()["entry"][0]["resource"]["resourceType"] == "AdverseEvent"
    assert len(client.get("/api/vigilance/export", headers=h).json()) == 1
    assert client.get("/api/vigilance/export?format=xml", headers=h).status_code == 422
    r = client.get("/api/vigilance/export?format=xlsx", headers=h)
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(r.content)).worksheets[0]
    assert [c.value for c in sheet[1]][:3] == ["id", "status", "reporter_role"] and sheet.max_row == 2


def test_export_cli(db, w, tmp_path, monkeypatch):
    from contextlib import contextmanager

    from medreg.cli import app as cli_app
    from medreg.core import cli_support

    @contextmanager
    def scope():
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    service.create_report(db, w.hospital, form())
    out = tmp_path / "x.json"
    res = CliRunner().invoke(
        cli_app, ["vigilance", "export", "--user", w.hospital.username, "--format", "fhir", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text("utf-8"))["resourceType"] == "Bundle"
