"""Chinese terms for the IMDRF AET, from a file the user holds (none ships with medreg).

No official Chinese translation of the IMDRF AET could be found (docs/vigilance.md, "Chinese IMDRF
terms"): NMPA's national monitoring system uses the CDR's own 医疗器械故障术语集 and 医疗器械伤害（表现）
术语集, which are other terminologies, not a translation. So medreg ships no Chinese term and makes
none up. A deployment that holds an official translation imports it:

    medreg vigilance aet import-zh terms_zh.csv --source "<issuing body, document, date, URL>" --user ADMIN

The file is UTF-8 CSV with the header ``code,term_zh``: every code must exist in the shipped release,
once, with a Chinese term (checked row by row: a bad file is refused whole, each bad row named with
its field). A good file is written with its SOURCE.md (the ``--source`` citation, the file's SHA-256,
who imported it and when) to ``<file store>/reference/imdrf-aet-zh/``; ``aet.terminology()`` reads it
from there, so the picker (API, pages, CLI) searches and shows the Chinese terms. The import is
audited. A running web server reads it at its next start.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from medreg.core.settings import get_settings

HEADER = ["code", "term_zh"]
MAX_TERM = 200


@dataclass(frozen=True)
class ZhError:
    row: int  # data row (the header is row 0)
    field: str
    reason: str


def folder() -> Path:
    return Path(get_settings().file_store_dir) / "reference" / "imdrf-aet-zh"


def parse_zh(text: str, known_codes: set[str]) -> tuple[dict[str, str], list[ZhError]]:
    """The code -> Chinese term mapping of a file, and every bad row (pure)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [c.strip() for c in next(reader, [])]
    if header != HEADER:
        return {}, [ZhError(0, "header", f"the header must be exactly {','.join(HEADER)}")]
    out: dict[str, str] = {}
    errors: list[ZhError] = []
    for row, cells in enumerate(reader, start=1):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != 2:
            errors.append(ZhError(row, "row", "a row has two cells: code, term_zh"))
            continue
        code, term = cells[0].strip().upper(), cells[1].strip()
        if code not in known_codes:
            reason = f"{code or '(empty)'} is not a code of the shipped IMDRF release"
            errors.append(ZhError(row, "code", reason))
        elif code in out:
            errors.append(ZhError(row, "code", f"{code} appears twice"))
        elif not term or len(term) > MAX_TERM or not any("\u3400" <= ch <= "\u9fff" for ch in term):
            reason = f"a Chinese term of 1 to {MAX_TERM} characters is required"
            errors.append(ZhError(row, "term_zh", reason))
        else:
            out[code] = term
    if not out and not errors:
        errors.append(ZhError(0, "file", "no rows"))
    return out, errors


def installed() -> dict[str, str]:
    """The imported Chinese terms (empty when none were imported)."""
    path = folder() / "terms_zh.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {r["code"]: r["term_zh"] for r in csv.DictReader(fh)}


def write(mapping: dict[str, str], *, source: str, raw: bytes, imported_by: str, at: str) -> str:
    """Write the validated terms and their SOURCE.md; return the file's SHA-256."""
    digest = hashlib.sha256(raw).hexdigest()
    target = folder()
    target.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    w.writerows(sorted(mapping.items()))
    (target / "terms_zh.csv").write_text(buf.getvalue(), encoding="utf-8")
    (target / "SOURCE.md").write_text(
        "# Chinese IMDRF AET terms (imported)\n\n"
        f"- source (as given by the importer): {source}\n- file SHA-256: {digest}\n"
        f"- terms: {len(mapping)}\n- imported by: {imported_by}, {at}\n", encoding="utf-8")
    return digest


def import_terms(session, actor, raw: bytes, *, source: str) -> int:
    """Validate and install a file of official Chinese terms (administrators; audited; never commits).
    Raises ``ValidationFailed`` with every bad row in ``details.errors``."""
    from medreg.core import audit
    from medreg.core.accounts import Role
    from medreg.core.clock import utcnow
    from medreg.core.errors import PermissionDenied, ValidationFailed
    from medreg.vigilance import aet, schemas

    if not actor.has(Role.ADMIN):
        raise PermissionDenied("Only an administrator may install reference data.", field="actor")
    source = (source or "").strip()
    if not 10 <= len(source) <= 500:
        raise ValidationFailed("Name the official source of the terms (issuing body, document, date, URL).",
                               field="source")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("The file is not UTF-8 text.", field="file") from None
    mapping, errors = parse_zh(text, {t.code for t in aet.terminology()})
    if errors:
        raise ValidationFailed("The file has {count} bad rows; nothing was imported.", field="file",
                               params={"count": len({e.row for e in errors})},
                               details={"errors": [e.__dict__ for e in errors[:1000]], "total": len(errors)})
    at = utcnow()
    digest = write(mapping, source=source, raw=raw, imported_by=actor.username, at=at.isoformat())
    audit.record(session, actor, "import_zh", "imdrf_aet_zh", digest[:16],
                 after={"terms": len(mapping), "sha256": digest, "source": source})
    aet.terminology.cache_clear()  # this process sees the terms at once; others at their next start
    schemas._check.cache_clear()
    return len(mapping)
