"""The AI pages in headless Chromium on the demo data (synthetic DEMO-LUNG-CT): the registrant's runs and
their metrics, a refused re-run (rate limit), the comparison of two platforms, the change triage, and
another registrant who sees none of it; in Chinese and English."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WORDS = {"zh_CN": {"heading": "封存的测评数据库", "equivalent": "equivalent"},
         "en": {"heading": "Sealed evaluation databases", "equivalent": "equivalent"}}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_ai_pages_in_the_browser(visitors, live_server, tmp_path, locale):
    reg = visitors(locale)
    page = reg.login("registrant2")
    page.goto(live_server("/ai/"))
    assert page.inner_text("h1") == WORDS[locale]["heading"]
    row = page.locator("[data-testid=database-row][data-code=DEMO-LUNG-CT]")
    assert row.count() == 1
    reg.screenshot("ai-databases")
    with page.expect_navigation():
        row.locator("a[data-version]").first.click()
    assert len(page.inner_text("[data-testid=merkle-root]")) == 64

    # a fourth run within 24 hours is refused (3 demo runs already): the reason is shown by the form
    csv_path = tmp_path / "outputs.csv"
    csv_path.write_text("case_id,score\nCT-00000,0.5\n")
    for name, value in (("algorithm_name", "NoduleAI"), ("algorithm_version", "1.2"), ("hardware", "x86"),
                        ("os", "Linux"), ("accelerator", "GPU"), ("framework", "PyTorch")):
        page.fill(f"#f-{name}", value)
    page.set_input_files("#f-outputs", str(csv_path))
    with page.expect_navigation():
        page.click("#run-submit")
    assert page.get_attribute("#form-error", "data-field") == "version_id"

    page.goto(live_server("/ai/runs"))
    ids = [int(x) for x in page.locator("[data-testid=run-row]").evaluate_all(
        "rows => rows.map(r => r.dataset.run)")]
    assert len(ids) == 3
    first = min(ids)
    page.goto(live_server(f"/ai/runs/{first}"))
    assert page.get_attribute("#verify", "data-intact") == "true"
    assert page.locator("#metrics tr[data-metric=auc]").count() == 1
    assert "sensitivity" in page.get_attribute(
        "[data-testid=subgroup][data-field=vendor][data-value=vendor-B]", "data-flagged")
    reg.screenshot("ai-run")

    a, b = sorted(ids)[1], sorted(ids)[2]
    page.goto(live_server(f"/ai/compare?mode=platforms&run_a={a}&run_b={b}"))
    assert page.get_attribute("#equivalence", "data-verdict") == WORDS[locale]["equivalent"]
    reg.screenshot("ai-platform-equivalence")

    page.goto(live_server("/ai/triage"))
    page.check("#k-platform_incompatible")
    page.select_option("#e-plat", "true")
    with page.expect_navigation():
        page.click("#triage-submit")
    assert page.get_attribute("#decision", "data-outcome") == "simplified_change"
    assert page.get_attribute("#decision", "data-decided-by") == "R08"
    reg.screenshot("ai-triage")

    other = visitors(locale)
    p2 = other.login("registrant")
    p2.goto(live_server("/ai/runs"))
    assert p2.locator("#no-runs").count() == 1
    response = p2.goto(live_server(f"/ai/runs/{first}"))
    assert response.status == 404
