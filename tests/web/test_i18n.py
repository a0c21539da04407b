"""Language negotiation and switch, Beijing-time dates, translated domain errors."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from medreg.core import i18n
from medreg.core.errors import ValidationFailed
from medreg.core.templating import env
from tests.web.conftest import login


def test_default_language_is_chinese(client):
    page = client.get("/")
    assert page.headers["content-language"] == "zh-CN"
    assert '<html lang="zh-CN">' in page.text and "登录" in page.text
    assert "高端医疗器械全生命周期监管" in page.text


def test_language_switch_sets_cookie_and_changes_the_page(client):
    response = client.get("/lang/en?next=/login")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "lang=en" in response.headers["set-cookie"]
    page = client.get("/login")
    assert page.headers["content-language"] == "en"
    assert "Username" in page.text and "用户名" not in page.text
    back = client.get("/lang/zh_CN", headers={"referer": "http://testserver/login?x=1"})
    assert back.headers["location"] == "/login?x=1"
    assert "用户名" in client.get("/login").text


def test_language_switch_keeps_the_search(client):
    """The switch in the header of a search result leads back to the same search."""
    page = client.get("/public/certificates?q=%E5%9B%BD%E6%A2%B0").text
    link = page.split('id="lang-en"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert client.get(link).headers["location"] == "/public/certificates?q=%E5%9B%BD%E6%A2%B0"


def test_unknown_language_is_404(client):
    assert client.get("/lang/fr").status_code == 404


def test_query_beats_cookie_beats_user_beats_browser(client, reviewer, db):
    assert "Log in" in client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    assert "Log in" in client.get("/?lang=en").text
    reviewer.locale = "en"
    db.commit()
    login(client, reviewer.username)
    assert client.get("/").headers["content-language"] == "en"  # the user's setting
    client.cookies.set("lang", "zh_CN")
    assert client.get("/").headers["content-language"] == "zh-CN"  # the switch beats it
    assert client.get("/?lang=en").headers["content-language"] == "en"


@pytest.mark.parametrize(("kw", "expected"), [
    ({"query": "en", "cookie": "zh_CN"}, "en"),
    ({"query": "xx", "cookie": "en"}, "en"),
    ({"user_locale": "en", "accept_language": "zh-CN"}, "en"),
    ({"accept_language": "fr-FR, en;q=0.8, zh;q=0.5"}, "en"),
    ({"accept_language": "en;q=0.2, zh-Hans-CN;q=0.9"}, "zh_CN"),
    ({"accept_language": "fr, de;q=0.5"}, "zh_CN"),
    ({"accept_language": "en;q=0, zh"}, "zh_CN"),
    ({}, "zh_CN"),
])
def test_negotiate(kw, expected):
    assert i18n.negotiate(**kw) == expected


def _render(template: str, locale: str, **ctx) -> str:
    token = i18n.current_locale.set(locale)
    try:
        return env.from_string(template).render(**ctx)
    finally:
        i18n.current_locale.reset(token)


def test_datetimes_are_shown_in_beijing_time():
    late_evening_utc = datetime(2025, 12, 31, 17, 30, tzinfo=UTC)  # 01:30 on 1 January in Beijing
    zh = _render("{{ v|datetime }} / {{ v|date }}", "zh_CN", v=late_evening_utc)
    assert zh == "2026年1月1日 01:30:00 / 2026年1月1日"
    en = _render("{{ v|datetime }} / {{ v|date }}", "en", v=late_evening_utc)
    assert en == "Jan 1, 2026, 1:30:00\u202fAM / Jan 1, 2026"
    assert _render("{{ d|date }}", "en", d=date(2025, 3, 4)) == "Mar 4, 2025"
    assert _render("{{ none|datetime }}", "en", none=None) == ""


def test_template_gettext_follows_the_locale_and_escapes():
    template = '{{ _("Welcome, %(name)s.", name=who) }}'
    assert _render(template, "zh_CN", who="<b>王</b>") == "欢迎您，&lt;b&gt;王&lt;/b&gt;。"
    assert _render(template, "en", who="Wang") == "Welcome, Wang."


def test_domain_error_is_translated_then_formatted():
    err = ValidationFailed("The password must have at least {min} characters.", field="password",
                           params={"min": 10})
    assert err.message == "The password must have at least 10 characters."
    assert i18n.translate_error(err, "zh_CN") == "密码至少须有 10 个字符。"
    assert i18n.translate_error(err, "en") == err.message
    unknown = ValidationFailed("Not in the catalogue: {x}", params={"x": 1})
    assert i18n.translate_error(unknown, "zh_CN") == "Not in the catalogue: 1"
