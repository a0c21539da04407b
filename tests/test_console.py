"""The ``medreg`` entry point: ``signals score`` runs without the rest of the command tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from medreg.cli import app

ROWS = "report_id,device,event\n1,D1,E1\n1,D1,E2\n2,D1,E1\n3,D2,E2\n4,D2,E1\n5,D1,E1\n"
SCORE = ["signals", "score", "{csv}", "--report-col", "report_id", "--device-col", "device",
         "--event-col", "event", "--prior", "0.2,0.1,2,4,0.3", "--out", "{out}"]
PROBE = """
import sys
from medreg.console import main
try:
    main(sys.argv[1:])
except SystemExit as end:
    code = end.code
else:
    code = 0
heavy = sorted(m for m in ("medreg.cli", "medreg.models", "sqlalchemy", "fastapi") if m in sys.modules)
print("loaded:", ",".join(heavy) or "-", "exit:", code)
"""


def _args(tmp_path: Path, out: str) -> list[str]:
    csv = tmp_path / "reports.csv"
    csv.write_text(ROWS, encoding="utf-8")
    return [a.format(csv=csv, out=tmp_path / out) for a in SCORE]


def _probe(args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    return subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_score_loads_neither_the_database_nor_the_other_domains(tmp_path):
    done = _probe(_args(tmp_path, "fast.csv"))
    assert "loaded: - exit: 0" in done.stdout, done.stdout + done.stderr


def test_score_writes_what_the_whole_command_tree_writes(tmp_path):
    assert _probe(_args(tmp_path, "fast.csv")).returncode == 0
    result = CliRunner().invoke(app, _args(tmp_path, "full.csv"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "fast.csv").read_text() == (tmp_path / "full.csv").read_text()


def test_bad_option_is_one_line_naming_it(tmp_path):
    args = _args(tmp_path, "x.csv")
    args[args.index("report_id")] = "nope"
    done = _probe(args)
    assert "exit: 2" in done.stdout
    assert "error [report-col]: Column 'nope' is not in the file" in done.stderr


def test_other_commands_go_through_the_whole_tree():
    done = _probe(["signals", "--help"])
    loaded, _, code = done.stdout.partition("exit:")
    assert "medreg.cli" in loaded and code.strip() == "0", done.stdout + done.stderr
    assert "analyses" in done.stdout and "score" in done.stdout
