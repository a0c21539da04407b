"""The IMDRF code picker and narrative-based code suggestions (pure).

``search`` finds terms by code, by English words (term weighs more than definition) and by Chinese
text where the data carries Chinese terms (the shipped 2023/2024 releases carry none, so a Chinese
query returns no hit and says why). ``suggest`` reads a narrative and the report's outcome and
proposes codes, each with the reason it is proposed: the words of the narrative that match the
IMDRF term, or the report field that implies the code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from medreg.core.i18n import _
from medreg.vigilance.aet import Term, Terminology

NO_CHINESE_SEARCH = _("The IMDRF release in use has no Chinese terms; search in English or by code.")
NO_CHINESE_SUGGEST = _("The IMDRF release in use has no Chinese terms, so codes can only be suggested "
                       "from English words in the narrative and from the outcome.")
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[a-z0-9]+")
_CODE = re.compile(r"^[A-Ga-g]\d{2,7}$")
# Words that carry no meaning on their own in AET terms (kept small and visible on purpose).
STOPWORDS = frozenset({
    "a", "an", "and", "or", "of", "to", "the", "in", "on", "for", "by", "with", "from", "as", "at",
    "into", "not", "no", "due", "its", "it", "be", "is", "was", "were", "device", "devices",
    "problem", "problems", "related", "other", "unspecified",
})


@lru_cache(maxsize=65536)  # narratives repeat their words: a bulk import stems each word once
def stem(word: str) -> str:
    """A deliberately small English stemmer: leaks/leaking/leaked -> leak, fractures -> fracture."""
    w = word.lower()
    for suffix in ("ing", "ed", "es", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            w = w[: -len(suffix)]
            break
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


def tokens(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def has_chinese(text: str) -> bool:
    return bool(_CJK.search(text or ""))


@dataclass(frozen=True)
class Hit:
    term: Term
    score: float
    matched_on: str  # "code" | "term" | "definition" | "term_zh"


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[Hit]
    note: str | None = None  # msgid explaining an empty result (e.g. no Chinese terms in the data)


def search(aet: Terminology, query: str, *, annexes: Iterable[str] | None = None,
           selectable_only: bool = False, limit: int = 20) -> SearchResult:
    q = (query or "").strip()
    wanted = set(annexes) if annexes else None
    pool = [t for t in aet if (wanted is None or t.annex in wanted)
            and (t.selectable or not selectable_only)]
    if not q:
        return SearchResult(q, [])
    if _CODE.match(q):
        code = q.upper()
        hits = [Hit(t, 2.0 if t.code == code else 1.0, "code") for t in pool if t.code.startswith(code)]
        hits.sort(key=lambda h: (-h.score, h.term.code))
        return SearchResult(q, hits[:limit])
    if has_chinese(q):
        if not any(t.term_zh for t in pool):
            return SearchResult(q, [], NO_CHINESE_SEARCH)
        hits = [Hit(t, 1.0 + len(q) / max(len(t.term_zh or ""), 1), "term_zh") for t in pool
                if t.term_zh and q in t.term_zh]
        hits.sort(key=lambda h: (-h.score, h.term.code))
        return SearchResult(q, hits[:limit])
    words = set(tokens(q))
    if not words:
        return SearchResult(q, [])
    hits = []
    for t in pool:
        in_term = words & set(tokens(t.term))
        in_def = words & set(tokens(t.definition))
        if not in_term and not in_def:
            continue
        if words - (set(tokens(t.term)) | set(tokens(t.definition))):
            continue  # every query word must appear somewhere
        score = 3.0 * len(in_term) + 1.0 * len(in_def - in_term)
        if t.term.lower() == q.lower():
            score += 5.0
        hits.append(Hit(t, score, "term" if in_term else "definition"))
    hits.sort(key=lambda h: (-h.score, h.term.level, h.term.code))
    return SearchResult(q, hits[:limit])


@dataclass(frozen=True)
class Suggestion:
    code: str
    term: str
    annex: str
    score: float
    reason: str  # msgid
    params: dict = field(default_factory=dict)


# Report outcomes (Order 1 Art.4, Art.25) that imply an Annex F health-impact code. The mapping
# is ours; the codes and terms are IMDRF's: F02 "Death", F12 "Serious Injury/ Illness/ Impairment".
OUTCOME_HEALTH_IMPACT = {"death": "F02", "serious_injury": "F12"}


@lru_cache(maxsize=8192)
def _alternatives(term: str) -> tuple[frozenset[str], ...]:
    """'Break/Crack' -> ({break}, {crack}); other terms -> one set of their content words. Cached: a
    release has a few thousand terms and every report's quality check reads them all."""
    parts = [p for p in re.split(r"\s*/\s*", term) if p.strip()] or [term]
    out = [frozenset(tokens(p)) for p in parts]
    return tuple(s for s in out if s)


