"""Chinese IMDRF terms imported from a file the deployment holds (none ship with medreg): the file is
checked row by row, installed with its source, audited, and then the picker searches in Chinese.
The terms below are MADE UP for the test (two codes, obviously labelled), not a translation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from medreg.core.accounts import OrgKind, Role
from medreg.core.audit import AuditEvent
from medreg.core.errors import PermissionDenied, ValidationFailed
from medreg.vigilance import aet, aet_search, aet_zh, schemas
from tests.factories import make_actor

MADE_UP = "code,term_zh\nA0401,测试术语泵停止（虚构）\nF12,测试术语严重伤害（虚构）\n".encode()
SOURCE = "made-up test file, not an official translation"


@pytest.fixture
def clean_zh(tmp_path, monkeypatch):
    """The terms go to this test's own folder (no other test or worker sees them), removed after."""
    monkeypatch.setattr(aet_zh, "folder", lambda: tmp_path / "imdrf-aet-zh")
    yield
    monkeypatch.undo()
    aet.terminology.cache_clear()
    schemas._check.cache_clear()


def test_parse_names_every_bad_row():
    known = {t.code for t in aet.terminology()}
    text = "code,term_zh\nA0401,泵\nZ9,泵\nA0401,泵\nF12,pump\nA0101\n"
    mapping, errors = aet_zh.parse_zh(text, known)
    assert mapping == {"A0401": "泵"}
    assert [(e.row, e.field) for e in errors] == [(2, "code"), (3, "code"), (4, "term_zh"), (5, "row")]
    assert aet_zh.parse_zh("code,zh\n", known)[1][0].field == "header"


def test_without_an_import_there_are_no_chinese_terms():
    assert aet_zh.installed() == {}
    result = aet_search.search(aet.terminology(), "泵")
    assert result.hits == [] and result.note == aet_search.NO_CHINESE_SEARCH


def test_import_installs_audits_and_the_picker_searches_in_chinese(db, clean_zh):
    admin = make_actor(db, Role.ADMIN, OrgKind.MONITORING_CENTRE)
    with pytest.raises(PermissionDenied):
        aet_zh.import_terms(db, make_actor(db, Role.HOSPITAL, OrgKind.HOSPITAL), MADE_UP, source=SOURCE)
    with pytest.raises(ValidationFailed) as err:
        aet_zh.import_terms(db, admin, MADE_UP, source="")
    assert err.value.field == "source"
    with pytest.raises(ValidationFailed) as err:
        aet_zh.import_terms(db, admin, b"code,term_zh\nQ1,x\n", source=SOURCE)
    assert err.value.details["errors"] == [{"row": 1, "field": "code",
                                            "reason": "Q1 is not a code of the shipped IMDRF release"}]
    assert aet_zh.import_terms(db, admin, MADE_UP, source=SOURCE) == 2
    assert SOURCE in (aet_zh.folder() / "SOURCE.md").read_text("utf-8")
    terms = aet.terminology()
    term = terms.get("A0401")
    assert term.label("zh_CN") == "测试术语泵停止（虚构）" and term.label("en") == term.term
    hits = aet_search.search(terms, "泵停止").hits
    assert [(h.term.code, h.matched_on) for h in hits] == [("A0401", "term_zh")]
    event = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "imdrf_aet_zh")).one()
    assert event.after["terms"] == 2 and event.after["source"] == SOURCE
