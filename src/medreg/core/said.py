"""Texts that pure modules say (pure: no translation here).

A rule or engine that explains itself returns ``said(msgid, **params)``: the English msgid with named
``{placeholders}`` and its params. The page or API translates it where it is shown
(``medreg.core.i18n.translate(m["msgid"], locale, **m["params"])``); ``english`` fills the msgid as is,
for the English text fields the API keeps.
"""

from __future__ import annotations


def _(message: str) -> str:
    """Mark ``message`` for extraction (as ``medreg.core.i18n._``, without importing the i18n machinery)."""
    return message


def said(msgid: str, **params) -> dict:
    """A text to translate at display: the msgid (marked with ``_`` where it is written) and its params."""
    return {"msgid": msgid, "params": params}


def is_said(value) -> bool:
    return isinstance(value, dict) and set(value) == {"msgid", "params"}


def english(message: dict) -> str:
    """The msgid filled with its params (the English text); params that are ``said`` texts are filled too."""
    params = {k: english(v) if is_said(v) else v for k, v in message["params"].items()}
    return message["msgid"].format(**params) if params else message["msgid"]


def fields(message: dict, key: str = "why") -> dict:
    """``{key: English text, key_msgid: msgid, key_params: params}`` for a record the API returns."""
    return {key: english(message), f"{key}_msgid": message["msgid"], f"{key}_params": message["params"]}
