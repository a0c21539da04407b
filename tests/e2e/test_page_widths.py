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


HEADER_HEIGHT = "document.querySelector('.site-header').getBoundingClientRect().height"


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_header_folds_into_a_menu_on_a_phone(visitors, locale):
    """At 390 px the header is one row (brand, language, menu button): the content starts near the top
    (it took about 270 px before the menu, more for a reviewer); the menu opens the navigation and the
    account. At 1280 px there is no menu button and the navigation shows as before."""
    for user in (None, "office"):
        v = visitors(locale)
        if user:
            v.login(user)
        else:
            v.goto("/login")
            v.switch_language()
        page = v.goto("/")
        assert page.is_visible("#main-nav a[href='/']") and not page.is_visible("#menu-button")
        assert page.is_visible("#lang-switch")
        page.set_viewport_size({"width": 390, "height": 900})
        height = page.evaluate(HEADER_HEIGHT)
        assert height <= 64, f"header {height}px high at 390px ({user or 'public'}, {locale})"
        h1_top = page.evaluate("document.querySelector('h1').getBoundingClientRect().top")
        assert h1_top <= 100
        assert not page.is_visible("#main-nav") and page.is_visible("#lang-switch")
        page.click("#menu-button")
        assert page.is_visible("#main-nav a[href='/']")
        assert page.is_visible("#current-user" if user else "#login-link")
        assert page.evaluate(HEADER_HEIGHT) > height
        v.screenshot(f"menu-open-390-{user or 'public'}")
        page.click("#menu-button")
        assert not page.is_visible("#main-nav")
        v.close()
