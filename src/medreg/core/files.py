"""The content-addressed file store for dossier attachments.

Content lives on disk under ``Settings.file_store_dir`` as ``<ab>/<cd>/<sha256>``, written once
(temporary file + fsync + atomic rename), made read-only and never overwritten. The table
``stored_file`` holds one row per distinct content: a second upload of the same bytes returns the
same row. Domain tables reference ``stored_file.id`` and keep their own original filename. Files are
immutable: a new version of a document is a new file.

The type of a file is decided by sniffing its bytes (never by trusting the name or the browser);
the name's extension and the declared MIME type must agree with the content. Uploads are assumed
virus-free: the hook for a ClamAV scan is :func:`_scan` (see ``docs/files-and-jobs.md``).
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import BigInteger, ForeignKey, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from medreg.core import audit
from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.db import Base
from medreg.core.errors import NotFound, PermissionDenied, ValidationFailed
from medreg.core.settings import get_settings

CHUNK = 1024 * 1024
FILENAME_MAX = 255
HEAD = 8192  # bytes kept for sniffing

PDF, PNG, JPEG, TIFF = "application/pdf", "image/png", "image/jpeg", "image/tiff"
_OOXML = "application/vnd.openxmlformats-officedocument."
DOCX, XLSX, PPTX = (_OOXML + "wordprocessingml.document", _OOXML + "spreadsheetml.sheet",
                    _OOXML + "presentationml.presentation")
TEXT, CSV, JSON = "text/plain", "text/csv", "application/json"
#: extension -> the MIME type its content must sniff as (the allow-list; docs/files-and-jobs.md)
EXTENSIONS = {"pdf": PDF, "png": PNG, "jpg": JPEG, "jpeg": JPEG, "tif": TIFF, "tiff": TIFF,
              "docx": DOCX, "xlsx": XLSX, "pptx": PPTX, "txt": TEXT, "csv": CSV,
              "json": JSON}  # JSON: UTF-8 text (e.g. openFDA device-event files for the AE import)
#: declared types browsers send for the same content
_ALIASES = {"image/jpg": JPEG, "image/pjpeg": JPEG, "application/x-pdf": PDF, "application/csv": CSV,
            "application/vnd.ms-excel": CSV, "text/x-csv": CSV, "text/comma-separated-values": CSV}
_UNDECLARED = {"", "application/octet-stream", "binary/octet-stream"}
_OOXML_PARTS = {"word/document.xml": DOCX, "xl/workbook.xml": XLSX, "ppt/presentation.xml": PPTX}
_REFUSED_MAGIC = {  # recognised, and refused with a reason
    b"MZ": "Executable programs are not accepted.",
    b"\x7fELF": "Executable programs are not accepted.",
    b"\xcf\xfa\xed\xfe": "Executable programs are not accepted.",
    b"\xd0\xcf\x11\xe0": "Legacy Office files (.doc, .xls, .ppt) are not accepted; save the document as "
    "PDF, .docx, .xlsx or .pptx.",
    b"Rar!": "Archives are not accepted; upload each document on its own.",
    b"7z\xbc\xaf": "Archives are not accepted; upload each document on its own.",
    b"\x1f\x8b": "Archives are not accepted; upload each document on its own.",
}
_TEXT_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f]")  # not in text: NUL and other C0 controls


class StoredFile(Base):
    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


def store_root() -> Path:
    return Path(get_settings().file_store_dir)


def path_of(sha256: str) -> Path:
    """Where the content of a hash lives: ``<root>/<ab>/<cd>/<sha256>``."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return store_root() / sha256[:2] / sha256[2:4] / sha256


def _refuse(message: str, **params) -> ValidationFailed:
    return ValidationFailed(message, field="file", params=params)


