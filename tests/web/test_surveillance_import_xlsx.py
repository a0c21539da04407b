"""XLSX extracts over HTTP (API and page) and through the CLI: 201/303 when clean, 422 naming the row and
column of every problem when not, nothing saved."""

from __future__ import annotations

from datetime import date

from typer.testing import CliRunner

from medreg.core.accounts import OrgKind, Role
from medreg.surveillance import service
from tests.factories import actor_for, make_org, make_user
from tests.surveillance.test_import_xlsx import typed, xlsx
from tests.web.conftest import login
from tests.web.test_registration_support import bearer
from tests.web.test_surveillance_pages import _token

API = "/api/surveillance"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _site(db, code="HX"):
    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    org = make_org(db, OrgKind.HOSPITAL)
    service.enrol_hospital(db, actor_for(centre), organisation_id=org.id, code=code,
                           device_groups=["coronary_stent"], enrolled_on=date(2024, 1, 1))
    hospital = make_user(db, Role.HOSPITAL, org=org)
    db.commit()
    return hospital, centre


def test_api_imports_a_workbook_and_refuses_a_bad_one_by_row_and_column(client, db):
    hospital, _ = _site(db)
    h = bearer(client, hospital.username)
    bad = xlsx([typed(1), typed(2, sex="X"), typed(3, age=12, ejection_fraction="high")])
    r = client.post(f"{API}/import?filename=h.xlsx", content=bad, headers={**h, "Content-Type": XLSX})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["field"] == "file"
    assert [(e["row"], e["field"]) for e in body["details"]["errors"]] == [
        (3, "sex"), (4, "age"), (4, "ejection_fraction")]
    assert client.get(f"{API}/procedures", headers=h).json()["total"] == 0
    r = client.post(f"{API}/import?filename=h.xlsx", content=xlsx([typed(1), typed(2)]), headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["rows"] == 2
    assert client.get(f"{API}/procedures", headers=h).json()["total"] == 2


def test_api_refuses_a_broken_workbook_with_422(client, db):
    hospital, _ = _site(db)
    h = bearer(client, hospital.username)
    good = xlsx([typed(1)])
    r = client.post(f"{API}/import", content=good[: len(good) // 2], headers=h)  # truncated upload
    assert r.status_code == 422 and r.json()["field"] == "file"


def test_page_imports_a_workbook_and_lists_problems_in_chinese(client, db):
    hospital, _ = _site(db)
    login(client, hospital.username, lang="zh_CN")
    form = client.get("/surveillance/import?lang=zh_CN")
    assert ".xlsx" in form.text
    bad = xlsx([typed(1), typed(2, sex="X")])
    r = client.post("/surveillance/import?lang=zh_CN", data={"csrf_token": _token(form.text)},
                    files={"file": ("bad.xlsx", bad, XLSX)})
    assert r.status_code == 422
    assert 'data-row="3" data-field="sex"' in r.text and "须为 M 或 F" in r.text
    r = client.post("/surveillance/import", data={"csrf_token": _token(form.text)},
                    files={"file": ("good.xlsx", xlsx([typed(1), typed(2)]), XLSX)})
    assert r.status_code == 303 and r.headers["location"] == "/surveillance/import?done=2"


def test_cli_imports_a_workbook(db, tmp_path, monkeypatch):
    from medreg.core import cli_support
    from medreg.surveillance import cli

    hospital, _ = _site(db, "HC")

    class _Scope:  # the CLI's unit of work, bound to the test's rolled-back session
        def __enter__(self):
            return db

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(cli_support, "session_scope", _Scope)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx([typed(1, udi="(01)06901234567890")]))
    out = CliRunner().invoke(cli.app, ["import", str(bad), "--user", hospital.username])
    assert out.exit_code != 0 and "row 2 [udi]:" in out.output
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx([typed(1), typed(2)]))
    out = CliRunner().invoke(cli.app, ["import", str(good), "--user", hospital.username])
    assert out.exit_code == 0, out.output
    assert "imported 2 procedures" in out.output
