"""The engine's explanations (trace "why", derived facts, conflicts, notes) are translated where they are
shown: the engine says a msgid and its params (medreg.core.said), the zh-CN page shows the Chinese text
of catalog.po, the API keeps its English text fields and adds the msgid and params beside them."""

from __future__ import annotations

import html

from medreg.catalog import engine, ruleset
from medreg.core.i18n import translate
from tests.web.conftest import csrf_of


def _classify(client, lang: str, **fields) -> str:
    r = client.post(f"/catalog/classify?lang={lang}", data={"csrf_token": csrf_of(client), **fields})
    assert r.status_code == 200
    return r.text


def test_lower_bound_notes_and_derived_fact_in_chinese(client):
    form = {"name": "测试温度计", "measuring": "on", "duration_hours": "48"}
    zh = _classify(client, "zh_CN", **form)
    assert "仅有规定最低类别的规则适用：所得类别仅为最低类别。" in zh
    assert "本系统数据中无令第15号所附分类判定表" in zh
    assert "依据所给事实，没有可确定类别的规则适用" in zh
    assert "持续使用48" in zh  # duration derived from 令第15号 第三条（八）
    for english in ("Only rules that set a minimum class fired", "is not in medreg", "continuous use of"):
        assert english not in zh
    en = _classify(client, "en", **form)
    assert "Only rules that set a minimum class fired: the class is a lower bound." in en
    assert html.escape(engine.TABLE_MISSING).replace("&#x27;", "&#39;") in en and "continuous use of 48" in en


def test_conflict_and_catalogue_match_why_in_chinese(client):
    zh = _classify(client, "zh_CN", name="可吸收止血夹", absorbable="on", structure="passive",
                   use_form="reusable_surgical", endoscopic="on")
    assert "采取其中最高的类别（令第15号 第六条（一））" in zh
    assert "the highest class wins" not in zh


def test_evidence_and_missing_data_notes_in_chinese(client):
    zh = _classify(client, "zh_CN", name="医用磁共振成像系统")
    assert "FDA 产品代码LNH" in zh and "（权重" in zh  # an evidence row of the trace
    assert "证据指向的子目录06 医用成像器械" in zh and "置信度" in zh  # the note on the missing table
    for english in ("FDA product code LNH", "Sub-catalogue 06", "(weight "):
        assert english not in zh
    en = _classify(client, "en", name="医用磁共振成像系统")
    assert "FDA product code LNH" in en and "Sub-catalogue 06 医用成像器械" in en


def test_api_keeps_english_texts_and_adds_msgid_and_params(client):
    body = client.post("/api/v1/classification/determine", json={"name": "医用磁共振成像系统"},
                       headers={"X-CSRF-Token": csrf_of(client)}).json()
    assert any(n.startswith("Sub-catalogue 06 医用成像器械") for n in body["notes"])
    assert len(body["notes_i18n"]) == len(body["notes"])
    note = next(n for n in body["notes_i18n"] if n["params"].get("code") == "06")
    assert note["msgid"].startswith("Sub-catalogue {code} {name}") and note["params"]["version"]
    row = next(t for t in body["trace"] if t["source"] == "fda_product_code")
    assert row["why_msgid"] == "{why} (weight {weight})" and "(weight " in row["why"]
    assert row["why_params"]["why"]["msgid"].startswith("{match};")


def test_every_text_of_the_rule_data_has_a_chinese_translation():
    """engine_rules.json's whys, titles and gaps are msgids of catalog.po (no source file marks them)."""
    rules = ruleset.engine_rules()
    texts = [r.why for r in rules.rules] + [s.gap for s in rules.sets if s.gap]
    texts += [s.title for s in rules.sets]
    untranslated = [t for t in texts if translate(t, "zh_CN") == t and not _is_chinese(t)]
    assert untranslated == []


def _is_chinese(text: str) -> bool:
    return not any("a" <= ch.lower() <= "z" for ch in text)


def test_rule_why_and_rule_set_gap_in_chinese(client):
    zh = _classify(client, "zh_CN", name="腹腔内窥镜手术控制系统", structure="active", contact="contact",
                   effect_on_outcome="important", robot="on")
    assert "对医疗效果有重要影响的有源接触人体器械" in zh  # O15-6-6's why
    assert "本系统未存有医用机器人分类规则" in zh and "国家药监局2025年第63号公告所列重点类别" in zh
    assert "No classification rule for medical robots" not in zh
    assert "active body-contacting device" not in zh
