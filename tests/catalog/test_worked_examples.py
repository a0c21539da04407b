"""The worked examples of docs/catalog.md stay true: each ``<!-- worked-example: FILE -->`` block is the
summary of what the engine answers for docs/examples/classify/FILE with the shipped catalogue. Change the
engine, the rules or the catalogue and this test says which documented result no longer holds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from medreg.catalog import classify, queries
from medreg.catalog.index import current_index
from medreg.catalog.schemas import DeviceDescription

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "catalog.md"
EXAMPLES = ROOT / "docs" / "examples" / "classify"
BLOCK = re.compile(r"<!-- worked-example: (\S+) -->\n```text\n(.*?)```", re.S)
NAMED = {"surgical_robot.json", "mri_system.json", "ai_lung_nodule_cade.json", "peek_suture_anchor.json"}


def summary(d: dict, name_report: dict) -> str:
    """The documented lines of one determination (the API body's fields, abridged) and of the name check."""
    by = d["decided_by"]
    core = name_report["core_word"]
    rules = [t for t in d["trace"] if t["effect"] != "subcatalogue_evidence"]
    evidence = [t for t in d["trace"] if t["effect"] == "subcatalogue_evidence"]
    lines = [
        f"management_class: {d['management_class'] or '-'}",
        f"status: {d['status']}",
        "decided_by: " + (" | ".join((by["rule"], by["source"], by["article"], by["confidence"]))
                          if by else "-"),
        "trace: " + (" | ".join(("* " if t["decisive"] else "") + f"{t['rule']} {t['effect']} "
                                f"{t['class'] or '-'}" for t in rules) or "-"),
        "rule_sets_in_scope: " + ", ".join(s["id"] for s in d["rule_sets"] if s["in_scope"]),
        "conflicts: " + (" | ".join(", ".join(c["rules"]) for c in d["conflicts"]) or "-"),
        "catalogue_top: " + (" | ".join(f"{m['code']} {m['name']} {m['management_class']} {m['score']:.2f}"
                                        for m in d["catalogue_matches"][:2]) or "-"),
        "evidence: " + (" | ".join(f"{t['rule'].removeprefix('evidence:')} -> {t['subcatalogue_code'] or '-'}"
                                   for t in evidence) or "-"),
        "subcatalogue: " + (" | ".join(f"{c['code']} {c['name']} {c['score']:.2f} {c['confidence']} "
                                       f"({c['rows_in_catalogue']} rows)"
                                       for c in d["subcatalogue_candidates"][:3]) or "-"),
        f"name_check: {name_report['verdict']} | core word {core['term']} "
        f"({'in the naming terms: ' + core['domain'] if core['known'] else 'not in the naming terms'})",
    ]
    return "\n".join(lines) + "\n"


def documented() -> dict[str, str]:
    return dict(BLOCK.findall(DOC.read_text(encoding="utf-8")))


def test_the_four_products_of_the_issue_are_documented():
    assert set(documented()) == NAMED


@pytest.mark.parametrize("name", sorted(NAMED))
def test_documented_result_is_what_the_engine_answers(name):
    facts = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    index = current_index(None)[1]
    body = classify.classify(index, DeviceDescription(**facts).model_dump()).to_dict()
    got = summary(body, queries.check_name(facts["name"]))
    assert got == documented()[name], f"docs/catalog.md, worked example {name}"
