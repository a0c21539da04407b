"""The MRI worked example: undetermined with the shipped catalogue (no 06 rows), determined once a table of
sub-catalogue 06 in the official column layout is imported.

THE 06 TABLE HERE IS SYNTHETIC: made up for this test in the official layout (序号 | 一级产品类别 |
二级产品类别 | 产品描述 | 预期用途 | 品名举例 | 管理类别). Its names, texts and class are NOT rows of the
NMPA catalogue and say nothing about the real class of an MRI system; they only show that importing the
official 06 table is what the engine was missing.
"""

from __future__ import annotations

import hashlib
import io
import json
from contextlib import contextmanager
from pathlib import Path

from openpyxl import Workbook
from typer.testing import CliRunner

from medreg.catalog import service, tables
from tests.factories import make_actor
from tests.web.conftest import csrf_of

ROOT = Path(__file__).resolve().parents[2]
MRI = json.loads((ROOT / "docs" / "examples" / "classify" / "mri_system.json").read_text(encoding="utf-8"))
HEADER = ["序号", "一级产品类别", "二级产品类别", "产品描述", "预期用途", "品名举例", "管理类别"]
SYNTHETIC_06 = [  # synthetic, see the module docstring; the class is chosen for the test only
    ["01", "（合成）磁共振测试一级类别", "01 （合成）磁共振成像测试设备", "合成测试描述，非官方数据。",
     "合成测试用途，非官方数据。", "医用磁共振成像系统、（合成）测试产品", "Ⅱ"],
]


def synthetic_06_xlsx() -> bytes:
    book = Workbook()
    ws = book.active
    ws.title = "06 医用成像器械"
    ws.append(["SYNTHETIC TEST TABLE 合成测试表，非官方数据 (official column layout)"])
    ws.append(HEADER)
    for r in SYNTHETIC_06:
        ws.append(r)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def determine(client) -> dict:
    r = client.post("/api/v1/classification/determine", json=MRI, headers={"X-CSRF-Token": csrf_of(client)})
    assert r.status_code == 200, r.text
    return r.json()


def test_importing_the_06_table_makes_the_mri_request_determined(client, db, monkeypatch):
    before = determine(client)
    assert (before["status"], before["management_class"]) == ("undetermined", None)
    assert any(n.startswith("Sub-catalogue 06 医用成像器械") and "has no rows" in n for n in before["notes"])
    assert any(n.startswith("FDA product code LNH") for n in before["notes"])

    reviewer = make_actor(db, "reviewer", "regulator_unit")
    service.load_shipped(db)
    data = synthetic_06_xlsx()
    parsed = tables.read_catalogue_file(Path("06.xlsx"), data)
    assert parsed.problems == [] and {e.subcatalogue_code for e in parsed.entries} == {"06"}
    service.import_table(db, reviewer, parsed, label="synthetic-06", source_name="06.xlsx",
                         sha256=hashlib.sha256(data).hexdigest())
    db.commit()

    after = determine(client)
    assert after["catalogue_version"] == "synthetic-06"
    assert (after["status"], after["management_class"]) == ("determined", "II")
    assert after["decided_by"]["source"] == "catalogue"
    assert after["decided_by"]["rule"].startswith("catalogue:06-01-01")
    assert after["catalogue_matches"][0]["code"] == "06-01-01"
    top = after["subcatalogue_candidates"][0]
    assert (top["code"], top["rows_in_catalogue"]) == ("06", 1) and "catalogue" in top["sources"]
    # the FDA code LNH is now linked to the imported category (automatic text match) and says so
    lnh = next(t for t in after["trace"] if t["rule"] == "evidence:fda_product_code:LNH>06-01-01")
    assert lnh["subcatalogue_code"] == "06" and "automatic text match" in lnh["why"]
    assert not any("has no rows" in n and "Sub-catalogue 06" in n for n in after["notes"])

    # `medreg classify FILE --json` prints exactly this body (the CLI reading the same database)
    @contextmanager
    def same_session():
        yield db

    monkeypatch.setattr("medreg.catalog.cli.session_scope", same_session)
    from medreg.cli import app

    f = ROOT / "docs" / "examples" / "classify" / "mri_system.json"
    out = CliRunner().invoke(app, ["classify", str(f), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == after


def test_cli_name_only_json_is_the_api_body(client, db, monkeypatch):
    @contextmanager
    def same_session():
        yield db

    monkeypatch.setattr("medreg.catalog.cli.session_scope", same_session)
    from medreg.cli import app

    api = client.post("/api/v1/classification/determine", json={"name": "超声骨组织手术系统"},
                      headers={"X-CSRF-Token": csrf_of(client)}).json()
    out = CliRunner().invoke(app, ["classify", "--name", "超声骨组织手术系统", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == api
    assert api["management_class"] == "III" and api["decided_by"]["source"] == "catalogue"
