"""The classification engine: every rule fires on its own input, conflicts, AI rules, catalogue source.

The 分类判定表 is not in the data, so there are no table cells to test; Art.6 principles and the No.47
rules are tested one by one, and the engine must say when it only has a lower bound.
"""

from __future__ import annotations

import pytest

from medreg.catalog import catalogue, classify, engine, ruleset, search
from medreg.catalog.schemas import DeviceDescription

AI_DEVICE = {"ai": True, "device_data": True, "core_function_processing": True, "medical_purpose": True}


@pytest.fixture(scope="module")
def index() -> search.Index:
    return search.Index(catalogue.shipped_entries())


def run(index, **facts) -> dict:
    return classify.classify(index, DeviceDescription(**facts).model_dump()).to_dict()


def fired(d: dict) -> list[str]:
    return [t["rule"] for t in d["trace"]]


@pytest.mark.parametrize(("facts", "rule", "cls", "status"), [
    ({"kit_component_classes": ["I", "III", "II"]}, "O15-6-1-kit", "III", "determined"),
    ({"accessory_of_class": "III", "accessory_important_effect": True}, "O15-6-2", "III", "lower_bound"),
    ({"monitors_device_class": "II"}, "O15-6-3", "II", "determined"),
    ({"drug_device_combination_device_primary": True}, "O15-6-4", "III", "determined"),
    ({"absorbable": True}, "O15-6-5", "III", "determined"),
    ({"structure": "active", "contact": "contact", "effect_on_outcome": "important"}, "O15-6-6", "III",
     "determined"),
    ({"use_form": "dressing", "dressing_features": ["chronic_wound"]}, "O15-6-7", "III", "determined"),
    ({"sterile": True}, "O15-6-8", "II", "lower_bound"),
    ({"active_force_orthosis": True}, "O15-6-9", "II", "lower_bound"),
    ({"measuring": True}, "O15-6-10", "II", "lower_bound"),
    ({"treats_disease": True}, "O15-6-11", "II", "lower_bound"),
    ({"structure": "passive", "use_form": "reusable_surgical", "endoscopic": True}, "O15-6-12", "II",
     "determined"),
])
def test_each_order15_article6_rule(index, facts, rule, cls, status):
    d = run(index, **facts)
    assert fired(d) == [rule]
    assert (d["management_class"], d["status"], d["decided_by"]["rule"]) == (cls, status, rule)
    assert d["trace"][0]["decisive"] and d["trace"][0]["article"].startswith("令第15号 第六条")
    # the Chinese text is the principle's text from classification_principles.csv
    item = int(rule.split("-")[2])
    assert d["trace"][0]["text_zh"].startswith(ruleset.principles()[item]["condition_zh"])
    if status == "lower_bound":
        assert d["decided_by"]["confidence"] == "low" and engine.TABLE_MISSING in d["notes"]


@pytest.mark.parametrize("facts", [
    {"accessory_of_class": "III"},  # accessory without an important effect on the parent
    {"structure": "active", "contact": "non_contact", "effect_on_outcome": "important"},
    {"structure": "passive", "use_form": "reusable_surgical", "endoscopic": False},
    {"use_form": "dressing"},
    {"structure": "active", "use_form": "reusable_surgical", "endoscopic": True},
])
def test_rules_do_not_fire_outside_their_conditions(index, facts):
    d = run(index, **facts)
    assert d["trace"] == [] and d["management_class"] is None and d["status"] == "undetermined"
    assert engine.TABLE_MISSING in d["notes"]


def test_conflict_highest_class_wins_and_is_reported(index):
    d = run(index, absorbable=True, structure="passive", use_form="reusable_surgical", endoscopic=True)
    assert set(fired(d)) == {"O15-6-5", "O15-6-12"}
    assert d["management_class"] == "III" and d["decided_by"]["rule"] == "O15-6-5"
    assert d["conflicts"] == [{"rules": ["O15-6-5", "O15-6-12"], "classes": ["II", "III"],
                               "resolution": "the highest class wins (令第15号 第六条（一）)"}]


def test_floor_raises_a_lower_catalogue_class(index):
    # 04-09-01 骨锯 has a class I row; supplied sterile (Art.6(8)) lifts it to at least II
    d = run(index, catalogue_code="04-09-01", sterile=True)
    classes = {t["class"] for t in d["trace"] if t["source"] == "catalogue"}
    assert "I" in classes or "II" in classes
    assert d["management_class"] in ("II", "III") and d["status"] == "determined"


def test_exact_example_name_is_decided_by_its_catalogue_row(index):
    d = run(index, name="超声骨组织手术系统")
    assert d["management_class"] == "III" and d["decided_by"]["source"] == "catalogue"
    assert d["decided_by"]["confidence"] == "high" and d["catalogue_matches"][0]["code"] == "01-01-01"


