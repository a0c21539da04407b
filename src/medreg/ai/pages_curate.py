"""HTML forms of the test centre (curators): register an evaluation database and seal a new version from
a cases CSV (``case_id,label`` plus one column per metadata field). Same services as the JSON API."""

from __future__ import annotations

import csv
import io

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from medreg.ai import inputs_detection, queries, service
from medreg.ai.pages import MAX_CSV, MAX_ID, Db, Form, Who, _error
from medreg.core.actor import Actor
from medreg.core.deps import pages_router
from medreg.core.errors import DomainError, ValidationFailed
from medreg.core.i18n import _
from medreg.core.templating import render

router = pages_router(prefix="/ai", tags=["ai curator pages"])


def _index(request: Request, session: Session, actor: Actor, error: dict, form: str, values: dict,
           status_code: int):
    dbs = [(d, queries.list_versions(session, d.id)) for d in queries.list_databases(session)]
    return render(request, "ai/index.html", {"databases": dbs, "curator": service.is_curator(actor),
                                             "error": error, "form": form, "values": values},
                  status_code=status_code)


def _values(form: FormData) -> dict:
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


@router.post("/databases")
def register(request: Request, form: FormData = Form, session: Session = Db, actor: Actor = Who):
    values = _values(form)
    try:
        service.register_database(session, actor, {k: values.get(k) or None for k in
                                                   ("code", "name", "task", "modality", "description")})
    except DomainError as err:
        session.rollback()
        return _index(request, session, actor, _error(request, err), "database", values, err.http_status)
    return RedirectResponse("/ai/", status_code=303)


def _rows(upload) -> list[dict]:
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValidationFailed(_("Choose the cases CSV file."), field="cases")
    raw = upload.file.read(MAX_CSV + 1)
    if len(raw) > MAX_CSV:
        raise ValidationFailed(_("The cases file is too large."), field="cases")
    try:
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error):
        raise ValidationFailed(_("The cases file must be a UTF-8 CSV file."), field="cases") from None
    return rows


def _cases(rows: list[dict], metadata_fields: list[str]) -> list[dict]:
    return [{"case_id": (r.get("case_id") or "").strip(), "label": (r.get("label") or "").strip(),
             "metadata": {f: (r.get(f) or "").strip() for f in metadata_fields}} for r in rows]


def _split(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def _matching(values: dict) -> dict:
    """The stated matching rule of a detection version from the form (the schema checks the values)."""
    def number(name: str, default):
        raw = (values.get(name) or "").strip()
        try:
            return float(raw) if raw else default
        except ValueError:
            raise ValidationFailed(_("'{name}' must be a number."), field=f"matching.{name}",
                                   params={"name": name}) from None
    dims = (values.get("dims") or "2").strip()
    return {"rule": (values.get("rule") or "centre").strip(),
            "dims": int(dims) if dims in ("2", "3") else dims,
            "max_distance": number("max_distance", None), "iou": number("iou", 0.5),
            "duplicates": (values.get("duplicates") or "ignore").strip()}


def _database_id(values: dict) -> int:
    try:
        value = int(values.get("database_id", ""))
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_ID:
        raise ValidationFailed(_("Choose the evaluation database."), field="database_id")
    return value


@router.post("/versions")
def add_version(request: Request, form: FormData = Form, session: Session = Db, actor: Actor = Who):
    values = _values(form)
    try:
        service.need_curator(actor)
        database_id = _database_id(values)
        fields = _split(values.get("metadata_fields"))
        task = service.get_database(session, database_id).task
        body = {"provenance": values.get("provenance", ""), "metadata_fields": fields,
                "categories": _split(values.get("categories")) or None}
        rows = _rows(form.get("cases"))
        if task == "detection":
            body["matching"] = m = _matching(values)
            body["cases"] = (inputs_detection.cases_from_rows(rows, rule=m["rule"], dims=m["dims"],
                                                              metadata_fields=fields)
                             if m["rule"] in ("centre", "iou") and m["dims"] in (2, 3) else [])
        else:
            body["cases"] = _cases(rows, fields)
        version = service.add_version(session, actor, database_id, body)
    except DomainError as err:
        session.rollback()
        return _index(request, session, actor, _error(request, err), "version", values, err.http_status)
    return RedirectResponse(f"/ai/versions/{version.id}", status_code=303)
