"""Rule sets as data (Order 15, AI guideline No.47, the No.63 categories medical robots and large models)
and the explained evidence for the sub-catalogue (naming terms, FDA product codes, sub-catalogue names)."""

from __future__ import annotations

import json

import pytest

from medreg.catalog import catalogue, classify, engine, evidence, ruleset, search
from medreg.catalog.schemas import DeviceDescription

AI_LOW_DS = {"ai": True, "device_data": True, "core_function_processing": True, "medical_purpose": True,
             "algorithm_maturity": "low", "decision_support": True}


@pytest.fixture(scope="module")
def index() -> search.Index:
    return search.Index(catalogue.shipped_entries())


def run(index, links=None, **facts) -> dict:
    return classify.classify(index, DeviceDescription(**facts).model_dump(), links=links).to_dict()


def test_every_rule_belongs_to_a_rule_set_citing_its_source():
    rules = ruleset.engine_rules()
    ids = {s.id for s in rules.sets}
    assert ids == {"order15", "ai-no47", "no63-medical-robot", "no63-large-model"}
    for s in rules.sets:
        assert s.source_document and s.source_held in ("full", "secondary", "no")
        # a set whose document medreg does not hold has no rule (none invented) and says so
        assert (s.source_held == "no") == (not s.rule_ids)
        if not s.rule_ids:
            assert "not in medreg's data" in s.gap
    for r in rules.rules:
        assert r.rule_set in ids and r.article
        prefix = "令第15号" if r.rule_set == "order15" else "2021年第47号"
        assert r.article.startswith(prefix)


@pytest.mark.parametrize("facts", [{"robot": True}, {"name": "腹腔镜手术机器人"}])
def test_medical_robot_rule_set_is_in_scope_and_says_it_holds_no_rule(index, facts):
    d = run(index, structure="active", contact="contact", effect_on_outcome="important", **facts)
    robot = next(s for s in d["rule_sets"] if s["id"] == "no63-medical-robot")
    assert robot["in_scope"] and robot["fired"] == [] and robot["source_held"] == "no"
    row = next(t for t in d["trace"] if t["rule"] == "no63-medical-robot")
    assert (row["effect"], row["class"], row["decisive"]) == ("no_rule", None, False)
    assert "Announcement No.63" in row["why"]
    # the class still comes from Order 15 (the robot set adds nothing, takes nothing away)
    assert (d["management_class"], d["decided_by"]["rule"]) == ("III", "O15-6-6")


def test_robot_rule_set_out_of_scope_for_other_devices(index):
    d = run(index, name="骨锯")
    assert not next(s for s in d["rule_sets"] if s["id"] == "no63-medical-robot")["in_scope"]
    assert not any(t["rule"].startswith("no63") for t in d["trace"])


def test_large_model_rule_set_defers_to_the_ai_rules(index):
    d = run(index, name="胸部影像大模型辅助诊断软件", software={**AI_LOW_DS, "large_model": True})
    sets = {s["id"]: s for s in d["rule_sets"]}
    assert sets["no63-large-model"]["in_scope"] and sets["ai-no47"]["fired"] == ["AI-B1"]
    assert d["management_class"] == "III" and d["decided_by"]["rule"] == "AI-B1"
    assert any(t["rule"] == "no63-large-model" and t["effect"] == "no_rule" for t in d["trace"])


def test_a_rule_added_to_a_rule_set_is_applied_without_code():
    raw = json.loads(ruleset._read("engine_rules.json"))
    robot = next(s for s in raw["rule_sets"] if s["id"] == "no63-medical-robot")
    robot["rules"].append({"id": "TEST-ROBOT", "source": "guideline", "article": "test only, not a real rule",
                           "when": {"field": "robot", "truthy": True},
                           "effect": {"kind": "at_least", "class": "II"},
                           "why": "made up for this test"})
    rules = ruleset.parse_rules(json.dumps(raw, ensure_ascii=False).encode("utf-8"))
    d = engine.determine({"robot": True}, rules, [])
    assert d.management_class == "II" and d.decided_by["rule"] == "TEST-ROBOT"
    assert not any(t["effect"] == "no_rule" for t in d.trace)  # the set is no longer empty-handed
    assert d.rules_sha256 != ruleset.engine_rules().sha256


def test_contains_condition():
    assert engine.holds({"field": "name", "contains": "机器人"}, {"name": "康复机器人"})
    assert not engine.holds({"field": "name", "contains": "机器人"}, {"name": None})


def test_fda_code_with_no_linked_category_is_reported_with_its_class_and_regulation(index):
    d = run(index, name="医用磁共振成像系统")
    row = next(t for t in d["trace"] if t["rule"] == "evidence:fda_product_code:LNH")
    assert row["subcatalogue_code"] is None
    assert row["article"] == "FDA product classification LNH (21 CFR 892.1000)"
    assert "FDA class 2" in row["why"] and "no NMPA category" in row["why"]
    assert any(n.startswith("FDA product code LNH") for n in d["notes"])


def test_confirmed_link_is_strong_evidence_and_rejected_link_is_ignored(index):
    # 骨锯 ↔ DZH 'Saw, Bone, Ac-Powered': a text-match link first, then a reviewer's decision
    plain = run(index, name="电动骨锯")
    auto = next(e for e in plain["subcatalogue_evidence"] if e.get("category2_code") == "04-09-01"
                and e["fda"]["product_code"] == "DZH")
    assert auto["link"] == "text_match" and auto["weight"] < evidence.W_CONFIRMED
    confirmed = run(index, links={("04-09-01", "DZH"): "confirmed"}, name="电动骨锯")
    item = next(e for e in confirmed["subcatalogue_evidence"] if e.get("category2_code") == "04-09-01"
                and e["fda"]["product_code"] == "DZH")
    assert item["link"] == "reviewer" and item["weight"] == evidence.W_CONFIRMED
    assert "confirmed by a reviewer" in item["why"]
    rejected = run(index, links={("04-09-01", "DZH"): "rejected"}, name="电动骨锯")
    assert not any(e.get("category2_code") == "04-09-01" and e["fda"]["product_code"] == "DZH"
                   for e in rejected["subcatalogue_evidence"] if e["source"] == "fda_product_code")


def test_rank_weights_and_agreement():
    items = [{"subcatalogue_code": "13", "source": "naming_term", "weight": 0.6},
             {"subcatalogue_code": "13", "source": "subcatalogue_name", "weight": 0.3},
             {"subcatalogue_code": "06", "source": "subcatalogue_name", "weight": 0.3},
             {"subcatalogue_code": None, "source": "fda_product_code", "weight": 0.0}]
    ranked = evidence.rank(items, {"06": 5})
    assert [(c["code"], c["score"], c["confidence"], c["rows_in_catalogue"]) for c in ranked] == [
        ("13", 0.7, "medium", 0), ("06", 0.3, "low", 5)]


def test_mri_trace_says_which_data_is_missing(index):
    d = run(index, name="医用磁共振成像系统", structure="active", contact="contact",
            use_form="diagnosis_monitoring", harm_if_out_of_control="moderate")
    assert d["status"] == "undetermined" and d["management_class"] is None
    assert d["subcatalogue_candidates"][0]["code"] == "06"
    notes = " ".join(d["notes"])
    assert engine.NO_FIXING_RULE in d["notes"] and engine.TABLE_MISSING in d["notes"]
    assert "best: 0.18 (01-01-02)" in notes
    assert "Sub-catalogue 06 医用成像器械" in notes and "has no rows in catalogue version" in notes
