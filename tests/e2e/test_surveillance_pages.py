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
