"""Classification of a described device (pure glue): catalogue matches for its free text, the evidence for
its sub-catalogue (catalogue rows, naming terms, FDA product codes, sub-catalogue names), then the rule
engine. Used by queries (API, CLI) and the accuracy test."""

from __future__ import annotations

from collections import Counter

from medreg.catalog import catalogue, engine, evidence, ruleset, search
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


def subcatalogue_evidence(index: search.Index, facts: dict, hits: list[search.Hit],
                          links: dict[tuple[str, str], str] | None = None) -> list[dict]:
    """Which sub-catalogue the device belongs to, every item explained (see :mod:`evidence`)."""
    name = facts.get("name")
    others = tuple(t for t in (facts.get("intended_use"), facts.get("description")) if t)
    return [*evidence.from_catalogue(hits), *evidence.from_naming_terms(name),
            *evidence.from_fda(name, others, index.entries, links or {}),
            *evidence.from_subcatalogue_names(name)]


def classify(index: search.Index, facts: dict, exclude: frozenset[str] = frozenset(), *,
             version: str = catalogue.SHIPPED_VERSION,
             links: dict[tuple[str, str], str] | None = None) -> Determination:
    """``links``: reviewers' crosswalk decisions {(category2_code, product_code): confirmed | rejected}."""
    hits = catalogue_hits(index, facts, exclude)
    items = subcatalogue_evidence(index, facts, hits, links)
    rows = Counter(e.subcatalogue_code for e in index.entries if e.key not in exclude)
    ranked = evidence.rank(items, rows)
    return engine.determine(facts, ruleset.engine_rules(), hits, code_given=bool(facts.get("catalogue_code")),
                            evidence=items, subcatalogues=ranked,
                            missing=evidence.missing_data_notes(ranked, version, items))
