"""The whole innovative special review through the pages, once in Chinese and once in English.

Registrant applies (form, PDF dossier, submit) -> the province passes the pre-review -> the office
accepts and assigns three experts -> each expert signs an opinion -> the office concludes and the
notice is published -> an anonymous member of the public objects -> the office answers, closes the
notice after its 10 working days (No.83 Art.10) and signs the approval -> the registrant sees it.

The app has no test clock (services use today in Beijing), so before closing the notice this test
moves the notice dates back in the live server's own database (see ``_let_the_notice_run``).
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import update

from medreg.core.calendar import add_working_days, add_years
from medreg.core.clock import today_shanghai
from medreg.core.clocks import StatutoryClock
from medreg.demo.cases import EXPERTS, wd_ago
from medreg.premarket.innovation.models import PublicNotice
from medreg.premarket.innovation.rules import required_documents

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n% medreg end-to-end test dossier document\n%%EOF\n"
PATENT = "ZL 2022 1 0248817.5"  # valid check character (CNIPA ZC 0006-2003), made up
STATUS = {
    "zh_CN": {
        "draft": "草稿",
        "province_review": "省级初审",
        "submitted": "已提交创新审查办",
        "accepted": "已受理",
        "expert_review": "专家审查",
        "public_notice": "公示",
        "decision_pending": "待作出审查决定",
        "approved": "同意进入特别审查程序",
    },
    "en": {
        "draft": "Draft",
        "province_review": "Provincial pre-review",
        "submitted": "Submitted to the office",
        "accepted": "Accepted",
        "expert_review": "Expert review",
        "public_notice": "Public notice",
        "decision_pending": "Decision pending",
        "approved": "Approved for the special procedure",
    },
}
LABELS = {
    "zh_CN": {
        "dashboard": "待您办理的事项",
        "queue": "审查任务",
        "assignments": "我的审查任务",
        "notices": "创新医疗器械特别审查申请审查结果公示",
        "timeline": "办理记录",
    },
    "en": {
        "dashboard": "What is asked of you",
        "queue": "Review queue",
        "assignments": "My assignments",
        "notices": "Public notices of innovative medical devices",
        "timeline": "Timeline",
    },
}


def _status(page, locale: str, expected: str) -> None:
    badge = page.locator("[data-testid=status]")
    assert badge.get_attribute("data-status") == expected
    assert badge.inner_text().strip() == STATUS[locale][expected]


def _act(page, action: str) -> None:
    """Press the button of ``action`` and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(f"button[data-action={action}]")


def _no_error(page) -> None:
    errors = page.locator("[data-testid=form-error], [data-testid=field-error]")
    assert errors.count() == 0, errors.all_inner_texts()


