"""The translation catalogues: every extracted msgid is translated into Chinese.

If this fails, add the listed msgids to src/medreg/locale/zh_CN/LC_MESSAGES/messages.po with a
Chinese msgstr (see docs/web.md for the pybabel commands).
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from medreg.core.i18n import LOCALES, catalogue_path

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{[a-zA-Z_][a-zA-Z0-9_]*\}|%\([a-zA-Z_][a-zA-Z0-9_]*\)s")


def _catalogue(locale: str):
    with catalogue_path(locale).open("rb") as fh:
        return read_po(fh, locale=locale)


def _extracted() -> dict[str, str]:
    """msgid -> first place it was found, using the repository's babel.cfg."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(ROOT / "babel.cfg"))
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map):
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
        "msgids used in src but missing from src/medreg/locale/zh_CN/LC_MESSAGES/messages.po "
        "(add each with its Chinese translation):\n"
        + "\n".join(f"  {msgid!r}  ({extracted[msgid]})" for msgid in missing))
