"""DELTA monitors on the pages: the centre defines one with the monitors form (kind select, the DELTA
rows), bad DELTA input is refused at its field; the monitor page shows the alert rule, the looks table
(cumulative matched risk difference, CI, pairs, balance) and the risk-difference chart with its CI band
and the margin (inline SVG, SVG and PNG files); the registrant sees its own device's monitor, another
registrant gets 404; the centre stops an active monitor with its reasons (shown, then no stop form)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.surveillance import service_monitoring
from medreg.surveillance.demo import DEVICES, PLANTED_DI
from medreg.surveillance.demo_load import load_registry
from medreg.surveillance.models import Monitor
from tests.factories import make_org, make_user
from tests.web.conftest import csrf_of, login

FORM = {"name": "Stent D DELTA", "device_group": "coronary_stent", "udi_di": PLANTED_DI,
        "outcome": "target_lesion_failure", "window_days": "180", "reference_start": "2024-01-01",
        "reference_end": "2024-12-31", "alpha": "0.05", "sample_size": "20", "min_events": "4",
        "looks": "continuous", "planned_looks": "", "look_at": "", "kind": "delta", "delta_margin": "0",
        "delta_min_pairs": "50", "delta_caliper": "0.2"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def people(db):
    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    owner_org = make_org(db, OrgKind.REGISTRANT)
    owner = make_user(db, Role.REGISTRANT, org=owner_org)
    stranger = make_user(db, Role.REGISTRANT, org=make_org(db, OrgKind.REGISTRANT))
    db.commit()
    return {"centre": centre, "owner": owner, "owner_org": owner_org, "stranger": stranger}


def _post(client, **changes):
    return client.post("/surveillance/monitors", data={**FORM, **changes, "csrf_token": csrf_of(client)},
                       follow_redirects=False, headers=EN)


def test_delta_monitor_defined_on_the_page_runs_and_shows_its_looks(client, db, people):
    load_registry(db, Actor.system(), seed=2025, n_procedures=3000)
    db.commit()
    login(client, people["centre"].username)
    page = client.get("/surveillance/monitors", headers=EN)
    assert 'name="kind"' in page.text and 'id="delta_margin"' in page.text
    for bad, field in (({"delta_margin": "0.9"}, "delta_margin"),
                       ({"delta_min_pairs": "1"}, "delta_min_pairs"),
                       ({"delta_caliper": "x"}, "delta_caliper"),
                       ({"kind": "other"}, "kind")):
        r = _post(client, **bad)
        assert r.status_code == 422 and f'data-field="{field}"' in r.text, (bad, r.text[-800:])
    assert db.scalar(select(Monitor)) is None
    done = _post(client, registrant_org_id=str(people["owner_org"].id))
    assert done.status_code == 303, done.text[-800:]
    m = db.scalar(select(Monitor))
    assert (m.kind, m.delta_min_pairs, m.delta_margin) == ("delta", 50, 0.0)
    centre = Actor.from_user(people["centre"])
    for day in (date(2025, 12, 1), date(2026, 3, 1), date(2026, 6, 30)):
        if m.status == "active":
            service_monitoring.run_monitor(db, centre, m, day)
    db.commit()
    assert m.status == "signalled"
    page = client.get(f"/surveillance/monitors/{m.id}", headers=EN)
    assert page.status_code == 200
    assert 'id="alert-rule"' in page.text and "95%" in page.text and "at least 50 matched pairs" in page.text
    assert 'class="delta-chart"' in page.text and "data-band=" in page.text
    assert 'data-ref="margin 0"' in page.text
    assert 'data-signal="true"' in page.text and 'id="quality-charts"' not in page.text
    assert 'id="stop-monitor"' not in page.text  # signalled: no further look, nothing to stop
    svg = client.get(f"/surveillance/monitors/{m.id}/delta.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    png = client.get(f"/surveillance/monitors/{m.id}/delta.png")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    dashboard = client.get("/surveillance/", headers=EN).text
    assert dashboard.count('class="delta-chart"') == 1 and "Risk difference" in dashboard
    zh = client.get(f"/surveillance/monitors/{m.id}", headers={"Accept-Language": "zh-CN"}).text
    assert "警报规则" in zh and "累积匹配风险差" in zh and "95%" in zh
    login(client, people["owner"].username)
    assert client.get(f"/surveillance/monitors/{m.id}", headers=EN).status_code == 200
    login(client, people["stranger"].username)
    assert client.get(f"/surveillance/monitors/{m.id}", headers=EN).status_code == 404
    assert client.get(f"/surveillance/monitors/{m.id}/delta.svg").status_code == 404


def test_centre_stops_an_active_monitor_on_its_page(client, db, people):
    m = service_monitoring.create_monitor(
        db, Actor.from_user(people["centre"]), name="A", device_group="coronary_stent",
        udi_di=DEVICES[0][1],
        outcome="target_lesion_failure", window_days=180, reference_start=date(2024, 1, 1),
        reference_end=date(2024, 12, 31), registrant_org_id=people["owner_org"].id)
    db.commit()
    login(client, people["owner"].username)
    page = client.get(f"/surveillance/monitors/{m.id}", headers=EN)
    assert 'id="stop-monitor"' not in page.text
    stop = f"/surveillance/monitors/{m.id}/stop"
    r = client.post(stop, data={"reason": "x", "csrf_token": csrf_of(client)})
    assert r.status_code == 403
    login(client, people["centre"].username)
    page = client.get(f"/surveillance/monitors/{m.id}", headers=EN)
    assert 'id="stop-monitor"' in page.text
    r = client.post(stop, data={"reason": " ", "csrf_token": csrf_of(client)}, headers=EN)
    assert r.status_code == 422 and 'data-field="reason"' in r.text
    r = client.post(stop, data={"reason": "Design superseded", "csrf_token": csrf_of(client)},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(r.headers["location"], headers=EN)
    assert 'data-status="stopped"' in page.text and "Design superseded" in page.text
    assert 'id="stop-monitor"' not in page.text
    listing = client.get("/surveillance/monitors", headers=EN)
    assert 'data-testid="stop-reason"' in listing.text


def test_binomial_monitor_defined_on_the_page(client, db, people):
    """The kind select offers the matched binomial MaxSPRT with its z row; a bad z or a fractional N is
    refused at its field; the page states the design and the looks table's binomial columns."""
    load_registry(db, Actor.system(), seed=2025, n_procedures=3000)
    db.commit()
    login(client, people["centre"].username)
    form = {**FORM, "kind": "maxsprt_binomial", "binomial_z": "2", "sample_size": "150"}
    for bad, field in (({"binomial_z": "0"}, "binomial_z"), ({"sample_size": "10.5"}, "sample_size")):
        r = client.post("/surveillance/monitors", data={**form, **bad, "csrf_token": csrf_of(client)},
                        follow_redirects=False, headers=EN)
        assert r.status_code == 422 and f'data-field="{field}"' in r.text, (bad, r.text[-800:])
    r = client.post("/surveillance/monitors", data={**form, "csrf_token": csrf_of(client)},
                    follow_redirects=False, headers=EN)
    assert r.status_code == 303, r.text[-800:]
    m = db.scalar(select(Monitor))
    assert (m.kind, m.binomial_z, m.sample_size) == ("maxsprt_binomial", 2, 150.0)
    service_monitoring.run_monitor(db, Actor.from_user(people["centre"]), m, date(2026, 6, 30))
    db.commit()
    page = client.get(f"/surveillance/monitors/{m.id}", headers=EN).text
    assert 'id="binomial-design" data-z="2"' in page and "Matched sets" in page
    assert 'data-kind="maxsprt_binomial"' in client.get("/surveillance/monitors", headers=EN).text


