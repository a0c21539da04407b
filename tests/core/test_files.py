"""The content-addressed file store: dedup, limits, sniffing, immutability, corruption detection."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile

import pytest
from sqlalchemy import func, select

from medreg.core import files
from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.audit import AuditEvent
from medreg.core.errors import NotFound, PermissionDenied, ValidationFailed
from medreg.core.settings import get_settings
from tests.factories import make_actor

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(40))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(48) + b"PE\x00\x00"


def _ooxml(main_part: str, content_types: bytes = b"<Types/>", extra: dict | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", content_types)
        zf.writestr(main_part, "<document/>")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def store_dir(tmp_path, monkeypatch):
    root = tmp_path / "store"
    monkeypatch.setattr(get_settings(), "file_store_dir", root)
    return root


@pytest.fixture
def actor(db):
    return make_actor(db, Role.REGISTRANT, OrgKind.REGISTRANT)


def _content_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _count(db) -> int:
    return db.scalar(select(func.count()).select_from(files.StoredFile))


def test_store_writes_content_addressed_read_only_file_and_audits(db, actor, store_dir):
    row = files.store(db, actor, filename="技术要求.pdf", data=PDF)
    digest = hashlib.sha256(PDF).hexdigest()
    assert (row.sha256, row.size, row.mime_type) == (digest, len(PDF), "application/pdf")
    assert row.created_by_user_id == actor.user_id and row.created_at.tzinfo is not None
    path = store_dir / digest[:2] / digest[2:4] / digest
    assert files.path_of(digest) == path and path.read_bytes() == PDF
    assert not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert files.read_bytes(row) == PDF
    with files.open_file(row) as fh:
        assert fh.read(5) == b"%PDF-"
    assert files.verify(row).ok
    event = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "stored_file",
                                                AuditEvent.entity_id == str(row.id))).one()
    assert event.action == "file.store" and event.after["sha256"] == digest and "技术要求.pdf" in event.note
    assert list((store_dir / "tmp").iterdir()) == []  # no temporary file left behind


def test_same_bytes_are_stored_once(db, actor, store_dir):
    first = files.store(db, actor, filename="a.pdf", data=PDF)
    again = files.store(db, actor, filename="renamed copy.pdf", data=io.BytesIO(PDF))
    assert again.id == first.id and _count(db) == 1
    assert len(_content_files(store_dir)) == 1
    other = files.store(db, actor, filename="b.pdf", data=PDF + b"% version 2\n")
    assert other.id != first.id and _count(db) == 2  # a new version is a new file


@pytest.mark.parametrize("name, data, mime", [
    ("scan.png", PNG, "image/png"),
    ("photo.JPG", JPEG, "image/jpeg"),
    ("photo.jpeg", JPEG, "image/jpeg"),
    ("scan.tiff", b"II*\x00" + bytes(32), "image/tiff"),
    ("report.docx", _ooxml("word/document.xml"), files.DOCX),
    ("data.xlsx", _ooxml("xl/workbook.xml"), files.XLSX),
    ("slides.pptx", _ooxml("ppt/presentation.xml"), files.PPTX),
    ("notes.txt", "说明书\r\n第二行\tend\n".encode(), "text/plain"),
    ("table.csv", "\ufeff名称,数量\n导管,3\n".encode(), "text/csv"),
    ("MZ.txt", b"MZ Hospital list\n", "text/plain"),  # text that merely starts like a program
])
def test_accepted_types_are_sniffed(db, actor, store_dir, name, data, mime):
    assert files.store(db, actor, filename=name, data=data).mime_type == mime


@pytest.mark.parametrize("name, data, declared, reason", [
    ("fake.pdf", PNG, None, "content is image/png but the name ends in '.pdf'"),
    ("fake.png", PDF, None, "content is application/pdf but the name ends in '.png'"),
    ("setup.pdf", EXE, None, "Executable programs are not accepted"),
    ("setup.txt", EXE, None, "Executable programs are not accepted"),
    ("empty.pdf", b"", None, "The file is empty"),
    ("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), None, "Legacy Office files"),
    ("bundle.docx", _ooxml("misc/readme.xml"), None, "Archives are not accepted"),
    ("macro.docx", _ooxml("word/document.xml", extra={"word/vbaProject.bin": b"\x00"}), None, "macros"),
    ("macro.xlsx", _ooxml("xl/workbook.xml", b"<Types>application/vnd.ms-excel.sheet.macroEnabled.main+xml"
                                             b"</Types>"), None, "macros"),
    ("broken.docx", b"PK\x03\x04" + bytes(100), None, "damaged"),
    ("gbk.csv", "名称,数量\n".encode("gb18030"), None, "UTF-8 text"),
    ("utf16.txt", "notes".encode("utf-16"), None, "UTF-8 text"),
    ("report.pdf", PDF, "image/png", "declared as image/png but its content is application/pdf"),
])
def test_refused_content_leaves_nothing_behind(db, actor, store_dir, name, data, declared, reason):
    before = (_count(db), db.scalar(select(func.count()).select_from(AuditEvent)))
    with pytest.raises(ValidationFailed) as err:
        files.store(db, actor, filename=name, data=data, declared_mime=declared)
    assert err.value.field == "file" and reason in err.value.message
    assert _content_files(store_dir) == []
    assert (_count(db), db.scalar(select(func.count()).select_from(AuditEvent))) == before


def test_declared_types_browsers_send_are_accepted(db, actor, store_dir):
    jpeg = files.store(db, actor, filename="a.jpg", data=JPEG, declared_mime="image/jpg")
    assert jpeg.mime_type == "image/jpeg"
    assert files.store(db, actor, filename="a.pdf", data=PDF,
                       declared_mime="application/octet-stream").mime_type == "application/pdf"
    csv = files.store(db, actor, filename="t.csv", data=b"a,b\n1,2\n",
                      declared_mime="application/vnd.ms-excel")
    assert csv.mime_type == "text/csv"


@pytest.mark.parametrize("name", ["", "noextension", "virus.exe", "archive.zip", "legacy.doc",
                                  "x" * 300 + ".pdf"])
def test_filenames_outside_the_allow_list_are_refused(db, actor, store_dir, name):
    with pytest.raises(ValidationFailed) as err:
        files.store(db, actor, filename=name, data=PDF)
    assert err.value.field == "filename"
    assert _content_files(store_dir) == []


def test_size_limit_is_enforced_while_streaming(db, actor, store_dir, monkeypatch):
    monkeypatch.setattr(get_settings(), "max_upload_bytes", 2 * files.CHUNK)

    class Endless(io.RawIOBase):
        """A stream that never ends; it must not be read whole."""
        consumed = 0

        def readable(self):
            return True

        def read(self, n=-1):
            assert n is not None and 0 < n <= files.CHUNK, "the store must read in chunks"
            self.consumed += n
            return b"a" * n

    stream = Endless()
    with pytest.raises(ValidationFailed) as err:
        files.store(db, actor, filename="big.txt", data=stream)
    assert err.value.field == "file" and str(2 * files.CHUNK) in err.value.message
    assert stream.consumed <= 3 * files.CHUNK
    assert _content_files(store_dir) == [] and _count(db) == 0
    exact = files.store(db, actor, filename="fits.txt", data=b"b" * (2 * files.CHUNK))
    assert exact.size == 2 * files.CHUNK


def test_large_file_is_hashed_across_chunks(db, actor, store_dir):
    data = "第000000行,value\n".encode() * 300_000  # ~5 MB, characters split across chunk borders
    row = files.store(db, actor, filename="big.csv", data=io.BytesIO(data))
    assert row.sha256 == hashlib.sha256(data).hexdigest() and row.size == len(data)
    assert row.mime_type == "text/csv"


def test_verify_detects_corruption_truncation_and_loss(db, actor, store_dir):
    row = files.store(db, actor, filename="a.pdf", data=PDF)
    path = files.path_of(row.sha256)
    path.chmod(0o644)
    path.write_bytes(PDF.replace(b"Catalog", b"Catalof"))  # same size, other bytes
    check = files.verify(row)
    assert (check.ok, check.problem) == (False, "hash_mismatch") and row.sha256 in check.message
    path.write_bytes(PDF[:-3])
    assert files.verify(row).problem == "size_mismatch"
    path.unlink()
    assert files.verify(row).problem == "missing"
    with pytest.raises(NotFound):
        files.open_file(row)
    again = files.store(db, actor, filename="a.pdf", data=PDF)  # uploading the bytes again restores it
    assert again.id == row.id and files.verify(row).ok


def test_leftover_content_from_a_rolled_back_upload_is_reused(db, actor, store_dir):
    digest = hashlib.sha256(PDF).hexdigest()
    path = files.path_of(digest)
    path.parent.mkdir(parents=True)
    path.write_bytes(PDF)
    row = files.store(db, actor, filename="a.pdf", data=PDF)
    assert row.sha256 == digest and path.read_bytes() == PDF and len(_content_files(store_dir)) == 1


def test_public_cannot_upload_and_missing_file_is_not_found(db, store_dir):
    with pytest.raises(PermissionDenied):
        files.store(db, Actor.public(), filename="a.pdf", data=PDF)
    with pytest.raises(NotFound):
        files.get(db, 10**9)
    assert files.store(db, Actor.system(), filename="a.pdf", data=PDF).created_by_user_id is None
