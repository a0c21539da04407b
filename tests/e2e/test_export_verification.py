"""The public check of an export sales certificate in Chromium, in zh-CN and en: the registrant reads
the number and verification code off its certificate (with the QR code), a visitor without login
finds the check in the header menu, enters them and sees the certificate as valid; a wrong code
gets the same "no match" as an unknown number. On a 390 px phone, through the folded menu."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

LABELS = {
    "zh_CN": {"valid": "有效", "no_match": "没有与该编号和验证码相符的出口销售证明。",
              "title": "核验出口销售证明"},
    "en": {"valid": "Valid", "no_match": "No export certificate matches this number and verification code.",
           "title": "Verify an export certificate"},
}


def _certificate_of_registrant(visitors, locale):
    holder = visitors(locale)
    page = holder.login("registrant2")
    holder.goto("/registration/export-certificates")
    page.click("#export-certificates tbody tr a")
    page.wait_for_selector("#export-qr svg")
    number = page.inner_text('[data-testid="export-number"]').split("·")[-1].strip()
    code = page.inner_text('[data-testid="verification-code"]').strip()
    assert page.locator("#export-qr svg path").count() >= 1  # segno: dark modules (and the background)
    holder.screenshot("export-certificate")
    holder.close()
    return number, code


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize("width", [1280, 390])
def test_public_check_in_the_browser(visitors, locale, width):
    number, code = _certificate_of_registrant(visitors, locale)
    assert number.startswith("No.MDBJ") and len(code) == 14
    v = visitors(locale)
    v.page.set_viewport_size({"width": width, "height": 900})
    page = v.goto("/")
    v.switch_language()
    if width == 390:
        assert not page.is_visible("#main-nav")
        page.click("#menu-button")
    page.click('#main-nav a[href="/verify/export"]')
    assert page.inner_text("h1") == LABELS[locale]["title"]
    page.fill("#verify-number", number)
    page.fill("#verify-code", code.lower().replace("-", " "))
    page.click("#verify-submit")
    status = page.locator('[data-testid="export-status"]')
    assert status.get_attribute("data-status") == "valid"
    assert status.inner_text() == LABELS[locale]["valid"]
    assert page.inner_text('[data-testid="holder"]').startswith("示例影像科技股份有限公司")
    assert page.locator("#export-devices tbody tr").count() == 1
    scroll, client = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client + 1, f"the result is {scroll}px wide in {client}px"
    v.screenshot(f"export-verify-{width}")
    # a wrong code and an unknown number: the same message, nothing about the certificate
    texts = []
    for n, c in ((number, "ZZZZ-ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ-ZZZZ" else "YYYY-YYYY-YYYY"),
                 ("No.MDBJ2099999999", code)):
        page.fill("#verify-number", n)
        page.fill("#verify-code", c)
        page.click("#verify-submit")
        page.wait_for_selector("#no-match")
        assert page.locator('[data-testid="verification"]').count() == 0
        texts.append(page.inner_text("#no-match"))
    assert texts == [LABELS[locale]["no_match"]] * 2