def test_delta_spending_monitor_on_the_page_and_its_json_twin(client, db, people):
    """The form's spending select and planned pairs: refused at their field when inconsistent; the page
    states the overall one-sided alpha and the spending rule, the looks table the information, the
    boundary with its nominal alpha and the alpha spent; the chart draws the repeated CI and the
    alert boundary; the JSON twin carries the same numbers; Chinese labels."""
    load_registry(db, Actor.system(), seed=2025, n_procedures=3000)
    db.commit()
    login(client, people["centre"].username)
    page = client.get("/surveillance/monitors", headers=EN)
    assert 'id="delta_spending"' in page.text and 'id="delta_planned_pairs"' in page.text
    spend = {"delta_spending": "pocock", "delta_planned_pairs": "150", "alpha": "0.025",
             "delta_min_pairs": "20"}
    for bad, field in (({"delta_planned_pairs": ""}, "delta_planned_pairs"),
                       ({"delta_spending": "linear"}, "delta_spending"),
                       ({"delta_planned_pairs": "10"}, "delta_planned_pairs"),
                       ({"delta_hsd_gamma": "50"}, "delta_hsd_gamma")):
        r = _post(client, **{**spend, **bad})
        assert r.status_code == 422 and f'data-field="{field}"' in r.text, (bad, r.text[-800:])
    assert db.scalar(select(Monitor)) is None
    assert _post(client, **spend).status_code == 303
    m = db.scalar(select(Monitor))
    assert (m.delta_spending, m.delta_planned_pairs, m.alpha) == ("pocock", 150, 0.025)
    centre = Actor.from_user(people["centre"])
    for day in (date(2025, 6, 1), date(2025, 9, 1), date(2025, 12, 1), date(2026, 3, 1), date(2026, 6, 30)):
        if m.status == "active":
            service_monitoring.run_monitor(db, centre, m, day)
    db.commit()
    assert m.status == "signalled"
    page = client.get(f"/surveillance/monitors/{m.id}", headers=EN).text
    assert 'data-spending="pocock" data-planned-pairs="150"' in page and "overall, one-sided" in page
    assert "repeated confidence interval" in page and "150 planned matched pairs" in page
    assert "The monitor ends at 150 matched pairs." in page
    twin = client.get(f"/api/surveillance/monitors/{m.id}/looks").json()
    assert page.count('data-testid="look-boundary"') == len(twin["looks"]) >= 3
    assert "not analysed: spends no alpha" in page  # the first look has no pair
    assert 'data-spending="pocock"' in page and 'data-line="Alert boundary of the risk difference"' in page
    assert 'data-band="repeated confidence interval"' in page
    assert twin["monitor"]["delta_spending"] == "pocock"
    assert "repeated confidence interval" in twin["alert_rule"]
    last = twin["looks"][-1]
    assert last["signal"] and last["nominal_alpha"] > 0 and last["info_fraction"] == last["pairs"] / 150
    assert twin["looks"][0]["nominal_alpha"] is None and twin["looks"][0]["rd_lower"] is None
    assert client.get(f"/surveillance/monitors/{m.id}/delta.png").status_code == 200
    assert 'class="delta-chart"' in client.get("/surveillance/", headers=EN).text
    listing = client.get("/surveillance/monitors", headers=EN).text
    assert 'data-spending="pocock"' in listing and "planned matched pairs 150" in listing
    zh = client.get(f"/surveillance/monitors/{m.id}", headers={"Accept-Language": "zh-CN"}).text
    assert "重复置信区间" in zh and "计划匹配对数" in zh and "风险差的警报界值" in zh


