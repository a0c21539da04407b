"""Who may open which innovation page, CSRF on every form, refused input re-rendered next to its
field (nothing written), and the pages in Chinese and English."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from medreg.core.audit import AuditEvent
from medreg.premarket.innovation.models import InnovationApplication, Objection
from tests.web.innovation_helpers import browser, csrf_from, status_in, to_stage, version_in, web_world


@pytest.fixture
def ww(db):
    return web_world(db)


def _events(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(AuditEvent))


def test_anonymous_is_sent_to_login_except_for_public_notices(app, db, ww):
    case = to_stage(db, ww, "province_review")
    anon, _token = browser(app)
    for path in (
        "/innovation/",
        "/innovation/new",
        "/innovation/queue",
        f"/innovation/{case.id}",
        "/experts/assignments",
        "/experts/",
    ):
        r = anon.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    assert anon.get("/public/notices").status_code == 200


def test_pages_by_role_and_tenancy(app, db, ww):
    case = to_stage(db, ww, "province_review")
    reg, _ = browser(app, ww.registrant)
    other, _ = browser(app, ww.other_registrant)
    prov, _ = browser(app, ww.province)
    other_prov, _ = browser(app, ww.other_province)
    office, _ = browser(app, ww.office)
    expert, _ = browser(app, ww.experts[0][1])
    assert reg.get(f"/innovation/{case.id}").status_code == 200
    assert 'id="new-application"' in reg.get("/innovation/").text
    assert reg.get("/innovation/new").status_code == 200
    assert reg.get("/innovation/queue").status_code == 403
    assert office.get("/innovation/new").status_code == 403
    for outsider in (other, other_prov, expert):  # may not know the case exists
        assert outsider.get(f"/innovation/{case.id}").status_code == 404
        assert outsider.get(f"/innovation/{case.id}/timeline").status_code == 404
    doc_id = case.documents[0].id
    assert other.get(f"/innovation/{case.id}/documents/{doc_id}").status_code == 404
    assert prov.get(f"/innovation/{case.id}/documents/{doc_id}").status_code == 200
    assert f'data-application="{case.id}"' in prov.get("/innovation/queue").text
    assert f'data-application="{case.id}"' not in other_prov.get("/innovation/queue").text
    assert 'id="queue-empty"' in office.get("/innovation/queue").text  # at the province, not the office yet
    draft = to_stage(db, ww, "draft")
    assert office.get(f"/innovation/{draft.id}").status_code == 404  # drafts are the applicant's
    home = reg.get("/").text
    assert 'href="/innovation/"' in home and 'href="/innovation/queue"' not in home
    assert 'href="/innovation/queue"' in office.get("/").text


def test_posts_without_csrf_are_403_and_write_nothing(app, db, ww):
    case = to_stage(db, ww, "public_notice")
    reg, rt = browser(app, ww.registrant)
    office, _ot = browser(app, ww.office)
    before, apps = _events(db), db.scalar(select(func.count()).select_from(InnovationApplication))
    assert reg.post("/innovation/new", data={"product_name": "No token"}).status_code == 403
    assert (
        reg.post("/innovation/new", data={"product_name": "Bad", "csrf_token": "forged"}).status_code == 403
    )
    r = office.post(f"/innovation/{case.id}/withdraw", data={"reason": "x", "expected_version": case.version})
    assert r.status_code == 403
    assert (
        reg.post(
            f"/innovation/{case.id}/withdraw",
            data={"reason": "Changed plans.", "expected_version": str(case.version), "csrf_token": "forged"},
        ).status_code
        == 403
    )
    notice_id = case.notices[0].id
    anon, _ = browser(app)
    r = anon.post(
        f"/public/notices/{notice_id}/objections",
        data={"name": "A", "contact": "a@b.cn", "text": "An objection without a token."},
    )
    assert r.status_code == 403
    assert _events(db) == before
    assert db.scalar(select(func.count()).select_from(InnovationApplication)) == apps
    assert db.scalar(select(func.count()).select_from(Objection)) == 0
    assert status_in(reg.get(f"/innovation/{case.id}").text) == "public_notice"


def test_refused_input_is_shown_next_to_its_field_and_nothing_is_written(app, db, ww):
    reg, rt = browser(app, ww.registrant)
    before = _events(db)
    r = reg.post(
        "/innovation/new?lang=en",
        data={"csrf_token": rt, "product_name": "Pump", "patent_number": "ZL 2020 1 0123456.9"},
    )
    assert r.status_code == 422
    assert 'id="draft-patent_number-error"' in r.text and 'value="Pump"' in r.text
    assert _events(db) == before
    case = to_stage(db, ww, "province_review")
    prov, pt = browser(app, ww.province)
    page = prov.get(f"/innovation/{case.id}").text
    before = _events(db)
    r = prov.post(
        f"/innovation/{case.id}/province_pass?lang=zh_CN",
        data={"csrf_token": pt, "opinion": "ok", "expected_version": version_in(page)},
    )
    assert r.status_code == 422 and 'id="province_pass-opinion-error"' in r.text
    assert "须为 3 至 10000 个字符" in r.text
    r = prov.post(
        f"/innovation/{case.id}/province_pass?lang=en",
        data={"csrf_token": pt, "opinion": "Meets Art.2.", "expected_version": "1"},
    )
    assert r.status_code == 409 and "changed by someone else" in r.text  # stale version
    assert status_in(r.text) == "province_review"
    reg_page = reg.get(f"/innovation/{case.id}").text
    r = reg.post(
        f"/innovation/{case.id}/withdraw",
        data={"csrf_token": rt, "reason": "", "expected_version": version_in(reg_page)},
    )
    assert r.status_code == 422 and 'data-field="reason"' in r.text
    assert reg.post(f"/innovation/{case.id}/nonsense", data={"csrf_token": rt}).status_code == 404
    assert _events(db) == before  # none of the refused actions wrote anything
    db.expire_all()
    assert db.get(InnovationApplication, case.id).status == "province_review"


def test_public_objection_errors_are_rerendered(app, db, ww):
    case = to_stage(db, ww, "public_notice")
    anon, _ = browser(app)
    page = anon.get("/public/notices?lang=en").text
    notice_id = case.notices[0].id
    r = anon.post(
        f"/public/notices/{notice_id}/objections?lang=en",
        data={"csrf_token": csrf_from(page), "name": "Li", "contact": "li@example.org", "text": "short"},
    )
    assert r.status_code == 422 and f'id="objection_{notice_id}-text-error"' in r.text
    assert 'value="li@example.org"' in r.text  # what was typed is kept
    assert db.scalar(select(func.count()).select_from(Objection)) == 0


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh_CN", ["申请条件", "可办理事项", "办理记录", "省级初审", "时限"]),
        ("en", ["Eligibility", "What you can do", "Timeline", "Provincial pre-review", "Time limits"]),
    ],
)
def test_case_page_in_both_languages(app, db, ww, lang, words):
    case = to_stage(db, ww, "province_review")
    prov, _ = browser(app, ww.province)
    page = prov.get(f"/innovation/{case.id}?lang={lang}").text
    for word in words:
        assert word in page, (lang, word)
    queue = prov.get(f"/innovation/queue?lang={lang}").text
    assert ("审查任务" if lang == "zh_CN" else "Review queue") in queue
    notices = prov.get(f"/public/notices?lang={lang}").text
    assert (
        "创新医疗器械特别审查申请审查结果公示" if lang == "zh_CN" else "Public notices of innovative"
    ) in notices
