"""The most used pages in headless Chromium, on a desktop (1280 px) and a phone (390 px), in zh-CN and
en: each shows its <h1>, and the page never scrolls sideways (a wide table scrolls inside itself, a
chart shrinks to the column). The crawl of every page is tests/web/test_crawl.py."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

# name, login (None: the public), path
PAGES = [
    ("home", None, "/"),
    ("report-form", "hospital", "/vigilance/new"),
    ("duplicates", "monitor", "/vigilance/review"),
    ("signals", "monitor", "/signals/"),
    ("surveillance", "monitor", "/surveillance/"),
    ("innovation-queue", "office", "/innovation/queue"),
    ("registration-queue", "office", "/registration/queue"),
    ("public-certificates", None, "/public/certificates?q=%E5%9B%BD%E6%A2%B0"),
]
WIDTHS = (1280, 390)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_pages_fit_the_screen(visitors, locale):
    overflow = []
    for width in WIDTHS:
        logged: dict = {}
        for name, user, path in PAGES:
            if user not in logged:
                v = visitors(locale)
                v.page.set_viewport_size({"width": width, "height": 900})
                if user:
                    v.login(user)
                else:
                    v.goto("/login")
                    v.switch_language()
                logged[user] = v
            v = logged[user]
            page = v.goto(path)
            assert page.locator("h1").first.is_visible(), f"{name} ({locale}, {width}px): no visible <h1>"
            scroll, client = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            if scroll > client + 1:
                overflow.append(f"{name} ({locale}, {width}px, {path}): {scroll}px wide in {client}px")
            v.screenshot(f"width-{width}-{name}")
    assert not overflow, "pages wider than the screen:\n" + "\n".join(overflow)