_INDEXES: dict[int, tuple[Terminology, dict[str, list[Term]]]] = {}


def _word_index(aet: Terminology) -> dict[str, list[Term]]:
    """Content word -> the selectable terms using it, built once per loaded release, so a suggestion
    looks only at the terms sharing a word with the narrative."""
    cached = _INDEXES.get(id(aet))
    if cached is not None and cached[0] is aet:
        return cached[1]
    index: dict[str, list[Term]] = {}
    for t in aet:
        if t.selectable:
            for w in frozenset().union(*_alternatives(t.term)):
                index.setdefault(w, []).append(t)
    _INDEXES[id(aet)] = (aet, index)
    return index


def suggest(aet: Terminology, narrative: str, *, outcome: str | None = None,
            annexes: Iterable[str] = ("A", "E", "F", "G"), limit: int = 10) -> list[Suggestion]:
    """Codes suggested by the narrative's words and by the report's outcome, best first."""
    out: dict[str, Suggestion] = {}
    code = OUTCOME_HEALTH_IMPACT.get(outcome or "")
    if code and code in aet:
        t = aet.get(code)
        out[code] = Suggestion(code, t.term, t.annex, 10.0,
                               _("The report's outcome is '{outcome}', which IMDRF codes as "
                                 "{code} '{term}'."), {"outcome": outcome, "code": code, "term": t.term})
    text_words = tokens(narrative or "")
    present = set(text_words)
    wanted = set(annexes)
    index = _word_index(aet)
    candidates = {t.code: t for w in present for t in index.get(w, ())}
    for t in candidates.values():
        if t.annex not in wanted or t.code in out:
            continue
        best: frozenset[str] = frozenset()
        for alt in _alternatives(t.term):
            if alt <= present and len(alt) > len(best):
                best = alt
        if not best:
            continue
        score = len(best) + 0.1 * t.level
        words = [w for w in _WORD.findall((narrative or "").lower()) if stem(w) in best]
        seen = list(dict.fromkeys(words))
        out[t.code] = Suggestion(t.code, t.term, t.annex, round(score, 2),
                                 _("The narrative says '{words}', which matches the IMDRF "
                                   "term '{term}' ({code})."),
                                 {"words": ", ".join(seen), "term": t.term, "code": t.code})
    ranked = sorted(out.values(), key=lambda s: (-s.score, s.code))
    # A parent and its child matched by the same words: keep the more specific child only.
    keep: list[Suggestion] = []
    for s in ranked:
        if any(k.code.startswith(s.code) and k.params.get("words") == s.params.get("words")
               for k in keep):
            continue
        keep.append(s)
    return keep[:limit]


def no_chinese_note(aet: Terminology, narrative: str) -> str | None:
    """Why a Chinese narrative gets no word-based suggestion (no Chinese terms in the data)."""
    if has_chinese(narrative) and not any(t.term_zh for t in aet):
        return NO_CHINESE_SUGGEST
    return None
