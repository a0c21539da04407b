"""``medreg innovation`` and ``medreg experts``: wiring, output and exit codes (on the test session)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from typer.testing import CliRunner

from medreg.cli import app
from medreg.core import cli_support
from medreg.premarket.innovation import service
from medreg.premarket.innovation.states import Status
from tests.factories import make_user
from tests.premarket.innovation_world import TODAY, build, complete_draft

runner = CliRunner()


@pytest.fixture
def w(db, monkeypatch):
    @contextmanager
    def scope():  # the CLI works inside the test's rolled-back transaction
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    return build(db)


def test_accept_assign_decide_and_show(db, w):
    app_ = complete_draft(db, w, actor=w.foreign)
    service.submit(db, w.foreign, app_.id, today=TODAY)
    office = w.office.username
    res = runner.invoke(app, ["innovation", "list", "--user", office])
    assert res.exit_code == 0 and f"{app_.id} " in res.output and "submitted" in res.output
    res = runner.invoke(
        app, ["innovation", "accept", str(app_.id), "--user", office, "--today", "2025-03-03"]
    )
    assert res.exit_code == 0, res.output
    assert "CQTS20250001" in res.output and app_.status == Status.ACCEPTED
    res = runner.invoke(
        app, ["innovation", "candidates", str(app_.id), "--user", office, "--today", "2025-03-03"]
    )
    assert res.exit_code == 0 and res.output.count("ok ") == 4
    ids = [str(e.id) for e, _ in w.experts[:2]]
    res = runner.invoke(app, ["innovation", "assign-experts", str(app_.id), *ids, "--user", office])
    assert res.exit_code == 2 and "expert_ids" in res.output
    ids.append(str(w.experts[2][0].id))
    res = runner.invoke(app, ["innovation", "assign-experts", str(app_.id), *ids, "--user", office])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["innovation", "show", str(app_.id), "--user", office, "--today", "2025-03-03"])
    assert res.exit_code == 0 and "expert_review" in res.output and "innovation.review_opinion" in res.output


def test_decide_prompts_for_the_password_and_maps_errors(db, w):
    app_ = complete_draft(db, w, actor=w.foreign)
    service.submit(db, w.foreign, app_.id, today=TODAY)
    service.accept(db, w.office, app_.id, today=TODAY)
    service.conclude(db, w.office, app_.id, "reject", "The dossier is contradictory.", today=TODAY)
    office = w.office.username
    res = runner.invoke(
        app,
        [
            "innovation",
            "decide",
            str(app_.id),
            "--user",
            office,
            "--reject",
            "--reasons",
            "Contradictory dossier.",
        ],
        input="wrong\n",
    )
    assert res.exit_code == 2 and "password" in res.output
    res = runner.invoke(
        app,
        [
            "innovation",
            "decide",
            str(app_.id),
            "--user",
            office,
            "--reject",
            "--reasons",
            "Contradictory dossier.",
        ],
        input=w.password + "\n",
    )
    assert res.exit_code == 0, res.output
    assert app_.status == Status.REJECTED
    res = runner.invoke(app, ["innovation", "show", str(app_.id), "--user", w.other_registrant.username])
    assert res.exit_code == 4
    res = runner.invoke(app, ["innovation", "list", "--user", "nobody-here"])
    assert res.exit_code == 3
    res = runner.invoke(app, ["innovation", "accept", str(app_.id), "--user", office])
    assert res.exit_code == 5


def test_experts_add_and_list(db, w):
    user = make_user(db, "expert")
    office = w.office.username
    res = runner.invoke(
        app,
        [
            "experts",
            "add",
            "--user",
            office,
            "--expert-user",
            user.username,
            "--name",
            "Zhao Lei",
            "--title",
            "Professor",
            "--field",
            "imaging",
            "--field",
            "AI",
            "--birth-year",
            "1975",
        ],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["experts", "list", "--user", office, "--field", "imaging"])
    assert res.exit_code == 0 and "Zhao Lei" in res.output and "Zhang Wei" not in res.output
    res = runner.invoke(app, ["experts", "list", "--user", w.registrant.username])
    assert res.exit_code == 3
