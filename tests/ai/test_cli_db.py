"""``medreg ai db`` and ``medreg ai run`` inside the test's rolled-back transaction: JSON out, no label,
exit codes for bad input, other organisations, the rate limit."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from typer.testing import CliRunner

from medreg.cli import app
from medreg.core import cli_support
from medreg.core.accounts import User
from tests.ai.world import build, scores_for, synthetic_cases

runner = CliRunner()


@pytest.fixture
def w(db, monkeypatch):
    @contextmanager
    def scope():
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    return build(db)


def _name(db, actor) -> str:
    return db.get(User, actor.user_id).username


def _run(*args):
    return runner.invoke(app, ["ai", *map(str, args)])


def test_register_seal_submit_show_verify(db, w, tmp_path):
    cur, reg, other = _name(db, w.curator), _name(db, w.reg_a), _name(db, w.reg_b)
    r = _run("db", "register", "--user", cur, "--code", "CLI-DB", "--name", "CLI set", "--modality", "CT")
    assert r.exit_code == 0, r.output
    cases = synthetic_cases(50, seed=4)
    (tmp_path / "cases.csv").write_text("case_id,label,site,sex\n" + "".join(
        f"{c['case_id']},{c['label']},{c['metadata']['site']},{c['metadata']['sex']}\n" for c in cases))
    r = _run("db", "seal", "--user", cur, "--code", "CLI-DB", "--cases", tmp_path / "cases.csv",
             "--provenance", "synthetic", "--metadata-cols", "site,sex")
    assert r.exit_code == 0, r.output
    version = json.loads(r.stdout)
    assert version["n_cases"] == 50 and len(version["merkle_root"]) == 64
    assert json.loads(_run("db", "verify", "--user", cur, "--code", "CLI-DB").stdout)["intact"] is True
    assert _run("db", "seal", "--user", reg, "--code", "CLI-DB", "--cases", tmp_path / "cases.csv",
                "--provenance", "x").exit_code == 3

    scores = scores_for(cases)
    (tmp_path / "out.csv").write_text("case_id,score\n" + "".join(f"{k},{v}\n" for k, v in scores.items()))
    submit = ["run", "submit", "--user", reg, "--code", "CLI-DB", "--outputs", tmp_path / "out.csv",
              "--algorithm", "Net", "--algorithm-version", "1", "--hardware", "x86", "--os", "Linux",
              "--framework", "ONNX"]
    r = _run(*submit)
    assert r.exit_code == 0, r.output
    run = json.loads(r.stdout)
    assert '"label"' not in r.stdout and not any(c["case_id"] in json.dumps(run["metrics"]) for c in cases)
    assert json.loads(_run("run", "show", run["id"], "--user", reg).stdout)["id"] == run["id"]
    assert json.loads(_run("run", "verify", run["id"], "--user", reg).stdout)["intact"] is True
    assert _run("run", "show", run["id"], "--user", other).exit_code == 4

    (tmp_path / "bad.csv").write_text("case_id,score\ncase-0000,9\n")
    bad = _run(*submit[:7], tmp_path / "bad.csv", *submit[8:])
    assert bad.exit_code == 2 and "[outputs.0.score]" in bad.stderr
    assert _run(*submit).exit_code == 0 and _run(*submit).exit_code == 0
    limited = _run(*submit)
    assert limited.exit_code == 6 and "[version_id]" in limited.stderr
    assert _run("db", "list", "--user", reg).exit_code == 0
    assert _run("run", "show", 1, "--user", "nobody").exit_code == 3
