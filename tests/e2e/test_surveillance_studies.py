"""The monitoring centre runs a real-world evidence analysis from the studies list and downloads the
pictures (headless Chromium): the HTMX form adds the analysis to the study's card, the report shows the
KM curves, and the KM and CUSUM charts download as PNG files.

The made-up demo registry (medreg.surveillance.demo) is loaded into the live server's database through
the services, and a protocol on the planted stent D is registered there before any analysis."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.evidence import service as evidence
from medreg.evidence.models import RegisteredProtocol
from medreg.evidence.protocol import protocol_hash
from medreg.surveillance.demo import PLANTED_DI
from medreg.surveillance.demo_load import load_demo
from medreg.surveillance.models import Monitor
from tests.surveillance.factories import stent_d_protocol

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PROTOCOL = stent_d_protocol("Stent D vs other stents: target-lesion failure at 180 days (e2e)")


@pytest.fixture(scope="module")
def study(live_server) -> tuple[int, int]:
    """(protocol id, planted monitor id) in the live server's database."""
    with Session(live_server.engine) as s:
        if s.scalar(select(Monitor).where(Monitor.udi_di == PLANTED_DI)) is None:
            load_demo(s, Actor.system(), seed=2025, n_procedures=6000)
            s.commit()
        digest = protocol_hash(PROTOCOL)
        row = s.scalar(select(RegisteredProtocol).where(RegisteredProtocol.sha256 == digest))
        if row is None:
            row = evidence.register_protocol(s, Actor.system(), PROTOCOL)
            s.commit()
        return row.id, s.scalar(select(Monitor.id).where(Monitor.udi_di == PLANTED_DI))


def _download(page, selector: str) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_bytes()


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_centre_runs_an_analysis_and_downloads_the_charts(visitors, study, locale):
    protocol_id, monitor_id = study
    v = visitors(locale)
    v.login("monitor")
    page = v.goto("/surveillance/studies/")
    card = page.locator(f"#study-{protocol_id}")
    before = card.locator('[data-testid="analysis"]').count()
    page.fill(f"#cutoff-{protocol_id}", "2026-06-30")
    page.click(f"#run-{protocol_id}")
    page.wait_for_selector(f'#study-{protocol_id} [data-testid="analysis"][data-new="true"]')
    assert page.locator(f'#study-{protocol_id} [data-testid="analysis"]').count() == before + 1
    assert page.url.endswith("/surveillance/studies/")  # swapped in place by HTMX, no reload
    v.screenshot("surveillance-studies")
    new = page.locator(f'#study-{protocol_id} [data-new="true"]').get_attribute("data-analysis")
    page.click(f"#report-{new}")
    page.wait_for_selector("svg.km-chart")
    assert page.locator('[data-testid="at-risk"]').count() == 2
    png = _download(page, "#km-png")
    assert png.startswith(PNG_MAGIC) and len(png) > 5000
    svg = _download(page, "#km-svg")
    assert svg.startswith(b"<svg")
    page = v.goto(f"/surveillance/monitors/{monitor_id}")
    page.wait_for_selector("svg.cusum-chart")
    assert page.locator("svg.oe-chart").count() == 1
    assert _download(page, "#cusum-png").startswith(PNG_MAGIC)
    assert _download(page, "#chart-png").startswith(PNG_MAGIC)
