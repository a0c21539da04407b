"""Change triage for AI medical devices: a pure interpreter of the rule set shipped as data in
``medreg/data/ai-change-rules/rules.json`` (sources in its SOURCE.md).

A change is described by the kinds of change it makes (``change_kinds`` of the rule set) and the evidence
at hand (``significant_difference``: did the performance on the evaluation database change with
statistical significance; ``direction``: ``"better"`` or ``"worse"``; ``platform_equivalent``: was platform
equivalence shown). Each rule's ``when`` holds conditions that must all be true:

* ``changes_any``: at least one of these kinds is part of the change;
* ``changes_none``: none of these kinds is part of the change;
* ``evidence``: each named evidence item is given and has this value;
* ``evidence_not``: no named evidence item has this value (missing counts as "not");
* ``evidence_missing``: these evidence items are not given.

Every rule that matches is reported; the decision is the outcome of highest rank among them (the
"risk from high" principle, 风险从高原则, of the 2022 software guideline), and the rules that reached that
rank are the ones that decided.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

CONDITIONS = ("changes_any", "changes_none", "evidence", "evidence_not", "evidence_missing")
EVIDENCE = {"significant_difference": (True, False), "direction": ("better", "worse"),
            "platform_equivalent": (True, False)}


@dataclass(frozen=True)
class Outcome:
    id: str
    rank: int
    en: str
    zh: str


@dataclass(frozen=True)
class Rule:
    id: str
    outcome: str
    when: Mapping
    source: str
    quote: str
    en: str
    fda: str

    def to_dict(self) -> dict:
        return {"rule": self.id, "outcome": self.outcome, "source": self.source, "quote": self.quote,
                "explanation": self.en, "fda_pccp_comparison": self.fda}


@dataclass(frozen=True)
class RuleSet:
    version: str
    outcomes: Mapping[str, Outcome]
    change_kinds: Mapping[str, Mapping[str, str]]
    rules: tuple[Rule, ...]
    combination_source: str = ""


def parse_rules(data: Mapping) -> RuleSet:
    """Check and freeze the rule set read from JSON (unknown outcomes, kinds or conditions raise)."""
    outcomes = {o["id"]: Outcome(o["id"], int(o["rank"]), o["en"], o["zh"]) for o in data["outcomes"]}
    kinds = {k["id"]: {"en": k["en"], "zh": k["zh"]} for k in data["change_kinds"]}
    rules, seen = [], set()
    for r in data["rules"]:
        if r["id"] in seen:
            raise ValueError(f"rule {r['id']} appears twice")
        seen.add(r["id"])
        if r["outcome"] not in outcomes:
            raise ValueError(f"rule {r['id']}: unknown outcome {r['outcome']!r}")
        for cond, arg in r["when"].items():
            if cond not in CONDITIONS:
                raise ValueError(f"rule {r['id']}: unknown condition {cond!r}")
            if cond.startswith("changes_") and not set(arg) <= set(kinds):
                raise ValueError(f"rule {r['id']}: unknown change kind in {cond}")
            if cond in ("evidence", "evidence_not"):
                for key, value in arg.items():
                    if key not in EVIDENCE or value not in EVIDENCE[key]:
                        raise ValueError(f"rule {r['id']}: bad evidence {key}={value!r}")
        rules.append(Rule(r["id"], r["outcome"], dict(r["when"]), r["source"], r["quote"], r["en"], r["fda"]))
    return RuleSet(str(data["version"]), outcomes, kinds, tuple(rules), data.get("combination_source", ""))


def _matches(when: Mapping, changes: frozenset[str], evidence: Mapping) -> bool:
    if "changes_any" in when and not changes & set(when["changes_any"]):
        return False
    if "changes_none" in when and changes & set(when["changes_none"]):
        return False
    if any(k not in evidence or evidence[k] != v for k, v in when.get("evidence", {}).items()):
        return False
    if any(evidence.get(k) == v for k, v in when.get("evidence_not", {}).items()):
        return False
    return not any(k in evidence for k in when.get("evidence_missing", ()))


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    decided_by: tuple[Rule, ...]
    fired: tuple[Rule, ...]
    changes: tuple[str, ...]
    evidence: Mapping = field(default_factory=dict)
    rules_version: str = ""

    def to_dict(self) -> dict:
        return {"outcome": self.outcome.id, "outcome_en": self.outcome.en, "outcome_zh": self.outcome.zh,
                "decided_by": [r.id for r in self.decided_by], "changes": list(self.changes),
                "evidence": dict(self.evidence), "rules_version": self.rules_version,
                "fired": [r.to_dict() for r in self.fired]}


def check_evidence(evidence: Mapping) -> dict:
    """Only known evidence items with allowed values; a significant difference needs its direction."""
    out = {}
    for key, value in evidence.items():
        if value is None:
            continue
        if key not in EVIDENCE or value not in EVIDENCE[key]:
            raise ValueError(f"evidence {key!r} must be one of {EVIDENCE.get(key, ())}")
        out[key] = value
    if out.get("significant_difference") is True and "direction" not in out:
        raise ValueError("a significant difference needs its direction ('better' or 'worse')")
    return out


def triage(changes: Iterable[str], evidence: Mapping, rules: RuleSet) -> Decision:
    """Decide the registration route of a change and say which rules and evidence decided."""
    kinds = frozenset(changes)
    if not kinds:
        raise ValueError("describe at least one change")
    unknown = sorted(kinds - set(rules.change_kinds))
    if unknown:
        raise ValueError(f"unknown change kind {unknown[0]!r}")
    ev = check_evidence(evidence)
    fired = tuple(r for r in rules.rules if _matches(r.when, kinds, ev))
    if not fired:
        raise ValueError("no rule covers this change")  # the rule-set tests show every kind is covered
    top = max(rules.outcomes[r.outcome].rank for r in fired)
    decided = tuple(r for r in fired if rules.outcomes[r.outcome].rank == top)
    outcome = rules.outcomes[decided[0].outcome]
    return Decision(outcome, decided, fired, tuple(sorted(kinds)), ev, rules.version)


def evidence_from_comparison(comparisons: Iterable, alpha: float = 0.05) -> dict:
    """Evidence from a version comparison (:func:`medreg.ai.comparison.compare_versions`): a significant
    difference when any metric's test has p < alpha; direction ``worse`` when any significant metric fell,
    otherwise ``better`` (the cautious reading)."""
    sig = [c for c in comparisons if c.p_value < alpha]
    if not sig:
        return {"significant_difference": False}
    worse = any(c.b < c.a for c in sig)
    return {"significant_difference": True, "direction": "worse" if worse else "better"}
