"""Catalogue search (pure): Chinese, pinyin (full or initials), English (via a glossary), codes.

Each entry's texts are scored against the query; partial words count (the share of the query's
character pairs found in a text), so 机器人手术 still finds 手术机器人. The best field decides the score,
other matching fields add a little; results come ranked with the matched text highlighted
(``<mark>`` around the matched characters, the rest HTML-escaped).
"""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from pypinyin import lazy_pinyin

from medreg.catalog.catalogue import CatalogueEntry

_CJK = re.compile(r"[\u4e00-\u9fff]")
_CODE = re.compile(r"^\d{2}(-\d{2}){0,2}$")
WEIGHTS = {"name": 1.0, "example": 1.0, "category1": 0.8, "intended_use": 0.6, "description": 0.5,
           "code": 1.0}
PINYIN_FIELDS = ("name", "example", "category1")
PARTIAL_SHARE = 0.34  # a partial match needs this share of the query's character pairs in the text
MIN_SCORE = 0.1  # weaker matches are noise (a shared common word in a long description)


@dataclass(frozen=True)
class Hit:
    entry: CatalogueEntry
    score: float
    field: str
    via: str
    text: str
    highlight: str

    def to_dict(self) -> dict:
        return {**self.entry.to_dict(), "score": self.score, "matched_field": self.field, "via": self.via,
                "matched_text": self.text, "highlight": self.highlight}


@dataclass(frozen=True)
class _Text:
    field: str
    text: str
    pinyin: str = ""
    starts: tuple[int, ...] = ()  # pinyin offset where each character starts
    initials: str = ""
    bigrams: frozenset[str] = frozenset()


@lru_cache
def glossary() -> tuple[tuple[str, str], ...]:
    raw = (files("medreg") / "data" / "catalog-en" / "glossary.csv").read_bytes().decode("utf-8")
    rows = [(r["en"].lower(), r["zh"]) for r in csv.DictReader(io.StringIO(raw))]
    return tuple(sorted(rows, key=lambda r: -len(r[0].split())))


@lru_cache
def _glossary_by_first_word() -> dict[str, tuple[tuple[str, str, int], ...]]:
    """The glossary's rows by their first word, in glossary order (longest phrases first): only
    these can match at a query word, so :func:`english_terms` tries a few rows, not all of them."""
    index: dict[str, list[tuple[str, str, int]]] = {}
    for en, zh in glossary():
        index.setdefault(en.split(" ")[0], []).append((en, zh, len(en.split())))
    return {first: tuple(rows) for first, rows in index.items()}


@lru_cache
def synonyms() -> tuple[tuple[str, str], ...]:
    raw = (files("medreg") / "data" / "catalog-en" / "synonyms.csv").read_bytes().decode("utf-8")
    return tuple((r["term"], r["catalogue_word"]) for r in csv.DictReader(io.StringIO(raw)))


def _variants(q: str) -> list[tuple[str, float]]:
    """The query and its synonym rewrites (searched at 0.8 of the score)."""
    return [(q, 1.0)] + [(q.replace(a, b), 0.8) for a, b in synonyms() if a in q]


def _pinyin_text(fld: str, text: str) -> _Text:
    syllables = [(lazy_pinyin(ch) or [ch])[0].lower() for ch in text]
    starts, pos = [], 0
    for s in syllables:
        starts.append(pos)
        pos += len(s)
    return _Text(fld, text, "".join(syllables), tuple(starts), "".join(s[:1] for s in syllables),
                 frozenset(_bigrams(text)))


class Index:
    """The searchable texts of a set of entries (pinyin computed once)."""

    def __init__(self, entries: tuple[CatalogueEntry, ...] | list[CatalogueEntry]):
        self.entries = tuple(entries)
        self.texts: list[list[_Text]] = []
        for e in self.entries:
            texts = [_pinyin_text("name", e.category2_name), _pinyin_text("category1", e.category1_name)]
            texts += [_pinyin_text("example", x) for x in e.examples]
            texts += [_Text("intended_use", e.intended_use, bigrams=frozenset(_bigrams(e.intended_use))),
                      _Text("description", e.description, bigrams=frozenset(_bigrams(e.description)))]
            self.texts.append([t for t in texts if t.text])


