"""The IMDRF AET as package data: counts and releases from SOURCE.md, the tree, code validation,
the picker and narrative suggestions."""

from __future__ import annotations

import csv
import io
from importlib.resources import files

import pytest

from medreg.vigilance.aet import ANNEXES, Terminology, parse_annex, terminology
from medreg.vigilance.aet_search import (
    NO_CHINESE_SEARCH,
    NO_CHINESE_SUGGEST,
    no_chinese_note,
    search,
    stem,
    suggest,
)

# Rows per annex and per level, as SOURCE.md of medreg/data/imdrf-aet states them.
SOURCE_COUNTS = {
    "A": (488, (27, 179, 282)), "B": (25, (25, 0, 0)), "C": (157, (24, 97, 36)),
    "D": (43, (21, 22, 0)), "E": (719, (24, 519, 176)), "F": (67, (28, 37, 2)),
    "G": (300, (7, 224, 69)),
}


@pytest.fixture(scope="module")
def aet() -> Terminology:
    return terminology()


def test_source_md_ships_beside_the_data():
    text = (files("medreg") / "data" / "imdrf-aet" / "SOURCE.md").read_text("utf-8")
    assert "Release Number 2024" in text and "last update: 28.02.2023" in text


@pytest.mark.parametrize("annex", sorted(SOURCE_COUNTS))
def test_rows_and_levels_match_source_md(aet, annex):
    rows, levels = SOURCE_COUNTS[annex]
    terms = aet.annex_terms(annex)
    assert len(terms) == rows
    assert tuple(sum(t.level == lv for t in terms) for lv in (1, 2, 3)) == levels


def test_version_names_each_annex_release(aet):
    assert aet.version == "A:2024 B:2023 C:2023 D:2023 E:2023 F:2023 G:2023"
    assert set(ANNEXES) == set("ABCDEFG")
    assert len(aet.digest) == 64


def test_terms_are_read_verbatim_from_the_csv(aet):
    raw = (files("medreg") / "data" / "imdrf-aet" / "annex_a.csv").read_text("utf-8")
    first = next(csv.DictReader(io.StringIO(raw)))
    t = aet.get(first["code"])
    assert (t.term, t.definition, t.fda_code) == (first["term"], first["definition"], first["fda_code"])
    assert aet.get("F02").term == "Death"
    assert aet.get("a040101").term == "Fracture"  # look-up is case-insensitive


def test_tree_path_and_children(aet):
    assert [t.code for t in aet.path("A040101")] == ["A04", "A0401", "A040101"]
    assert [t.code for t in aet.path("G0200401")] == ["G02", "G02004", "G0200401"]
    kids = {t.code for t in aet.children("A0401")}
    assert {"A040101", "A040104"} <= kids
    assert all(t.parent_code == "A0401" for t in aet.children("A0401"))
    assert {t.code for t in aet.roots("F")} >= {"F02", "F12"}
    assert all(t.level == 1 for t in aet.roots("E"))


def test_annex_e_keeps_its_other_placements(aet):
    t = aet.get("E0102")
    assert t.parent_code == "E01" and "E20" in t.other_parent_codes
    assert t.non_imdrf_code.startswith("MedDRA:")


@pytest.mark.parametrize(("code", "annexes", "ok", "reason"), [
    ("A040101", "A", True, None),
    (" a040101 ", None, True, None),
    ("", None, False, "An IMDRF code is required."),
    ("A040101", "EF", False, "IMDRF code {code} is not from annex {annexes}."),
    ("X01", None, False, "IMDRF code {code} is not from annex {annexes}."),
    ("A4", None, False, "{code} is not shaped like an IMDRF annex {annex} code."),
    ("G0101", None, False, "{code} is not shaped like an IMDRF annex {annex} code."),  # G uses 3/6/8
    ("A9999", None, False, "IMDRF code {code} does not exist in release {release}."),
    ("G04081", "G", False, "IMDRF code {code} is retired: {note}"),
    ("E01", "E", False, "IMDRF code {code} is a heading; choose a more detailed term below it."),
])
def test_code_check(aet, code, annexes, ok, reason):
    result = aet.check(code, annexes)
    assert result.ok is ok
    assert result.reason == reason


