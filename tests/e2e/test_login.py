"""Every demo login works on the live server, in both languages, switched with the page's switch."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

LABELS = {"zh_CN": {"login": "登录", "logout": "退出登录"}, "en": {"login": "Log in", "logout": "Log out"}}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_demo_users_log_in_in_each_language(visitors, locale):
    v = visitors(locale)
    page = v.goto("/login")
    v.switch_language()
    assert page.inner_text("h1") == LABELS[locale]["login"]
    page.fill("#username", "registrant")
    page.fill("#password", "not the password")
    page.click("#login-submit")
    assert page.get_attribute("#login-error", "data-error")
    for username in ("registrant", "province", "office", "expert1"):
        page = v.login(username)
        assert page.get_attribute("html", "lang") == locale.replace("_", "-")
        assert page.inner_text("#current-user")
        assert page.inner_text("#logout-button") == LABELS[locale]["logout"]
        page.click("#logout-button")
        page.wait_for_selector("#login-link")
