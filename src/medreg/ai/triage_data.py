"""Loads the change-triage rule set shipped with medreg (``medreg/data/ai-change-rules/rules.json``)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from medreg.ai.triage import RuleSet, parse_rules


@cache
def default_rules() -> RuleSet:
    text = resources.files("medreg").joinpath("data/ai-change-rules/rules.json").read_text(encoding="utf-8")
    return parse_rules(json.loads(text))
