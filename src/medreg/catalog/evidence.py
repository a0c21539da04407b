"""Evidence for the sub-catalogue of a described device (pure), each item explained:

- ``catalogue``: the best catalogue rows found for its name / intended use (their score);
- ``naming_term``: a core word of a domain naming guideline in the name (the guideline's domain is a
  sub-catalogue name, e.g. 无源植入器械 = 13);
- ``fda_product_code``: FDA product codes whose device names match the name (through the English search
  glossary), and the NMPA categories linked to them: a reviewer-confirmed crosswalk link (strong), or the
  automatic text match of the crosswalk (weak); rejected links are ignored. A code with no linked category
  is still reported (its FDA class and regulation number), pointing to no sub-catalogue;
- ``subcatalogue_name``: a word of the name shared with the name of a sub-catalogue (医用成像器械,
  医用软件, …), words common to three or more sub-catalogue names (器械, 医用, 手术) left out.

:func:`rank` turns the items into sub-catalogue candidates: per sub-catalogue the strongest item's
weight, plus 0.1 for each other kind of source agreeing (at most 1.0); confidence high >= 0.8, medium
>= 0.5, else low. Weights (ours, stated here and in docs/catalog.md): a catalogue row its match score;
a reviewer-confirmed FDA link 0.9; a naming-guideline core word 0.6; an FDA code linked by text match
0.4 x its score; a shared sub-catalogue-name word 0.3.
"""

from __future__ import annotations

from collections import Counter

from medreg.catalog import catalogue, crosswalk, ruleset
from medreg.catalog.catalogue import CatalogueEntry
from medreg.catalog.search import Hit
from medreg.core.said import _, fields, said

W_CONFIRMED, W_NAMING, W_FDA_TEXT, W_SUBNAME = 0.9, 0.6, 0.4, 0.3
STRONG_FDA = 0.9  # an unlinked FDA code matching this well is named in the notes
COMMON_SUBNAME_WORD = 3  # a word in this many sub-catalogue names says nothing
FDA_MATCH = _("FDA product code {code} '{device_name}' (FDA class {fda_class}, 21 CFR {regulation}) matches "
              "the name ({score}, words {words})")
CONFIDENCE = {"high": _("high"), "medium": _("medium"), "low": _("low")}


def _item(sub: str | None, source: str, weight: float, why: dict, ref: str, article: str, **more) -> dict:
    """``ref`` names the item in the trace (rule ``evidence:<source>:<ref>``), ``article`` its source;
    ``why`` is said(msgid, **params): the item has the English ``why``, ``why_msgid`` and ``why_params``."""
    return {"subcatalogue_code": sub, "source": source, "weight": round(weight, 3), **fields(why), "ref": ref,
            "article": article, **more}


def from_catalogue(hits: list[Hit]) -> list[dict]:
    return [_item(h.entry.subcatalogue_code, "catalogue", h.score,
                  said(_("matches {code} {name} ({score})"), code=h.entry.category2_code,
                       name=h.entry.category2_name, score=f"{h.score:.2f}"),
                  h.entry.key, f"医疗器械分类目录 {h.entry.category2_code}")
            for h in hits[:3]]


def from_naming_terms(name: str | None) -> list[dict]:
    if not name:
        return []
    by_name = {n: c for c, n in catalogue.subcatalogue_names().items()}
    out, seen = [], set()
    core = sorted((t for t in ruleset.naming_terms() if t.kind == "core" and len(t.term) >= 2
                   and t.term in name and t.domain in by_name), key=lambda t: -len(t.term))
    for t in core:
        if (t.domain, t.term) not in seen:
            seen.add((t.domain, t.term))
            out.append(_item(by_name[t.domain], "naming_term", W_NAMING,
                             said(_("core word '{term}' of the {domain} naming guideline"), term=t.term,
                                  domain=t.domain), t.term,
                             f"{t.domain}通用名称命名指导原则 ({t.product_category or t.domain})"))
    return out


