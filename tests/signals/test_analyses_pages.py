"""The pages of the configured analyses: list with the last run and its job's progress, create and edit
forms with field + reason on bad input (4xx, the form re-rendered), enable/disable, delete (only an
analysis that never ran), run now (the same service call as the API and the CLI), the run's results
page; who may see them (the centre and administrators; a registrant gets 403, the public the login)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from medreg.core import jobs as core_jobs
from medreg.core.accounts import OrgKind, Role
from medreg.core.audit import AuditEvent
from medreg.core.errors import Conflict, PermissionDenied, ValidationFailed
from medreg.core.settings import get_settings
from medreg.signals import analyses, jobs
from medreg.signals.models import SignalAnalysis, SignalRun
from tests.factories import actor_for, make_org, make_user
from tests.signals.test_runs import FakeContext
from tests.signals.test_runs import world as world  # noqa: F401  (fixture)
from tests.signals.test_web import _bearer
from tests.web.conftest import app, client  # noqa: F401  (fixtures)

GOOD = {"name": "weekly certificates", "active": "1", "event_level": "2", "annexes": ["A"],
        "device_level": "certificate", "statistic": "prr", "threshold": "", "min_n": "3", "engine": "duckdb"}


@pytest.fixture
def site(db, world, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(get_settings(), "signals_snapshot_dir", tmp_path / "snapshots")
    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    people = {"centre": _bearer(db, centre), "centre_actor": actor_for(centre),
              "reg": _bearer(db, make_user(db, Role.REGISTRANT, org=world["maker"]))}
    db.commit()
    return people


def _create(client, h, **changes):  # noqa: F811
    return client.post("/signals/analyses/", data=GOOD | changes, headers=h, follow_redirects=False)


@pytest.mark.parametrize("changes, status, field", [
    ({"name": "  "}, 422, "name"), ({"name": "x" * 121}, 422, "name"),
    ({"event_level": "4"}, 422, "event_level"), ({"event_level": "one"}, 422, "event_level"),
    ({"annexes": []}, 422, "annexes"), ({"strata": ["colour"]}, 422, "strata"),
    ({"device_level": "lot"}, 422, "device_level"), ({"statistic": "chi2"}, 422, "statistic"),
    ({"threshold": "abc"}, 422, "threshold"), ({"threshold": "inf"}, 422, "threshold"),
    ({"threshold": "nan"}, 422, "threshold"), ({"min_n": "0"}, 422, "min_n"),
    ({"min_n": "9" * 40}, 422, "min_n"), ({"engine": "pandas"}, 422, "engine"),
])
def test_bad_input_re_renders_the_form_with_field_and_reason(client, site, changes, status, field):  # noqa: F811
    r = _create(client, site["centre"], **changes)
    assert r.status_code == status, r.text
    assert f'data-field="{field}"' in r.text and 'id="analysis-form"' in r.text
    assert 'aria-invalid="true"' in r.text or field in ("annexes", "strata")


def test_centre_creates_edits_toggles_and_deletes_an_analysis(client, site, db):  # noqa: F811
    h = site["centre"] | {"Accept-Language": "en"}
    page = client.get("/signals/analyses/", headers=h)
    assert page.status_code == 200 and 'id="no-analyses"' in page.text
    assert 'href="/signals/analyses/"' in client.get("/signals/", headers=h).text  # linked from the signals
    assert client.get("/signals/analyses/new", headers=h).status_code == 200
    r = _create(client, h, strata=["sex", "year"], annexes=["E", "A"])
    assert r.status_code == 303 and r.headers["location"].startswith("/signals/analyses/?done=created")
    a = db.scalar(select(SignalAnalysis))
    assert (a.name, a.event_level, a.annexes, a.strata, a.statistic, a.threshold, a.active) == (
        "weekly certificates", 2, "AE", "year,sex", "prr", None, True)
    page = client.get("/signals/analyses/", headers=h)
    assert page.text.count('data-testid="analysis-row"') == 1 and "PRR025 &gt; 1 and n11 &gt;= 3" in page.text
    assert "Never run" in page.text and 'data-testid="delete-' in page.text
    # the taken name: 409 on the name, what was typed kept
    r = _create(client, h, threshold="2.5")
    assert r.status_code == 409 and 'data-field="name"' in r.text and 'value="2.5"' in r.text
    # edit: a threshold, then a stale version
    form = client.get(f"/signals/analyses/{a.id}", headers=h)
    assert form.status_code == 200 and 'value="weekly certificates"' in form.text
    edit = GOOD | {"threshold": "2.5", "expected_version": "1", "annexes": ["A"]}
    r = client.post(f"/signals/analyses/{a.id}", data=edit, headers=h, follow_redirects=False)
    assert r.status_code == 303
    db.refresh(a)
    assert (a.threshold, a.annexes, a.version) == (2.5, "A", 2)
    r = client.post(f"/signals/analyses/{a.id}", data=edit | {"min_n": "5"}, headers=h,
                    follow_redirects=False)
    assert r.status_code == 409 and 'data-field="expected_version"' in r.text
    r = client.post(f"/signals/analyses/{a.id}", data=edit | {"expected_version": "2", "min_n": "x"},
                    headers=h, follow_redirects=False)
    assert r.status_code == 422 and 'data-field="min_n"' in r.text
    # disable, enable
    r = client.post(f"/signals/analyses/{a.id}/disable", data={"expected_version": "2"}, headers=h,
                    follow_redirects=False)
    assert r.status_code == 303 and client.get("/signals/analyses/", headers=h).text.count(
        'data-active="false"') == 1
    r = client.post(f"/signals/analyses/{a.id}/enable", data={"expected_version": "2"}, headers=h)
    assert r.status_code == 409 and 'data-field="expected_version"' in r.text
    assert client.post(f"/signals/analyses/{a.id}/enable", data={"expected_version": "3"}, headers=h,
                       follow_redirects=False).status_code == 303
    # delete (it never ran): audited with its values
    r = client.post(f"/signals/analyses/{a.id}/delete", data={"expected_version": "4"}, headers=h,
                    follow_redirects=False)
    assert r.status_code == 303 and db.scalar(select(SignalAnalysis)) is None
    events = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "signals_analysis")
                        .order_by(AuditEvent.seq)).all()
    assert [e.action.rsplit(".", 1)[1] for e in events] == ["create", "update", "update", "update", "delete"]
    assert events[-1].before["name"] == "weekly certificates" and events[-1].before["version"] == 4
    assert client.get(f"/signals/analyses/{a.id}", headers=h).status_code == 404
    assert client.get("/signals/analyses/" + "9" * 40, headers=h).status_code in (404, 422)
    assert client.post("/signals/analyses/1/explode", data={}, headers=h).status_code == 422


def test_run_now_queues_the_job_shows_progress_and_links_the_results(client, site, db, world):  # noqa: F811
    h = site["centre"] | {"Accept-Language": "zh-CN"}
    assert _create(client, h).status_code == 303
    a = db.scalar(select(SignalAnalysis))
    r = client.post(f"/signals/analyses/{a.id}/run", data={}, headers=h, follow_redirects=False)
    assert r.status_code == 303 and "queued=" in r.headers["location"]
    job = db.scalar(select(core_jobs.Job).where(core_jobs.Job.kind == "signals.run"))
    assert (job.status, job.params["analysis_id"], job.params["snapshot_version"], job.params["label"]) == (
        "queued", a.id, None, "weekly certificates")
    assert job.params["folder"] == str(get_settings().signals_snapshot_dir)
    page = client.get("/signals/analyses/", headers=h)
    assert 'data-status="queued"' in page.text and 'hx-trigger="every 2s"' in page.text  # polls while queued
    assert "排队中" in page.text and 'data-testid="delete-' not in page.text
    # a second click while it is queued: 409 with the reason; the API says the same
    r = client.post(f"/signals/analyses/{a.id}/run", data={}, headers=h)
    assert r.status_code == 409 and 'data-field="analysis_id"' in r.text
    assert client.post(f"/api/signals/analyses/{a.id}/run", headers=h).status_code == 409
    # the worker runs it (in the test session), then the list shows the run and links its results
    ctx = FakeContext(db, job.params)
    jobs.run_job(ctx)
    job.status, job.done, job.total, job.result = "succeeded", 3, 3, ctx.result
    db.commit()
    rows = client.get("/signals/analyses/", headers=h | {"HX-Request": "true"})
    assert rows.text.lstrip().startswith("<tbody") and 'data-status="succeeded"' in rows.text
    assert 'hx-trigger' not in rows.text and 'value="3"' in rows.text
    run = db.get(SignalRun, ctx.result["run_id"])
    assert (run.analysis_id, run.opened) == (a.id, 1) and f'href="/signals/runs/{run.id}"' in rows.text
    page = client.get(f"/signals/runs/{run.id}", headers=h)
    assert page.status_code == 200 and page.text.count('data-testid="run-case"') == run.opened + run.updated
    assert client.get(f"/api/signals/runs/{run.id}", headers=h).json()["analysis_id"] == a.id
    (status,) = client.get("/api/signals/analyses/status", headers=h).json()  # the list's JSON twin
    assert (status["last_run"]["id"], status["last_job"]["status"], status["criteria"]) == (
        run.id, "succeeded", "PRR025 > 1 and n11 >= 3")
    assert client.get("/api/signals/analyses/status", headers=site["reg"]).json() == []
    # an analysis that ran is not deleted (its runs keep their settings): deactivate it instead
    r = client.post(f"/signals/analyses/{a.id}/delete", data={"expected_version": "1"}, headers=h)
    assert r.status_code == 409 and 'data-field="analysis_id"' in r.text
    assert client.delete(f"/api/signals/analyses/{a.id}?expected_version=1", headers=h).status_code == 409
    assert client.post(f"/api/signals/analyses/{a.id}/run", headers=h).status_code == 202


def test_only_the_centre_sees_and_changes_the_analyses(client, site, db):  # noqa: F811
    a = analyses.create_analysis(db, site["centre_actor"], {"name": "mine"})
    db.commit()
    for url in ("/signals/analyses/", "/signals/analyses/new", f"/signals/analyses/{a.id}",
                "/signals/runs/1"):
        assert client.get(url, headers=site["reg"]).status_code == 403, url
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), url
    for url, data in (("/signals/analyses/", GOOD), (f"/signals/analyses/{a.id}/run", {}),
                      (f"/signals/analyses/{a.id}/delete", {"expected_version": "1"}),
                      (f"/signals/analyses/{a.id}/disable", {"expected_version": "1"})):
        assert client.post(url, data=data, headers=site["reg"]).status_code == 403, url
        assert client.post(url, data=data).status_code in (401, 403), url
    assert client.post(f"/api/signals/analyses/{a.id}/run", headers=site["reg"]).status_code == 403
    assert client.delete(f"/api/signals/analyses/{a.id}?expected_version=1",
                         headers=site["reg"]).status_code == 403
    assert 'href="/signals/analyses/"' not in client.get("/signals/", headers=site["reg"]).text
    db.refresh(a)
    assert (a.version, a.active) == (1, True)
    assert db.scalar(select(core_jobs.Job)) is None


def test_service_refusals(site, db, world):  # noqa: F811
    centre, reg = site["centre_actor"], world["reg"]
    with pytest.raises(ValidationFailed) as err:
        analyses.create_analysis(db, centre, {"name": "x", "threshold": float("inf")})
    assert err.value.field == "threshold"
    with pytest.raises(ValidationFailed) as err:
        analyses.create_analysis(db, centre, {"name": "x", "event_level": 7})
    assert err.value.field == "event_level"
    a = analyses.create_analysis(db, centre, {"name": "x"})
    for call in (lambda: analyses.run_now(db, reg, a.id, "/tmp/x"),
                 lambda: analyses.delete_analysis(db, reg, a.id)):
        with pytest.raises(PermissionDenied):
            call()
    with pytest.raises(Conflict):
        analyses.delete_analysis(db, centre, a.id, expected_version=2)
    # an export into the same folder is pending: no second export there; another folder is fine
    b = analyses.create_analysis(db, centre, {"name": "y"})
    analyses.run_now(db, centre, a.id, "/tmp/one")
    with pytest.raises(Conflict) as err:
        analyses.run_now(db, centre, b.id, "/tmp/one")
    assert err.value.field == "analysis_id"
    assert analyses.run_now(db, centre, b.id, "/tmp/two").params["analysis_id"] == b.id


def test_cli_runs_now_and_deletes(site, db, monkeypatch, tmp_path):
    from contextlib import contextmanager

    from typer.testing import CliRunner

    from medreg.cli import app as cli
    from medreg.core import cli_support

    @contextmanager
    def scope():
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    user = site["centre_actor"].username
    a = analyses.create_analysis(db, site["centre_actor"], {"name": "cli"})
    runner = CliRunner()
    res = runner.invoke(cli, ["signals", "analyses", "run", str(a.id), "--user", user, "--snapshot-dir",
                              str(tmp_path / "cli")])
    assert res.exit_code == 0 and "queued" in res.output, res.output
    job = db.scalar(select(core_jobs.Job))
    assert job.params["folder"] == str(tmp_path / "cli") and job.params["analysis_id"] == a.id
    res = runner.invoke(cli, ["signals", "analyses", "delete", str(a.id), "--user", user])
    assert res.exit_code == 5 and "job" in res.output  # a run is queued: refused
    core_jobs.cancel(db, site["centre_actor"], job.id)
    res = runner.invoke(cli, ["signals", "analyses", "delete", str(a.id), "--user", user])
    assert res.exit_code == 0 and db.get(SignalAnalysis, a.id) is None
