"""Classification of a described device (pure glue): catalogue matches for its free text, naming-term
evidence for the sub-catalogue, then the rule engine. Used by queries (API, CLI) and the accuracy test."""

from __future__ import annotations

from medreg.catalog import catalogue, engine, ruleset, search
from medreg.catalog.engine import Determination

MATCHES_SHOWN = 5


def catalogue_hits(index: search.Index, facts: dict,
                   exclude: frozenset[str] = frozenset()) -> list[search.Hit]:
    """Rows for the given code, else for the name (full weight) and the intended use (x 0.8)."""
    if facts.get("catalogue_code"):
        return search.search(index, facts["catalogue_code"], limit=MATCHES_SHOWN, exclude=exclude)
    best: dict[str, search.Hit] = {}
    for text, weight in ((facts.get("name"), 1.0), (facts.get("intended_use"), 0.8)):
        for h in search.search(index, text or "", limit=MATCHES_SHOWN * 2, exclude=exclude):
            scored = h if weight == 1.0 else search.Hit(h.entry, round(h.score * weight, 3), h.field, h.via,
                                                        h.text, h.highlight)
            if h.entry.key not in best or best[h.entry.key].score < scored.score:
                best[h.entry.key] = scored
    return sorted(best.values(), key=lambda h: (-h.score, h.entry.key))[:MATCHES_SHOWN]


def subcatalogue_evidence(name: str | None, hits: list[search.Hit]) -> list[dict]:
    """Which sub-catalogue the name points to: catalogue matches, and the core words of the domain
    naming guidelines (a guideline's domain is a sub-catalogue name)."""
    out = [{"subcatalogue_code": h.entry.subcatalogue_code, "source": "catalogue",
            "why": f"matches {h.entry.category2_code} {h.entry.category2_name} ({h.score:.2f})"}
           for h in hits[:3]]
    by_name = {n: c for c, n in catalogue.subcatalogue_names().items()}
    if name:
        seen = set()
        core = sorted((t for t in ruleset.naming_terms() if t.kind == "core" and len(t.term) >= 2
                       and t.term in name and t.domain in by_name), key=lambda t: -len(t.term))
        for t in core:
            if (t.domain, t.term) not in seen:
                seen.add((t.domain, t.term))
                out.append({"subcatalogue_code": by_name[t.domain], "source": "naming_term",
                            "why": f"core word '{t.term}' of the {t.domain} naming guideline"})
    return out


def classify(index: search.Index, facts: dict, exclude: frozenset[str] = frozenset()) -> Determination:
    hits = catalogue_hits(index, facts, exclude)
    return engine.determine(facts, ruleset.engine_rules(), hits, code_given=bool(facts.get("catalogue_code")),
                            evidence=subcatalogue_evidence(facts.get("name"), hits))