class Sniffer:
    """Decides the type of a file from its bytes, fed chunk by chunk (no whole-file read)."""

    def __init__(self) -> None:
        self.head = b""
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.is_text = True

    def feed(self, chunk: bytes) -> None:
        if len(self.head) < HEAD:
            self.head += chunk[: HEAD - len(self.head)]
        if self.is_text:
            try:
                text = self.decoder.decode(chunk)
            except UnicodeDecodeError:
                self.is_text = False
                return
            if _TEXT_CONTROLS.search(text):
                self.is_text = False

    def finish(self, path: Path, ext: str) -> str:
        head = self.head
        if head.startswith(b"%PDF-"):
            return PDF
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return PNG
        if head.startswith(b"\xff\xd8\xff"):
            return JPEG
        if head.startswith((b"II*\x00", b"MM\x00*")):
            return TIFF
        if head.startswith(b"PK\x03\x04"):
            return _office_type(path)
        if self.is_text:
            try:
                self.decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.is_text = False
        if self.is_text:  # plain text, even if it starts like a program ("MZ ..." is harmless text)
            return CSV if ext == "csv" else JSON if ext == "json" else TEXT
        for magic, reason in _REFUSED_MAGIC.items():
            if head.startswith(magic):
                raise _refuse(reason)
        raise _refuse("The content is not an accepted type (PDF, PNG, JPEG, TIFF, DOCX, XLSX, PPTX, "
                      "UTF-8 text or CSV).")


