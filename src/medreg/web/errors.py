"""Errors mapped once: domain exceptions, validation errors and database conflicts to HTTP.

JSON (paths under ``/api``): ``{"error": code, "message": English text, "field": name | null,
"details": {...}}``. Pages: an HTML error page in the request's language (for HTMX requests a
fragment retargeted to ``#messages``). A user's bad input is never a 500.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from medreg.core import i18n
from medreg.core.errors import (
    Conflict,
    DomainError,
    NotAuthenticated,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from medreg.core.i18n import _
from medreg.core.settings import get_settings
from medreg.core.templating import render, request_locale

log = logging.getLogger(__name__)
_LOCATIONS = {"body", "query", "path", "header", "cookie", "form"}
_HTTP_MESSAGES = {
    404: _("This page does not exist."),
    405: _("This method is not allowed here."),
}


def is_api(request: Request) -> bool:
    path = request.url.path
    return path == "/api" or path.startswith("/api/")


def error_body(err: DomainError) -> dict:
    return {"error": err.code, "message": err.message, "field": err.field, "details": err.details}


def error_headers(err: DomainError) -> dict[str, str]:
    if isinstance(err, NotAuthenticated):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(err, RateLimited):
        return {"Retry-After": str(get_settings().login_window_seconds)}
    return {}


def error_response(request: Request, err: DomainError) -> Response:
    """The one place a DomainError becomes a response."""
    if is_api(request):
        return JSONResponse(error_body(err), status_code=err.http_status, headers=error_headers(err))
    if (isinstance(err, NotAuthenticated) and request.method == "GET"
            and not request.headers.get("hx-request")):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    locale = request_locale(request)
    context = {"error": err, "message": i18n.translate_error(err, locale),
               "status": err.http_status}
    if request.headers.get("hx-request"):
        return render(request, "errors/_message.html", context, status_code=err.http_status,
                      headers={"HX-Retarget": "#messages", "HX-Reswap": "innerHTML", **error_headers(err)})
    return render(request, "errors/error.html", context, status_code=err.http_status,
                  headers=error_headers(err))


def field_of(loc: tuple | list) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(parts) or "body"


async def on_domain_error(request: Request, err: DomainError) -> Response:
    return error_response(request, err)


async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = [{"field": field_of(e.get("loc", ())), "reason": str(e.get("msg", "")),
               "type": str(e.get("type", ""))} for e in exc.errors()]
    err = ValidationFailed(_("The input is not valid."), field=errors[0]["field"] if errors else None,
                           details={"errors": errors})
    return error_response(request, err)


async def on_stale_data(request: Request, exc: StaleDataError) -> Response:
    return error_response(request, Conflict(
        _("Someone else changed this record meanwhile. Reload the page and try again.")))


async def on_integrity_error(request: Request, exc: IntegrityError) -> Response:
    log.info("integrity error mapped to 409: %s", exc.orig)
    return error_response(request, Conflict(
        _("This change clashes with existing data (a duplicate or a missing reference).")))


async def on_http_exception(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code < 400:
        return Response(status_code=exc.status_code, headers=getattr(exc, "headers", None))
    if exc.status_code == 404:
        err: DomainError = NotFound(_HTTP_MESSAGES[404])
    else:
        err = DomainError(_HTTP_MESSAGES.get(exc.status_code, str(exc.detail)))
        err.http_status = exc.status_code
        err.code = "http_error"
    return error_response(request, err)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StaleDataError, on_stale_data)
    app.add_exception_handler(IntegrityError, on_integrity_error)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
