"""FastAPI request dependencies: the transaction, who is acting, role checks, CSRF, router factories.

Domain ``api.py`` and ``pages.py`` modules use these (they live in core so that domains may
import them)::

    router = pages_router(prefix="/innovation")

    @router.post("/{case_id}/accept")
    def accept(case_id: int, session: Session = Depends(get_session),
               actor: Actor = Depends(require_roles("reviewer"))): ...

Who is acting: an ``Authorization: Bearer <token>`` header (API clients; an invalid token is a
401, never a silent fall-back), else the signed session cookie set at login, else the public.
CSRF: unsafe methods (POST, PUT, PATCH, DELETE) from browsers, logged in or not, must carry the
session's token in the ``csrf_token`` form field or the ``X-CSRF-Token`` header. Bearer-token
requests are exempt (a browser never adds that header cross-site on its own).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy.orm import Session

from medreg.core import auth
from medreg.core.accounts import User
from medreg.core.actor import Actor
from medreg.core.db import MAX_ID, get_sessionmaker
from medreg.core.errors import NotAuthenticated, PermissionDenied
from medreg.core.i18n import _
from medreg.core.security import constant_time_equals, sha256_hex

# A larger id in a URL is bad input (422 naming the parameter), never an overflow in the driver (a 500).
RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="record id")]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_USER = "user_id"
SESSION_PWD = "pwd"  # fingerprint of the password hash: a password change ends other sessions
SESSION_CSRF = "csrf"


def transaction() -> Iterator[Session]:
    """One transaction per request: commit on success, roll back on any exception."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_session(session: Session = Depends(transaction, scope="function")) -> Session:
    """The request's session. The transaction ends when the route function returns, *before* the
    response is sent, so a failing commit still becomes an error response (FastAPI's default
    for ``yield`` dependencies would commit after sending). Tests override this dependency."""
    return session


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated(_("Use an Authorization header of the form: Bearer <token>."),
                               field="authorization")
    return token.strip()


def password_fingerprint(user: User) -> str:
    return sha256_hex(user.password_hash)[:16]


def login_session(request: Request, user: User) -> None:
    """Start a fresh cookie session for ``user`` (a new session: no fixation; a new CSRF token)."""
    keep_lang = request.session.get("lang")
    request.session.clear()
    request.session[SESSION_USER] = user.id
    request.session[SESSION_PWD] = password_fingerprint(user)
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)
    if keep_lang:
        request.session["lang"] = keep_lang


def logout_session(request: Request) -> None:
    request.session.clear()
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)


def current_actor(request: Request, session: Session = Depends(get_session)) -> Actor:
    """The acting user (bearer token, then session cookie), else ``Actor.public()``.

    Also sets ``request.state.actor``, ``request.state.auth`` ("bearer" | "cookie" | "anonymous")
    and ``request.state.user_locale`` for templates and locale negotiation."""
    if getattr(request.state, "actor", None) is not None:
        return request.state.actor
    actor, method, user_locale = Actor.public(), "anonymous", None
    token = _bearer(request)
    if token is not None:
        user = auth.user_for_token(session, token)
        if user is None:
            raise NotAuthenticated(_("The API token is unknown, expired or revoked."),
                                   field="authorization")
        actor, method, user_locale = Actor.from_user(user), "bearer", user.locale
    elif "session" in request.scope and request.session.get(SESSION_USER) is not None:
        user = session.get(User, request.session[SESSION_USER])
        if (user is not None and user.is_active
                and request.session.get(SESSION_PWD) == password_fingerprint(user)):
            actor, method, user_locale = Actor.from_user(user), "cookie", user.locale
        else:  # deleted, deactivated, or the password changed since: the session is over
            logout_session(request)
    request.state.actor, request.state.auth, request.state.user_locale = actor, method, user_locale
    return actor


def require_login(actor: Actor = Depends(current_actor)) -> Actor:
    if actor.is_public:
        raise NotAuthenticated(_("Please log in first."))
    return actor


def require_roles(*roles: str) -> Callable[..., Actor]:
    """A dependency admitting a logged-in actor holding at least one of ``roles``."""
    wanted = frozenset(str(r) for r in roles)

    def dependency(actor: Actor = Depends(require_login)) -> Actor:
        if not actor.roles & wanted:
            raise PermissionDenied(_("Your role does not allow this action."))
        return actor

    dependency.__name__ = f"require_roles_{'_'.join(sorted(wanted))}"
    return dependency


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser session (created on first use)."""
    if "session" not in request.scope:
        return ""
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = request.session[SESSION_CSRF] = secrets.token_urlsafe(32)
    return token


async def csrf_protect(request: Request, actor: Actor = Depends(current_actor)) -> None:
    """Refuse an unsafe browser request that does not carry this session's CSRF token (403)."""
    if request.method in SAFE_METHODS or getattr(request.state, "auth", None) == "bearer":
        return
    expected = request.session.get(SESSION_CSRF) if "session" in request.scope else None
    given = request.headers.get(CSRF_HEADER)
    if not given:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    if not expected or not given or not constant_time_equals(expected, given):
        raise PermissionDenied(_("The form has expired or did not come from this site. "
                                 "Reload the page and try again."), field=CSRF_FIELD)


def pages_router(**kwargs) -> APIRouter:
    """An ``APIRouter`` for HTML pages: every route knows the actor and is CSRF-protected."""
    deps = [Depends(csrf_protect), *kwargs.pop("dependencies", [])]
    return APIRouter(dependencies=deps, **kwargs)


def api_router(**kwargs) -> APIRouter:
    """An ``APIRouter`` for JSON routes (mount under ``/api``): bearer tokens, or the cookie
    session with the ``X-CSRF-Token`` header for unsafe methods."""
    deps = [Depends(csrf_protect), *kwargs.pop("dependencies", [])]
    return APIRouter(dependencies=deps, **kwargs)
