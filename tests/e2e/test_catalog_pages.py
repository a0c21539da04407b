"""Catalog pages in headless Chromium: live search, the classification form and its trace (HTMX),
the generic-name check, in both languages."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

TITLES = {"zh_CN": ("医疗器械分类目录", "判定过程：所适用的每条规则", "不符合"),
          "en": ("Classification catalogue", "Trace: every rule that fired", "Fail")}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_registrant_classifies_and_checks_a_name(visitors, locale):
    v = visitors(locale)
    page = v.login("registrant")
    page = v.goto("/catalog/")
    assert page.inner_text("h1") == TITLES[locale][0]
    page.fill("#q", "shoushu daohang")  # pinyin, results replace the tree without a reload (HTMX)
    page.wait_for_selector("[data-testid=hit] mark")
    assert "01-07-01" in page.inner_text("#hits")

    page = v.goto("/catalog/classify")
    page.fill("input[name=name]", "可吸收止血夹")
    page.check("input[name=absorbable]")
    page.select_option("select[name=structure]", "passive")
    page.select_option("select[name=use_form]", "reusable_surgical")
    page.check("input[name=endoscopic]")
    page.click("[data-action=classify]")
    page.wait_for_selector("[data-testid=class]")
    assert page.inner_text("[data-testid=class]") == "III"
    assert TITLES[locale][1] in page.inner_text("#determination")
    assert page.locator("[data-testid=trace-row]").count() == 2
    assert page.locator("[data-testid=conflict]").count() == 1
    v.screenshot("catalog-classify")

    page = v.goto("/catalog/naming")
    page.fill("#name", "最佳XYZ-200型激光治疗仪")
    page.click("[data-action=check-name]")
    page.wait_for_selector("[data-testid=verdict]")
    assert page.inner_text("[data-testid=verdict]") == TITLES[locale][2]
    assert "令第19号 第七条（一）" in page.inner_text("#violations")
