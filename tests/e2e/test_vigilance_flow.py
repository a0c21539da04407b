"""An adverse-event report through the pages, once in Chinese and once in English: the hospital files
it (the quality reasons show after saving) and submits it, the Beijing provincial monitoring centre
returns it for correction, the hospital resubmits, the centre accepts it for the national centre.

The demo has a national monitoring centre only; the test adds a Beijing provincial centre user to the
live server's own database (made-up organisation, labelled so)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm import Session

from medreg.core.accounts import Organisation, OrgKind, Role, User, UserRole
from medreg.core.security import hash_password
from tests.e2e.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser

TEXT = {
    "zh_CN": {
        "quality": "报告质量",
        "reason": "事件发生日期晚于发现或者获知日期。",
        "returned": "退回修改",
        "national": "已报国家监测机构",
        "follow_up": "补充报告",
    },
    "en": {
        "quality": "Report quality",
        "reason": "The event date is after the date of awareness.",
        "returned": "Returned for correction",
        "national": "With the national centre",
        "follow_up": "Follow-up report",
    },
}


def _provincial_centre(live_server) -> str:
    name = f"bjcentre_{uuid.uuid4().hex[:6]}"
    with Session(live_server.engine) as s:
        org = Organisation(
            kind=OrgKind.MONITORING_CENTRE,
            name=f"北京市药品不良反应监测中心（演示）{name}",
            name_en="Beijing ADR monitoring centre (demo)",
            province="Beijing",
        )
        user = User(
            username=name, display_name=name, password_hash=hash_password(DEMO_PASSWORD), organisation=org
        )
        user.role_rows = [UserRole(role=Role.MONITORING_CENTRE)]
        s.add_all([org, user])
        s.commit()
    return name



@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_report_submitted_returned_and_accepted(visitors, live_server, locale):
    t = TEXT[locale]
    hospital = visitors(locale)
    page = hospital.login("hospital")
    page.goto(live_server("/vigilance/new"))
    page.select_option('[name="reporter.role"]', "using_entity")
    page.fill('[name="device.generic_name"]', f"中心静脉导管（演示）{locale}")
    page.fill('[name="device.registration_number"]', "国械注准20253030001")
    page.fill('[name="device.udi"]', "(01)06901234567892(11)250101(17)271231(10)LOT42")
    page.fill('[name="device.model"]', "CVC-7F")
    page.fill('[name="event.province"]', "Beijing")
    page.fill('[name="event.event_date"]', "2025-03-04")  # after awareness: a quality reason
    page.fill('[name="event.aware_at"]', "2025-03-03T10:00")
    page.select_option('[name="event.outcome"]', "serious_injury")
    page.fill('[name="patient.age_years"]', "67")
    page.fill('[name="event.description"]', "The catheter tip fractured during insertion (demo).")
    page.fill('[data-testid="picker-codes.device_problem"] input[type="search"]', "fracture")
    page.click('[data-testid="pick-A040101"]')  # the inline IMDRF picker (HTMX) fills the code in
    assert page.input_value('[name="codes.device_problem"]') == "A040101"
    page.fill('[name="codes.health_impact"]', "F1901")
    with page.expect_navigation():
        page.click("#save-report")
    assert t["quality"] in page.inner_text("#quality")
    assert t["reason"] in page.inner_text("#quality")
    hospital.screenshot("vigilance-report-saved")
    url = page.url.split("?")[0]
    with page.expect_navigation():
        page.click("#do-submit")
    assert page.get_attribute("#status", "data-status") == "submitted"
    with page.expect_navigation():  # a follow-up report: a new version, the changed fields listed
        page.click("#add-follow-up")
    page.fill('[name="event.actions_taken"]', "Device returned to the registrant (demo).")
    with page.expect_navigation():
        page.click("#save-follow-up")
    follow_up = page.locator('#versions tr[data-kind="follow_up"]')
    assert follow_up.count() == 1 and "event.actions_taken" in follow_up.inner_text()
    assert t["follow_up"] in follow_up.inner_text()

    centre = visitors(locale)
    cpage = centre.login(_provincial_centre(live_server))
    cpage.goto(url)
    cpage.fill("#reason", "请补充批号 / please add the lot")
    with cpage.expect_navigation():
        cpage.click("#do-return_for_correction")
    assert t["returned"] in cpage.inner_text("#status")

    page.goto(url)
    with page.expect_navigation():
        page.click("#do-resubmit")
    assert page.get_attribute("#status", "data-status") == "submitted"

    cpage.goto(url)
    with cpage.expect_navigation():
        cpage.click("#do-accept")
    assert cpage.get_attribute("#status", "data-status") == "at_national"
    assert t["national"] in cpage.inner_text("#status")
    centre.screenshot("vigilance-report-accepted")
