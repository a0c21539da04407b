"""The translation catalogues: every extracted msgid is translated into Chinese.

If this fails, add the listed msgids with a Chinese msgstr to the catalogue of the code they come
from: src/medreg/locale/zh_CN/LC_MESSAGES/messages.po for the kernel and web, ``<domain>.po`` beside it
for a domain (all are merged at run time; see docs/web.md for the pybabel commands).
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from medreg.core.i18n import LOCALES, catalogue_path, catalogue_paths

ROOT = Path(__file__).resolve().parents[2]
# A domain error's first argument is a msgid shown to users (core/errors.py), so it is extracted too.
ERROR_CLASSES = ("DomainError", "NotFound", "PermissionDenied", "NotAuthenticated", "InvalidTransition",
                 "Conflict", "ValidationFailed", "RateLimited", "_refuse")
KEYWORDS = {**DEFAULT_KEYWORDS, **{name: None for name in ERROR_CLASSES}}
PLACEHOLDER = re.compile(r"\{[a-zA-Z_][a-zA-Z0-9_]*\}|%\([a-zA-Z_][a-zA-Z0-9_]*\)s")


def _catalogue(locale: str) -> list:
    """The messages of every catalogue file of ``locale`` (messages.po and the domain ones)."""
    out = []
    for path in catalogue_paths(locale):
        with path.open("rb") as fh:
            out.extend(m for m in read_po(fh, locale=locale) if m.id)
    return out


def test_no_msgid_is_translated_twice_differently():
    seen: dict = {}
    clashes = []
    for m in _catalogue("zh_CN"):
        key = m.id if isinstance(m.id, str) else m.id[0]
        if key in seen and seen[key] != m.string:
            clashes.append(f"{key!r}: {seen[key]!r} vs {m.string!r}")
        seen.setdefault(key, m.string)
    assert not clashes, "msgids translated differently in two catalogues:\n" + "\n".join(clashes)


def _extracted() -> dict[str, str]:
    """msgid -> first place it was found, using the repository's babel.cfg."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(ROOT / "babel.cfg"))
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        msgids = message if isinstance(message, tuple) else (message,)
        for msgid in msgids:
            if msgid:
                found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def test_catalogues_exist_and_parse():
    for locale in LOCALES:
        assert catalogue_path(locale).exists(), locale
        assert len(_catalogue(locale)) > 0


def test_every_chinese_entry_is_translated():
    catalogue = _catalogue("zh_CN")
    empty = [m.id for m in catalogue if m.id and not (
        all(m.string) if isinstance(m.string, tuple) else m.string)]
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert not empty, "zh_CN msgids without a translation:\n" + "\n".join(map(str, empty))
    assert not fuzzy, "zh_CN entries marked fuzzy (check and clear the flag):\n" + "\n".join(map(str, fuzzy))


def test_placeholders_survive_translation():
    bad = []
    for m in _catalogue("zh_CN"):
        if not m.id or isinstance(m.id, tuple):
            continue
        if sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string or "")):
            bad.append(f"{m.id!r} -> {m.string!r}")
    assert not bad, "translations that drop or rename placeholders:\n" + "\n".join(bad)


def test_every_source_string_is_in_the_chinese_catalogue():
    extracted = _extracted()
    assert "Wrong username or password." in extracted  # the extraction itself works
    assert "Log in" in extracted  # templates too
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalogue("zh_CN") if m.id}
    missing = sorted(set(extracted) - known)
    assert not missing, (
        "msgids used in src but missing from every zh_CN catalogue (add each with its Chinese "
        "translation to messages.po or to the domain's <domain>.po):\n"
        + "\n".join(f"  {msgid!r}  ({extracted[msgid]})" for msgid in missing))
