"""Signals over HTTP: the JSON API (runs, cases with statistics over time, actions with
expected_version, tenancy, bad ids) and the pages (sortable list, overview and IC plots as inline SVG
and downloadable SVG/PNG, the case page and its actions), in Chinese and English."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from medreg.core import auth
from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.signals.runs import run_all
from tests.factories import actor_for, make_org, make_user
from tests.signals.test_runs import D1, _settings
from tests.signals.test_runs import world as world  # noqa: F401  (fixture)
from tests.web.conftest import app, client  # noqa: F401  (fixtures)


def _bearer(db: Session, user) -> dict:
    return {"Authorization": f"Bearer {auth.issue_token(db, Actor.system(), user.id, 't')}"}


@pytest.fixture
def site(db, world):  # noqa: F811
    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    run_all(db, actor_for(centre), _settings(world))
    run_all(db, actor_for(centre), _settings(world, label="2026-W49"))
    people = {"centre": _bearer(db, centre),
              "reg": _bearer(db, make_user(db, Role.REGISTRANT, org=world["maker"])),
              "stranger": _bearer(db, make_user(db, Role.REGISTRANT, org=world["other"]))}
    db.commit()
    return people


def test_api_runs_cases_history_and_actions(client, site):  # noqa: F811
    runs = client.get("/api/signals/runs", headers=site["centre"]).json()
    assert [r["label"] for r in runs] == ["2026-W49", "2026-W48"] and runs[0]["reports"] == 38
    (case,) = client.get("/api/signals/cases", headers=site["centre"]).json()
    assert (case["device"], case["event"], case["latest"]["n11"]) == (D1, "A0401", 6)
    detail = client.get(f"/api/signals/cases/{case['id']}", headers=site["centre"]).json()
    assert [s["run_label"] for s in detail["stats"]] == ["2026-W48", "2026-W49"]
    assert all(len(ids) == 6 for ids in detail["reports"].values())
    assert detail["allowed_actions"] == ["dismiss", "validate"]
    url = f"/api/signals/cases/{case['id']}"
    r = client.post(url + "/validate", json={"expected_version": case["version"]}, headers=site["centre"])
    assert r.status_code == 200 and r.json()["status"] == "validated"
    r = client.post(url + "/assess", json={"expected_version": case["version"]}, headers=site["centre"])
    assert r.status_code == 409 and r.json()["field"] == "expected_version"
    r = client.post(url + "/dismiss", json={"expected_version": case["version"] + 1}, headers=site["centre"])
    assert r.status_code == 422 and r.json()["field"] == "reason"
    # tenancy: the registrant of D1 sees the case but may not act; another registrant does not see it
    assert len(client.get("/api/signals/cases", headers=site["reg"]).json()) == 1
    assert client.get("/api/signals/runs", headers=site["reg"]).json() == []
    assert client.get("/api/signals/cases", headers=site["stranger"]).json() == []
    assert client.get(url, headers=site["stranger"]).status_code == 404
    r = client.post(url + "/assess", json={"expected_version": case["version"] + 1}, headers=site["reg"])
    assert r.status_code == 403
    assert client.get("/api/signals/cases/" + "9" * 40, headers=site["centre"]).status_code == 422
    assert client.post(url + "/explode", json={"expected_version": 1},
                       headers=site["centre"]).status_code == 422
    assert client.get("/api/signals/cases").status_code == 401


@pytest.mark.parametrize("locale, title", [("zh_CN", "信号"), ("en", "Signals")])
def test_pages_list_sort_plots_and_case(client, site, locale, title):  # noqa: F811
    h = site["centre"] | {"Accept-Language": locale.replace("_", "-")}
    page = client.get("/signals/?sort=n11&order=asc&plot=ror", headers=h)
    assert page.status_code == 200 and f"<h1>{title}</h1>" in page.text
    assert 'class="signal-overview"' in page.text and 'class="threshold"' in page.text
    assert 'data-sort="n11"' in page.text and page.text.count('data-testid="signal-row"') == 1
    case_id = client.get("/api/signals/cases", headers=h).json()[0]["id"]
    svg = client.get("/signals/overview.svg?plot=ebgm", headers=h)
    assert svg.headers["content-type"].startswith("image/svg+xml") and svg.text.startswith("<svg")
    png = client.get("/signals/overview.png", headers=h)
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    detail = client.get(f"/signals/{case_id}", headers=h)
    assert detail.status_code == 200 and detail.text.count('data-testid="stat-row"') == 2
    assert 'class="ic-over-time"' in detail.text and detail.text.count('class="interval"') == 2
    assert detail.text.count('data-testid="report-link"') == 12
    assert client.get(f"/signals/{case_id}/ic.png", headers=h).content[:4] == b"\x89PNG"
    assert client.get(f"/signals/{case_id}/ic.svg", headers=h).text.startswith("<svg")
    assert client.get("/signals/?sort=bogus", headers=h).status_code == 422


def test_page_actions_and_refusals(client, site):  # noqa: F811
    case = client.get("/api/signals/cases", headers=site["centre"]).json()[0]
    r = client.post(f"/signals/{case['id']}/dismiss", data={"expected_version": case["version"]},
                    headers=site["centre"], follow_redirects=False)
    assert r.status_code == 422 and 'data-field="reason"' in r.text
    r = client.post(f"/signals/{case['id']}/validate", data={"expected_version": case["version"]},
                    headers=site["centre"], follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/signals/{case['id']}", headers=site["centre"])
    assert 'data-status="validated"' in page.text and 'id="do-assess"' in page.text
    assert 'id="do-validate"' not in client.get(f"/signals/{case['id']}", headers=site["reg"]).text
    assert client.get(f"/signals/{case['id']}", headers=site["stranger"]).status_code == 404
    assert client.get("/signals/" + "9" * 40, headers=site["centre"]).status_code in (404, 422)


def test_registrant_responds_by_the_deadline(client, site):  # noqa: F811
    case_id = client.get("/api/signals/cases", headers=site["centre"]).json()[0]["id"]
    url = f"/api/signals/cases/{case_id}"
    for action, extra in (("validate", {}), ("assess", {"reason": "Confirmed on review."})):
        v = client.get(url, headers=site["centre"]).json()["version"]
        assert client.post(f"{url}/{action}", json={"expected_version": v} | extra,
                           headers=site["centre"]).status_code == 200
    v = client.get(url, headers=site["centre"]).json()["version"]
    r = client.post(url + "/decide_action", json={"expected_version": v, "decision": "request_evaluation",
                                                  "due_days": 400}, headers=site["centre"])
    assert r.status_code == 422
    r = client.post(url + "/decide_action", json={"expected_version": v, "decision": "request_evaluation",
                                                  "due_days": 30}, headers=site["centre"])
    assert r.status_code == 200 and r.json()["response_due_at"] and r.json()["response_late"] is False
    page = client.get(url.replace("/api/signals/cases", "/signals"), headers=site["reg"])
    assert 'id="do-respond"' in page.text and 'data-testid="response-due"' in page.text
    v = r.json()["version"]
    assert client.post(url + "/respond", json={"expected_version": v, "response": "x"},
                       headers=site["stranger"]).status_code == 404
    r = client.post(url.replace("/api/signals/cases", "/signals") + "/respond",
                    data={"expected_version": v, "response": "Weld defect in lot 42; CAPA opened."},
                    headers=site["reg"], follow_redirects=False)
    assert r.status_code == 303
    out = client.get(url, headers=site["reg"]).json()
    assert out["response"].startswith("Weld defect") and out["response_late"] is False
    r = client.post(url + "/respond", json={"expected_version": out["version"], "response": "again"},
                    headers=site["reg"])
    assert r.status_code == 422 and r.json()["field"] == "response"


def test_api_configured_analyses(client, site):  # noqa: F811
    body = {"name": "weekly categories", "device_level": "category", "strata": "sex,year", "event_level": 2}
    r = client.post("/api/signals/analyses", json=body, headers=site["centre"])
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["strata"], made["statistic"], made["version"], made["active"]) == (
        "year,sex", "ebgm", 1, True)
    r = client.post("/api/signals/analyses", json=body, headers=site["centre"])
    assert r.status_code == 409 and r.json()["field"] == "name"
    r = client.post("/api/signals/analyses", json=body | {"name": "x", "strata": "colour"},
                    headers=site["centre"])
    assert r.status_code == 422 and r.json()["field"] == "strata"
    url = f"/api/signals/analyses/{made['id']}"
    r = client.patch(url, json={"expected_version": 1, "active": False, "threshold": 2.5},
                     headers=site["centre"])
    assert r.status_code == 200 and (r.json()["active"], r.json()["threshold"], r.json()["version"]) == (
        False, 2.5, 2)
    r = client.patch(url, json={"expected_version": 1, "min_n": 4}, headers=site["centre"])
    assert r.status_code == 409
    assert [a["name"] for a in client.get("/api/signals/analyses", headers=site["centre"]).json()] == [
        "weekly categories"]
    # registrants neither see nor manage them
    assert client.get("/api/signals/analyses", headers=site["reg"]).json() == []
    r = client.post("/api/signals/analyses", json=body | {"name": "mine"}, headers=site["reg"])
    assert r.status_code == 403
    r = client.patch(url, json={"expected_version": 2, "active": True}, headers=site["reg"])
    assert r.status_code == 403
    runs = client.get("/api/signals/runs", headers=site["centre"]).json()
    assert (runs[0]["device_level"], runs[0]["strata"], runs[0]["engine"]) == ("certificate", "", "duckdb")
    (case,) = client.get("/api/signals/cases", headers=site["centre"]).json()
    assert case["device_level"] == "certificate"
