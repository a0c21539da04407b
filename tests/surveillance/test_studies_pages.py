"""Studies and pictures over HTTP (TestClient) on the made-up demo registry (medreg.surveillance.demo):
the studies list, running an analysis from the page (HTMX) and through the API, the study report as
HTML, PDF (text extracted with pypdf) and its JSON twin (same numbers), the CUSUM and O/E charts of a
monitor, every chart as PNG and SVG, tenancy (centre and reviewers all; a registrant its own devices'
studies and monitors; hospitals none) and bad input (4xx, nothing written)."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from medreg.core import audit
from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.audit import AuditEvent
from medreg.evidence import service as evidence
from medreg.evidence.models import StudyAnalysis
from medreg.surveillance.demo import PLANTED_DI
from medreg.surveillance.demo_load import load_demo
from medreg.surveillance.models import Look, Monitor
from medreg.surveillance.queries_charts import quality_charts
from medreg.surveillance.service_studies import run_study
from tests.factories import actor_for, make_org, make_user
from tests.surveillance.factories import small_protocol, stent_d_protocol
from tests.web.conftest import login
from tests.web.test_registration_support import bearer

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CUTOFF = date(2026, 6, 30)
pytestmark = pytest.mark.slow  # each test loads a 3,000-procedure made-up registry
HX = {"HX-Request": "true"}


@pytest.fixture
def world(db):
    load_demo(db, Actor.system(), seed=2025, n_procedures=3000)
    planted = db.scalar(select(Monitor).where(Monitor.udi_di == PLANTED_DI))
    owner_org = make_org(db, OrgKind.REGISTRANT)
    planted.registrant_org_id = owner_org.id
    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    protocol = stent_d_protocol("Stent D <vs> other stents: TLF at 180 days")
    registered = evidence.register_protocol(db, actor_for(centre), protocol)
    other = evidence.register_protocol(
        db,
        actor_for(centre),
        small_protocol(title="Another device's study", device_group="coronary_stent", follow_up_days=90,
                       device_dis=("06970000000000",)),
    )
    analysis = run_study(db, actor_for(centre), registered.id, data_cutoff=CUTOFF)
    db.commit()
    return {
        "centre": centre,
        "owner": make_user(db, Role.REGISTRANT, org=owner_org),
        "stranger": make_user(db, Role.REGISTRANT, org=make_org(db, OrgKind.REGISTRANT)),
        "hospital": make_user(db, Role.HOSPITAL, org=make_org(db, OrgKind.HOSPITAL)),
        "protocol": registered,
        "other": other,
        "analysis": analysis,
        "planted": planted,
    }


def _attrs(html: str, testid: str) -> list[dict[str, str]]:
    """The data-* attributes of every element marked ``data-testid=testid``."""
    out = []
    for tag in re.findall(rf'<[^>]*data-testid="{testid}"[^>]*>', html):
        out.append(dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag)))
    return out


def test_report_html_json_and_pdf_show_the_same_numbers(client, db, world):
    a = world["analysis"]
    login(client, world["centre"].username)
    html = client.get(f"/surveillance/studies/analyses/{a.id}", headers={"Accept-Language": "en"}).text
    twin = client.get(f"/api/surveillance/studies/analyses/{a.id}")
    assert twin.status_code == 200
    j = twin.json()
    r = j["results"]
    assert (
        j["protocol"]["sha256"] == world["protocol"].sha256
        and j["analysis"]["results_sha256"] == a.results_sha256
    )
    assert j["protocol"]["sha256"] in html and j["analysis"]["results_sha256"] in html
    # every number printed as a data attribute equals the JSON twin's (to the printed precision)
    cox = {c["term"]: c for c in _attrs(html, "cox")}
    assert set(cox) == {t["name"] for t in r["cox_ph"]}
    for t in r["cox_ph"]:
        c = cox[t["name"]]
        assert float(c["hr"]) == pytest.approx(t["hazard_ratio"], abs=5e-7)
        assert float(c["lower"]) == pytest.approx(t["lower"], abs=5e-7)
        assert float(c["upper"]) == pytest.approx(t["upper"], abs=5e-7)
        assert float(c["ph-p"]) == pytest.approx(t["ph_p_value"], rel=1e-5)
    smd = {s["covariate"]: s for s in _attrs(html, "smd")}
    for name, before, after in zip(
        r["balance"]["names"], r["balance"]["smd_before"], r["balance"]["smd_after"], strict=True
    ):
        assert float(smd[name]["before"]) == pytest.approx(before, abs=5e-5)
        assert float(smd[name]["after"]) == pytest.approx(after, abs=5e-5)
    finals = {k["group"]: k for k in _attrs(html, "km-final")}
    for c in r["kaplan_meier"]:
        assert float(finals[c["group"]]["survival"]) == pytest.approx(c["final_survival"], abs=5e-7)
        row = html.split(f'data-testid="at-risk" data-group="{c["group"]}"')[1].split("</tr>")[0]
        assert re.findall(r"<td>(\d+)</td>", row) == [str(n) for n in c["at_risk"].values()]
    cif = {k["group"]: float(k["value"]) for k in _attrs(html, "cif")}
    assert cif == pytest.approx(r["cumulative_incidence"], abs=5e-7)
    m = re.search(r'id="logrank" data-statistic="([^"]+)"', html)
    assert float(m.group(1)) == pytest.approx(r["logrank"]["statistic"], abs=5e-7)
    # the planted excess (odds ratio 2.5 for TLF) shows in what the report prints
    device = next(t for t in r["cox_ph"] if t["name"] == "device")
    assert device["hazard_ratio"] > 1.5 and device["lower"] > 1.0

    pdf = client.get(f"/surveillance/studies/analyses/{a.id}/report.pdf", headers={"Accept-Language": "en"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    flat = re.sub(r"\s+", "", text)
    assert world["protocol"].sha256 in flat and a.results_sha256 in flat  # hashes may wrap across lines
    assert f"{device['hazard_ratio']:.3f}" in text and f"{device['lower']:.3f}–{device['upper']:.3f}" in text
    assert f"{r['logrank']['statistic']:.3f}" in text
    for c in r["kaplan_meier"]:
        assert f"{c['final_survival']:.3f}" in text
        for n in c["at_risk"].values():
            assert str(n) in text
    for before in r["balance"]["smd_before"]:
        assert f"{before:.3f}" in text
    assert "Kaplan-Meier" in text and "Stent D <vs> other stents" in text
    zh = client.get(f"/surveillance/studies/analyses/{a.id}/report.pdf", headers={"Accept-Language": "zh-CN"})
    zh_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(zh.content)).pages)
    assert "研究报告" in zh_text and "风险人数" in zh_text


def test_studies_list_and_running_an_analysis_from_the_page(client, db, world):
    p = world["protocol"]
    login(client, world["centre"].username)
    page = client.get("/surveillance/studies/", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert f'data-protocol="{p.id}"' in page.text and f'data-protocol="{world["other"].id}"' in page.text
    assert (
        "Stent D &lt;vs&gt; other stents" in page.text
        and f'data-analysis="{world["analysis"].id}"' in page.text
    )
    assert page.text.count('data-testid="run-form"') == 2
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    before = db.scalar(select(func.count()).select_from(StudyAnalysis))
    done = client.post(
        f"/surveillance/studies/protocols/{p.id}/run",
        headers=HX,
        data={"csrf_token": token, "data_cutoff": "2026-03-31"},
    )
    assert done.status_code == 200 and 'data-new="true"' in done.text and f'id="study-{p.id}"' in done.text
    new = db.scalar(select(StudyAnalysis).order_by(StudyAnalysis.id.desc()))
    assert new.data_cutoff == date(2026, 3, 31) and new.protocol_sha256 == p.sha256
    assert [e.action for e in audit.history(db, "evidence_analysis", new.id)] == ["evidence.analysis.record"]
    assert db.scalar(select(func.count()).select_from(StudyAnalysis)) == before + 1
    # without HTMX: to the new report
    plain = client.post(
        f"/surveillance/studies/protocols/{p.id}/run", data={"csrf_token": token, "data_cutoff": "2026-04-30"}
    )
    assert plain.status_code == 303 and plain.headers["location"].startswith(
        "/surveillance/studies/analyses/"
    )
    # bad input: 4xx with the reason on the form, nothing written
    count = db.scalar(select(func.count()).select_from(StudyAnalysis))
    events = db.scalar(select(func.count()).select_from(AuditEvent))
    for cutoff, status in [("2026-13-01", 422), ("", 422), ("2999-01-01", 422)]:
        bad = client.post(
            f"/surveillance/studies/protocols/{p.id}/run",
            headers={**HX, "Accept-Language": "en"},
            data={"csrf_token": token, "data_cutoff": cutoff},
        )
        assert bad.status_code == status and 'data-field="data_cutoff"' in bad.text
    too_few = client.post(
        f"/surveillance/studies/protocols/{world['other'].id}/run",
        headers=HX,
        data={"csrf_token": token, "data_cutoff": "2026-06-30"},
    )
    assert too_few.status_code == 422 and 'data-testid="form-error"' in too_few.text
    assert (
        client.post(
            "/surveillance/studies/protocols/987654/run",
            headers=HX,
            data={"csrf_token": token, "data_cutoff": "2026-06-30"},
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/surveillance/studies/protocols/{p.id}/run", data={"data_cutoff": "2026-06-30"}
        ).status_code
        == 403
    )  # no CSRF token
    assert db.scalar(select(func.count()).select_from(StudyAnalysis)) == count
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == events
    # the API twin of the run
    api = client.post(
        f"/api/surveillance/studies/protocols/{p.id}/run",
        json={"data_cutoff": "2026-05-31"},
        headers=bearer(client, world["centre"].username),
    )
    assert api.status_code == 201 and api.json()["protocol_sha256"] == p.sha256
    listed = client.get("/api/surveillance/studies").json()
    assert [s["protocol"]["id"] for s in listed] == [world["other"].id, p.id]
    assert len(listed[1]["analyses"]) == 4  # the fixture's, HTMX, plain form, API


def test_tenancy_of_studies(client, db, world):
    a, p = world["analysis"], world["protocol"]
    login(client, world["owner"].username)  # the registrant of stent D (its monitor names it)
    page = client.get("/surveillance/studies/")
    assert page.status_code == 200 and f'data-protocol="{p.id}"' in page.text
    assert (
        f'data-protocol="{world["other"].id}"' not in page.text and 'data-testid="run-form"' not in page.text
    )
    assert client.get(f"/surveillance/studies/analyses/{a.id}").status_code == 200
    assert client.get(f"/api/surveillance/studies/analyses/{a.id}").status_code == 200
    assert client.get(f"/surveillance/studies/analyses/{a.id}/km.png").status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    refused = client.post(f"/surveillance/studies/protocols/{p.id}/run", headers=HX,
                          data={"csrf_token": token, "data_cutoff": "2026-06-30"})  # fmt: skip
    assert refused.status_code == 403 and 'data-testid="form-error"' in refused.text  # may read, not run
    assert (
        client.post(
            f"/api/surveillance/studies/protocols/{p.id}/run",
            json={"data_cutoff": "2026-05-31"},
            headers=bearer(client, world["owner"].username),
        ).status_code
        == 403
    )
    client.cookies.clear()
    login(
        client, world["stranger"].username
    )  # another registrant: an empty list, the report "does not exist"
    page = client.get("/surveillance/studies/")
    assert page.status_code == 200 and 'data-testid="study"' not in page.text
    for url in (
        f"/surveillance/studies/analyses/{a.id}",
        f"/api/surveillance/studies/analyses/{a.id}",
        *(f"/surveillance/studies/analyses/{a.id}/{f}" for f in ("report.pdf", "km.svg", "km.png")),
    ):
        assert client.get(url).status_code == 404, url
    assert client.get("/api/surveillance/studies").json() == []
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    form = {"csrf_token": token, "data_cutoff": "2026-06-30"}
    url = f"/surveillance/studies/protocols/{p.id}/run"
    assert client.post(url, headers=HX, data=form).status_code == 403
    client.cookies.clear()
    login(client, world["hospital"].username)
    assert client.get("/surveillance/studies/").status_code == 403
    assert client.get("/api/surveillance/studies").status_code == 403
    assert client.get(f"/api/surveillance/studies/analyses/{a.id}").status_code == 403
    for bad in ("0", "abc", "99999999999999999999"):
        assert client.get(f"/api/surveillance/studies/analyses/{bad}").status_code == 422


def test_monitor_cusum_and_oe_charts_and_every_chart_as_png_and_svg(client, db, world):
    m = world["planted"]
    last = db.scalar(select(Look).where(Look.monitor_id == m.id).order_by(Look.look_no.desc()))
    login(client, world["centre"].username)
    page = client.get(f"/surveillance/monitors/{m.id}", headers={"Accept-Language": "en"}).text
    assert 'class="boundary-chart"' in page and 'class="cusum-chart"' in page and 'class="oe-chart"' in page
    oe = re.search(r'<div id="oe" data-observed="([^"]+)" data-expected="([^"]+)"', page)
    # the O/E chart ends at the last look's counts: the stored CUSUM state of the same procedures
    assert float(oe.group(1)) == last.observed == last.cusum_observed
    assert float(oe.group(2)) == pytest.approx(last.expected, abs=5e-7)  # printed with 6 decimals
    qc = quality_charts(db, actor_for(world["centre"]), m.id)
    assert qc.last.expected == pytest.approx(last.expected, rel=1e-12)
    assert qc.last.procedures == last.procedures
    assert qc.last.value == last.cusum_value and len(qc.points) == len(qc.looks)
    h = float(re.search(r'class="cusum-chart" data-control-limit="([^"]+)"', page).group(1))
    assert h == pytest.approx(m.cusum_h, abs=1e-6) and 0 < h < 20
    # the demo's design (T = 60 expected events) gives h ~ 5.3: the planted stent's MaxSPRT signals
    # (16 observed vs 7.2 expected) before its CUSUM reaches h
    assert '<div id="cusum" data-signal=""' in page and qc.alarm is None
    assert 0 < max(p.peak for p in qc.points) < m.cusum_h
    for path in ("chart", "cusum", "oe"):
        png = client.get(f"/surveillance/monitors/{m.id}/{path}.png")
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert png.content.startswith(PNG_MAGIC) and len(png.content) > 5000
        assert "attachment" in png.headers["content-disposition"]
        svg = client.get(f"/surveillance/monitors/{m.id}/{path}.svg")
        assert svg.headers["content-type"].startswith("image/svg+xml") and svg.text.startswith("<svg")
    a = world["analysis"]
    km = client.get(f"/surveillance/studies/analyses/{a.id}/km.png")
    assert km.status_code == 200 and km.content.startswith(PNG_MAGIC)
    assert client.get(f"/surveillance/monitors/{m.id}/cusum.gif").status_code in (404, 422)
    assert client.get("/surveillance/monitors/987654/cusum.png").status_code == 404
    client.cookies.clear()
    login(client, world["stranger"].username)
    assert client.get(f"/surveillance/monitors/{m.id}/cusum.png").status_code == 404
    assert client.get(f"/surveillance/monitors/{m.id}/chart.png").status_code == 404
    client.cookies.clear()
    login(client, world["owner"].username)
    assert client.get(f"/surveillance/monitors/{m.id}/oe.svg").status_code == 200


def test_the_cusum_pages_draw_the_stored_points_and_simulate_nothing(client, db, world, monkeypatch):
    """h was simulated once at the first look (service_cusum) and stored: no page simulates."""
    from medreg.surveillance import cusum, service_cusum

    def refuse(*_a, **_k):
        raise AssertionError("a page simulated the CUSUM's control limit")

    for mod in (cusum, service_cusum):
        for name in ("cusum_horizon_limit", "cusum_control_limit"):
            if hasattr(mod, name):
                monkeypatch.setattr(mod, name, refuse)
    m = world["planted"]
    login(client, world["centre"].username)
    page = client.get(f"/surveillance/monitors/{m.id}", headers={"Accept-Language": "en"}).text
    assert "testing the odds ratio 1 against 2" in page and "false-alarm probability of 0.05 over" in page
    assert f"over {m.cusum_horizon} procedures" in page and f"seed {m.cusum_seed}" in page
    for path in ("cusum.svg", "oe.png"):
        assert client.get(f"/surveillance/monitors/{m.id}/{path}").status_code == 200
    dash = client.get("/surveillance/", headers={"Accept-Language": "en"}).text
    states = _attrs(dash, "cusum-state")
    assert len(states) == len(db.scalars(select(Monitor).where(Monitor.kind != "delta")).all())
    last = db.scalar(select(Look).where(Look.monitor_id == m.id).order_by(Look.look_no.desc()))
    assert {"value": str(last.cusum_value), "h": str(m.cusum_h), "alarm": ""}.items() <= next(
        s for s in states if s["monitor"] == str(m.id)).items()
    zh = client.get("/surveillance/", headers={"Accept-Language": "zh-CN"}).text
    assert "已绘制手术数" in zh
    client.cookies.clear()
    login(client, world["stranger"].username)
    assert _attrs(client.get("/surveillance/").text, "cusum-state") == []
