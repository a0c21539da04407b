"""The shipped catalogue rows and the pure search (Chinese, partial words, pinyin, English, codes)."""

from __future__ import annotations

import pytest

from medreg.catalog import catalogue, search


@pytest.fixture(scope="module")
def index() -> search.Index:
    return search.Index(catalogue.shipped_entries())


def test_shipped_rows_match_source_md_counts():
    entries = catalogue.shipped_entries()
    assert len(entries) == 178  # SOURCE.md: 178 rows (01: 42, 04: 136)
    by_sub = {s: [e for e in entries if e.subcatalogue_code == s] for s in ("01", "04")}
    assert (len(by_sub["01"]), len(by_sub["04"])) == (42, 136)
    classes = {s: [sum(e.management_class == c for e in by_sub[s]) for c in ("III", "II", "I")]
               for s in by_sub}
    assert classes == {"01": [29, 12, 1], "04": [6, 37, 93]}  # SOURCE.md second pass
    assert len({e.key for e in entries}) == 178


def test_exact_example_name_ranks_its_row_first(index):
    hit = search.search(index, "超声骨组织手术系统")[0]
    assert (hit.entry.category2_code, hit.field, hit.via, hit.score) == ("01-01-01", "example", "exact", 1.0)
    assert hit.highlight == "<mark>超声骨组织手术系统</mark>"


def test_partial_word_and_reordered_words(index):
    hits = search.search(index, "导航手术系统")  # the catalogue says 手术导航系统
    assert hits[0].entry.category2_code == "01-07-01" and hits[0].via == "partial"
    assert "<mark>" in hits[0].highlight
    sub = search.search(index, "骨锯")
    assert sub[0].entry.category2_name == "骨锯"
    assert any(h.text == "电动骨锯" and h.via == "substring" for h in sub)


def test_surgical_robot_finds_the_control_system_through_a_synonym(index):
    hits = search.search(index, "手术机器人")
    assert hits[0].entry.category2_code == "01-07-03" and hits[0].via == "synonym"
    assert hits[0].score < 1.0  # a rewrite never counts as an exact match


def test_pinyin_full_and_initials(index):
    full = search.search(index, "shoushu daohang")[0]
    initials = search.search(index, "ssdhxt")[0]
    assert full.entry.category2_code == initials.entry.category2_code == "01-07-01"
    assert (full.via, initials.via) == ("pinyin", "initials")
    assert full.highlight == "<mark>手术导航</mark>系统"
    # a pinyin match must start on a syllable: "hudao" is inside "shoushudaohang" but not a word start
    assert all(h.via != "pinyin" or h.highlight.index("<mark>") >= 0 for h in search.search(index, "hudao"))


def test_english_query_through_the_glossary(index):
    hits = search.search(index, "surgical navigation system")
    assert hits[0].entry.category2_code == "01-07-01" and hits[0].via == "english"
    assert search.search(index, "zzzz unknownword") == []


def test_code_prefix_search(index):
    hits = search.search(index, "01-07", limit=50)
    assert {h.entry.category2_code for h in hits} == {"01-07-01", "01-07-02", "01-07-03"}
    assert search.search(index, "04-09-01")[0].score == 1.0


def test_ranking_is_by_score_and_exclude_leaves_rows_out(index):
    hits = search.search(index, "激光", limit=20)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    top = hits[0].entry.key
    assert all(h.entry.key != top for h in search.search(index, "激光", exclude=frozenset({top})))


def test_highlight_escapes_html_and_cuts_long_text():
    assert search.highlight("<a>骨锯", [(3, 5)]) == "&lt;a&gt;<mark>骨锯</mark>"
    long = "甲" * 100 + "骨锯" + "乙" * 100
    cut = search.highlight(long, [(100, 102)])
    assert cut.startswith("…") and cut.endswith("…") and "<mark>骨锯</mark>" in cut


def test_tree_lists_all_22_subcatalogues():
    tree = search.tree(catalogue.shipped_entries(), catalogue.subcatalogue_names())
    assert len(tree) == 22
    s01 = next(s for s in tree if s["code"] == "01")
    assert s01["rows"] == 42 and s01["children"][0]["code"] == "01-01"
    assert next(s for s in tree if s["code"] == "06")["rows"] == 0