def _let_the_notice_run(server, app_id: int, today: date) -> None:
    """Test-only time travel: the notice must run 10 working days (No.83 Art.10) before it can be
    closed, and the app has no test clock. Move the notice (and its clock) back so that it started
    11 working days ago and ended yesterday, directly in the live server's database."""
    starts = wd_ago(today, 11)
    ends = add_working_days(starts, 10)
    assert ends < today
    notice, clock = PublicNotice.__table__, StatutoryClock.__table__
    with server.engine.begin() as conn:
        moved = conn.execute(
            update(notice)
            .where(notice.c.application_id == app_id, notice.c.closed_on.is_(None))
            .values(starts_on=starts, ends_on=ends)
        ).rowcount
        conn.execute(
            update(clock)
            .where(
                clock.c.subject_type == "innovation_application",
                clock.c.subject_id == str(app_id),
                clock.c.name == "innovation.public_notice",
            )
            .values(started_on=starts)
        )
    assert moved == 1


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_whole_special_review_through_the_pages(visitors, live_server, locale):
    short = "zh" if locale == "zh_CN" else "en"
    today = today_shanghai()
    product = f"端到端测试手术机器人（演示）{short.upper()}"
    label, _s = LABELS[locale], STATUS[locale]

    # --- the registrant applies ------------------------------------------------------------------
    registrant = visitors(locale)
    page = registrant.login("registrant")
    page.goto(live_server("/innovation/"))
    assert page.inner_text("#tasks-heading") == label["dashboard"]
    registrant.screenshot("registrant-dashboard")
    with page.expect_navigation():
        page.click("#new-application")
    page.fill("#product_name", product)
    page.fill("#product_name_en", f"End-to-end surgical robot (demo) {short}")
    page.fill("#intended_use", "用于腹腔镜手术中的器械操控（演示）。")
    page.fill("#working_principle", "主从遥操作（演示）。")
    page.fill("#technical_field", "surgical robotics")
    page.select_option("#proposed_class", "III")
    for flag in ("#domestically_first", "#internationally_leading", "#significant_clinical_value"):
        page.check(flag)
    page.fill("#innovation_statement", "国内首创的力反馈主从控制（演示）。")
    page.select_option("#patent_kind", "granted")
    page.fill("#patent_number", PATENT)
    page.fill("#patent_grant_date", add_years(today, -2).isoformat())
    registrant.screenshot("new-application")
    with page.expect_navigation():
        page.click("#save-draft")
    _no_error(page)
    app_id = int(re.search(r"/innovation/(\d+)", page.url).group(1))
    _status(page, locale, "draft")
    for doc in required_documents(is_domestic=True, patent_kind="granted"):
        page.select_option("#doc_type", doc.value)
        page.fill("#doc_title", f"{doc.value} (e2e)")
        page.set_input_files(
            "#doc_file", files=[{"name": f"{doc.value}.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
        _act(page, "attach_document")
        _no_error(page)
    assert page.locator("[data-testid=document]").count() == len(required_documents(
        is_domestic=True, patent_kind="granted"))  # fmt: skip
    assert page.get_attribute("[data-testid=eligible]", "data-eligible") == "true"
    _act(page, "submit")
    _no_error(page)
    _status(page, locale, "province_review")

    # --- the province passes the pre-review --------------------------------------------------------
    province = visitors(locale)
    page = province.login("province")
    page.goto(live_server("/innovation/queue"))
    assert page.inner_text("h1") == label["queue"]
    province.screenshot("reviewer-queue")
    with page.expect_navigation():
        page.click(f"[data-testid=queue-row][data-application='{app_id}'] a")
    _status(page, locale, "province_review")
    page.fill("#province_pass-opinion", "经初审符合要求（端到端测试）。")
    _act(page, "province_pass")
    _status(page, locale, "submitted")

    # --- the office accepts and assigns three experts ---------------------------------------------
    office = visitors(locale)
    page = office.login("office")
    page.goto(live_server("/innovation/queue"))
    with page.expect_navigation():
        page.click(f"[data-testid=queue-row][data-application='{app_id}'] a")
    _status(page, locale, "submitted")
    _act(page, "accept")
    _status(page, locale, "accepted")
    assert re.fullmatch(r"CQTS\d{8}", page.inner_text("[data-testid=acceptance-no]"))
    names = {username: name for username, name, *_ in EXPERTS}
    conflicted = page.get_by_label(names["expert4"], exact=True)
    assert conflicted.is_disabled()  # declared interest in the applicant (CMDE Art.10)
    for username in ("expert1", "expert2", "expert3"):
        page.get_by_label(names[username], exact=True).check()
    _act(page, "assign_experts")
    _no_error(page)
    _status(page, locale, "expert_review")
    assert page.get_attribute("[data-testid=tally]", "data-pending") == "3"

    # --- each expert signs an opinion (password re-entered) ----------------------------------------
    for n, username in enumerate(("expert1", "expert2", "expert3")):
        expert = visitors(locale)
        page = expert.login(username)
        page.goto(live_server("/experts/assignments"))
        assert page.inner_text("h1") == label["assignments"]
        with page.expect_navigation():
            page.click(f"[data-testid=assignment-row][data-application='{app_id}'] a")
        _status(page, locale, "expert_review")
        page.check("#opinion-agree")
        page.fill("#give_opinion-reasoning", "力反馈主从控制具有明显创新性和临床价值（端到端测试）。")
        if n == 0:
            expert.screenshot("expert-opinion")
            page.fill("#give_opinion-password", "wrong password")
            _act(page, "give_opinion")
            refused = page.locator("[data-testid=field-error][data-field=password], [data-testid=form-error]")
            assert refused.count() >= 1
            page.check("#opinion-agree")
            page.fill("#give_opinion-reasoning", "力反馈主从控制具有明显创新性和临床价值（端到端测试）。")
        page.fill("#give_opinion-password", "demo-password-2026")
        _act(page, "give_opinion")
        _no_error(page)
        assert page.get_attribute("[data-testid=opinion]", "data-opinion") == "agree"
        expert.close()

    # --- the office concludes: public notice -------------------------------------------------------
    page = office.page
    page.goto(live_server(f"/innovation/{app_id}"))
    assert page.get_attribute("[data-testid=tally]", "data-agree") == "3"
    page.select_option("#conclude-outcome", "propose")
    page.fill("#conclude-reasons", "三位专家均同意（端到端测试）。")
    _act(page, "conclude")
    _no_error(page)
    _status(page, locale, "public_notice")

    # --- an anonymous member of the public objects ---------------------------------------------------
    public = visitors(locale)
    page = public.goto("/public/notices")
    public.switch_language()
    assert page.inner_text("h1") == label["notices"]
    notice = page.locator("[data-testid=notice]", has_text=product)
    assert notice.get_attribute("data-open") == "true"
    public.screenshot("public-notices")
    notice.locator("summary").click()
    notice.locator("input[name=name]").fill("张某（端到端测试）")
    notice.locator("input[name=contact]").fill("e2e@example.org")
    notice.locator("textarea[name=text]").fill("请说明力反馈技术与已上市产品的区别（端到端测试异议）。")
    with page.expect_navigation():
        notice.locator("button[data-action=file_objection]").click()
    assert page.get_attribute("[data-testid=done]", "data-done") == "file_objection"

    # --- the office answers, closes the notice after 10 working days and approves ------------------
    page = office.page
    page.goto(live_server(f"/innovation/{app_id}"))
    objection = page.locator("[data-testid=objection]")
    assert objection.count() == 1 and objection.get_attribute("data-answered") == "false"
    objection.locator("textarea[name=answer]").fill("该技术的力反馈回路为自主研发，与已上市产品不同。")
    _act(page, "answer_objection")
    assert page.get_attribute("[data-testid=objection]", "data-answered") == "true"
    _act(page, "close_notice")  # too early: the notice runs 10 working days
    assert page.locator("[data-testid=field-error][data-field=today]").count() == 1
    _status(page, locale, "public_notice")
    _let_the_notice_run(live_server, app_id, today)
    page.goto(live_server(f"/innovation/{app_id}"))
    _act(page, "close_notice")
    _no_error(page)
    _status(page, locale, "decision_pending")
    page.check("#decide-approve")
    page.fill("#decide-password", "demo-password-2026")
    _act(page, "decide")
    _no_error(page)
    _status(page, locale, "approved")
    assert page.inner_text("#timeline-heading").startswith(label["timeline"])
    events = page.locator("[data-testid=event]").evaluate_all("els => els.map(e => e.dataset.event)")
    for action in ("submit", "province_pass", "accept", "assign_experts", "conclude_propose",
                   "file_objection", "answer_objection", "close_notice", "approve"):  # fmt: skip
        assert action in events
    office.screenshot("case-page")

    # --- the registrant sees the approval ---------------------------------------------------------
    page = registrant.page
    page.goto(live_server("/innovation/"))
    row = page.locator(f"[data-testid=application-row][data-application='{app_id}']")
    assert row.locator("[data-status]").inner_text().strip() == _s["approved"]
    page.goto(live_server(f"/innovation/{app_id}"))
    _status(page, locale, "approved")
