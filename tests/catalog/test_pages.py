"""The catalog pages over HTTP (the browser test is in tests/e2e/test_catalog_pages.py)."""

from __future__ import annotations

from tests.web.conftest import csrf_of


def test_search_page_and_htmx_partial(client):
    page = client.get("/catalog/", params={"q": "手术导航"})
    assert page.status_code == 200 and "<mark>手术导航</mark>系统" in page.text and "<html" in page.text
    part = client.get("/catalog/", params={"q": "骨锯"}, headers={"HX-Request": "true"})
    assert "<html" not in part.text and "04-09-01" in part.text
    tree = client.get("/catalog/")
    assert "01 有源手术器械 (42)" in tree.text and "06 医用成像器械 (0)" in tree.text


def test_classify_page_shows_trace_in_both_languages(client):
    token = csrf_of(client)
    form = {"csrf_token": token, "name": "可吸收止血夹", "absorbable": "on", "structure": "passive",
            "use_form": "reusable_surgical", "endoscopic": "on"}
    zh = client.post("/catalog/classify?lang=zh_CN", data=form)
    assert zh.status_code == 200
    assert 'data-testid="class">III<' in zh.text and "令第15号 第六条（五）" in zh.text
    assert "规则冲突" in zh.text and "判定过程：所适用的每条规则" in zh.text
    en = client.post("/catalog/classify?lang=en", data=form, headers={"HX-Request": "true"})
    assert "Trace: every rule that fired" in en.text and "<html" not in en.text


def test_classify_page_bad_input_is_422_with_field(client):
    token = csrf_of(client)
    r = client.post("/catalog/classify", data={"csrf_token": token, "duration_hours": "-3"})
    assert r.status_code == 422 and "duration_hours" in r.text


def test_naming_page(client):
    token = csrf_of(client)
    r = client.post("/catalog/naming?lang=en", data={"csrf_token": token, "name": "最佳XYZ-200型激光治疗仪"})
    assert r.status_code == 200 and "令第19号 第七条（四）" in r.text
    assert 'data-testid="verdict">Fail<' in r.text
    empty = client.post("/catalog/naming", data={"csrf_token": token, "name": " "})
    assert empty.status_code == 422


def test_classify_page_shows_rule_sets_subcatalogue_candidates_and_fda_codes(client):
    token = csrf_of(client)
    robot = client.post("/catalog/classify?lang=zh_CN", data={
        "csrf_token": token, "name": "腹腔内窥镜手术控制系统", "structure": "active", "contact": "contact",
        "effect_on_outcome": "important", "robot": "on"})
    assert robot.status_code == 200 and "no63-medical-robot" in robot.text and "规则集" in robot.text
    mri = client.post("/catalog/classify?lang=en", data={"csrf_token": token, "name": "医用磁共振成像系统"})
    assert 'data-testid="subcatalogue-candidate">06 医用成像器械' in mri.text
    assert "rows in the catalogue: 0" in mri.text
    assert 'data-testid="fda-row"><td>LNH' in mri.text and "21 CFR 892.1000" in mri.text
