"""Helpers of the page crawl (tests/web/test_crawl.py): an HTML reader (stdlib only), the English UI
texts that have a Chinese translation (read from the .po catalogues), and route patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

from babel.messages.pofile import read_po

from medreg.core.i18n import catalogue_paths

# Inputs that carry no visible text of their own, so need no label.
UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}
# Attributes whose text a user sees or hears.
TEXT_ATTRIBUTES = ("placeholder", "aria-label", "title")
# A text that is a program identifier (``possibly_related``, ``codes.investigation_type``): a raw value
# or field name shown where a label belongs.
IDENTIFIER = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$|^[a-z_]+\.[a-z_]+$")
SAMPLE_TEXT = "演示"  # what the crawl types into an empty search box: the demo data's marker
_ID = re.compile(r"^(\d+|[0-9a-f]{8}-[0-9a-f-]{27}|[0-9a-f]{32,64})$", re.I)


@dataclass
class Field:
    tag: str
    type: str
    name: str
    id: str
    labelled: bool  # inside a <label>, or aria-label / aria-labelledby / title


@dataclass
class Page:
    """What the crawl needs from one HTML page."""

    title: str = ""
    h1: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # text nodes and user-visible attributes, stripped
    label_for: set[str] = field(default_factory=set)
    fields: list[Field] = field(default_factory=list)
    get_forms: list[str] = field(default_factory=list)  # a GET form filled with its defaults, as a URL

    def unlabelled(self) -> list[Field]:
        return [f for f in self.fields if not f.labelled and not (f.id and f.id in self.label_for)]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._stack: list[str] = []
        self._label_depth = 0
        self._skip = 0  # inside <script>/<style>
        self._buf: list[str] = []
        self._form: tuple[str, list[tuple[str, str]]] | None = None  # action, fields of an open GET form
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag in ("script", "style", "template"):
            self._skip += 1
        if tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.page.label_for.add(a["for"])
        if tag in ("title", "h1"):
            self._buf = []
        if tag == "form" and a.get("method", "get").lower() == "get" and not a.get("hx-get"):
            self._form = (a.get("action", ""), [])
        if self._form is not None and a.get("name") and tag in ("input", "select", "textarea"):
            self._fill(tag, a)
        if tag == "option" and self._select and self._form is not None:
            fields = self._form[1]
            if not any(k == self._select for k, _v in fields) or "selected" in a:
                fields[:] = [(k, v) for k, v in fields if k != self._select]
                fields.append((self._select, a.get("value", "")))
        if tag == "a" and a.get("href"):
            self.page.links.append(a["href"])
        if a.get("hx-get") and "{" not in a["hx-get"]:  # an HTMX fragment the page loads
            self.page.links.append(a["hx-get"])
        for name in TEXT_ATTRIBUTES:
            if a.get(name, "").strip():
                self.page.texts.append(a[name].strip())
        if tag in ("input", "select", "textarea"):
            kind = a.get("type", "text").lower() if tag == "input" else tag
            if kind not in UNLABELLED_TYPES:
                labelled = bool(self._label_depth or a.get("aria-label") or a.get("aria-labelledby")
                                or a.get("title"))
                self.page.fields.append(Field(tag, kind, a.get("name", ""), a.get("id", ""), labelled))
        if tag in ("input",) and a.get("type", "").lower() in ("submit", "button") and a.get("value"):
            self.page.texts.append(a["value"].strip())
        if tag not in ("input", "br", "img", "meta", "link", "hr", "source", "col", "wbr"):
            self._stack.append(tag)

    def _fill(self, tag: str, a: dict) -> None:
        kind = a.get("type", "text").lower()
        if tag == "select":
            self._select = a["name"]
        elif kind in ("checkbox", "radio"):
            if "checked" in a:
                self._form[1].append((a["name"], a.get("value", "on")))
        elif kind not in ("submit", "button", "reset", "image", "file"):
            self._form[1].append((a["name"], a.get("value") or SAMPLE_TEXT))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "form" and self._form is not None:
            action, fields = self._form
            self.page.get_forms.append(action + ("?" + urlencode(fields) if fields else ""))
            self._form = None
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1
        if tag == "label" and self._label_depth:
            self._label_depth -= 1
        if tag == "title" and not self.page.title:  # the page's, not an SVG's
            self.page.title = " ".join("".join(self._buf).split())
        if tag == "h1":
            self.page.h1.append(" ".join("".join(self._buf).split()))
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass

    def handle_data(self, data):
        if self._skip:
            return
        self._buf.append(data)
        text = " ".join(data.split())
        if text:
            self.page.texts.append(text)


def read_page(html: str) -> Page:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.page


@cache
def translated_msgids() -> frozenset[str]:
    """English msgids that the zh_CN catalogues translate into something else (no placeholders:
    those are rendered with values, so never appear verbatim)."""
    ids: set[str] = set()
    for path in catalogue_paths("zh_CN"):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale="zh_CN")
        for msg in catalog:
            if not msg.id or not isinstance(msg.id, str) or msg.fuzzy:
                continue
            if not msg.string or msg.string == msg.id or "%(" in msg.id or "{" in msg.id:
                continue
            if not re.search(r"[A-Za-z]{2}", msg.id):  # codes, symbols, numbers
                continue
            ids.add(msg.id.strip())
    return frozenset(ids)


def route_key(url: str) -> str:
    """A URL reduced to its pattern: numeric / uuid / hash segments become ``{id}``, query values
    dropped (so ``/vigilance/12?tab=a`` and ``/vigilance/13?tab=b`` are one route)."""
    parts = urlsplit(url)
    path = "/".join("{id}" if _ID.match(seg) else seg for seg in parts.path.split("/"))
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"})
    return path + ("?" + "&".join(keys) if keys else "")


def internal(href: str) -> str | None:
    """The local path of a link the crawl follows, or None (other sites, anchors, mail, js)."""
    href = href.strip()
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
        return None
    parts = urlsplit(href)
    if (parts.scheme or parts.netloc) and parts.netloc not in ("testserver", "127.0.0.1", "localhost"):
        return None
    if not parts.path.startswith("/"):
        return None
    return parts.path + ("?" + parts.query if parts.query else "")
