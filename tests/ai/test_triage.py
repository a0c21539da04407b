"""Change triage: one case per rule of src/medreg/data/ai-change-rules/rules.json, the risk-from-high
combination, coverage of every change kind, and the evidence derived from a version comparison."""

from __future__ import annotations

import copy
import itertools
import json
from importlib import resources

import pytest

from medreg.ai.comparison import compare_versions
from medreg.ai.triage import evidence_from_comparison, parse_rules, triage
from medreg.ai.triage_data import default_rules

RULES = default_rules()
BETTER = {"significant_difference": True, "direction": "better"}
WORSE = {"significant_difference": True, "direction": "worse"}
SAME = {"significant_difference": False}


@pytest.mark.parametrize(("rule", "changes", "evidence", "outcome"), [
    ("R01", ["management_class"], {}, "new_registration"),
    ("R02", ["intended_use_category"], {}, "new_registration"),
    ("R03", ["redevelopment"], {}, "new_registration"),
    ("R04", ["intended_use"], {}, "change_registration"),
    ("R04", ["use_scenario"], {}, "change_registration"),
    ("R04", ["core_function"], {}, "change_registration"),
    ("R05", ["algorithm"], BETTER, "change_registration"),
    ("R05", ["retraining"], {}, "change_registration"),
    ("R05", ["input_output"], {}, "change_registration"),
    ("R05", ["framework"], {}, "change_registration"),
    ("R06", ["hyperparameters"], {}, "change_registration"),
    ("R07", ["platform_incompatible"], {}, "change_registration"),
    ("R07", ["platform_incompatible"], {"platform_equivalent": False}, "change_registration"),
    ("R08", ["platform_incompatible"], {"platform_equivalent": True}, "simplified_change"),
    ("R09", ["training_data_added"], BETTER, "simplified_change"),
    ("R09", ["training_data_added", "defect_fix"], BETTER, "simplified_change"),
    ("R10", ["training_data_added"], WORSE, "change_registration"),
    ("R11", ["training_data_added"], {}, "change_registration"),
    ("R12", ["training_data_added"], SAME, "qms_control"),
    ("R13", ["defect_fix"], {}, "qms_control"),
    ("R13", ["efficiency_only", "ui_text", "platform_compatible"], {}, "qms_control"),
])
def test_each_rule_decides_its_case(rule, changes, evidence, outcome):
    d = triage(changes, evidence, RULES)
    assert d.outcome.id == outcome
    assert rule in [r.id for r in d.decided_by]
    body = d.to_dict()
    assert body["fired"] and all(f["source"] and f["quote"] for f in body["fired"])
    assert body["outcome_zh"]


def test_core_algorithm_changed_is_not_a_simplified_optimisation():
    d = triage(["training_data_added", "algorithm"], BETTER, RULES)
    assert d.outcome.id == "change_registration"
    assert "R09" not in [r.id for r in d.fired] and "R05" in [r.id for r in d.decided_by]


def test_risk_from_high_takes_the_highest_outcome_and_keeps_every_fired_rule():
    changes = ["defect_fix", "platform_incompatible", "management_class"]
    d = triage(changes, {"platform_equivalent": True}, RULES)
    assert d.outcome.id == "new_registration"
    assert {r.id for r in d.fired} == {"R01", "R08", "R13"}
    assert [r.id for r in d.decided_by] == ["R01"]


EVIDENCES = [{}, BETTER, WORSE, SAME, {"platform_equivalent": True}, {"platform_equivalent": False}]


@pytest.mark.parametrize("kind", sorted(RULES.change_kinds))
def test_every_change_kind_is_decided_under_any_evidence(kind):
    for ev in EVIDENCES:
        assert triage([kind], ev, RULES).decided_by


def test_pairs_of_kinds_never_decide_lower_than_either_alone():
    rank = {k: v.rank for k, v in RULES.outcomes.items()}
    for a, b in itertools.combinations(sorted(RULES.change_kinds), 2):
        for ev in (BETTER, SAME, {}):
            def r(kinds, ev=ev):
                return rank[triage(kinds, ev, RULES).outcome.id]

            assert r([a, b]) >= max(r([a]), r([b]))


def test_bad_descriptions_are_refused():
    with pytest.raises(ValueError, match="unknown change kind"):
        triage(["teleportation"], {}, RULES)
    with pytest.raises(ValueError, match="at least one change"):
        triage([], {}, RULES)
    with pytest.raises(ValueError, match="direction"):
        triage(["training_data_added"], {"significant_difference": True}, RULES)
    with pytest.raises(ValueError, match="evidence"):
        triage(["training_data_added"], {"significant_difference": "maybe"}, RULES)


def test_rule_set_is_checked_when_parsed():
    raw = json.loads(resources.files("medreg").joinpath("data/ai-change-rules/rules.json").read_text("utf-8"))
    bad = copy.deepcopy(raw)
    bad["rules"][0]["outcome"] = "approve_everything"
    with pytest.raises(ValueError, match="unknown outcome"):
        parse_rules(bad)
    bad = copy.deepcopy(raw)
    bad["rules"][0]["when"] = {"changes_any": ["nope"]}
    with pytest.raises(ValueError, match="unknown change kind"):
        parse_rules(bad)
    bad = copy.deepcopy(raw)
    bad["rules"].append(bad["rules"][0])
    with pytest.raises(ValueError, match="twice"):
        parse_rules(bad)


def test_every_rule_cites_a_source_and_quotes_it():
    for r in RULES.rules:
        assert r.source and r.quote and r.en and r.fda


def test_evidence_from_a_version_comparison(asah):
    y = asah["y"]
    better = compare_versions(y, asah["s100b"] / 2.1, (asah["wfns"] - 1) / 4, threshold=0.2)
    assert evidence_from_comparison(better)["significant_difference"] is True
    same = compare_versions(y, asah["s100b"] / 2.1, asah["s100b"] / 2.1, threshold=0.2)
    assert evidence_from_comparison(same) == {"significant_difference": False}
    worse = compare_versions(y, (asah["wfns"] - 1) / 4, asah["s100b"] / 2.1, threshold=0.2)
    assert evidence_from_comparison(worse)["direction"] == "worse"
