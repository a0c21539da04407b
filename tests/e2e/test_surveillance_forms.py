"""The monitoring centre registers a real-world evidence study protocol and defines a monitor from the
pages, in headless Chromium, in both languages: a refused input is shown at its field and the form
keeps what was typed; the registered protocol is shown read-only with the SHA-256 that the server
stored; the new monitor is listed with the critical value of its design (the demo user ``monitor``)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.evidence.models import RegisteredProtocol
from medreg.surveillance.demo import DEVICES, PLANTED_DI
from medreg.surveillance.models import Monitor

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HEADING = {"zh_CN": "登记研究方案", "en": "Register a study protocol"}
MONITORS = {"zh_CN": "监测计划", "en": "Monitors"}
# R package Sequential 4.5.1, TableCV.PoissonM: T = 10, M = 4, alpha = 0.05
CV_T10_M4 = 2.92156132978567


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_centre_registers_a_protocol_and_defines_a_monitor(visitors, live_server, locale):
    v = visitors(locale)
    v.login("monitor")
    page = v.goto("/surveillance/studies/")
    page.click("#new-protocol")
    page.wait_for_selector("#protocol-form")
    assert page.inner_text("h1") == HEADING[locale]
    title = f"Stent D vs other stents, TLF at 180 days (browser, {locale})"
    page.fill("#title", title)
    page.fill("#question", "Is target-lesion failure more frequent with stent D?")
    page.select_option("#device_group", "coronary_stent")
    page.fill("#device_dis", "0697000000000")  # 13 digits: refused by the server, at its field
    page.fill("#comparator", "other stents of the registry")
    page.select_option("#exclusion-1-field", "renal_failure")
    page.fill("#exclusion-1-value", "yes")
    page.select_option("#primary_outcome", "target_lesion_failure")
    page.check("#outcome-death")
    page.fill("#follow_up_days", "180")
    page.click("#protocol-submit")
    error = page.wait_for_selector('[data-testid="field-error"][data-field="device_dis"]')
    assert error.is_visible()
    assert page.input_value("#title") == title and page.input_value("#exclusion-1-value") == "yes"
    assert page.is_checked("#outcome-death")
    page.fill("#device_dis", PLANTED_DI)
    page.click("#protocol-submit")
    page.wait_for_selector('[data-testid="done"][data-done="register"]')
    shown = page.inner_text("#protocol-hash")
    canonical = page.inner_text("#canonical")
    assert hashlib.sha256(canonical.encode("utf-8")).hexdigest() == shown
    with Session(live_server.engine) as s:
        row = s.scalar(select(RegisteredProtocol).where(RegisteredProtocol.title == title))
        assert row is not None and row.sha256 == shown and row.registered_by == "monitor"
        assert row.content["outcomes"] == ["target_lesion_failure", "death"]
        assert row.content["exclusion"] == [{"field": "renal_failure", "op": "==", "value": True}]
    assert page.locator("#protocol-form, textarea, input[name=title]").count() == 0  # read-only
    v.screenshot("surveillance-protocol")

    page = v.goto("/surveillance/monitors")
    assert page.inner_text("h1") == MONITORS[locale]
    name = f"Stent B TLF (browser, {locale})"
    page.fill("#name", name)
    page.select_option("#device_group", "coronary_stent")
    page.fill("#udi_di", DEVICES[1][1])
    page.select_option("#outcome", "target_lesion_failure")
    page.fill("#window_days", "180")
    page.fill("#reference_start", "2024-01-01")
    page.fill("#reference_end", "2023-12-31")  # before the start: refused at its field
    page.fill("#sample_size", "10")
    page.fill("#min_events", "4")
    page.click("#monitor-submit")
    page.wait_for_selector('[data-testid="field-error"][data-field="reference_end"]')
    assert page.input_value("#name") == name
    page.fill("#reference_end", "2024-12-31")
    page.click("#monitor-submit")
    page.wait_for_selector('[data-testid="done"][data-done="create"]')
    row = page.locator('[data-testid="monitor"][data-new="true"]')
    assert name in row.inner_text()
    assert float(row.get_attribute("data-cv")) == pytest.approx(CV_T10_M4, abs=1e-6)
    with Session(live_server.engine) as s:
        m = s.scalar(select(Monitor).where(Monitor.name == name))
        assert m is not None and m.critical_value == pytest.approx(CV_T10_M4, abs=1e-8)
    v.screenshot("surveillance-monitors")
