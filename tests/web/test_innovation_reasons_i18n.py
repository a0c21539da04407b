"""The reasons of the eligibility criteria are translated where they are shown: rules.py says a msgid and
its params (medreg.core.said), the zh-CN case page shows the Chinese text of innovation.po, the API keeps
its English ``reason`` and adds ``reason_msgid`` / ``reason_params``."""

from __future__ import annotations

import re

from tests.web.innovation_helpers import browser, web_world
from tests.web.test_innovation_pages import _post, form_draft


def test_eligibility_reasons_in_chinese_on_the_case_page(app, db):
    ww = web_world(db)
    reg, rt = browser(app, ww.registrant)
    r = _post(reg, rt, "/innovation/new", **form_draft())
    assert r.status_code == 303, r.text
    app_id = int(re.search(r"/innovation/(\d+)", r.headers["location"]).group(1))
    zh = reg.get(f"/innovation/{app_id}?lang=zh_CN").text
    assert "第III类医疗器械" in zh or "第II类医疗器械" in zh  # the class criterion, met
    assert "国内首创、国际领先、具有显著的临床应用价值" in zh
    assert "：发明专利申请" in zh and "授权，未超过5年" in zh  # the patent criteria
    assert "缺少：申请表（" in zh  # the dossier: no document uploaded yet, named by its label
    assert "missing: " not in zh and "all required documents filed" not in zh
    en = reg.get(f"/innovation/{app_id}?lang=en").text
    assert "domestically first, internationally leading, significant clinical value" in en
