"""``medreg users create | list | token`` and ``medreg serve`` (sessions bound to the test session)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from typer.testing import CliRunner

from medreg.cli import app as cli_app
from medreg.core import auth, users_cli
from tests.factories import make_org

runner = CliRunner()
PASSWORD = "a-long-enough-passphrase"


@pytest.fixture
def bound(db, monkeypatch):
    @contextmanager
    def scope():
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise

    monkeypatch.setattr(users_cli, "session_scope", scope)
    return db


def test_create_list_and_token(bound):
    org = make_org(bound, "regulator_unit", name="国家药监局医疗器械技术审评中心（测试）")
    bound.commit()
    result = runner.invoke(cli_app, ["users", "create", "zhang.min", "--role", "reviewer",
                                     "--org", org.name, "--display-name", "张敏"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "created user zhang.min" in result.output and PASSWORD not in result.output
    listing = runner.invoke(cli_app, ["users", "list"])
    assert "zhang.min" in listing.output and "reviewer" in listing.output
    token = runner.invoke(cli_app, ["users", "token", "zhang.min", "--name", "ci", "--days", "7"])
    assert token.exit_code == 0
    actor = auth.actor_for_token(bound, token.output.strip())
    assert actor.username == "zhang.min" and actor.organisation_id == org.id


def test_bad_input_is_one_line_and_an_exit_code(bound):
    short = runner.invoke(cli_app, ["users", "create", "wang.fang", "--role", "reviewer"],
                          input="short\nshort\n")
    assert short.exit_code == 2 and "[password]" in short.output
    no_org = runner.invoke(cli_app, ["users", "create", "wang.fang", "--role", "reviewer", "--org", "Nope"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert no_org.exit_code == 4 and "[org]" in no_org.output
    unknown = runner.invoke(cli_app, ["users", "token", "nobody"])
    assert unknown.exit_code == 4 and "Traceback" not in unknown.output


def test_serve_runs_the_app_factory(monkeypatch):
    import uvicorn

    calls = {}
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: calls.update(target=target, **kw))
    result = runner.invoke(cli_app, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert calls == {"target": "medreg.web.app:create_app", "factory": True, "host": "127.0.0.1",
                     "port": 8123, "reload": False}
