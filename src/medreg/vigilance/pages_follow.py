"""HTML pages for follow-up reports (补充报告, Order 1 Art.29: a new version of the case, the earlier ones
kept) and the inline IMDRF code picker of the report forms (an HTMX fragment over ``aet_search.search``,
the same search as ``GET /api/vigilance/aet/search``). JSON twin of the follow-up:
``POST /api/vigilance/reports/{id}/versions`` with ``kind=follow_up``."""

from __future__ import annotations

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from medreg.core.actor import Actor
from medreg.core.db import MAX_ID
from medreg.core.deps import get_session, pages_router, require_login
from medreg.core.errors import DomainError, ValidationFailed
from medreg.core.i18n import translate
from medreg.core.templating import render, request_locale
from medreg.premarket.innovation.pages_forms import form_error, refused, see_other, version_of
from medreg.vigilance import aet_search, queries, service
from medreg.vigilance.aet import terminology
from medreg.vigilance.pages import CODE_INPUTS, FORM_FIELDS, KIND_LABELS, _labels, content_from, flat, posted
from medreg.vigilance.pages import version_rows as rows_of
from medreg.vigilance.rules import CODE_FIELDS

router = pages_router(prefix="/vigilance", tags=["vigilance pages"])
Db = Depends(get_session)
Login = Depends(require_login)
CaseId = Path(ge=1, le=MAX_ID, description="adverse-event case id")


def _follow_page(request: Request, session: Session, actor: Actor, case_id: int,
                 values: dict | None = None, error=None, status_code: int = 200) -> Response:
    case = queries.get_case(session, actor, case_id)
    versions = queries.versions(session, actor, case_id)
    if values is None:
        values = flat(versions[-1].content)
    return render(request, "vigilance/follow_up.html",
                  {**_labels(), "case": case, "values": values, "error": error,
                   "version_rows": rows_of(versions), "kind_labels": KIND_LABELS}, status_code=status_code)


def merged(current: dict, form: FormData) -> dict:
    """The current version with the form's fields replaced (fields the form does not show, such as the
    evaluation or the investigation codes, are kept)."""
    posted_content = content_from(form)
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in current.items() if k != "udi_parsed"}
    for name in FORM_FIELDS:
        section, field = name.split(".")
        value = posted_content.get(section, {}).get(field)
        out.setdefault(section, {})[field] = value if value is not None else (
            [] if name in CODE_INPUTS else None)
    return out


@router.get("/{case_id:int}/follow-up")
def follow_up_form(request: Request, case_id: int = CaseId, session: Session = Db, actor: Actor = Login):
    return _follow_page(request, session, actor, case_id)


@router.post("/{case_id:int}/follow-up")
def follow_up(request: Request, case_id: int = CaseId, form: FormData = Depends(posted),
              session: Session = Db, actor: Actor = Login) -> Response:
    try:
        version = version_of(form)
        case = service.load(session, actor, case_id)
        content = merged(service.content_of(case.versions[-1]).model_dump(mode="json"), form)
        service.add_version(session, actor, case_id, content, "follow_up", expected_version=version)
    except DomainError as err:
        refused(session, err)
        values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
        return _follow_page(request, session, actor, case_id, values,
                            form_error(request, "follow_up", err, form), err.http_status)
    return see_other(f"/vigilance/{case_id}?done=follow_up")


@router.get("/aet-picker")
def aet_picker(request: Request, field: str = Query(max_length=40),
               aet_q: str = Query(default="", max_length=200), actor: Actor = Login):
    """The terms of the field's IMDRF annex matching the query (English; Chinese where the release has it)."""
    annex = CODE_FIELDS.get(field.removeprefix("codes."))
    if field not in CODE_INPUTS or annex is None:
        raise ValidationFailed("'{name}' must be one of: {allowed}.", field="field",
                               params={"name": "field", "allowed": ", ".join(CODE_INPUTS)})
    locale = request_locale(request)
    result = aet_search.search(terminology(), aet_q, annexes=annex, selectable_only=True, limit=12)
    return render(request, "vigilance/_aet_picker.html", {
        "hits": [h.term for h in result.hits] if aet_q.strip() else [], "field": field,
        "zh": str(locale).startswith("zh"), "note": translate(result.note, locale) if result.note else None})
