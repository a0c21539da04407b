"""Generic-name checker (pure): 医疗器械通用名称命名规则 (令第19号) and the 命名指导原则 (2019 No.99).

A name is segmented with ``jieba`` (the 941 words of the domain naming term lists added to its
dictionary): the core word (核心词) is the longest core term the name ends with, the feature words
(特征词) are the known feature terms before it (other words are counted as unknown feature phrases).
Each check of ``nmpa-rules/naming_checks.json`` that finds something gives a violation with its
article's text; errors make the verdict ``fail``, warnings ``warn``. Suggestions come with them.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache

import jieba
import jieba.posseg

from medreg.catalog.ruleset import Term, _read, naming_terms

_MODEL = re.compile(r"[A-Za-z]+[\-_]?\d[A-Za-z0-9\-.]*(?:型|号)?"
                    r"|\d+(?:\.\d+)?\s*(?:mm|cm|ml|mL|L|G|Fr|F|号|型|寸)|型号|规格|系列")
_LETTERS = re.compile(r"[A-Za-z]+")
_ALLOWED = re.compile(r"[\u4e00-\u9fffA-Za-z0-9（）()/\-－·、，:：\s]")
_BRAND = re.compile(r"[\u4e00-\u9fff]{1,4}牌")
USE_FORM_KINDS = ("使用形式", "提供形式", "使用和提供形式")
MAX_FEATURES = 3  # 令第19号 第六条: 一般不超过三个特征词


@dataclass
class NameReport:
    name: str
    verdict: str = "pass"
    core_word: dict | None = None
    feature_words: list[dict] = field(default_factory=list)
    violations: list[dict] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    suggested_name: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@lru_cache
def checks() -> dict[str, dict]:
    return {c["id"]: c for c in json.loads(_read("naming_checks.json").decode("utf-8"))["checks"]}


@lru_cache
def _terms() -> tuple[dict[str, list[Term]], dict[str, list[Term]]]:
    core: dict[str, list[Term]] = {}
    feature: dict[str, list[Term]] = {}
    for t in naming_terms():
        (core if t.kind == "core" else feature).setdefault(t.term, []).append(t)
    return core, feature


@lru_cache
def _tagger() -> jieba.posseg.POSTokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    for word in {t.term for t in naming_terms() if len(t.term) > 1}:
        tokenizer.add_word(word, freq=200000, tag="nz")
    return jieba.posseg.POSTokenizer(tokenizer)


def _violation(check_id: str, found: str, span: tuple[int, int] | None, why: str, *,
               added: bool = False, severity: str | None = None) -> dict:
    c = checks()[check_id]
    text = c["quote"] + (" " + c["quote2"] if "quote2" in c else "")
    return {"rule": check_id, "article": c["article"], "severity": severity or c["severity"], "text_zh": text,
            "found": found, "span": list(span) if span else None, "why": why, "added_word": added}


def _forbidden(name: str) -> list[dict]:
    out = []
    for m in _MODEL.finditer(name):
        out.append(_violation("O19-7-1", m.group(), m.span(), "a model, specification or series"))
    in_model = {i for v in out for i in range(*v["span"])}
    marks = set(checks()["O19-7-3"]["trademark_marks"])
    for i, ch in enumerate(name):
        if i in in_model:
            continue
        if ch in marks:
            out.append(_violation("O19-7-3", ch, (i, i + 1), "a registered-trademark mark"))
        elif not _ALLOWED.match(ch):
            out.append(_violation("O19-7-2", ch, (i, i + 1), "a symbol or mark"))
    for q in re.finditer(r"[“”\"'《》「」【】]", name):
        out.append(_violation("O19-7-3", q.group(), q.span(),
                              "quoted or bracketed words, as trademarks are written",
                              severity="warning"))
    for m in _BRAND.finditer(name):
        out.append(_violation("O19-7-3", m.group(), m.span(), "a brand (…牌)"))
    for marker in checks()["O19-7-3"]["company_markers"]:
        at = name.find(marker)
        if at >= 0:
            out.append(_violation("O19-7-3", marker, (at, at + len(marker)), "a company or institution name"))
            break
    for cid in ("O19-7-4", "O19-7-5", "O19-7-7", "O19-7-8"):
        c = checks()[cid]
        for words, added in ((c.get("words", []), False), (c.get("added_words", []), True)):
            for w in words:
                for m in re.finditer(re.escape(w), name):
                    out.append(_violation(cid, w, m.span(), "a word the article names" if not added else
                                          "a word of the same kind (added by medreg)", added=added))
    return out


def _core(name: str) -> tuple[str, list[Term]] | None:
    core, _ = _terms()
    ends = [t for t in core if name.endswith(t)]
    if not ends:
        return None
    best = max(ends, key=len)
    return best, core[best]


def _unknown(text: str) -> dict:
    return {"term": text.strip(), "kind": "unknown", "known": False, "domain": "", "default": False}


def _features(prefix: str) -> list[dict]:
    """Known feature terms (longest first, left to right); runs of other text are one unknown phrase."""
    _, feature = _terms()
    core, _ = _terms()
    known = sorted({*feature, *(c for c in core if len(c) > 1)}, key=len, reverse=True)
    out, i, unknown = [], 0, ""
    while i < len(prefix):
        hit = next((w for w in known if prefix.startswith(w, i)), None)
        if hit is None:
            unknown += prefix[i]
            i += 1
            continue
        if unknown.strip():
            out.append(_unknown(unknown))
        unknown = ""
        terms = feature.get(hit) or core.get(hit) or []
        t = terms[0]
        kind = t.feature_kind if t.kind == "feature" else "核心词作特征"
        out.append({"term": hit, "kind": kind, "known": True, "domain": t.domain,
                    "default": all(x.default for x in terms)})
        i += len(hit)
    if unknown.strip():
        out.append(_unknown(unknown))
    return out


def _similar_cores(name: str, n: int = 3) -> list[str]:
    core, _ = _terms()
    tail = name[-6:]
    pairs = {tail[i:i + 2] for i in range(len(tail) - 1)}

    def score(t: str) -> float:
        tp = {t[i:i + 2] for i in range(len(t) - 1)}
        return len(pairs & tp) / (len(tp) or 1)

    ranked = sorted((t for t in core if len(t) > 1), key=lambda t: (-score(t), len(t)))
    return [t for t in ranked[:n] if score(t) > 0]


def check(name: str) -> NameReport:
    """Check one generic name; every finding cites its article."""
    name = name.strip()
    report = NameReport(name)
    found = _forbidden(name)
    clean = name
    for v in sorted((v for v in found if v["span"]), key=lambda v: -v["span"][0]):
        clean = clean[:v["span"][0]] + " " * (v["span"][1] - v["span"][0]) + clean[v["span"][1]:]
    clean = re.sub(r"\s+", "", clean)
    core = _core(clean)
    if core is None:
        tokens = [w for w, _ in _tagger().cut(clean)] or [clean]
        report.core_word = {"term": tokens[-1], "known": False, "domain": "", "product_category": ""}
        found.append(_violation("O19-6-core", tokens[-1], None, "no core word of the naming term lists ends "
                                "the name (the lists cover 7 domains only)", severity="info"))
        prefix = clean[: len(clean) - len(tokens[-1])]
        similar = _similar_cores(clean)
        if similar:
            report.suggestions.append("Core words of the term lists close to this name: "
                                      + "、".join(similar))
    else:
        term, terms = core
        report.core_word = {"term": term, "known": True, "domain": terms[0].domain,
                            "product_category": terms[0].product_category}
        prefix = clean[: len(clean) - len(term)]
    report.feature_words = _features(prefix)
    # one-character leftovers (用, 及, 双 …) join words; they are listed but not counted
    written = [f for f in report.feature_words if not f["default"] and (f["known"] or len(f["term"]) > 1)]
    if len(written) > MAX_FEATURES:
        found.append(_violation("O19-6-features", "、".join(f["term"] for f in written), None,
                                f"{len(written)} feature words (generally at most {MAX_FEATURES})"))
    for f in report.feature_words:
        if f["default"]:
            at = name.find(f["term"])
            span = (at, at + len(f["term"])) if at >= 0 else None
            found.append(_violation("G-5-4-default", f["term"], span,
                                    "a default (缺省) term is not written in the name"))
    kinds = [f["kind"] for f in report.feature_words if f["known"]]
    if any(k in USE_FORM_KINDS for k in kinds[1:]) and kinds[0] not in USE_FORM_KINDS:
        found.append(_violation("G-2-6-order", "、".join(f["term"] for f in report.feature_words), None,
                                "a use-form or supply-form feature word is not first"))
    found += _letters_and_names(name, found)
    report.violations = found
    severities = {v["severity"] for v in found} - {"info"}
    report.verdict = "fail" if "error" in severities else ("warn" if severities else "pass")
    _suggest(report)
    return report


def _letters_and_names(name: str, found: list[dict]) -> list[dict]:
    out = []
    covered = {i for v in found if v["span"] for i in range(*v["span"])}
    known = [t.term for t in naming_terms() if _LETTERS.search(t.term)]
    for m in _LETTERS.finditer(name):
        if set(range(*m.span())) & covered or any(m.group() in k and k in name for k in known):
            continue
        out.append(_violation("O19-4-letters", m.group(), m.span(), "a letter word"))
    pos = 0
    for word, flag in _tagger().cut(name):
        at = name.find(word, pos)
        pos = at + len(word) if at >= 0 else pos
        if at < 0 or set(range(at, at + len(word))) & covered or len(word) < 2:
            continue
        if flag == "nr":
            out.append(_violation("O19-7-3", word, (at, at + len(word)),
                                  "looks like a person's name (jieba part-of-speech 'nr'; check)",
                                  severity="warning"))
        elif flag == "ns":
            out.append(_violation("O19-7-3-geo", word, (at, at + len(word)),
                                  "a geographic name (jieba part-of-speech 'ns')"))
    return out


def _suggest(report: NameReport) -> None:
    name = report.name
    drop = {i for v in report.violations if v["span"] and (
        v["severity"] == "error" or v["rule"] in ("G-5-4-default", "O19-7-3-geo")) for i in range(*v["span"])}
    name = "".join(ch for i, ch in enumerate(name) if i not in drop)
    name = re.sub(r"\s+", "", name).strip("-_/·、，")
    if name != report.name:
        report.suggested_name = name
        report.suggestions.insert(0, f"Remove what the rules forbid: {name}")
    if any(v["rule"] == "O19-7-1" for v in report.violations):
        report.suggestions.append("Put the model and specification in the registration form, "
                                  "not in the name.")
    if any(v["rule"] == "O19-6-features" for v in report.violations):
        report.suggestions.append("Keep the feature words that distinguish the product (site, structure, "
                                  "technique, material); move the others to the model or the IFU.")
