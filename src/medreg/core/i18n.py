"""Translations (zh_CN default, en) read from the ``.po`` catalogues, locale negotiation, dates.

The catalogues are ``src/medreg/locale/<locale>/LC_MESSAGES/messages.po``; they are parsed with
Babel at first use and compiled in memory, so no ``.mo`` files live in git.

In Python code, mark user-facing text with :func:`_` (a marker: it returns the msgid unchanged
and ``pybabel extract`` finds it). The text is translated where it is shown, in the locale of
the request: domain errors carry the English msgid (``err.template``) and its ``params``, and
the web layer calls :func:`translate_error`.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from medreg.core.clock import SHANGHAI, to_shanghai
from medreg.core.settings import get_settings

LOCALES: tuple[str, ...] = ("zh_CN", "en")
LOCALE_LABELS = {"zh_CN": "中文", "en": "English"}
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"

# The locale of the request being rendered (set by medreg.core.templating.render).
current_locale: ContextVar[str | None] = ContextVar("medreg_locale", default=None)


def _(message: str) -> str:
    """Mark ``message`` for extraction; it is translated later, where it is shown."""
    return message


def default_locale() -> str:
    configured = get_settings().default_locale
    return configured if configured in LOCALES else LOCALES[0]


def catalogue_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def get_translations(locale: str) -> NullTranslations:
    """The gettext object of one locale, compiled in memory from its ``.po`` files.

    ``messages.po`` holds the kernel's strings; each domain may keep its own catalogue beside it
    (``innovation.po``, ``registration.po`` …) so that teams do not edit one file; all are merged.
    """
    if locale not in LOCALES or not catalogue_path(locale).exists():
        return NullTranslations()
    main: Translations | None = None
    for path in catalogue_paths(locale):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=locale, domain=DOMAIN)
        buf = io.BytesIO()
        write_mo(buf, catalog, use_fuzzy=False)
        buf.seek(0)
        part = Translations(fp=buf, domain=DOMAIN)
        if main is None:
            main = part
        else:
            main.merge(part)
    return main or NullTranslations()


def catalogue_paths(locale: str) -> list[Path]:
    """``messages.po`` first, then the domain catalogues in name order."""
    folder = catalogue_path(locale).parent
    others = sorted(p for p in folder.glob("*.po") if p.name != f"{DOMAIN}.po")
    return [catalogue_path(locale), *others]


def reload_catalogues() -> None:
    """Forget compiled catalogues (tests, or after editing a ``.po`` file)."""
    get_translations.cache_clear()


def resolve_locale(locale: str | None) -> str:
    return normalise_locale(locale) or current_locale.get() or default_locale()


def gettext(message: str, locale: str | None = None) -> str:
    return get_translations(resolve_locale(locale)).gettext(message)


def ngettext(singular: str, plural: str, n: int, locale: str | None = None) -> str:
    return get_translations(resolve_locale(locale)).ngettext(singular, plural, n)


def translate(message: str, locale: str | None = None, **params) -> str:
    """Translate a msgid with ``{name}`` placeholders, then fill them."""
    text = gettext(message, locale)
    if not params:
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):  # a broken translation must not hide the message
        return message.format(**params)


def translate_error(err, locale: str | None = None) -> str:
    """The message of a ``DomainError`` in ``locale``: translate ``err.template``, then format."""
    return translate(err.template, locale, **err.params)


# --- negotiation -----------------------------------------------------------------------------

def normalise_locale(value: str | None) -> str | None:
    """Map ``zh``, ``zh-CN``, ``zh_Hans_CN``, ``en-US``... to a supported locale, else None."""
    if not value:
        return None
    tag = value.strip().replace("-", "_")
    if tag in LOCALES:
        return tag
    lang = tag.split("_", 1)[0].lower()
    for loc in LOCALES:
        if loc.split("_", 1)[0].lower() == lang:
            return loc
    return None


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags of an ``Accept-Language`` header, best first (q=0 dropped)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip()
        q = 1.0
        for param in pieces[1:]:
            name, _sep, val = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(val)
                except ValueError:
                    q = 0.0
        if tag and tag != "*" and q > 0:
            weighted.append((-q, index, tag))
    return [tag for _q, _i, tag in sorted(weighted)]


def negotiate(*, query: str | None = None, cookie: str | None = None, user_locale: str | None = None,
              accept_language: str | None = None) -> str:
    """Explicit ``?lang=``, then the ``lang`` cookie, then the user's setting, then the browser."""
    for candidate in (query, cookie, user_locale):
        loc = normalise_locale(candidate)
        if loc:
            return loc
    for tag in parse_accept_language(accept_language):
        loc = normalise_locale(tag)
        if loc:
            return loc
    return default_locale()


# --- dates (always shown in Beijing time) ----------------------------------------------------

def _babel_locale(locale: str | None) -> Locale:
    return Locale.parse(resolve_locale(locale))


def format_dt(value: datetime | None, locale: str | None = None, fmt: str = "medium") -> str:
    """A UTC datetime shown in Asia/Shanghai, formatted for ``locale``."""
    if value is None:
        return ""
    return format_datetime(to_shanghai(value), fmt, tzinfo=SHANGHAI, locale=_babel_locale(locale))


def format_d(value: date | datetime | None, locale: str | None = None, fmt: str = "medium") -> str:
    """A date (a datetime is first converted to its Beijing-time day), formatted for ``locale``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_shanghai(value).date()
    return format_date(value, fmt, locale=_babel_locale(locale))
