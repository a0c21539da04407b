"""``medreg vigilance``: the code picker, clocks and a report from file to submission (inside the
test's rolled-back transaction)."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from typer.testing import CliRunner

from medreg.cli import app
from medreg.core import cli_support
from tests.vigilance.world import form, make_world

runner = CliRunner()


@pytest.fixture
def w(db, monkeypatch):
    @contextmanager
    def scope():
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    return make_world(db)


def test_aet_commands():
    res = runner.invoke(app, ["vigilance", "aet", "search", "air leak"])
    assert res.exit_code == 0 and "A050402" in res.output
    res = runner.invoke(app, ["vigilance", "aet", "code", "E01"])
    assert res.exit_code == 2 and "heading" in res.output
    res = runner.invoke(
        app, ["vigilance", "aet", "suggest", "The catheter tip fractured", "--outcome", "death"]
    )
    assert res.exit_code == 0 and "F02" in res.output and "A040101" in res.output


def test_clocks_command():
    res = runner.invoke(
        app,
        [
            "vigilance",
            "clocks",
            "--outcome",
            "death",
            "--role",
            "registrant",
            "--aware-at",
            "2025-03-03T10:00+08:00",
        ],
    )
    assert res.exit_code == 0 and "Order 1 Art.25" in res.output and "due 2025-03-10" in res.output
    res = runner.invoke(
        app, ["vigilance", "clocks", "--outcome", "death", "--role", "registrant", "--aware-at", "yesterday"]
    )
    assert res.exit_code == 2


def test_report_from_file(db, w, tmp_path):
    user = w.hospital.username
    path = tmp_path / "report.json"
    path.write_text(json.dumps(form(event__event_date="2025-03-04")), "utf-8")
    res = runner.invoke(app, ["vigilance", "report", "create", str(path), "--user", user])
    assert res.exit_code == 0, res.output
    assert "quality 97/100" in res.output and "[event.event_date]" in res.output
    case_id = res.output.split()[1]
    res = runner.invoke(app, ["vigilance", "report", "submit", case_id, "--user", user])
    assert res.exit_code == 0 and "submitted; late" in res.output
    res = runner.invoke(app, ["vigilance", "report", "show", case_id, "--user", w.other_hospital.username])
    assert res.exit_code == 4
    res = runner.invoke(app, ["vigilance", "report", "list", "--user", w.province.username])
    assert res.exit_code == 0 and "Central venous" in res.output
    res = runner.invoke(app, ["vigilance", "stats", "--user", w.national.username])
    assert res.exit_code == 0 and "1" in res.output


def test_bad_file_and_bad_form(w, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json", "utf-8")
    res = runner.invoke(app, ["vigilance", "report", "create", str(path), "--user", w.hospital.username])
    assert res.exit_code == 2 and "[file]" in res.output
    path.write_text(json.dumps(form(event__outcome="fatal")), "utf-8")
    res = runner.invoke(app, ["vigilance", "report", "create", str(path), "--user", w.hospital.username])
    assert res.exit_code == 2 and "[event.outcome]" in res.output
