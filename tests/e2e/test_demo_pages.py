"""The demo data set as the users see it: the registration queue with the innovative case first, the
conditional approval with its late obligation, the expert pool, and who may see which case."""

from __future__ import annotations

import pytest

from medreg.demo.cases import EXPERTS, PRODUCTS

pytestmark = pytest.mark.browser

HEADINGS = {
    "zh_CN": {"late": "逾期", "pool": "专家库"},
    "en": {"late": "Late", "pool": "Expert pool"},
}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_demo_cases_on_the_pages(visitors, live_server, locale):
    office = visitors(locale)
    page = office.login("office")

    page.goto(live_server("/registration/queue"))
    innovative = PRODUCTS["approved"][1]
    row = page.locator("[data-testid=queue] tbody tr", has_text=innovative)
    assert row.count() == 1 and row.locator("[data-status]").get_attribute("data-status") == "in_review"
    office.screenshot("registration-queue")

    page.goto(live_server("/registration/obligations"))
    late = page.locator("[data-testid=obligations] tr[data-late=true]")
    assert late.count() >= 1
    assert HEADINGS[locale]["late"] in late.first.inner_text()
    office.screenshot("obligations")
    with page.expect_navigation():
        late.first.locator("a").first.click()
    assert page.inner_text("[data-testid=certificate-number]").startswith("国械注准")
    assert page.locator("[data-testid=conditional]").count() == 1
    office.screenshot("certificate")

    page.goto(live_server("/experts/"))
    assert page.inner_text("h1") == HEADINGS[locale]["pool"]
    names = page.locator("[data-testid=expert-row]").all_inner_texts()
    assert all(any(name in n for n in names) for _, name, *_ in EXPERTS)
    office.screenshot("expert-pool")

    # Tenancy on the pages: the imaging company does not see the robotics company's draft.
    other = visitors(locale)
    page = other.login("registrant2")
    page.goto(live_server("/innovation/"))
    listed = page.locator("#applications").inner_text()
    assert PRODUCTS["province"][1] in listed and PRODUCTS["draft"][1] not in listed
