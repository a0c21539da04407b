"""Importing an official catalogue table: both layouts, validation, versions, atomicity, history."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from medreg.catalog import catalogue, queries, service, tables
from medreg.catalog.models import CatalogEntry, CatalogVersion
from medreg.core.audit import AuditEvent
from medreg.core.errors import Conflict, PermissionDenied, ValidationFailed
from tests.factories import make_actor

OFFICIAL_HEADER = ["序号", "一级产品类别", "二级产品类别", "产品描述", "预期用途", "品名举例", "管理类别"]
# Made-up demo rows in the official layout (merged cells left empty, as openpyxl reads them).
DEMO_06 = [
    ["01", "演示一级类别", "01 演示二级类别甲", "演示描述。", "演示用途。", "演示产品甲、演示产品乙", "Ⅲ"],
    ["", "", "", "", "", "演示产品丙", ""],
    ["", "", "02 演示二级类别乙", "另一描述。", "另一用途。", "演示产品丁", "第二类"],
    ["02", "演示一级类别二", "01 演示二级类别丙", "描述。", "用途。", "演示产品戊", "Ⅰ"],
]


def _xlsx(rows: list[list], title: str = "06 医用成像器械") -> bytes:
    book = Workbook()
    ws = book.active
    ws.title = title
    ws.append(["06 医用成像器械（演示表，非官方数据）"])
    ws.append(OFFICIAL_HEADER)
    for r in rows:
        ws.append([c or None for c in r])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_official_layout_forward_fills_merged_cells_and_numbers_codes():
    parsed = tables.read_catalogue_file(Path("catalogue.xlsx"), _xlsx(DEMO_06))
    assert parsed.problems == []
    codes = [(e.category2_code, e.row_no, e.management_class, e.examples) for e in parsed.entries]
    assert codes == [("06-01-01", 1, "III", ("演示产品甲", "演示产品乙")),
                     ("06-01-01", 2, "III", ("演示产品丙",)),
                     ("06-01-02", 1, "II", ("演示产品丁",)), ("06-02-01", 1, "I", ("演示产品戊",))]
    assert parsed.entries[0].subcatalogue_name == "医用成像器械"


def test_every_bad_row_is_reported_with_field_and_reason():
    bad = [["01", "类别", "01 二级", "d", "u", "产品", "IV"], ["", "", "02 二级二", "d", "u", "", "II"]]
    parsed = tables.read_catalogue_file(Path("x.csv"), _csv(OFFICIAL_HEADER, bad), subcatalogue="06")
    assert [(p.row, p.field) for p in parsed.problems] == [(1, "management_class"), (2, "examples")]
    missing = catalogue.parse_table(["序号", "产品描述"], [])
    assert missing.problems[0].field == "header" and "品名举例" in missing.problems[0].reason
    with pytest.raises(ValidationFailed) as err:
        tables.read_catalogue_file(Path("x.doc"), b"")
    assert err.value.field == "file"


def _csv(header: list[str], rows: list[list]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def test_import_makes_a_new_version_carrying_other_subcatalogues_and_keeps_history(db):
    admin = make_actor(db, "admin", "regulator_unit")
    shipped = service.load_shipped(db)
    assert shipped.rows == 178 and service.load_shipped(db) is None  # idempotent
    # a corrected 04 table (made-up change: one example renamed) plus a demo 06 table
    rows = [dict(r) for r in csv.DictReader(io.StringIO(catalogue.shipped_bytes().decode()))]
    rows_04 = [r for r in rows if r["subcatalogue_code"] == "04"]
    rows_04[0]["examples"] = "演示改名产品"
    header = list(rows[0].keys())
    data = _csv(header, [[r[h] for h in header] for r in rows_04])
    parsed = tables.read_catalogue_file(Path("04.csv"), data)
    v2 = service.import_table(db, admin, parsed, label="demo-04-fix", source_name="04.csv",
                              sha256=hashlib.sha256(data).hexdigest())
    assert (v2.rows, v2.subcatalogues, v2.based_on_id) == (178, "04", shipped.id)
    assert not db.get(CatalogVersion, shipped.id).is_current
    label, index = queries.current_index(db)
    assert label == "demo-04-fix" and len(index.entries) == 178
    hist = queries.entry_history(db, rows_04[0]["category2_code"])["history"]
    assert [h["version"] for h in hist][:1] == [catalogue.SHIPPED_VERSION]
    assert {tuple(h["examples"]) for h in hist} >= {("演示改名产品",)}
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "catalogue_imported")
                      .order_by(AuditEvent.id.desc()))
    assert event.entity_id == str(v2.id)
    with pytest.raises(Conflict):
        service.import_table(db, admin, parsed, label="again", source_name="04.csv",
                             sha256=hashlib.sha256(data).hexdigest())


def test_invalid_file_or_wrong_role_writes_nothing(db):
    before = db.scalar(select(func.count()).select_from(CatalogEntry))
    admin = make_actor(db, "admin", "regulator_unit")
    bad = catalogue.parse_table(OFFICIAL_HEADER, [["01", "类别", "01 二级", "d", "u", "产品", "?"]], "06")
    with pytest.raises(ValidationFailed) as err:
        service.import_table(db, admin, bad, label="bad", source_name="bad.csv", sha256="0" * 64)
    assert err.value.details["problems"][0]["field"] == "management_class"
    good = catalogue.parse_table(OFFICIAL_HEADER, DEMO_06, "06")
    registrant = make_actor(db, "registrant", "registrant")
    with pytest.raises(PermissionDenied):
        service.import_table(db, registrant, good, label="x", source_name="x", sha256="1" * 64)
    assert db.scalar(select(func.count()).select_from(CatalogEntry)) == before


def test_api_search_and_tree(client):
    body = client.get("/api/v1/catalog/search", params={"q": "手术导航"}).json()
    assert body["results"][0]["category2_code"] == "01-07-01"
    assert body["results"][0]["highlight"].startswith("<mark>手术导航</mark>")
    assert len(client.get("/api/v1/catalog/tree").json()["subcatalogues"]) == 22
    bad = client.get("/api/v1/catalog/search", params={"q": ""})
    assert bad.status_code == 422
    missing = client.get("/api/v1/catalog/entries/99-99-99/history")
    assert missing.status_code == 404 and missing.json()["field"] == "code"


def _docx(tables: list[tuple[str, list[list]]]) -> bytes:
    """A minimal Word .docx (zip + XML) holding the given tables, each after a title paragraph. Cells
    given as ("merge",) continue a vertical merge; ("span", n, text) span n grid columns."""
    import zipfile
    from xml.sax.saxutils import escape

    def cell(c) -> str:
        if isinstance(c, tuple) and c[0] == "merge":
            return '<w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>'
        if isinstance(c, tuple) and c[0] == "span":
            return (f'<w:tc><w:tcPr><w:gridSpan w:val="{c[1]}"/></w:tcPr>'
                    f'<w:p><w:r><w:t>{escape(c[2])}</w:t></w:r></w:p></w:tc>')
        paras = "".join(f"<w:p><w:r><w:t>{escape(x)}</w:t></w:r></w:p>" for x in str(c).split("\n"))
        if not c:
            return f"<w:tc>{paras}</w:tc>"
        return f'<w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr>{paras}</w:tc>'

    def table(rows: list[list]) -> str:
        trs = "".join("<w:tr>" + "".join(cell(c) for c in r) + "</w:tr>" for r in rows)
        return f"<w:tbl>{trs}</w:tbl>"

    body = "".join(f"<w:p><w:r><w:t>{escape(title)}</w:t></w:r></w:p>{table(rows)}" for title, rows in tables)
    doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.'
           f'openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats'
                   '.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType='
                   '"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("word/document.xml", doc)
    return buf.getvalue()


def test_docx_tables_merged_cells_spans_and_repeated_header():
    # made-up demo rows in the official layout, as a Word table (merged cells continue vertically)
    rows = [OFFICIAL_HEADER,
            ["01", "演示一级类别", "01 演示二级类别甲", "演示描述。", "演示用途。", "演示产品甲\n演示产品乙",
             "Ⅲ"],
            [("merge",), ("merge",), ("merge",), ("merge",), ("merge",), "演示产品丙", ("merge",)],
            OFFICIAL_HEADER,  # the header repeated at the top of the next page
            ["", ("merge",), "02 演示二级类别乙", "另一描述。", "另一用途。", "演示产品丁", "第二类"]]
    data = _docx([("06 医用成像器械（演示，非官方）", rows)])
    parsed = tables.read_catalogue_file(Path("catalogue.docx"), data)
    assert parsed.problems == []
    assert [(e.category2_code, e.management_class, e.examples) for e in parsed.entries] == [
        ("06-01-01", "III", ("演示产品甲", "演示产品乙")), ("06-01-01", "III", ("演示产品丙",)),
        ("06-01-02", "II", ("演示产品丁",))]
    spanned = [OFFICIAL_HEADER, ["01", "类别", ("span", 2, "01 二级"), "u", "产品", "II"]]
    span = tables.read_catalogue_file(Path("x.docx"), _docx([("06 演示", spanned)]))
    # a cell spanning 二级产品类别 and 产品描述 is followed by an empty cell: the columns stay aligned
    e = span.entries[0]
    assert (e.category2_name, e.description, e.intended_use, e.examples) == ("二级", "", "u", ("产品",))
    for broken in (b"not a zip", _docx([])[:40]):
        with pytest.raises(ValidationFailed) as err:
            tables.read_catalogue_file(Path("x.docx"), broken)
        assert err.value.field == "file"
    empty = tables.read_catalogue_file(Path("x.docx"), _docx([]))
    assert empty.problems[0].field == "header"
