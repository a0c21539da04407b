"""The monitoring centre works a signal in headless Chromium: the sortable case list with the overview
plot, the case page with the IC plot, validating the case; in Chinese and in English.

The made-up run (two runs' statistics for one pair, device 国械注准E2E) is recorded straight into the
live server's database through the signals service."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.signals import service
from medreg.signals.criteria import SignalCriteria
from medreg.signals.models import SignalCase

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DEVICE = "国械注准E2E"


def _columns(n11):
    return {"device": np.array([DEVICE, DEVICE + "-B"], dtype=object),
            "event": np.array(["A0401", "A0701"], dtype=object),
            "n11": np.array([n11, 4]), "expected": np.array([1.2, 2.0]), "prr": np.array([5.0, 2.1]),
            "prr_lower": np.array([2.0, 1.1]), "ror": np.array([6.0, 2.2]), "ror_lower": np.array([2.2, 1.2]),
            "ic": np.array([1.5, 0.6]), "ic025": np.array([0.4, 0.1]), "ic975": np.array([2.4, 1.0]),
            "ebgm": np.array([4.0, 1.8]), "eb05": np.array([2.6, 1.1])}


@pytest.fixture(scope="module")
def signal(live_server) -> int:
    with Session(live_server.engine) as s:
        if s.scalar(select(SignalCase).where(SignalCase.device == DEVICE)) is None:
            crit = SignalCriteria("ror")
            service.record_run(s, Actor.system(), _columns(6), criteria=crit, run_label="E2E-1")
            service.record_run(s, Actor.system(), _columns(9), criteria=crit, run_label="E2E-2")
            s.commit()
        return s.scalar(select(SignalCase.id).where(SignalCase.device == DEVICE))


TITLE = {"zh_CN": "信号", "en": "Signals"}
VALIDATED = {"zh_CN": "已确认", "en": "Validated"}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_centre_sorts_plots_and_validates_a_signal(visitors, signal, locale):
    v = visitors(locale)
    v.login("monitor")
    page = v.goto("/signals/")
    assert page.inner_text("h1") == TITLE[locale]
    assert page.locator("svg.signal-overview circle").count() >= 2
    page.click('[data-testid="sort-n11"]')
    page.wait_for_selector('#signal-cases[data-sort="n11"]')
    order = page.get_attribute("#signal-cases", "data-order")
    values = [int(x) for x in page.locator('td[data-col="n11"]').all_inner_texts()]
    assert values == sorted(values, reverse=order == "desc")
    page.click(f'[data-testid="signal-row"][data-case="{signal}"] a')
    page.wait_for_selector("#stats")
    assert page.locator('[data-testid="stat-row"]').count() >= 2
    assert page.locator("svg.ic-over-time line.interval").count() >= 2
    v.screenshot("signals-case")
    if page.locator("#do-validate").count():
        page.click("#do-validate")
        page.wait_for_selector('[data-testid="status"][data-status="validated"]')
    assert page.inner_text('[data-testid="status"]') == VALIDATED[locale]
