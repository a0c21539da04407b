"""The rule data the engine and the name checker read (pure: package data in, plain tuples out).

- ``nmpa-rules/engine_rules.json``: classification rules as data (conditions, effects, article cited),
  grouped in rule sets (Order 15; the AI guideline No.47; the No.63 categories medical robots and large
  models, which hold no rule yet and say so); the Chinese text of an Order 15 Art.6 rule is joined from
  ``classification_principles.csv``.
- ``nmpa-rules/naming_terms.csv``: the 913 core/feature words of the domain naming guidelines.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files


def _read(name: str) -> bytes:
    return (files("medreg") / "data" / "nmpa-rules" / name).read_bytes()


@dataclass(frozen=True)
class Rule:
    id: str
    source: str  # rule_article | guideline
    article: str
    text_zh: str
    when: dict
    effect: dict
    why: str
    rule_set: str = ""


@dataclass(frozen=True)
class RuleSetInfo:
    """One group of rules: a source document or a category of No.63 (medical robots, large models)."""

    id: str
    title: str
    source_document: str
    source_held: str  # full | secondary | no
    scope: dict | None  # None: every device
    gap: str  # said in the trace when the set is in scope but none of its rules applies
    rule_ids: tuple[str, ...]


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    sha256: str
    sets: tuple[RuleSetInfo, ...] = ()


@lru_cache
def principles() -> dict[int, dict]:
    rows = csv.DictReader(io.StringIO(_read("classification_principles.csv").decode("utf-8")))
    return {int(r["item"]): r for r in rows}


def parse_rules(raw: bytes) -> RuleSet:
    data = json.loads(raw.decode("utf-8"))
    rules, sets = [], []
    for s in data["rule_sets"]:
        for r in s["rules"]:
            text = r.get("text_zh", "")
            if "principle_item" in r:
                p = principles()[int(r["principle_item"])]
                text = f"{p['condition_zh']}：{p['effect_zh']}"
            rules.append(Rule(r["id"], r["source"], r["article"], text, r["when"], r["effect"], r["why"],
                              s["id"]))
        sets.append(RuleSetInfo(s["id"], s["title"], s["source_document"], s["source_held"], s.get("scope"),
                                s.get("gap", ""), tuple(r["id"] for r in s["rules"])))
    return RuleSet(tuple(rules), hashlib.sha256(raw).hexdigest(), tuple(sets))


@lru_cache
def engine_rules() -> RuleSet:
    return parse_rules(_read("engine_rules.json"))


@dataclass(frozen=True)
class Term:
    term: str  # as written in a name: "（缺省）" markers removed
    kind: str  # core | feature
    feature_kind: str  # 使用部位, 结构特点, ... ("" for core words)
    domain: str  # the guideline's domain, e.g. 有源手术器械
    product_category: str
    meaning: str
    default: bool  # (缺省): not written in a name


_FEATURE_KIND = re.compile(r"特征词\s*\d*\s*[-—–－]?\s*(.*)")


@lru_cache
def naming_terms() -> tuple[Term, ...]:
    out = []
    for r in csv.DictReader(io.StringIO(_read("naming_terms.csv").decode("utf-8"))):
        default = "缺省" in r["term"]
        term = re.sub(r"[（(]可?缺省[)）]", "", r["term"]).strip()
        m = _FEATURE_KIND.match(r["term_type_raw"].strip())
        kind = m.group(1).strip() if (m and r["kind"] == "feature") else ""
        # "肺结节、结肠等（特定部位）": a list of examples of one kind -> one term per example
        listed = "、" in term or "等（" in term
        words = re.sub(r"等?[（(][^）)]*[)）]$", "", term).split("、") if listed else [term]
        for w in (w.strip() for w in words):
            if w and not w.startswith(("（", "(")):
                out.append(Term(w, r["kind"], kind, r["domain"], r["product_category"], r["meaning"],
                                default))
    return tuple(out)


def rules_text(name: str) -> str:
    """The text of one of the transcribed documents (classification_rules.md, naming_rules.md, …)."""
    return _read(name).decode("utf-8")
