"""The study report page (TestClient): a study run on a made-up demo registry shows the protocol with
its registered hash, the KM curves as SVG (final points equal to lifelines' estimates stored in the
results) with the at-risk table, the SMDs before/after matching and the Cox/log-rank results, in zh_CN
and en; only the centre and reviewers may read it."""

from __future__ import annotations

from datetime import date

import pytest

from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.evidence import service as evidence
from medreg.surveillance import service
from medreg.surveillance.demo import generate, to_csv
from medreg.surveillance.service_studies import run_study
from tests.factories import actor_for, make_org, make_user
from tests.surveillance.factories import stent_d_protocol
from tests.web.conftest import login


@pytest.fixture
def analysis(db):
    reg = generate(11, 2500)
    for code, rows in reg.rows_by_hospital.items():
        org = make_org(db, OrgKind.HOSPITAL)
        service.enrol_hospital(
            db,
            Actor.system(),
            organisation_id=org.id,
            code=code,
            device_groups=["coronary_stent", "tavr_valve"],
            enrolled_on=reg.start,
        )
        service.import_extract(
            db, Actor.system(), to_csv(rows), filename=code, today=reg.cutoff, hospital_code=code
        )
    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    protocol = stent_d_protocol("Stent D <vs> other stents", question="Is TLF more frequent with stent D?",
                                comparator="other stents")
    registered = evidence.register_protocol(db, actor_for(centre), protocol)
    a = run_study(db, actor_for(centre), registered.id, data_cutoff=date(2026, 6, 30))
    db.commit()
    return centre, registered, a


def test_report_shows_protocol_hash_km_balance_and_results(client, db, analysis):
    centre, registered, a = analysis
    login(client, centre.username)
    page = client.get(f"/surveillance/studies/analyses/{a.id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.text
    assert registered.sha256 in html and a.results_sha256 in html
    assert "Stent D &lt;vs&gt; other stents" in html and "<vs>" not in html
    assert html.count('class="km-chart"') == 1
    title = html.split("<title>")[1].split("</title>")[0]
    assert "<" not in title and "Stent D &lt;vs&gt; other stents" in title  # the title is text only
    assert html.count('id="citations"') == 1 and html.count('id="cite-form"') == 1
    for c in a.results["kaplan_meier"]:
        assert f'data-final="{c["final_survival"]:.6f}"' in html  # the curve ends at lifelines' estimate
        assert f'data-group="{c["group"]}"' in html
        row = html.split(f'data-group="{c["group"]}"')[1].split("</tr>")[0]
        assert [f"<td>{n}</td>" in row for n in c["at_risk"].values()] == [True] * len(c["at_risk"])
    assert html.count('data-testid="at-risk"') == 2
    names = a.results["balance"]["names"]
    assert html.count('data-testid="smd"') == len(names)
    after = a.results["balance"]["smd_after"][0]
    assert f'data-after="{after:.4f}"' in html
    device = next(t for t in a.results["cox_ph"] if t["name"] == "device")
    assert f'data-hr="{device["hazard_ratio"]:.6f}"' in html and 'id="logrank"' in html
    zh = client.get(f"/surveillance/studies/analyses/{a.id}", headers={"Accept-Language": "zh-CN"})
    assert "研究报告" in zh.text and "风险人数" in zh.text and "匹配前" in zh.text
    svg = client.get(f"/surveillance/studies/analyses/{a.id}/km.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and svg.text.startswith("<svg")


def test_report_is_for_the_centre_and_reviewers_only(client, db, analysis):
    _, _, a = analysis
    hospital = make_user(db, Role.HOSPITAL, org=make_org(db, OrgKind.HOSPITAL))
    db.commit()
    login(client, hospital.username)
    assert client.get(f"/surveillance/studies/analyses/{a.id}").status_code == 403
    assert client.get("/surveillance/studies/analyses/999999").status_code in (403, 404)