def test_retired_code_points_to_its_replacement(aet):
    assert "G04040" in aet.check("G04081").params["note"]


def test_parse_annex_rejects_a_broken_tree():
    text = "code,term,definition,parent_code,level\nA01,x,,,1\nA0101,y,,A02,2\n"
    with pytest.raises(ValueError, match="parent A02 missing"):
        Terminology(parse_annex("A", text), {"A": "t"})
    dup = "code,term,definition,parent_code,level\nA01,x,,,1\nA01,y,,,1\n"
    with pytest.raises(ValueError, match="duplicate"):
        Terminology(parse_annex("A", dup), {"A": "t"})


def test_chinese_terms_are_used_when_the_data_has_them():
    text = "code,term,definition,parent_code,level,term_zh\nA01,Break,,,1,断裂\nA02,Leak,,,1,\n"
    aet = Terminology(parse_annex("A", text), {"A": "t"})
    result = search(aet, "断裂")
    assert [h.term.code for h in result.hits] == ["A01"] and result.note is None
    assert aet.get("A01").label("zh_CN") == "断裂"
    assert aet.get("A02").label("zh_CN") == "Leak"  # no Chinese term: the English one, never a guess


def test_shipped_release_has_no_chinese_terms_so_chinese_search_says_why(aet):
    assert not any(t.term_zh for t in aet)
    result = search(aet, "断裂")
    assert result.hits == [] and result.note == NO_CHINESE_SEARCH


def test_search_by_code_prefix(aet):
    codes = [h.term.code for h in search(aet, "a0401").hits]
    assert codes[0] == "A0401" and all(c.startswith("A0401") for c in codes)


def test_search_by_words_ranks_term_matches_first(aet):
    hits = search(aet, "fracture", annexes="A").hits
    assert hits[0].term.code == "A040101"  # the exact term first
    assert {h.term.code for h in hits} >= {"A040104"}  # Solder Joint Fracture
    both = search(aet, "air leak").hits
    assert both[0].term.code == "A050402"  # Gas/Air Leak
    assert search(aet, "fracture", annexes="F").hits == []


def test_search_selectable_only_hides_headings(aet):
    assert "E01" in {h.term.code for h in search(aet, "E01").hits}
    assert "E01" not in {h.term.code for h in search(aet, "E01", selectable_only=True).hits}


def test_stem():
    assert stem("leaking") == stem("leaks") == stem("leaked") == "leak"
    assert stem("fractured") == stem("fracture") == stem("Fractures")


NARRATIVE = ("During the procedure the catheter tip fractured and a piece remained in the vessel. "
             "The patient needed additional surgery; bleeding was observed.")


def test_suggestions_explain_why(aet):
    out = {s.code: s for s in suggest(aet, NARRATIVE, outcome="serious_injury")}
    assert out["F12"].params == {"outcome": "serious_injury", "code": "F12",
                                 "term": "Serious Injury/ Illness/ Impairment"}
    assert out["A040101"].params["words"] == "fractured"
    assert out["F1901"].params["words"] == "additional, surgery"
    assert out["E0506"].params["words"] == "bleeding"  # Hemorrhage/Blood Loss/Bleeding
    assert {"G04023", "G04129"} <= set(out)  # Catheter, Tip (components)
    assert all(s.reason.count("{") == len(s.params) for s in out.values())
    assert all(aet.check(c).ok for c in out)  # only selectable codes are suggested


def test_suggestions_put_the_outcome_first_and_respect_annexes(aet):
    ranked = suggest(aet, NARRATIVE, outcome="death", annexes="A")
    assert ranked[0].code == "F02"
    assert {s.annex for s in ranked[1:]} == {"A"}


def test_no_words_no_suggestions(aet):
    assert suggest(aet, "The weather was fine.") == []
    assert suggest(aet, "") == []


def test_chinese_narrative_note(aet):
    assert no_chinese_note(aet, "导管断裂") == NO_CHINESE_SUGGEST
    assert no_chinese_note(aet, "catheter broke") is None
    assert [s.code for s in suggest(aet, "导管断裂，患者死亡", outcome="death")] == ["F02"]
