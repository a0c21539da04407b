"""The classification engine (pure): a small interpreter over the rules in ``engine_rules.json``.

Input: the device description as a plain dict (see ``schemas.DeviceDescription``) and the catalogue
matches found for its free text. Output: the management class, the trace (every rule that fired, its
article, why, which one decided), the catalogue matches, which source decided and how sure it is.

Where several rules give a class, the highest wins (令第15号 第六条（一）). A floor rule (``at_least``)
alone gives a lower bound only: the 分类判定表 annexed to Order 15, which maps use form and use state to a
class, is not in the data medreg holds, so the base class comes from a catalogue row or a rule that fixes
the class, never from a table typed from memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from medreg.catalog.catalogue import CLASS_RANK
from medreg.catalog.ruleset import Rule, RuleSet
from medreg.catalog.search import Hit
from medreg.core.said import _, english, fields, said

DETERMINING = ("exactly", "same_as_field", "max_of_field", "catalogue")
FLOORS = ("at_least", "at_least_field")
SOURCE_ORDER = {"rule_article": 0, "guideline": 1, "catalogue": 2}
STRONG_MATCH, USABLE_MATCH = 0.95, 0.2  # below 0.6 a match is a low-confidence guess
NO_FIXING_RULE = _("No rule that fixes a class applies to the facts given (令第15号 第六条 and the "
                   "guidelines held).")
NO_USABLE_ROW = _("No catalogue row matches well enough to give a class (a row needs a match score of at "
                 "least 0.20; best: {best}).")
TABLE_MISSING = _("The 分类判定表 (annex of 令第15号) is not in medreg's data: the use form and use state of "
                 "Art.5 are recorded but cannot give a class by themselves.")
# the catalogue fields a match is found on (search.WEIGHTS), as said in the trace
MATCHED_FIELD = {"name": _("category name"), "example": _("product name examples (品名举例)"),
                 "category1": _("level-1 product category"), "intended_use": _("intended use"),
                 "description": _("description"), "code": _("code")}
CODE_GIVEN = _("code given {score} on {field} '{text}'")
TEXT_MATCH = _("text match {score} on {field} '{text}'")
NO_ROW_AT_ALL = _("No catalogue row matches well enough to give a class (a row needs a match score of at "
                  "least 0.20; no row matched).")


@dataclass
class Candidate:
    rule: str
    source: str
    article: str
    kind: str
    cls: str
    why: dict  # said(msgid, **params)
    text_zh: str = ""
    confidence: str = "high"


@dataclass
class Determination:
    management_class: str | None
    status: str  # determined | lower_bound | undetermined | not_medical_device | out_of_scope
    decided_by: dict | None
    trace: list[dict] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)
    facts: list[dict] = field(default_factory=list)
    catalogue_matches: list[dict] = field(default_factory=list)
    subcatalogue_evidence: list[dict] = field(default_factory=list)
    subcatalogue_candidates: list[dict] = field(default_factory=list)
    rule_sets: list[dict] = field(default_factory=list)
    notes_said: list[dict] = field(default_factory=list)  # said(msgid, **params), translated at display
    rules_sha256: str = ""

    def to_dict(self) -> dict:
        """``notes`` (English text) next to ``notes_i18n`` (msgid and params of each)."""
        out = dict(self.__dict__)
        out["notes_i18n"] = out.pop("notes_said")
        out["notes"] = [english(n) for n in out["notes_i18n"]]
        return out


def _get(facts: dict, path: str):
    value = facts
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def holds(cond: dict, facts: dict) -> bool:
    """Evaluate one condition of the rule language (all / any / not / field tests)."""
    if "all" in cond:
        return all(holds(c, facts) for c in cond["all"])
    if "any" in cond:
        return any(holds(c, facts) for c in cond["any"])
    if "not" in cond:
        return not holds(cond["not"], facts)
    value = _get(facts, cond["field"])
    if "eq" in cond:
        return value == cond["eq"]
    if "in" in cond:
        values = value if isinstance(value, list | tuple | set) else [value]
        return any(v in cond["in"] for v in values)
    if "is_set" in cond:
        return (value not in (None, "", [], ())) == cond["is_set"]
    if "truthy" in cond:
        return bool(value) == cond["truthy"]
    if "contains" in cond:
        return isinstance(value, str) and cond["contains"] in value
    raise ValueError(f"unknown condition {cond}")


def duration_band(hours: float) -> str:
    """令第15号 第三条（八）: 暂时 < 24 h; 短期 24 h (incl.) to < 30 days; 长期 >= 30 days."""
    if hours < 24:
        return "transient"
    return "short" if hours < 30 * 24 else "long"


def derive_facts(facts: dict) -> tuple[dict, list[dict]]:
    """Facts the definitions of Art.3 give (recorded in the trace as facts, not as class rules)."""
    out, derived = dict(facts), []
    if out.get("duration_hours") is not None and not out.get("duration"):
        out["duration"] = duration_band(float(out["duration_hours"]))
        derived.append({"fact": "duration", "value": out["duration"], "article": "令第15号 第三条（八）",
                        **fields(said(_("continuous use of {hours} h"), hours=out["duration_hours"]))})
    if out.get("use_form") == "implant" or (out.get("use_form") == "invasive" and (
            out.get("duration") == "long" or out.get("absorbable"))):
        derived.append({"fact": "implant", "value": True, "article": "令第15号 第三条（六）",
                        **fields(said(_("stays in the body 30 days or more after the procedure, or is "
                                        "absorbed")))})
    return out, derived


def _fire(rule: Rule, facts: dict) -> Candidate | None:
    kind = rule.effect["kind"]
    if kind in ("exactly", "at_least"):
        cls = rule.effect["class"]
    elif kind in ("same_as_field", "at_least_field"):
        cls = _get(facts, rule.effect["field"])
    elif kind == "max_of_field":
        values = [v for v in _get(facts, rule.effect["field"]) or [] if v in CLASS_RANK]
        cls = max(values, key=CLASS_RANK.__getitem__) if values else None
    else:
        cls = ""
    if cls is None or (cls and cls not in CLASS_RANK):
        return None
    confidence = "medium" if rule.source == "guideline" else "high"  # No.47 is a secondary transcription
    return Candidate(rule.id, rule.source, rule.article, kind, cls, said(rule.why), rule.text_zh,
                     confidence)


def _catalogue_candidates(hits: list[Hit], code_given: bool) -> tuple[list[Candidate], list[dict]]:
    """The best catalogue rows as candidates; rows tied at the top with different classes all count
    (a device fitting several categories takes the highest, 令第15号 第六条（一）)."""
    if not hits or hits[0].score < USABLE_MATCH:
        return [], []
    top = [h for h in hits if hits[0].score - h.score <= 0.05]
    notes = []
    if len({h.entry.management_class for h in top}) > 1:
        notes.append(said(_("Several catalogue rows match equally well with different classes; the highest "
                            "is taken (令第15号 第六条（一）).")))
    out = []
    for h in top:
        conf = "high" if code_given or h.score >= STRONG_MATCH else ("medium" if h.score >= 0.8 else "low")
        out.append(Candidate(f"catalogue:{h.entry.key}", "catalogue",
                             f"医疗器械分类目录 {h.entry.category2_code} {h.entry.category2_name}",
                             "catalogue",
                             h.entry.management_class,
                             said(CODE_GIVEN if code_given else TEXT_MATCH, score=f"{h.score:.2f}",
                                  field=said(MATCHED_FIELD.get(h.field, h.field)), text=h.text),
                             h.entry.intended_use, conf))
    return out, notes


def _pick(cands: list[Candidate]) -> Candidate:
    top = max(CLASS_RANK[c.cls] for c in cands)
    best = [c for c in cands if CLASS_RANK[c.cls] == top]
    return sorted(best, key=lambda c: (c.kind in FLOORS, SOURCE_ORDER[c.source]))[0]


def _rule_sets(rules: RuleSet, facts: dict, fired: list[Candidate]) -> list[dict]:
    """Each rule set, whether the device is in its scope, and which of its rules fired."""
    out = []
    for s in rules.sets:
        in_scope = s.scope is None or holds(s.scope, facts)
        out.append({"id": s.id, "title": s.title, "source_document": s.source_document,
                    "source_held": s.source_held, "in_scope": in_scope, "rules": len(s.rule_ids),
                    "fired": [c.rule for c in fired if c.rule in s.rule_ids], "gap": s.gap})
    return out


def _trace_row(rule: str, rule_set: str, source: str, article: str, effect: str, cls: str | None, why: dict,
               text_zh: str = "", decisive: bool = False, subcatalogue: str | None = None) -> dict:
    """``why``: said(msgid, **params); the row has the English ``why``, ``why_msgid`` and ``why_params``."""
    return {"rule": rule, "rule_set": rule_set, "source": source, "article": article, "effect": effect,
            "class": cls or None, **fields(why), "text_zh": text_zh, "decisive": decisive,
            "subcatalogue_code": subcatalogue}


def determine(facts: dict, rules: RuleSet, hits: list[Hit], *, code_given: bool = False,
              evidence: list[dict] | None = None, subcatalogues: list[dict] | None = None,
              missing: list[str] | None = None) -> Determination:
    """``evidence``: items pointing to a sub-catalogue (``catalog.evidence``), ``subcatalogues`` their
    ranking, ``missing``: what the catalogue lacks for this device (said in the notes when undecided)."""
    facts, derived = derive_facts(facts)
    fired = [c for r in rules.rules if holds(r.when, facts) and (c := _fire(r, facts)) is not None]
    set_of = {r.id: r.rule_set for r in rules.rules}
    cat, notes = _catalogue_candidates(hits, code_given)
    result = Determination(None, "undetermined", None, facts=derived, rules_sha256=rules.sha256,
                           catalogue_matches=[_match(h) for h in hits], subcatalogue_evidence=evidence or [],
                           subcatalogue_candidates=subcatalogues or [], notes_said=notes,
                           rule_sets=_rule_sets(rules, facts, fired))
    kinds = {c.kind for c in fired}
    deferred = "defer_to_catalogue" in kinds
    candidates = [c for c in fired if c.cls] + cat
    decider: Candidate | None = None
    if "not_device" in kinds:
        result.status = "not_medical_device"
        decider = next(c for c in fired if c.kind == "not_device")
    elif "out_of_scope" in kinds:
        result.status = "out_of_scope"
        decider = next(c for c in fired if c.kind == "out_of_scope")
    elif candidates:
        decider = _pick(candidates)
        result.management_class = decider.cls
        determining = [c for c in candidates if c.kind in DETERMINING]
        result.status = "determined" if determining else "lower_bound"
        if not determining:
            decider.confidence = "low"
            notes.append(said(_("Only rules that set a minimum class fired: the class is a lower bound.")))
        classes = {c.cls for c in determining}
        if len(classes) > 1:
            result.conflicts.append({"rules": [c.rule for c in determining],
                                     "classes": sorted(classes, key=CLASS_RANK.__getitem__),
                                     "resolution": _("the highest class wins (令第15号 第六条（一）)")})
    if deferred and not cat:
        notes.append(said(_("AI-B3 defers to the catalogue (sub-catalogue 21), but no catalogue row "
                            "matched.")))
    if result.status in ("undetermined", "lower_bound"):
        if not [c for c in fired if c.kind in DETERMINING]:
            notes.append(said(NO_FIXING_RULE))
        notes.append(said(TABLE_MISSING))
        if not cat:
            notes.append(said(NO_USABLE_ROW, best=f"{hits[0].score:.2f} ({hits[0].entry.category2_code})")
                         if hits else said(NO_ROW_AT_ALL))
        notes.extend(missing or [])
    if facts.get("animal_or_biological_material"):
        notes.append(said(_("Contains animal or biological material: no article in the texts medreg holds "
                            "fixes a class for it; check the catalogue and the determination documents.")))
    for c in [*fired, *cat]:
        result.trace.append(_trace_row(c.rule, set_of.get(c.rule, "catalogue"), c.source, c.article, c.kind,
                                       c.cls, c.why, c.text_zh, c is decider,
                                       c.rule.split(":")[1][:2] if c.source == "catalogue" else None))
    for s in result.rule_sets:
        if s["in_scope"] and s["gap"] and not s["fired"]:
            result.trace.append(_trace_row(s["id"], s["id"], "rule_set", s["source_document"], "no_rule",
                                           None, said(s["gap"])))
    for e in evidence or []:
        if e["source"] != "catalogue":
            result.trace.append(_trace_row(f"evidence:{e['source']}:{e['ref']}", "evidence", e["source"],
                                           e["article"], "subcatalogue_evidence", None,
                                           said(_("{why} (weight {weight})"),
                                                why=said(e["why_msgid"], **e["why_params"]),
                                                weight=f"{e['weight']:.2f}"),
                                           subcatalogue=e["subcatalogue_code"]))
    if decider is not None:
        result.decided_by = {"rule": decider.rule, "source": decider.source, "article": decider.article,
                             "confidence": decider.confidence}
    return result


def _match(h: Hit) -> dict:
    e = h.entry
    return {"code": e.category2_code, "key": e.key, "name": e.category2_name,
            "subcatalogue_code": e.subcatalogue_code, "management_class": e.management_class,
            "score": h.score, "matched_field": h.field, "matched_text": h.text, "highlight": h.highlight}