def test_ai_software_rules(index):
    b1 = run(index, software={**AI_DEVICE, "algorithm_maturity": "low", "decision_support": True})
    b2 = run(index, software={**AI_DEVICE, "algorithm_maturity": "low", "decision_support": False})
    b3 = run(index, software={**AI_DEVICE, "algorithm_maturity": "high", "decision_support": True})
    a2 = run(index, software={**AI_DEVICE, "device_data": False, "decision_support": True})
    assert (b1["management_class"], fired(b1)) == ("III", ["AI-B1"])
    assert (b2["management_class"], fired(b2)) == ("II", ["AI-B2"])
    assert b3["management_class"] is None and fired(b3) == ["AI-B3"]
    assert any("AI-B3 defers to the catalogue" in n for n in b3["notes"])
    assert a2["status"] == "not_medical_device" and a2["management_class"] is None
    assert b1["decided_by"]["confidence"] == "medium"  # No.47 is read from a secondary transcription


def test_not_device_wins_over_class_rules_and_ivd_reagents_are_out_of_scope(index):
    d = run(index, sterile=True, software={**AI_DEVICE, "medical_purpose": False})
    assert d["status"] == "not_medical_device" and d["decided_by"]["rule"] == "AI-A2"
    assert run(index, ivd_reagent=True)["status"] == "out_of_scope"


def test_duration_band_and_implant_facts():
    assert [engine.duration_band(h) for h in (0, 23.9, 24, 719.9, 720)] == [
        "transient", "transient", "short", "short", "long"]
    facts, derived = engine.derive_facts({"use_form": "invasive", "duration_hours": 800})
    assert facts["duration"] == "long" and [f["fact"] for f in derived] == ["duration", "implant"]


def test_rule_texts_are_quoted_from_the_transcribed_documents():
    ai_md = ruleset.rules_text("ai_software_classification.md")
    order15 = ruleset.rules_text("classification_rules.md")
    for rule in ruleset.engine_rules().rules:
        source = ai_md if rule.id.startswith("AI-") else order15
        if not rule.id.startswith("O15-6"):
            assert rule.text_zh in source, rule.id


def test_interpreter_rejects_an_unknown_condition():
    with pytest.raises(ValueError):
        engine.holds({"field": "x", "between": [1, 2]}, {})


def test_naming_terms_point_to_a_subcatalogue(index):
    d = run(index, name="聚醚醚酮带线锚钉")
    item = next(e for e in d["subcatalogue_evidence"] if e["source"] == "naming_term")
    assert (item["subcatalogue_code"], item["why"]) == (
        "13", "core word '锚钉' of the 无源植入器械 naming guideline")
    # ... and it is in the trace, explained, pointing to 13, deciding nothing
    row = next(t for t in d["trace"] if t["rule"] == "evidence:naming_term:锚钉")
    assert (row["effect"], row["subcatalogue_code"], row["class"], row["decisive"]) == (
        "subcatalogue_evidence", "13", None, False)
    assert "无源植入器械" in row["article"] and "weight 0.60" in row["why"]
    assert d["subcatalogue_candidates"][0] == {
        "code": "13", "name": "无源植入器械", "score": 0.6, "confidence": "medium",
        "sources": ["naming_term"], "rows_in_catalogue": 0}


def test_api_determine_matches_cli_json(client, tmp_path):
    from typer.testing import CliRunner

    from medreg.cli import app
    from tests.web.conftest import csrf_of

    body = {"name": "超声骨组织手术系统", "sterile": True}
    r = client.post("/api/v1/classification/determine", json=body, headers={"X-CSRF-Token": csrf_of(client)})
    assert r.status_code == 200
    f = tmp_path / "d.json"
    f.write_text('{"name": "超声骨组织手术系统", "sterile": true}', encoding="utf-8")
    out = CliRunner().invoke(app, ["classify", str(f), "--json"])
    assert out.exit_code == 0, out.output
    import json

    cli_body = json.loads(out.output)
    assert {k: v for k, v in cli_body.items() if k != "catalogue_version"} == {
        k: v for k, v in r.json().items() if k != "catalogue_version"}
    assert r.json()["management_class"] == "III"


def test_api_bad_input_is_422_with_field(client):
    from tests.web.conftest import csrf_of

    r = client.post("/api/v1/classification/determine", json={"structure": "wood"},
                    headers={"X-CSRF-Token": csrf_of(client)})
    assert r.status_code == 422 and r.json()["field"] == "structure"
    r = client.post("/api/v1/classification/determine", json={"colour": "red"},
                    headers={"X-CSRF-Token": csrf_of(client)})
    assert r.status_code == 422 and r.json()["field"] == "colour"


def test_nothing_to_classify_is_422(client):
    from tests.web.conftest import csrf_of

    r = client.post("/api/v1/classification/determine", json={}, headers={"X-CSRF-Token": csrf_of(client)})
    assert r.status_code == 422 and r.json()["field"] == "name"