def _bigrams(s: str) -> list[str]:
    return [s[i:i + 2] for i in range(len(s) - 1)]


def _zh_match(q: str, t: str, tb: frozenset[str] | None = None) -> tuple[float, str, list[tuple[int, int]]]:
    if q == t:
        return 1.0, "exact", [(0, len(t))]
    at = t.find(q)
    if at >= 0:
        return 0.7 + 0.2 * len(q) / len(t), "substring", [(at, at + len(q))]
    if len(t) >= 2 and q.endswith(t):  # a generic name ends with its core word: XX手术控制系统
        return 0.6 + 0.3 * len(t) / len(q), "suffix", [(0, len(t))]
    if len(t) >= 2 and t in q:
        return 0.75 * len(t) / len(q), "contained", [(0, len(t))]
    qb = set(_bigrams(q))
    if not qb or len(qb & (tb if tb is not None else set(_bigrams(t)))) < len(qb) * PARTIAL_SHARE:
        return 0.0, "", []
    spans = [(i, i + 2) for i, b in enumerate(_bigrams(t)) if b in qb]
    cover = len({t[a:b] for a, b in spans}) / len(qb)
    if cover < PARTIAL_SHARE:
        return 0.0, "", []
    return 0.6 * cover * (0.5 + 0.5 * min(1.0, len(q) / len(t))), "partial", spans


def _pinyin_match(q: str, t: _Text) -> tuple[float, str, list[tuple[int, int]]]:
    if not t.pinyin:
        return 0.0, "", []
    at = t.pinyin.find(q)
    if at >= 0 and at in t.starts:
        first = t.starts.index(at)
        last = max(i for i, s in enumerate(t.starts) if s < at + len(q))
        n = last - first + 1
        return 0.55 + 0.3 * n / len(t.text), "pinyin", [(first, last + 1)]
    at = t.initials.find(q)
    if len(q) >= 2 and at >= 0:
        return 0.45 + 0.3 * len(q) / len(t.text), "initials", [(at, at + len(q))]
    return 0.0, "", []


def english_terms(query: str) -> tuple[list[str], int]:
    """Chinese words for the English query (glossary), and how many query words stayed unknown."""
    words = re.findall(r"[a-z0-9\-]+", query.lower())
    by_first = _glossary_by_first_word()
    terms, unknown, i = [], 0, 0
    while i < len(words):
        for en, zh, n in by_first.get(words[i], ()):
            if " ".join(words[i:i + n]) == en:
                terms.append(zh)
                i += n
                break
        else:
            unknown += 1
            i += 1
    return terms, unknown


def _en_match(terms: list[str], unknown: int, t: str) -> tuple[float, str, list[tuple[int, int]]]:
    spans = [(t.find(z), t.find(z) + len(z)) for z in terms if z in t]
    if not terms or not spans:
        return 0.0, "", []
    frac = len(spans) / (len(terms) + unknown)
    if frac < 0.5:
        return 0.0, "", []
    return 0.8 * frac, "english", spans


