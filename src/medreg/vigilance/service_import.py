"""Bulk import of report files (CSV, openFDA device-event JSON) as draft reports: all or nothing.

Every row is validated first (the form, its IMDRF codes, its UDI); a file with any bad row is refused as
a whole with the list of every bad row (row, field, reason) and nothing is written. A good file is
written inside a savepoint, so a failure half way (or a killed request) leaves the database as it was.
Service layer: never commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.orm import Session

from medreg.core import audit
from medreg.core.actor import Actor
from medreg.core.errors import DomainError, ValidationFailed
from medreg.vigilance import imports, service
from medreg.vigilance.aet import terminology

MAX_ERRORS_SHOWN = 1000


@dataclass(frozen=True)
class ImportResult:
    created: list[int]
    unmapped: dict[str, int]


def parse_file(raw: bytes, fmt: str, *, reporter_role: str = "registrant") -> imports.Parsed:
    if fmt == "xlsx":
        return imports.parse_xlsx(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("The file is not UTF-8 text.", field="file") from None
    if fmt == "csv":
        return imports.parse_csv(text)
    if fmt == "openfda":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValidationFailed("The file is not valid JSON: {detail}", field="file",
                                   params={"detail": str(exc)}) from None
        codes = frozenset(t.code for t in terminology() if t.selectable)
        return imports.parse_openfda(data, known_codes=codes, reporter_role=reporter_role)
    raise ValidationFailed("'{name}' must be one of: {allowed}.", field="format",
                           params={"name": "format", "allowed": "csv, xlsx, openfda"})


def import_reports(session: Session, actor: Actor, parsed: imports.Parsed) -> ImportResult:
    errors = [e.__dict__ for e in parsed.errors]
    contents = []
    for row, form in enumerate(parsed.forms, start=1):
        try:
            content = service.parse_content(form)
            service.stored_form(content)  # parses the UDI
            contents.append(content)
        except DomainError as err:
            errors.append({"row": row, "field": err.field or "row", "reason": err.message})
    if not parsed.forms and not errors:
        errors.append({"row": 0, "field": "file", "reason": "no rows"})
    if errors:
        raise ValidationFailed("The file has {count} bad rows; nothing was imported.", field="file",
                               params={"count": len({e["row"] for e in errors})},
                               details={"errors": errors[:MAX_ERRORS_SHOWN], "total": len(errors)})
    created: list[int] = []
    with session.begin_nested():  # all or nothing, even if the caller goes on after an error
        for content in contents:
            created.append(service.create_report(session, actor, content).id)
        audit.record(session, actor, "import", "vigilance_import", f"{created[0]}-{created[-1]}",
                     after={"reports": len(created), "unmapped_fda_terms": parsed.unmapped})
    return ImportResult(created, dict(parsed.unmapped))
