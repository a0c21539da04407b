"""The monitoring centre configures a signal analysis in headless Chromium, in Chinese and in English:
from the signals page to the analyses, a refused form (the threshold is not a number: the reason next
to the field), the corrected form, the new row, "run now" (the job queued, shown with its status; the
live server runs no worker) and cancelled on its job page, and disabling the analysis."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TITLE = {"zh_CN": "信号分析配置", "en": "Signal analyses"}
THRESHOLD_ERROR = {"zh_CN": "阈值须为数值。", "en": "The threshold must be a number."}
QUEUED = {"zh_CN": "排队中", "en": "Queued"}
CANCELLED = {"zh_CN": "已被用户取消", "en": "Cancelled by a user"}
ENABLED = {"zh_CN": ("是", "否"), "en": ("Yes", "No")}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_centre_creates_runs_and_disables_an_analysis(visitors, locale):
    v = visitors(locale)
    v.login("monitor")
    page = v.goto("/signals/")
    page.click("#to-analyses")
    page.wait_for_selector("h1")
    assert page.inner_text("h1") == TITLE[locale]
    page.click("#new-analysis")
    name = f"E2E 证书 × 附录A/E {locale}"
    page.fill("#analysis-name", name)
    page.select_option("#analysis-event_level", "2")
    page.check("#annex-E")
    page.check("#stratum-sex")
    page.select_option("#analysis-statistic", "ror")
    page.fill("#analysis-threshold", "two")
    page.click("#save-analysis")
    error = page.wait_for_selector('[data-testid="field-error"][data-field="threshold"]')
    assert error.inner_text() == THRESHOLD_ERROR[locale]
    assert page.input_value("#analysis-name") == name and page.is_checked("#annex-E")  # what was typed kept
    v.screenshot("signals-analysis-form")
    page.fill("#analysis-threshold", "1.5")
    page.click("#save-analysis")
    page.wait_for_selector('[data-testid="done"][data-done="created"]')
    row = page.locator('[data-testid="analysis-row"]', has_text=name)
    assert row.locator('[data-testid="criteria"]').inner_text() == "ROR025 > 1.5 and n11 >= 3"
    assert row.locator('[data-testid="enabled"]').inner_text() == ENABLED[locale][0]
    analysis = row.get_attribute("data-analysis")
    v.screenshot("signals-analyses")
    page.click(f'[data-testid="run-{analysis}"]')
    page.wait_for_selector('[data-testid="done"][data-done="run"]')
    row = page.locator(f'[data-testid="analysis-row"][data-analysis="{analysis}"]')
    assert row.locator('[data-testid="job-status"]').inner_text() == QUEUED[locale]
    assert row.locator(f'[data-testid="run-{analysis}"]').is_disabled()
    # its job page (the user's own job), where it is cancelled: another export may then be queued
    row.locator('[data-testid="job-link"]').click()
    page.click('[data-action="cancel-job"]')
    page.wait_for_selector('[data-testid="job-status"]')
    assert page.inner_text('[data-testid="job-status"]') == CANCELLED[locale]
    page = v.goto("/signals/analyses/")
    page.click(f'[data-testid="toggle-{analysis}"]')
    page.wait_for_selector(f'[data-testid="analysis-row"][data-analysis="{analysis}"][data-active="false"]')
    assert page.locator(f'[data-analysis="{analysis}"] [data-testid="enabled"]').inner_text() == \
        ENABLED[locale][1]


SCHEDULE_ERROR = {"zh_CN": "时间格式为 HH:MM（北京时间，00:00 至 23:59）。",
                  "en": "Give the time as HH:MM (Beijing time, 00:00 to 23:59)."}
EVERY_FRIDAY = {"zh_CN": "每周五 22:30", "en": "Every Friday at 22:30"}
KEEP_THREE = {"zh_CN": "最新的 3 个版本", "en": "The newest 3 version(s)"}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_centre_sets_the_snapshot_schedule(visitors, locale):
    v = visitors(locale)
    v.login("monitor")
    page = v.goto("/signals/analyses/")
    page.check('[data-testid="schedule-enabled"]')
    page.select_option("#schedule-every", "weekly")
    page.select_option("#schedule-weekday", "5")
    page.fill("#schedule-at", "10pm")
    page.fill("#schedule-keep", "3")
    page.click('[data-testid="schedule-save"]')
    error = page.wait_for_selector('#snapshot-schedule [data-testid="field-error"][data-field="at"]')
    assert error.inner_text() == SCHEDULE_ERROR[locale]
    assert page.input_value("#schedule-at") == "10pm"  # what was typed kept
    assert page.input_value("#schedule-keep") == "3"
    page.fill("#schedule-at", "22:30")
    page.click('[data-testid="schedule-save"]')
    page.wait_for_selector('[data-testid="done"][data-done="schedule"]')
    assert EVERY_FRIDAY[locale] in page.inner_text('[data-testid="schedule-state"]')
    assert page.inner_text('[data-testid="next-run"]') != "—"
    assert page.get_attribute('[data-testid="schedule-keep"]', "data-keep") == "3"
    assert KEEP_THREE[locale] in page.inner_text('[data-testid="schedule-keep"]')
    v.screenshot("signals-snapshot-schedule")
