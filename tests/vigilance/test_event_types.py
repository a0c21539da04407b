"""Imaging and AI event types: every row is a real, selectable IMDRF code with IMDRF's own term, and the
docs page lists every row."""

from __future__ import annotations

from pathlib import Path

from medreg.vigilance.aet import terminology
from medreg.vigilance.event_types import event_types, parse, problems
from tests.web.conftest import app, client  # noqa: F401  (fixtures)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "vigilance.md"


def test_every_row_is_an_imdrf_code_with_its_term():
    rows = event_types()
    assert len(rows) >= 20 and {r.group for r in rows} == {"imaging", "ai"}
    assert problems(rows, terminology()) == []


def test_problems_are_found():
    text = (
        "group,event_type,imdrf_field,imdrf_code,imdrf_term,scope_note\n"
        "ai,x,device_problem,A090803,False Negative,n\n"
        "ai,x,health_impact,A090803,False Negative Result,n\n"
        "ai,x,device_problem,A9999,X,n\n"
    )
    out = problems(parse(text), terminology())
    assert len(out) == 3 and "is not IMDRF's" in out[0] and "not from annex" in out[1]


def test_docs_render_every_row():
    docs = DOCS.read_text("utf-8")
    for r in event_types():
        assert f"| {r.group} | {r.event_type} | {r.imdrf_field} | {r.imdrf_code} | {r.imdrf_term} |" in docs


def test_api(client):  # noqa: F811
    out = client.get("/api/vigilance/event-types", params={"group": "ai"}).json()
    assert out["scope_article"] == "Order 1 Art.18"
    assert {r["group"] for r in out["event_types"]} == {"ai"}
    assert client.get("/api/vigilance/event-types", params={"group": "x"}).status_code == 422


def test_unsourced_types_are_flagged_and_never_in_the_sourced_table():
    from medreg.vigilance.event_types import unsourced

    rows, aet = unsourced(), terminology()
    names = {r.event_type.lower() for r in rows}
    assert {"mri quench", "performance drift", "automation bias"} <= names
    assert all(not r.sourced and r.status == "no source found" and r.searched for r in rows)
    assert not names & {r.event_type.lower() for r in event_types()}  # never presented as sourced
    for r in rows:  # the suggested codes are real, selectable IMDRF codes
        assert r.nearest_imdrf_codes and all(aet.check(c).ok for c in r.nearest_imdrf_codes)
    docs = DOCS.read_text("utf-8")
    for r in rows:
        codes = ", ".join(r.nearest_imdrf_codes)
        assert f"| {r.group} | {r.event_type} | no source found | {codes} |" in docs


def test_api_lists_the_unsourced_types_as_unsourced(client):  # noqa: F811
    out = client.get("/api/vigilance/event-types").json()
    assert out["unsourced"] and all(r["sourced"] is False for r in out["unsourced"])
    ai = client.get("/api/vigilance/event-types", params={"group": "imaging"}).json()["unsourced"]
    assert [r["event_type"] for r in ai] == ["MRI quench"]
