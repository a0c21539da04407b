"""NMPA catalogue entry ↔ FDA product code candidates (pure).

FDA device names are English ("Saw, Bone, Ac-Powered"); each word is mapped to Chinese through the
search glossary (``data/catalog-en/glossary.csv``) and looked for in the entry's 二级 name, 一级 name and
品名举例. Score = weighted share of the FDA name's words found, each word weighted by its rarity among FDA
names (idf: 系统, 设备, 手术 weigh little; unknown words count against the match with the mean
weight), + 0.1 if a matched word is in the 二级 name. Candidates are automatic text matches
(provenance ``text_match``) until a reviewer
confirms or rejects them.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from medreg.catalog.catalogue import CatalogueEntry
from medreg.catalog.search import english_terms

MIN_SCORE = 0.55
# the five commonest glossary words in FDA names (系统, 设备, 控制, 手术, 导管) never match alone
GENERIC_WORDS = 5


@dataclass(frozen=True)
class FdaCode:
    product_code: str
    device_name: str
    device_class: str
    regulation_number: str
    medical_specialty: str
    implant: bool


@lru_cache
def fda_codes() -> tuple[FdaCode, ...]:
    raw = (files("medreg") / "data" / "fda-product-codes" / "product_codes.csv").read_bytes().decode("utf-8")
    return tuple(FdaCode(r["product_code"], r["device_name"], r["device_class"].upper(),
                         r["regulation_number"],
                         r["medical_specialty"], r["implant_flag"] == "Y")
                 for r in csv.DictReader(io.StringIO(raw)))


@lru_cache
def _terms() -> tuple[tuple[tuple[FdaCode, tuple[str, ...], int], ...], dict[str, float]]:
    out = []
    df: dict[str, int] = {}
    for code in fda_codes():
        terms, unknown = english_terms(code.device_name.replace(",", " "))
        if terms:
            unique = tuple(dict.fromkeys(terms))
            out.append((code, unique, unknown))
            for z in unique:
                df[z] = df.get(z, 0) + 1
    n = len(fda_codes())
    return tuple(out), {z: math.log(n / d) for z, d in df.items()}


def _score(terms: tuple[str, ...], unknown: int, hit: list[str], idf: dict[str, float], mean: float,
           specific: float, primary: str) -> float:
    if not hit or max(idf[z] for z in hit) <= specific:
        return 0.0
    total = sum(idf[z] for z in terms) + unknown * mean
    return sum(idf[z] for z in hit) / total + (0.1 if any(z in primary for z in hit) else 0)


def _weights() -> tuple[dict[str, float], float, float]:
    _, idf = _terms()
    return idf, sum(idf.values()) / len(idf), sorted(idf.values())[GENERIC_WORDS - 1]


def _row(code: FdaCode, score: float, hit: list[str]) -> dict:
    return {"product_code": code.product_code, "device_name": code.device_name,
            "fda_class": code.device_class,
            "regulation_number": code.regulation_number, "medical_specialty": code.medical_specialty,
            "score": round(min(1.0, score), 3), "matched_terms": hit, "provenance": "text_match"}


def candidates(entry: CatalogueEntry, limit: int = 10) -> list[dict]:
    """FDA product codes whose names match the entry, best first."""
    texts = [entry.category2_name, entry.category1_name, *entry.examples]
    idf, mean, specific = _weights()
    found = []
    for code, terms, unknown in _terms()[0]:
        hit = [z for z in terms if any(z in t for t in texts)]
        score = _score(terms, unknown, hit, idf, mean, specific, entry.category2_name)
        if score >= MIN_SCORE:
            found.append(_row(code, score, hit))
    return sorted(found, key=lambda f: (-f["score"], f["product_code"]))[:limit]


def codes_for_product(name: str, other_texts: tuple[str, ...] = (), limit: int = 3) -> list[dict]:
    """FDA product codes whose names match a product's name (and, less, its other texts), best first:
    the same score as :func:`candidates`, with the product name as the primary text."""
    texts = [t for t in (name, *other_texts) if t]
    if not texts:
        return []
    idf, mean, specific = _weights()
    present = {z for z in idf if any(z in t for t in texts)}
    found = []
    for code, terms, unknown in _terms()[0]:
        hit = [z for z in terms if z in present]
        score = _score(terms, unknown, hit, idf, mean, specific, name)
        if score >= MIN_SCORE:
            found.append(_row(code, score, hit))
    return sorted(found, key=lambda f: (-f["score"], f["product_code"]))[:limit]


def entries_for_code(product_code: str,
                     entries: tuple[CatalogueEntry, ...]) -> list[tuple[CatalogueEntry, float]]:
    """Catalogue entries that the automatic text match links to one FDA product code: score >= MIN_SCORE
    and a matched word in the entry's 二级 name (a word found only in one 品名举例 does not link a category:
    磁共振 in 磁共振引导高强度聚焦超声治疗系统 does not make 01-01-02 an MRI category)."""
    found = next(((c, t, u) for c, t, u in _terms()[0] if c.product_code == product_code), None)
    if found is None:
        return []
    code, terms, unknown = found
    idf, mean, specific = _weights()
    out = []
    for e in entries:
        texts = [e.category2_name, e.category1_name, *e.examples]
        hit = [z for z in terms if any(z in t for t in texts)]
        score = _score(terms, unknown, hit, idf, mean, specific, e.category2_name)
        if score >= MIN_SCORE and any(z in e.category2_name for z in hit):
            out.append((e, round(min(1.0, score), 3)))
    return sorted(out, key=lambda x: (-x[1], x[0].key))
