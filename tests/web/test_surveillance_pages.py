"""Surveillance pages over HTTP (TestClient): dashboard, monitor page with its boundary chart, SVG
download, alerts; tenancy. The browser test is tests/e2e/test_surveillance_pages.py."""

from __future__ import annotations

from datetime import date

from medreg.core.accounts import OrgKind, Role
from medreg.surveillance.charts import boundary_chart_svg
from medreg.surveillance.models import Look, Monitor
from tests.factories import make_org, make_user
from tests.web.conftest import login


def _monitor(db, registrant_org_id=None):
    m = Monitor(
        name="Stent <X>",
        device_group="coronary_stent",
        udi_di="06991000000012",
        outcome="death",
        window_days=30,
        reference_start=date(2024, 1, 1),
        reference_end=date(2024, 12, 31),
        alpha=0.05,
        sample_size=20.0,
        min_events=4,
        critical_value=3.2,
        registrant_org_id=registrant_org_id,
    )
    db.add(m)
    db.flush()
    for i, (o, e) in enumerate([(1, 1.5), (6, 2.0), (9, 2.6)], start=1):
        llr = e - o + o * __import__("math").log(o / e) if o > e else 0.0
        db.add(
            Look(
                monitor_id=m.id,
                look_no=i,
                as_of=date(2025, i + 1, 1),
                procedures=10 * i,
                observed=o,
                expected=e,
                llr=llr,
                critical_value=3.2,
                signal=llr >= 3.2,
            )
        )
    db.commit()
    return m


def test_chart_svg_marks_the_critical_value_and_escapes_text():
    svg = boundary_chart_svg(["a", "b"], [0.5, 4.0], 3.0, title="<t>", x_label="x", y_label="y")
    assert svg.startswith("<svg") and 'data-critical-value="3.000000"' in svg
    assert "&lt;t&gt;" in svg and "<t>" not in svg
    assert svg.count('fill="#c0392b"') == 2  # the CV label and the one look above it


def test_centre_sees_dashboard_monitor_chart_and_alerts(client, db):
    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    m = _monitor(db)
    login(client, centre.username)
    page = client.get("/surveillance/")
    assert page.status_code == 200 and f'data-monitor="{m.id}"' in page.text and "<svg" in page.text
    assert "Stent &lt;X&gt;" in page.text
    detail = client.get(f"/surveillance/monitors/{m.id}")
    assert detail.status_code == 200 and detail.text.count('data-testid="look"') == 3
    assert 'data-signal="true"' in detail.text  # 9 observed vs 2.6 expected: LLR 4.9 > 3.2
    svg = client.get(f"/surveillance/monitors/{m.id}/chart.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and svg.text.startswith("<svg")
    assert client.get("/surveillance/alerts").status_code == 200


def test_registrant_sees_only_its_devices_and_hospital_none(client, db):
    org = make_org(db, OrgKind.REGISTRANT)
    registrant = make_user(db, Role.REGISTRANT, org=org)
    mine, other = _monitor(db, registrant_org_id=org.id), _monitor(db)
    login(client, registrant.username)
    page = client.get("/surveillance/")
    assert f'data-monitor="{mine.id}"' in page.text and f'data-monitor="{other.id}"' not in page.text
    assert client.get(f"/surveillance/monitors/{other.id}").status_code == 404
    client.post("/logout")
    hospital = make_user(db, Role.HOSPITAL, org=make_org(db, OrgKind.HOSPITAL))
    db.commit()
    client.cookies.clear()
    login(client, hospital.username)
    assert client.get("/surveillance/").status_code == 403


def _token(html: str) -> str:
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_hospital_imports_through_the_page_and_sees_every_problem(client, db):
    from medreg.surveillance import service
    from medreg.surveillance.demo import DEVICES, to_csv
    from medreg.surveillance.importer import COLUMNS
    from tests.factories import actor_for

    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    org = make_org(db, OrgKind.HOSPITAL)
    service.enrol_hospital(
        db,
        actor_for(centre),
        organisation_id=org.id,
        code="HP",
        device_groups=["coronary_stent"],
        enrolled_on=date(2024, 1, 1),
    )
    hospital = make_user(db, Role.HOSPITAL, org=org)
    db.commit()

    def row(i, **over):
        r = {c: "" for c in COLUMNS}
        r.update(
            patient_pseudonym=f"PG-{i:03d}",
            procedure_date="2025-01-10",
            device_group="coronary_stent",
            udi=f"(01){DEVICES[0][1]}(10)L{i}",
            age="61",
            sex="M",
            diabetes="no",
            renal_failure="no",
            prior_mi="yes",
            follow_up_end="2025-12-31",
        )
        r.update(over)
        return r

    login(client, hospital.username, lang="zh_CN")
    form = client.get("/surveillance/import?lang=zh_CN")
    assert form.status_code == 200 and 'id="import-form"' in form.text
    bad = to_csv([row(1), row(2, sex="X", age="12")]).encode()
    r = client.post(
        "/surveillance/import?lang=zh_CN",
        data={"csrf_token": _token(form.text)},
        files={"file": ("bad.csv", bad, "text/csv")},
    )
    assert r.status_code == 422
    assert r.text.count('data-testid="problem"') == 2 and "须为 M 或 F" in r.text  # translated reason
    good = to_csv([row(1), row(2)]).encode()
    r = client.post(
        "/surveillance/import",
        data={"csrf_token": _token(form.text)},
        files={"file": ("good.csv", good, "text/csv")},
    )
    assert r.status_code == 303 and r.headers["location"] == "/surveillance/import?done=2"


def test_group_monitor_page_shows_each_looks_re_spent_critical_value(client, db):
    """The looks table gives each look's CV, count to signal and alpha spent / allowed; the boundary
    chart draws the looks' own critical values (dotted) and marks a look by its own CV."""
    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    m = _monitor(db)
    m.planned_looks, m.look_plan = 2, [10.0, 20.0]
    db.query(Look).filter(Look.monitor_id == m.id, Look.look_no == 3).delete()
    first = db.query(Look).filter(Look.monitor_id == m.id, Look.look_no == 1).one()
    first.critical_value, first.events_to_signal = 4.1, 7
    first.alpha_target, first.alpha_spent = 0.004, 0.0031
    db.commit()
    login(client, centre.username)
    page = client.get(f"/surveillance/monitors/{m.id}").text
    assert '<td data-testid="look-cv">4.1000</td>' in page and "<td>7</td>" in page
    assert "0.00310 / 0.00400" in page and 'id="respending"' in page
    assert 'class="look-critical-values"' in page and 'data-cv="4.100000"' in page
    twin = client.get(f"/api/surveillance/monitors/{m.id}/looks").json()
    assert twin["looks"][0]["events_to_signal"] == 7 and twin["looks"][1]["alpha_spent"] is None
