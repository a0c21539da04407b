"""The monitoring centre sees the planted device's signal on the surveillance pages (headless Chromium).

The made-up demo registry (medreg.surveillance.demo) is loaded into the live server's database through
the services; the demo user ``monitor`` (monitoring centre) opens the dashboard in both languages."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.surveillance.demo import PLANTED_DI
from medreg.surveillance.demo_load import load_demo
from medreg.surveillance.models import Monitor

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TITLE = {"zh_CN": "主动监测", "en": "Active surveillance"}


@pytest.fixture(scope="module")
def planted(live_server) -> int:
    with Session(live_server.engine) as s:
        if s.scalar(select(Monitor).where(Monitor.udi_di == PLANTED_DI)) is None:
            load_demo(s, Actor.system(), seed=2025, n_procedures=6000)
            s.commit()
        return s.scalar(select(Monitor.id).where(Monitor.udi_di == PLANTED_DI))


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_centre_sees_the_signal_of_the_planted_device(visitors, planted, locale):
    v = visitors(locale)
    page = v.login("monitor")
    page = v.goto("/surveillance/")
    assert page.inner_text("h1") == TITLE[locale]
    card = page.locator(f'[data-testid="monitor"][data-monitor="{planted}"]')
    assert card.get_attribute("data-status") == "signalled"
    assert card.locator("svg.boundary-chart circle[fill='#c0392b']").count() == 1
    v.screenshot("surveillance-dashboard")
    card.locator("h2 a").click()
    page.wait_for_selector("#looks")
    assert page.get_attribute('[data-testid="status"]', "data-status") == "signalled"
    assert page.locator('[data-testid="look"][data-signal="true"]').count() == 1
    page = v.goto("/surveillance/alerts")
    assert page.locator('[data-testid="alert"][data-status="open"]').count() >= 1


@pytest.fixture(scope="module")
def sentinel_hospital(live_server) -> str:
    """Enrol the demo user ``hospital``'s organisation as a sentinel site (code DEMO-E2E)."""
    from datetime import date

    from medreg.core.accounts import User
    from medreg.surveillance import service
    from medreg.surveillance.models import SentinelHospital

    with Session(live_server.engine) as s:
        org_id = s.scalar(select(User).where(User.username == "hospital")).organisation_id
        if s.scalar(select(SentinelHospital).where(SentinelHospital.organisation_id == org_id)) is None:
            service.enrol_hospital(
                s,
                Actor.system(),
                organisation_id=org_id,
                code="DEMO-E2E",
                device_groups=["coronary_stent"],
                enrolled_on=date(2024, 1, 1),
            )
            s.commit()
    return "DEMO-E2E"


def test_hospital_imports_a_registry_extract_in_chinese(visitors, sentinel_hospital, live_server):
    from medreg.surveillance.demo import DEVICES, to_csv
    from medreg.surveillance.importer import COLUMNS

    def row(i, **over):
        r = {c: "" for c in COLUMNS}
        r.update(
            patient_pseudonym=f"E2E-{i:03d}",
            procedure_date="2025-02-01",
            device_group="coronary_stent",
            udi=f"(01){DEVICES[1][1]}(10)E{i}",
            age="58",
            sex="F",
            diabetes="0",
            renal_failure="0",
            prior_mi="0",
            follow_up_end="2025-12-31",
        )
        r.update(over)
        return r

    bad, good = live_server.tmp / "bad.csv", live_server.tmp / "good.csv"
    bad.write_text(to_csv([row(1), row(2, udi="(01)06901234567890")]), encoding="utf-8")
    good.write_text(to_csv([row(1), row(2), row(3)]), encoding="utf-8")
    v = visitors("zh_CN")
    v.login("hospital")
    page = v.goto("/surveillance/import")
    assert page.inner_text("h1") == "登记数据导入"
    page.set_input_files("#file", str(bad))
    page.click("#import-submit")
    page.wait_for_selector("#import-problems")
    problem = page.locator('[data-testid="problem"]')
    assert problem.count() == 1 and problem.get_attribute("data-field") == "udi"
    assert "校验位" in problem.inner_text()
    v.screenshot("surveillance-import-problems")
    page.set_input_files("#file", str(good))
    page.click("#import-submit")
    page.wait_for_selector('[data-testid="done"]')
    assert page.get_attribute('[data-testid="done"]', "data-rows") == "3"


def test_hospital_enrols_a_procedure_and_records_an_outcome_in_english(visitors, sentinel_hospital):
    """Enrol one patient on the form (a refused pseudonym first, shown at its field), then record a
    stent thrombosis on the procedure's page; the centre sees nothing of the hospital's form here."""
    from medreg.surveillance.demo import DEVICES

    v = visitors("en")
    v.login("hospital")
    page = v.goto("/surveillance/procedures/new")
    assert page.inner_text("h1") == "Enrol a procedure"
    page.fill("#patient_pseudonym", "13800138000")  # a mobile number: refused, pseudonyms only
    page.fill("#procedure_date", "2025-03-04")
    page.select_option("#device_group", "coronary_stent")
    page.fill("#udi", f"(01){DEVICES[1][1]}(10)BR1")
    page.fill("#age", "71")
    page.select_option("#sex", "F")
    page.select_option("#diabetes", "1")
    page.fill("#follow_up_end", "2025-06-30")
    page.click("#enrol-submit")
    page.wait_for_selector('[data-testid="form-error"]')
    assert page.get_attribute('[data-testid="form-error"]', "data-field") == "patient_pseudonym"
    assert page.input_value("#udi") == f"(01){DEVICES[1][1]}(10)BR1"  # the form keeps what was typed
    page.fill("#patient_pseudonym", "E2E-BROWSER-1")
    page.click("#enrol-submit")
    page.wait_for_selector("#no-outcomes")
    assert page.inner_text("#udi-di") == DEVICES[1][1]
    page.select_option("#outcome", "stent_thrombosis")
    page.fill("#event_date", "2025-08-10")
    page.click("#follow-up-submit")
    page.wait_for_selector('[data-testid="outcome"][data-kind="stent_thrombosis"]')
    assert page.get_attribute("#done", "data-action") == "follow-up"
    v.screenshot("surveillance-procedure-follow-up")
    page = v.goto("/surveillance/procedures")
    assert page.locator('[data-testid="procedure"]').count() >= 1