def test_group_sequential_binomial_monitor_on_the_page(client, db, people):
    """A binomial monitor with looks at fractions of N (N = 1,500 events: above the limit of 1,000 of a
    continuous Poisson design, which stays refused for T) stores its plan in whole events; its page
    states the plan and shows each look's re-spent critical value, events to signal and alpha spent;
    so does the JSON twin."""
    load_registry(db, Actor.system(), seed=2025, n_procedures=3000)
    db.commit()
    login(client, people["centre"].username)
    form = {**FORM, "kind": "maxsprt_binomial", "binomial_z": "2", "sample_size": "1500",
            "looks": "look_at", "look_at": "0.25, 0.5, 1"}
    r = client.post("/surveillance/monitors", data={**form, "kind": "maxsprt_poisson", "looks": "continuous",
                                                    "look_at": "", "csrf_token": csrf_of(client)},
                    follow_redirects=False, headers=EN)
    assert r.status_code == 422 and 'data-field="sample_size"' in r.text and "at most 1000" in r.text
    r = client.post("/surveillance/monitors", data={**form, "csrf_token": csrf_of(client)},
                    follow_redirects=False, headers=EN)
    assert r.status_code == 303, r.text[-800:]
    m = db.scalar(select(Monitor))
    assert (m.kind, m.planned_looks, m.look_plan) == ("maxsprt_binomial", 3, [375.0, 750.0, 1500.0])
    service_monitoring.run_monitor(db, Actor.from_user(people["centre"]), m, date(2025, 12, 1))
    db.commit()
    page = client.get(f"/surveillance/monitors/{m.id}", headers=EN).text
    assert '<span id="look-plan">375, 750, 1500</span> events' in page and "Events to signal" in page
    twin = client.get(f"/api/surveillance/monitors/{m.id}/looks", headers=EN).json()
    look = twin["looks"][0]
    assert look["events_to_signal"] > look["observed"] and 0 <= look["alpha_spent"] <= look["alpha_target"]
    assert f'data-cv="{look["critical_value"]:.6f}"' in page or look["critical_value"] == m.critical_value
    zh = client.get(f"/surveillance/monitors/{m.id}", headers={"Accept-Language": "zh-CN"}).text
    assert "375, 750, 1500</span> 个事件" in zh
