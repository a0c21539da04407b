"""``medreg registration``: wiring, output and exit codes (inside the test's rolled-back transaction)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from typer.testing import CliRunner

from medreg.cli import app
from medreg.core import cli_support
from medreg.premarket.registration import service
from tests.premarket.test_registration_world import DAY0, build, initial, to_certificate, to_review_completed

runner = CliRunner()


@pytest.fixture
def w(db, monkeypatch):
    @contextmanager
    def scope():
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    return build(db)


def test_office_actions_show_and_queue(db, w):
    a = service.create_application(db, w.registrant, initial(), on=DAY0)
    service.submit(db, w.registrant, a.id, on=DAY0)
    office = w.cmde.username
    res = runner.invoke(app, ["registration", "list", "--user", office])
    assert res.exit_code == 0 and "submitted" in res.output
    res = runner.invoke(app, ["registration", "accept", str(a.id), "--user", office, "--on", "2025-03-04"])
    assert res.exit_code == 0, res.output
    assert a.status == "accepted" and a.acceptance_number == "CQZ2500001"
    res = runner.invoke(app, ["registration", "accept", str(a.id), "--user", office])
    assert res.exit_code == 5 and "not possible" in res.output
    res = runner.invoke(app, ["registration", "start-review", str(a.id), "--user", w.registrant.username])
    assert res.exit_code == 3
    res = runner.invoke(
        app,
        [
            "registration",
            "request-supplement",
            str(a.id),
            "--user",
            office,
            "--request",
            "Biocompatibility data",
        ],
    )
    assert res.exit_code == 5  # still accepted: the review has not started
    res = runner.invoke(
        app,
        [
            "registration",
            "start-review",
            str(a.id),
            "--user",
            office,
            "--on",
            "2025-03-05",
            "--expected-version",
            str(a.version - 1),
        ],
    )
    assert res.exit_code == 5 and "expected_version" in res.output
    res = runner.invoke(
        app, ["registration", "start-review", str(a.id), "--user", office, "--on", "2025-03-05"]
    )
    assert res.exit_code == 0
    res = runner.invoke(app, ["registration", "request-supplement", str(a.id), "--user", office])
    assert res.exit_code == 2 and "[request]" in res.output
    res = runner.invoke(app, ["registration", "show", str(a.id), "--user", office, "--on", "2025-03-06"])
    assert res.exit_code == 0 and "registration.review" in res.output and "Art.92(3)" in res.output
    res = runner.invoke(app, ["registration", "queue", "--user", office, "--on", "2025-03-06"])
    assert res.exit_code == 0 and "CQZ2500001" in res.output
    res = runner.invoke(app, ["registration", "show", str(a.id), "--user", w.other.username])
    assert res.exit_code == 4
    res = runner.invoke(app, ["registration", "list", "--user", "nobody"])
    assert res.exit_code == 3


def test_signed_decision_and_certificate_lookup(db, w):
    a = to_review_completed(db, w, w.registrant, initial())
    office = w.cmde.username
    res = runner.invoke(
        app, ["registration", "decide", str(a.id), "approve", "--user", office], input="wrong\n"
    )
    assert res.exit_code == 2 and "[password]" in res.output
    res = runner.invoke(
        app,
        ["registration", "decide", str(a.id), "approve", "--user", office, "--on", "2025-04-20"],
        input=f"{w.password}\n",
    )
    assert res.exit_code == 0 and "signed" in res.output
    res = runner.invoke(
        app, ["registration", "issue-certificate", str(a.id), "--user", office, "--on", "2025-04-21"]
    )
    assert res.exit_code == 0, res.output
    _, cert = to_certificate(db, w, w.foreign, initial())
    res = runner.invoke(app, ["registration", "certificate", cert.number])
    assert res.exit_code == 0 and cert.number in res.output and "valid_until" in res.output
    res = runner.invoke(app, ["registration", "certificate", "国械注准2025"])
    assert res.exit_code == 2 and "[number]" in res.output
    res = runner.invoke(app, ["registration", "certificate", "国械注准20253129999"])
    assert res.exit_code == 4
