"""Home, login, logout, language switch and health pages; the token and ``/api/me`` JSON routes."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.orm import Session

from medreg.core import auth
from medreg.core.actor import Actor
from medreg.core.deps import (
    api_router,
    current_actor,
    get_session,
    login_session,
    logout_session,
    pages_router,
    require_login,
)
from medreg.core.errors import NotFound
from medreg.core.i18n import LOCALES, _, normalise_locale, translate_error
from medreg.core.settings import get_settings
from medreg.core.templating import LANG_COOKIE, nav_for, render, request_locale
from medreg.web.errors import error_body, error_headers

pages = pages_router(tags=["pages"])
api = api_router(prefix="/api", tags=["auth"])
token_api = APIRouter(prefix="/api", tags=["auth"])  # no session cookie involved: no CSRF


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths: never redirect to another site after login."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return default
    return target


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


@pages.get("/", name="home")
def home(request: Request, actor: Actor = Depends(current_actor)) -> Response:
    return render(request, "home.html", {"items": nav_for(actor)})


@pages.get("/login", name="login")
def login_form(request: Request, next: str | None = None,
               actor: Actor = Depends(current_actor)) -> Response:
    return render(request, "auth/login.html", {"next": safe_next(next), "username": ""})


@pages.post("/login")
def login_submit(request: Request, username: str = Form(""), password: str = Form(""),
                 next: str = Form("/"), session: Session = Depends(get_session)) -> Response:
    result = auth.check_login(session, username=username, password=password, client=client_of(request))
    if not result.ok:
        # Rendered, not raised: the request transaction commits the failed attempt.
        return render(request, "auth/login.html",
                      {"next": safe_next(next), "username": username[:64],
                       "error": translate_error(result.error, request_locale(request)),
                       "error_code": result.error.code},
                      status_code=result.error.http_status, headers=error_headers(result.error))
    login_session(request, result.user)
    return RedirectResponse(safe_next(next), status_code=303)


@pages.post("/logout", name="logout")
def logout(request: Request) -> Response:
    logout_session(request)
    return RedirectResponse("/", status_code=303)


@pages.get("/lang/{code}", name="set_language")
def set_language(request: Request, code: str, next: str | None = None) -> Response:
    locale = normalise_locale(code)
    if locale is None or locale not in LOCALES:
        raise NotFound(_("This language is not available."), field="code")
    referer = request.headers.get("referer")
    back = next or (urlsplit(referer)._replace(scheme="", netloc="").geturl() if referer else None)
    response = RedirectResponse(safe_next(back), status_code=303)
    response.set_cookie(LANG_COOKIE, locale, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                        secure=get_settings().cookie_secure)
    return response


@pages.get("/healthz", name="healthz")
def healthz(session: Session = Depends(get_session)) -> dict:
    session.execute(text("SELECT 1"))
    return {"status": "ok"}


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field(default="api", min_length=1, max_length=100)
    expires_in_days: int = Field(default=90, ge=1, le=365)


@token_api.post("/auth/token")
def create_token(body: TokenRequest, request: Request, session: Session = Depends(get_session)) -> Response:
    result = auth.check_login(session, username=body.username, password=body.password,
                              client=client_of(request))
    if not result.ok:  # returned, not raised: the failed attempt is committed
        return JSONResponse(error_body(result.error), status_code=result.error.http_status,
                            headers=error_headers(result.error))
    actor = Actor.from_user(result.user)
    token = auth.issue_token(session, actor, result.user.id, body.name,
                             timedelta(days=body.expires_in_days))
    return JSONResponse({"access_token": token, "token_type": "bearer",
                         "expires_in": body.expires_in_days * 86400})


@api.get("/me")
def me(actor: Actor = Depends(require_login)) -> dict:
    return {"user_id": actor.user_id, "username": actor.username, "display_name": actor.display_name,
            "roles": sorted(actor.roles), "organisation_id": actor.organisation_id,
            "organisation_kind": actor.organisation_kind, "province": actor.province}