def _office_type(path: Path) -> str:
    """A ZIP is accepted only as an Office Open XML document without macros."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "[Content_Types].xml" not in names:
                raise _refuse("Archives are not accepted; upload each document on its own.")
            if zf.getinfo("[Content_Types].xml").file_size > 1_000_000:  # no zip bombs here
                raise _refuse("The Office document is damaged and cannot be read.")
            content_types = zf.read("[Content_Types].xml")
    except (zipfile.BadZipFile, OSError, KeyError):
        raise _refuse("The Office document is damaged and cannot be read.") from None
    if b"macroEnabled" in content_types or any(n.lower().endswith("vbaproject.bin") for n in names):
        raise _refuse("Office documents with macros are not accepted; save without macros.")
    for part, mime in _OOXML_PARTS.items():
        if part in names:
            return mime
    raise _refuse("Archives are not accepted; upload each document on its own.")


def _check_declared(declared: str | None, actual: str) -> None:
    value = (declared or "").split(";", 1)[0].strip().lower()
    if value in _UNDECLARED:
        return
    value = _ALIASES.get(value, value)
    if value != actual and not (actual in (CSV, JSON) and value == TEXT):
        raise _refuse("The file was declared as {declared} but its content is {actual}.",
                      declared=value, actual=actual)


def _check_filename(filename: str) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or len(name) > FILENAME_MAX:
        raise ValidationFailed("The file name must be 1 to {limit} characters.", field="filename",
                               params={"limit": FILENAME_MAX})
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in EXTENSIONS:
        raise ValidationFailed("Files of type '.{ext}' are not accepted; allowed: {allowed}.",
                               field="filename",
                               params={"ext": ext, "allowed": ", ".join(sorted(EXTENSIONS))})
    return ext


def _chunks(data: bytes | bytearray | memoryview | BinaryIO):
    if isinstance(data, bytes | bytearray | memoryview):
        data = io.BytesIO(bytes(data))
    while True:
        chunk = data.read(CHUNK)
        if not chunk:
            return
        if not isinstance(chunk, bytes | bytearray):
            raise ValidationFailed("The upload must be read in binary mode.", field="file")
        yield bytes(chunk)


@dataclass
class _Spooled:
    path: Path
    sha256: str
    size: int
    mime: str


def _spool(data, ext: str, limit: int) -> _Spooled:
    """Stream the upload into a temporary file in the store, hashing and sniffing as it goes.

    The temporary file is removed on any refusal; only the caller renames it into place."""
    tmp_dir = store_root() / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
    tmp = Path(name)
    try:
        digest, size, sniffer = hashlib.sha256(), 0, Sniffer()
        with os.fdopen(fd, "wb") as out:
            for chunk in _chunks(data):
                size += len(chunk)
                if size > limit:
                    raise _refuse("The file is larger than the limit of {limit} bytes ({mb} MB).",
                                  limit=limit, mb=round(limit / 1024 / 1024, 1))
                digest.update(chunk)
                sniffer.feed(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise _refuse("The file is empty.")
        mime = sniffer.finish(tmp, ext)
        return _Spooled(tmp, digest.hexdigest(), size, mime)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _scan(path: Path) -> None:
    """Virus-scanning hook. Uploads are ASSUMED virus-free in this deployment.

    A ClamAV integration (clamd ``INSTREAM`` over its socket) belongs here: raise
    ``ValidationFailed(field="file")`` when a signature matches, before the file is moved into
    place or recorded."""


def _place(spooled: _Spooled) -> Path:
    """Rename the temporary file to its content address; never overwrite good content."""
    final = path_of(spooled.sha256)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists() and _hash_file(final) == spooled.sha256:
        spooled.path.unlink(missing_ok=True)  # same bytes already there (e.g. a rolled-back upload)
        return final
    if final.exists():  # a corrupt leftover with this name: repair it with the verified bytes
        final.chmod(0o644)
    os.chmod(spooled.path, 0o444)
    os.replace(spooled.path, final)
    with contextlib.suppress(OSError):  # make the rename durable (POSIX)
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return final


def store(session: Session, actor: Actor, *, filename: str, data: bytes | BinaryIO,
          declared_mime: str | None = None) -> StoredFile:
    """Store an upload (deduplicated by SHA-256) and return its row. Never commits.

    Raises ``ValidationFailed`` (field ``file`` or ``filename``) for an empty or oversized file,
    a type that is not accepted, or content that does not match its extension / declared type.
    On refusal nothing is written to disk or to the database."""
    if actor.is_public or not actor.username:
        raise PermissionDenied("Sign in to upload files.", field="file")
    ext = _check_filename(filename)
    spooled = _spool(data, ext, get_settings().max_upload_bytes)
    try:
        if spooled.mime != EXTENSIONS[ext]:
            raise _refuse("The content is {actual} but the name ends in '.{ext}'; rename the file or "
                          "upload the right one.", actual=spooled.mime, ext=ext)
        _check_declared(declared_mime, spooled.mime)
        _scan(spooled.path)
        existing = session.scalar(select(StoredFile).where(StoredFile.sha256 == spooled.sha256))
        if existing is not None:
            if not path_of(existing.sha256).exists():  # content lost on disk: restore it
                _place(spooled)
            return existing
        _place(spooled)
    finally:
        spooled.path.unlink(missing_ok=True)
    row = StoredFile(sha256=spooled.sha256, size=spooled.size, mime_type=spooled.mime,
                     created_by_user_id=actor.user_id)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent upload of the same bytes committed first
        return session.scalars(select(StoredFile).where(StoredFile.sha256 == spooled.sha256)).one()
    audit.record(session, actor, "file.store", "stored_file", row.id,
                 after={"sha256": row.sha256, "size": row.size, "mime_type": row.mime_type},
                 note=f"uploaded as {filename[-200:]}")
    return row


def get(session: Session, file_id: int) -> StoredFile:
    row = session.get(StoredFile, file_id)
    if row is None:
        raise NotFound("File {id} not found.", field="file_id", params={"id": file_id})
    return row


def open_file(stored: StoredFile) -> BinaryIO:
    """The content, opened for reading. The caller closes it (``with open_file(f) as fh:``)."""
    try:
        return path_of(stored.sha256).open("rb")
    except FileNotFoundError:
        raise NotFound("The content of file {id} is missing from the file store.", field="file",
                       params={"id": stored.id}) from None


def read_bytes(stored: StoredFile) -> bytes:
    with open_file(stored) as fh:
        return fh.read()


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class FileCheck:
    file_id: int
    ok: bool
    problem: str | None = None  # missing | size_mismatch | hash_mismatch
    message: str = ""


def verify(stored: StoredFile) -> FileCheck:
    """Rehash the content on disk and compare it with the recorded size and SHA-256."""
    path = path_of(stored.sha256)
    if not path.is_file():
        return FileCheck(stored.id, False, "missing", f"file {stored.id}: content {path} is missing")
    size = path.stat().st_size
    if size != stored.size:
        return FileCheck(stored.id, False, "size_mismatch",
                         f"file {stored.id}: {size} bytes on disk, {stored.size} recorded")
    actual = _hash_file(path)
    if actual != stored.sha256:
        return FileCheck(stored.id, False, "hash_mismatch",
                         f"file {stored.id}: content hashes to {actual}, not {stored.sha256}")
    return FileCheck(stored.id, True, None, f"file {stored.id}: intact")
