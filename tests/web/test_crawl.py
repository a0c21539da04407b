"""Every page as the users see it: the demo data set (the loader ``make demo`` runs), one login of
each role plus the anonymous public, in zh-CN and en; the crawl follows every internal link reachable
from the home page and the navigation, and submits every GET form (search boxes) with its defaults
(breadth first, a few pages per route pattern, bounded), and checks:

- no 5xx anywhere, and no link on a page leads to a 404;
- every HTML page has a <title> and an <h1>;
- on zh-CN pages, no English UI text that the zh_CN catalogues translate (computed from the .po
  files: a text node or a placeholder / aria-label / title equal to such a msgid);
- no text is a program identifier (``possibly_related``, ``codes.x``): a raw value where a label belongs;
- every form field has a label (<label for>, an enclosing <label>, aria-label/-labelledby or title);
- tenancy: the robotics registrant's draft never shows to another organisation.

The demo load takes about 12 s (8 s CPU) on SQLite; it is done once for the module, inside a
transaction rolled back at the end.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from medreg import demo
from medreg.demo.cases import PRODUCTS
from medreg.web.app import create_app
from tests.web.conftest import bind_session, csrf_of
from tests.web.crawl_support import IDENTIFIER, internal, read_page, route_key, translated_msgids

pytestmark = pytest.mark.slow

# One login per role (demo.USERS), and None for the anonymous public.
ROLES = {
    "public": None,
    "admin": "admin",
    "reviewer (office)": "office",
    "reviewer (province)": "province",
    "inspector": "inspector",
    "monitoring_centre": "monitor",
    "registrant": "registrant",
    "hospital": "hospital",
    "expert": "expert1",
}
LANGS = ("zh_CN", "en")
MAX_PAGES = 400  # per role and language
PER_ROUTE = 3  # pages opened per route pattern (ids in different states render differently)
SKIP_PREFIXES = ("/logout", "/lang/", "/static/", "/api/", "/docs", "/redoc", "/openapi.json")
# The robotics registrant's draft application: only its own organisation (and nobody else) sees it.
DRAFT_NAMES = (PRODUCTS["draft"][1], PRODUCTS["draft"][2])
DRAFT_SEEN_BY = {"registrant", "admin"}
# Identifiers that are data, not UI text, on the given route: the registered kinds of background jobs
# (the administrator's job list names them as registered) and a column name of the sealed evaluation
# database (a subgroup's variable, as the registrant's data calls it).
# Records every registrant reads by design: a sealed evaluation database version's public facts
# (docs/ai.md "A registrant reads the version's public facts").
SHARED_RECORDS = {"/ai/versions/{id}"}
DATA_IDENTIFIERS = {"/jobs/": None, "/ai/runs/{id}": {"age_band"}}


@pytest.fixture(scope="module")
def demo_app(engine) -> Iterator:
    with engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            demo.load(session)
            session.commit()
            app = create_app()
            bind_session(app, session)
            yield app
        finally:
            session.close()
            outer.rollback()


def _client(app, username: str | None, lang: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    client.cookies.set("lang", lang)
    if username:
        token = csrf_of(client)
        resp = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                           "csrf_token": token, "next": "/"})
        assert resp.status_code == 303, f"login of {username} failed: {resp.status_code}"
    return client


class Crawl:
    def __init__(self, client: TestClient, role: str, lang: str) -> None:
        self.client, self.role, self.lang = client, role, lang
        self.problems: list[str] = []
        self.seen: dict[str, int] = {}
        self.opened: set[str] = set()
        self.ok: list[str] = []  # pages answered 200
        self.visited = 0
        self.english = translated_msgids() if lang == "zh_CN" else frozenset()

    def problem(self, url: str, what: str, source: str | None = None) -> None:
        where = f" (linked from {source})" if source else ""
        self.problems.append(f"[{self.role} / {self.lang}] {url}{where}: {what}")

    def run(self) -> None:
        queue: deque[tuple[str, str | None]] = deque([("/", None)])
        while queue and self.visited < MAX_PAGES:
            url, source = queue.popleft()
            key = route_key(url)
            if url in self.opened or self.seen.get(key, 0) >= PER_ROUTE:
                continue
            self.seen[key] = self.seen.get(key, 0) + 1
            self.opened.add(url)
            self.visited += 1
            for link in self.visit(url, source):
                if link not in self.opened and self.seen.get(route_key(link), 0) < PER_ROUTE:
                    queue.append((link, url))

    def visit(self, url: str, source: str | None) -> list[str]:
        resp = self.client.get(url)
        for _ in range(5):  # follow redirects, keeping the link that led there
            if resp.status_code not in (301, 302, 303, 307, 308):
                break
            target = internal(resp.headers.get("location", ""))
            if target is None or target.startswith("/login"):
                self.problem(url, f"redirects to {resp.headers.get('location')}", source)
                return []
            resp = self.client.get(target)
        if resp.status_code >= 500:
            self.problem(url, f"HTTP {resp.status_code}", source)
            return []
        if resp.status_code == 404:
            self.problem(url, "link to a page that does not exist (404)", source)
            return []
        if resp.status_code in (401, 403):
            self.problem(url, f"link to a page this role may not open ({resp.status_code})", source)
            return []
        if resp.status_code == 200:
            self.ok.append(url)
        if "text/html" not in resp.headers.get("content-type", ""):
            return []
        html = resp.text
        if self.role not in DRAFT_SEEN_BY:
            for name in DRAFT_NAMES:
                if name in html:
                    self.problem(url, f"shows another organisation's draft ({name})", source)
        if "<html" not in html[:500].lower():  # an HTMX fragment, not a page
            return []
        page = read_page(html)
        if resp.status_code == 200:
            self.check_page(url, page)
        forms = [f if f.startswith(("/", "?")) else "" for f in page.get_forms]
        forms = [urlsplit(url).path + f if f.startswith("?") else f for f in forms]
        return [t for h in page.links + forms if (t := internal(h)) and not t.startswith(SKIP_PREFIXES)]

    def check_page(self, url: str, page) -> None:
        if not page.title:
            self.problem(url, "no <title>")
        if not any(page.h1):
            self.problem(url, "no <h1>")
        for f in page.unlabelled():
            self.problem(url, f"form field without a label: <{f.tag} type={f.type} name={f.name} id={f.id}>")
        allowed = DATA_IDENTIFIERS.get(route_key(url), set())
        raw = sorted({t for t in page.texts if IDENTIFIER.match(t) and allowed is not None
                      and t not in allowed})
        if raw:
            self.problem(url, f"program identifiers shown as text: {raw[:8]}")
        untranslated = sorted({t for t in page.texts if t in self.english})
        if untranslated:
            self.problem(url, f"English UI text on a zh-CN page: {untranslated[:8]}")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("role", list(ROLES))
def test_crawl_every_page(demo_app, role, lang):
    crawl = Crawl(_client(demo_app, ROLES[role], lang), role, lang)
    crawl.run()
    print(f"[{role} / {lang}] {crawl.visited} pages, {len(crawl.seen)} routes:", *sorted(crawl.seen))
    assert crawl.visited > 3, f"[{role} / {lang}] the crawl found only {sorted(crawl.seen)}"
    assert not crawl.problems, f"{len(crawl.problems)} problem(s) on {crawl.visited} pages:\n" + "\n".join(
        crawl.problems[:60])


def test_another_registrant_opens_none_of_the_records(demo_app):
    """Every record page (a URL with an id) the robotics registrant reaches is refused to the imaging
    registrant, unless the public may open that kind of page too (certificates, determinations)."""
    mine = Crawl(_client(demo_app, "registrant", "en"), "registrant", "en")
    mine.run()
    public = Crawl(_client(demo_app, None, "en"), "public", "en")
    public.run()
    open_to_all = {route_key(u) for u in public.ok} | SHARED_RECORDS
    other = _client(demo_app, "registrant2", "en")
    records = [u for u in mine.ok if "{id}" in route_key(u) and route_key(u) not in open_to_all]
    assert records, "the crawl reached no record page"
    leaks = [f"{u}: HTTP {other.get(u).status_code}" for u in records if other.get(u).status_code == 200]
    assert not leaks, "the imaging registrant opens the robotics registrant's records:\n" + "\n".join(leaks)
