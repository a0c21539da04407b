"""分类界定 in headless Chromium, in both languages: the registrant files a request from its
classification result, the reviewer finds it in the queue, reads the engine's trace, signs the
decision and publishes it; a visitor without a login sees it in the public list."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser

TEXT = {"zh_CN": ("已提交，待审查", "已决定（已电子签名）", "已公布", "第三类", "已公布的分类界定结果"),
        "en": ("Submitted, awaiting review", "Decided (signed)", "Published", "Class III",
               "Published determinations")}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_request_decision_publication(visitors, locale):
    text = TEXT[locale]
    name = f"腹腔内窥镜手术控制系统 E2E-{locale}"
    reg = visitors(locale)
    page = reg.login("registrant")
    page = reg.goto("/catalog/classify")
    page.fill("input[name=name]", name)
    page.select_option("select[name=structure]", "active")
    page.select_option("select[name=contact]", "contact")
    page.select_option("select[name=effect_on_outcome]", "important")
    page.click("[data-action=classify]")
    page.wait_for_selector("[data-action=file-request]")
    page.click("[data-action=file-request]")
    page.wait_for_selector("[data-testid=request-status]")
    assert page.inner_text("[data-testid=request-status]") == text[0]
    case_url = page.url
    reg.screenshot("catalog-request-filed")

    rev = visitors(locale)
    page = rev.login("office")
    page = rev.goto("/catalog/requests")
    page.click(f"#requests a:text-is('{name}')")
    page.wait_for_selector("[data-testid=form-decide]")
    assert page.locator("#engine-opinion [data-testid=trace-row]").count() >= 1
    assert page.inner_text("#engine-opinion [data-testid=class]") == "III"
    page.select_option("select[name=decided_class]", "III")
    page.fill("textarea[name=reason]", "令第15号 第六条（六）")
    page.fill("input[name=password]", "wrong password")
    page.click("[data-action=decide]")
    page.wait_for_selector("[data-testid=form-errors] [data-field=password]")
    page.fill("textarea[name=reason]", "令第15号 第六条（六）")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("[data-action=decide]")
    page.wait_for_selector("[data-action=publish]")
    assert page.inner_text("[data-testid=request-status]") == text[1]
    rev.screenshot("catalog-request-decided")
    page.click("[data-action=publish]")
    page.wait_for_selector("[data-testid=published-on]")
    assert page.inner_text("[data-testid=request-status]") == text[2]

    visitor = visitors(locale)
    page = visitor.goto("/catalog/determinations")
    visitor.switch_language()
    assert page.inner_text("h1") == text[4]
    row = page.locator("[data-testid=determination-row]", has_text=name)
    assert row.count() == 1 and text[3] in row.inner_text()
    page = visitor.goto(case_url.removeprefix(visitor.server.url))
    assert page.inner_text("[data-testid=request-status]") == text[2]