def highlight(text: str, spans: list[tuple[int, int]], width: int = 40) -> str:
    """``text`` HTML-escaped with ``<mark>`` around ``spans``; long texts are cut around the first."""
    marks = [False] * len(text)
    for a, b in spans:
        for i in range(max(0, a), min(len(text), b)):
            marks[i] = True
    lo, hi = 0, len(text)
    if len(text) > 2 * width and any(marks):
        first = marks.index(True)
        lo, hi = max(0, first - width // 2), min(len(text), first + width * 3 // 2)
    out, inside = [], False
    for i in range(lo, hi):
        if marks[i] != inside:
            out.append("<mark>" if marks[i] else "</mark>")
            inside = marks[i]
        out.append(html.escape(text[i]))
    if inside:
        out.append("</mark>")
    return ("…" if lo else "") + "".join(out) + ("…" if hi < len(text) else "")


def search(index: Index, query: str, limit: int = 10, exclude: frozenset[str] = frozenset()) -> list[Hit]:
    """The entries matching ``query``, best first (score 0-1); ``exclude``: entry keys to leave out."""
    q = re.sub(r"\s+", "" if _CJK.search(query or "") else " ", (query or "").strip())
    if not q:
        return []
    hits = []
    if _CODE.match(q):
        for e in index.entries:
            if e.key not in exclude and e.category2_code.startswith(q):
                exact = 1.0 if e.category2_code == q else 0.9
                hits.append(Hit(e, exact, "code", "code", e.category2_code,
                                highlight(e.category2_code, [(0, len(q))])))
        return sorted(hits, key=lambda h: (-h.score, h.entry.key))[:limit]
    zh = bool(_CJK.search(q))
    qp = re.sub(r"[^a-z]", "", q.lower())
    terms, unknown = ([], 0) if zh else english_terms(q)
    variants = _variants(q) if zh else []
    for e, texts in zip(index.entries, index.texts, strict=True):
        if e.key in exclude:
            continue
        found = []
        for t in texts:
            if zh:
                score, via, spans = max(
                    ((s * w, v if w == 1.0 else "synonym", sp) for qq, w in variants
                     for s, v, sp in [_zh_match(qq, t.text, t.bigrams)]), key=lambda r: r[0])
            else:
                score, via, spans = max(
                    _pinyin_match(qp, t) if t.field in PINYIN_FIELDS and qp else (0.0, "", []),
                    _en_match(terms, unknown, t.text), key=lambda r: r[0])
            if score > 0:
                found.append((score * WEIGHTS[t.field], t, via, spans))
        if found:
            found.sort(key=lambda f: -f[0])
            best, t, via, spans = found[0]
            bonus = 0.02 * min(3, len({f[1].field for f in found[1:]}))
            if best + bonus < MIN_SCORE:
                continue
            hits.append(Hit(e, round(min(1.0, best + bonus), 3), t.field, via, t.text,
                            highlight(t.text, spans)))
    return _distinct(sorted(hits, key=lambda h: (-h.score, h.entry.key)))[:limit]


def _distinct(hits: list[Hit]) -> list[Hit]:
    """One hit per (category, matched text): the catalogue repeats some rows (2024年增补)."""
    seen, out = set(), []
    for h in hits:
        if (h.entry.category2_code, h.text, h.entry.management_class) not in seen:
            seen.add((h.entry.category2_code, h.text, h.entry.management_class))
            out.append(h)
    return out


def tree(entries: tuple[CatalogueEntry, ...], subcatalogues: dict[str, str]) -> list[dict]:
    """Sub-catalogue -> 一级 -> 二级 -> rows (every sub-catalogue listed, with its row count)."""
    out = {code: {"code": code, "name": name, "rows": 0, "children": {}}
           for code, name in subcatalogues.items()}
    for e in entries:
        sub = out.setdefault(e.subcatalogue_code, {"code": e.subcatalogue_code, "name": e.subcatalogue_name,
                                                   "rows": 0, "children": {}})
        sub["rows"] += 1
        c1 = sub["children"].setdefault(e.category1_code, {"code": e.category1_code,
                                                           "name": e.category1_name, "children": {}})
        c2 = c1["children"].setdefault(e.category2_code, {"code": e.category2_code,
                                                          "name": e.category2_name, "entries": []})
        c2["entries"].append({"key": e.key, "management_class": e.management_class,
                              "examples": list(e.examples)})
    return [{**s, "children": [{**c1, "children": list(c1["children"].values())}
                               for c1 in s["children"].values()]} for s in out.values()]
