"""The IMDRF Adverse Event Terminology (AET, IMDRF/AE WG/N43) as versioned package data.

Files: ``medreg/data/imdrf-aet/annex_{a..g}.csv`` with their SOURCE.md (Annex A release 2024,
B-G release 2023). Nothing here adds, renames or translates a code: the term tree, its levels
(1-3) and the statuses are read from the files as published.

``parse_annex`` is pure (text in, terms out); ``terminology()`` reads the shipped files once.
Chinese terms: the shipped release has none. A ``term_zh`` column is read if a later data file
carries one (from an official source), and so are the terms a deployment imported from an official
translation it holds (``aet_zh.py``, ``medreg vigilance aet import-zh``); no translation is ever made
up in code.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib.resources import files

from medreg.core.i18n import _
from medreg.vigilance.aet_zh import installed

DATA_FOLDER = "imdrf-aet"

# What each annex codes (IMDRF/AE WG/N43) and its release in the shipped files (SOURCE.md).
ANNEXES: dict[str, tuple[str, str]] = {
    "A": ("Medical Device Problem", "2024"),
    "B": ("Type of Investigation", "2023"),
    "C": ("Investigation Findings", "2023"),
    "D": ("Investigation Conclusion", "2023"),
    "E": ("Health Effects - Clinical Signs and Symptoms or Conditions", "2023"),
    "F": ("Health Effects - Health Impact", "2023"),
    "G": ("Medical Device Component", "2023"),
}

# Code shapes (SOURCE.md "Columns"): A/C/D/E/F 3, 5, 7 characters; G 3, 6, 8; B one level of 3.
_SHAPES = {
    **{a: re.compile(rf"^{a}\d{{2}}(\d{{2}}(\d{{2}})?)?$") for a in "ACDEF"},
    "B": re.compile(r"^B\d{2}$"),
    "G": re.compile(r"^G\d{2}(\d{3}(\d{2})?)?$"),
}


@dataclass(frozen=True)
class Term:
    code: str
    annex: str
    term: str
    definition: str
    parent_code: str | None
    level: int
    status: str
    status_description: str
    term_zh: str | None = None
    non_imdrf_code: str | None = None  # Annex E: MedDRA cross-reference as published
    fda_code: str | None = None  # Annex A: FDA/CDRH device problem code
    nci_code: str | None = None
    other_parent_codes: tuple[str, ...] = ()

    @property
    def retired(self) -> bool:
        return "retired" in self.status.lower()

    @property
    def selectable(self) -> bool:
        """IMDRF marks grouping headings 'Not selectable' (code with a more detailed term)."""
        return not self.retired and "not selectable" not in self.status.lower()

    def label(self, locale: str = "en") -> str:
        if locale.startswith("zh") and self.term_zh:
            return self.term_zh
        return self.term


@dataclass(frozen=True)
class CodeCheck:
    """The verdict on one code: ``ok`` or a ``reason`` (an English msgid) with its params."""

    code: str
    ok: bool
    reason: str | None = None
    params: dict = field(default_factory=dict)
    term: Term | None = None


def _blank(v: str | None) -> str | None:
    v = (v or "").strip()
    return v or None


def parse_annex(annex: str, text: str) -> list[Term]:
    """Rows of one annex CSV as terms (pure)."""
    out = []
    for r in csv.DictReader(io.StringIO(text)):
        out.append(Term(
            code=r["code"].strip(), annex=annex, term=r["term"].strip(),
            definition=(r.get("definition") or "").strip(), parent_code=_blank(r.get("parent_code")),
            level=int(r["level"]), status=(r.get("status") or "").strip(),
            status_description=(r.get("status_description") or "").strip(),
            term_zh=_blank(r.get("term_zh")), non_imdrf_code=_blank(r.get("non_imdrf_code")),
            fda_code=_blank(r.get("fda_code")), nci_code=_blank(r.get("nci_code")),
            other_parent_codes=tuple(c for c in (r.get("other_parent_codes") or "").split("|") if c),
        ))
    return out


class Terminology:
    """The whole AET: every annex, the tree, lookups and code validation."""

    def __init__(self, terms: Iterable[Term], releases: dict[str, str], digest: str = ""):
        self.releases = dict(releases)
        self.digest = digest
        self._terms: dict[str, Term] = {}
        self._children: dict[str | None, list[str]] = {}
        for t in terms:
            if t.code in self._terms:
                raise ValueError(f"duplicate IMDRF code {t.code}")
            self._terms[t.code] = t
        for t in self._terms.values():
            if t.parent_code is not None and t.parent_code not in self._terms:
                raise ValueError(f"{t.code}: parent {t.parent_code} missing")
            self._children.setdefault(t.parent_code, []).append(t.code)

    def __len__(self) -> int:
        return len(self._terms)

    def __iter__(self):
        return iter(self._terms.values())

    def __contains__(self, code: str) -> bool:
        return code in self._terms

    @property
    def version(self) -> str:
        """A label naming every annex release, e.g. ``A:2024 B:2023 ...``."""
        return " ".join(f"{a}:{r}" for a, r in sorted(self.releases.items()))

    def get(self, code: str) -> Term | None:
        return self._terms.get(code.strip().upper()) if code else None

    def roots(self, annex: str) -> list[Term]:
        return [self._terms[c] for c in self._children.get(None, []) if c.startswith(annex)]

    def children(self, code: str) -> list[Term]:
        return [self._terms[c] for c in self._children.get(code, [])]

    def path(self, code: str) -> list[Term]:
        """From the level-1 ancestor down to the term itself."""
        out: list[Term] = []
        t = self.get(code)
        while t is not None:
            out.append(t)
            t = self._terms.get(t.parent_code) if t.parent_code else None
        return out[::-1]

    def annex_terms(self, annex: str) -> list[Term]:
        return [t for t in self._terms.values() if t.annex == annex]

    def check(self, code: str, annexes: str | Iterable[str] | None = None) -> CodeCheck:
        """Is ``code`` a selectable code of one of ``annexes``? Returns the reason when not."""
        raw = (code or "").strip().upper()
        allowed = sorted(set(annexes)) if annexes else sorted(ANNEXES)
        if not raw:
            return CodeCheck(code, False, _("An IMDRF code is required."))
        if raw[0] not in allowed:
            return CodeCheck(raw, False, _("IMDRF code {code} is not from annex {annexes}."),
                             {"code": raw, "annexes": "/".join(allowed)})
        shape = _SHAPES.get(raw[0])
        if shape is None or not shape.match(raw):
            return CodeCheck(raw, False, _("{code} is not shaped like an IMDRF annex {annex} code."),
                             {"code": raw, "annex": raw[0]})
        term = self._terms.get(raw)
        if term is None:
            return CodeCheck(raw, False, _("IMDRF code {code} does not exist in release {release}."),
                             {"code": raw, "release": self.releases.get(raw[0], "?")})
        if term.retired:
            return CodeCheck(raw, False, _("IMDRF code {code} is retired: {note}"),
                             {"code": raw, "note": term.status_description}, term)
        if not term.selectable:
            return CodeCheck(raw, False,
                             _("IMDRF code {code} is a heading; choose a more detailed term below it."),
                             {"code": raw}, term)
        return CodeCheck(raw, True, term=term)


def _read(name: str) -> bytes:
    return (files("medreg") / "data" / DATA_FOLDER / name).read_bytes()


@lru_cache
def terminology() -> Terminology:
    """The shipped AET (read once per process)."""
    terms: list[Term] = []
    sha = hashlib.sha256()
    for annex in ANNEXES:
        raw = _read(f"annex_{annex.lower()}.csv")
        sha.update(raw)
        terms.extend(parse_annex(annex, raw.decode("utf-8")))
    zh = installed()  # official Chinese terms a deployment imported (aet_zh.py); none ship
    if zh:
        terms = [replace(t, term_zh=zh[t.code]) if t.code in zh else t for t in terms]
        sha.update(repr(sorted(zh.items())).encode("utf-8"))
    return Terminology(terms, {a: r for a, (_, r) in ANNEXES.items()}, sha.hexdigest())
