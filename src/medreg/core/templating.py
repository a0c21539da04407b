"""The one Jinja2 environment of the web pages, ``render()``, and the navigation registry.

Templates live in ``src/medreg/web/templates`` (each domain in its own folder). They translate
with ``{{ _("Text") }}`` / ``{{ _("Hello %(name)s", name=user) }}`` (new-style gettext: write a
literal percent sign as ``%%``) and ``{% trans %}`` blocks; gettext is bound to the locale
negotiated for the request being rendered. Filters: ``datetime`` and ``date`` (Beijing time,
formatted per locale), ``error`` (a DomainError's translated message).

Domain ``pages.py`` modules announce their entry pages with :func:`register_nav`; the header
and the home page show each entry to the roles it names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from medreg.core import i18n
from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.i18n import _
from medreg.core.said import is_said

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "web" / "templates"
LANG_COOKIE = "lang"
ROLE_LABELS = {
    "reviewer": _("Reviewer"),
    "inspector": _("Inspector"),
    "monitoring_centre": _("Monitoring centre"),
    "registrant": _("Registrant"),
    "hospital": _("Using entity"),
    "expert": _("Expert"),
    "admin": _("Administrator"),
    "public": _("Public"),
}


def _gettext(message: str) -> str:
    return i18n.gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.ngettext(singular, plural, n)


def translate_said(msgid: str, params: dict | None = None) -> str:
    """A text a pure module said (``medreg.core.said``: msgid + params) in the locale of the request;
    params that are said texts themselves are translated first."""
    params = {k: translate_said(v["msgid"], v["params"]) if is_said(v) else v
              for k, v in (params or {}).items()}
    return i18n.translate(msgid, **params)


def _build_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The callables read the locale of the request being rendered (a context variable).
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)
    env.filters["datetime"] = lambda v, fmt="medium": i18n.format_dt(v, fmt=fmt)
    env.filters["date"] = lambda v, fmt="medium": i18n.format_d(v, fmt=fmt)
    env.filters["error"] = lambda err: i18n.translate_error(err)
    env.globals["tr"] = translate_said
    env.globals["role_labels"] = ROLE_LABELS
    return env


env = _build_env()


def register_global(name: str, value) -> None:
    """A domain's helper callable from templates (e.g. the AI metric names); idempotent."""
    env.globals[name] = value


# --- navigation ------------------------------------------------------------------------------

@dataclass(frozen=True)
class NavItem:
    path: str
    label: str  # an English msgid, marked with _() where registered
    roles: frozenset[str] | None = None  # None: everyone, the public included
    description: str = ""
    order: int = 100

    def visible_to(self, actor: Actor) -> bool:
        # workflow roles: the stored roles plus "office" / "province" for a reviewer's organisation
        return self.roles is None or bool(self.roles & actor.workflow_roles)


_NAV: dict[str, NavItem] = {}


def register_nav(path: str, label: str, *, roles: Iterable[str] | None = None, description: str = "",
                 order: int = 100) -> NavItem:
    """Show a link in the header and on the home page to actors holding one of ``roles``
    (``None``: everyone; the anonymous visitor holds the role ``"public"``; a reviewer also holds
    ``"office"`` or ``"province"`` after its organisation, see ``Actor.workflow_roles``)."""
    item = NavItem(path=path, label=label, roles=frozenset(str(r) for r in roles) if roles is not None
                   else None, description=description, order=order)
    _NAV[path] = item
    return item


def nav_for(actor: Actor) -> list[NavItem]:
    return sorted((i for i in _NAV.values() if i.visible_to(actor)), key=lambda i: (i.order, i.path))


# --- rendering -------------------------------------------------------------------------------

def request_locale(request: Request) -> str:
    """``?lang=``, the ``lang`` cookie, the user's setting, then Accept-Language (cached per request)."""
    cached = getattr(request.state, "locale", None)
    if cached:
        return cached
    locale = i18n.negotiate(
        query=request.query_params.get("lang"),
        cookie=request.cookies.get(LANG_COOKIE),
        user_locale=getattr(request.state, "user_locale", None),
        accept_language=request.headers.get("accept-language"),
    )
    request.state.locale = locale
    return locale


def render(request: Request, name: str, context: dict | None = None, status_code: int = 200,
           headers: dict | None = None) -> HTMLResponse:
    """Render ``name`` for this request. The context also gets ``request``, ``actor``, ``locale``,
    ``csrf_token``, ``_``, ``now``, ``nav`` and ``locales``."""
    from medreg.core.deps import csrf_token  # deps imports auth; keep templating light to import

    actor = getattr(request.state, "actor", None) or Actor.public()
    locale = request_locale(request)
    token = i18n.current_locale.set(locale)
    try:
        ctx = {
            "request": request,
            "actor": actor,
            "locale": locale,
            "locales": i18n.LOCALE_LABELS,
            "csrf_token": csrf_token(request),
            "now": utcnow(),
            "nav": nav_for(actor),
            **(context or {}),
        }
        html = env.get_template(name).render(ctx)
    finally:
        i18n.current_locale.reset(token)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers.setdefault("Content-Language", locale.replace("_", "-"))
    return response