def from_fda(name: str | None, other_texts: tuple[str, ...], entries: tuple[CatalogueEntry, ...],
             links: dict[tuple[str, str], str]) -> list[dict]:
    """``links``: reviewers' decisions {(category2_code, product_code): confirmed | rejected}."""
    if not name:
        return []
    by_code: dict[str, list[CatalogueEntry]] = {}
    for e in entries:
        by_code.setdefault(e.category2_code, []).append(e)
    out = []
    for c in crosswalk.codes_for_product(name, other_texts):
        fda = {k: c[k] for k in ("product_code", "device_name", "fda_class", "regulation_number",
                                 "medical_specialty", "score")}
        article = f"FDA product classification {c['product_code']} (21 CFR {c['regulation_number'] or '-'})"
        match = said(FDA_MATCH, **_fda_params(c), score=f"{c['score']:.2f}",
                     words="、".join(c["matched_terms"]))
        linked = [(cat, "reviewer") for (cat, pc), st in sorted(links.items())
                  if pc == c["product_code"] and st == "confirmed" and cat in by_code]
        rejected = {cat for (cat, pc), st in links.items() if pc == c["product_code"] and st == "rejected"}
        auto = crosswalk.entries_for_code(c["product_code"], entries)
        linked += [(e.category2_code, "text_match") for e, _ in auto
                   if e.category2_code not in rejected and e.category2_code not in {x for x, _ in linked}]
        if not linked:
            out.append(_item(None, "fda_product_code", 0.0,
                             said(_("{match}; no NMPA category of the current catalogue is linked to it"),
                                  match=match), c["product_code"], article, fda=fda, link=None))
        for cat, how in linked[:2]:
            e = by_code[cat][0]
            weight = W_CONFIRMED if how == "reviewer" else W_FDA_TEXT * c["score"]
            by = said(_("confirmed by a reviewer") if how == "reviewer" else _("automatic text match"))
            out.append(_item(e.subcatalogue_code, "fda_product_code", weight,
                             said(_("{match}; linked to {category} {category_name} ({by})"), match=match,
                                  category=cat, category_name=e.category2_name, by=by),
                             f"{c['product_code']}>{cat}", article, fda=fda, link=how, category2_code=cat))
    return out


def _words(s: str) -> set[str]:
    return {s[i:i + 2] for i in range(len(s) - 1)}


def from_subcatalogue_names(name: str | None) -> list[dict]:
    if not name:
        return []
    names = catalogue.subcatalogue_names()
    counts = Counter(w for n in names.values() for w in _words(n))
    out = []
    for code, sub_name in sorted(names.items()):
        shared = sorted(w for w in _words(sub_name) & _words(name) if counts[w] < COMMON_SUBNAME_WORD)
        if shared:
            out.append(_item(code, "subcatalogue_name", W_SUBNAME,
                             said(_("the name shares '{words}' with sub-catalogue {code} {name}"),
                                  words="、".join(shared), code=code, name=sub_name),
                             code, f"医疗器械分类目录 子目录 {code} {sub_name}"))
    return out


def rank(items: list[dict], rows_by_sub: dict[str, int]) -> list[dict]:
    """Sub-catalogue candidates, best first (see the module's docstring for the weights)."""
    names = catalogue.subcatalogue_names()
    best: dict[str, float] = {}
    sources: dict[str, set[str]] = {}
    for it in items:
        sub = it["subcatalogue_code"]
        if sub is None:
            continue
        best[sub] = max(best.get(sub, 0.0), it["weight"])
        sources.setdefault(sub, set()).add(it["source"])
    out = []
    for sub, w in best.items():
        score = round(min(1.0, w + 0.1 * (len(sources[sub]) - 1)), 3)
        out.append({"code": sub, "name": names.get(sub, ""), "score": score,
                    "confidence": "high" if score >= 0.8 else ("medium" if score >= 0.5 else "low"),
                    "sources": sorted(sources[sub]), "rows_in_catalogue": rows_by_sub.get(sub, 0)})
    return sorted(out, key=lambda c: (-c["score"], c["code"]))


def missing_data_notes(ranked: list[dict], version: str, items: list[dict] = ()) -> list[dict]:
    """What the catalogue lacks for this device: the sub-catalogues the evidence points to that have no
    rows in the current version (their official table was not imported), and the FDA product codes that
    match the name well but are linked to no category of that version. Each note is said(msgid, **params)."""
    out = [said(_("FDA product code {code} '{device_name}' (FDA class {fda_class}, 21 CFR {regulation}) "
                  "matches the name, but no category of catalogue version {version} is linked to it: its "
                  "NMPA counterpart is not loaded, or no reviewer has confirmed a link."),
                **_fda_params(it["fda"]), version=version)
           for it in items if it["source"] == "fda_product_code" and it["link"] is None
           and it["fda"]["score"] >= STRONG_FDA]
    for c in ranked[:3]:
        if c["rows_in_catalogue"] == 0:
            out.append(said(_("Sub-catalogue {code} {name}, which the evidence points to ({sources}; "
                              "{confidence}), has no rows in catalogue version {version}: its categories, "
                              "品名举例 and classes are missing. Import the official {code} table (medreg "
                              "catalog import FILE --label …) and classify again."),
                            code=c["code"], name=c["name"], sources=", ".join(c["sources"]),
                            confidence=said(CONFIDENCE[c["confidence"]]), version=version))
    return out


def _fda_params(c: dict) -> dict:
    return {"code": c["product_code"], "device_name": c["device_name"], "fda_class": c["fda_class"],
            "regulation": c["regulation_number"] or "-"}
