"""App assembly: optional domain routers, static files, base page, navigation, worker start."""

from __future__ import annotations

import json
import re
import sys
import threading

import pytest
from fastapi.testclient import TestClient

from medreg.core import templating
from medreg.core.settings import Settings
from medreg.web import app as web_app
from tests.web.conftest import bind_session, login


def test_missing_router_modules_are_skipped_but_broken_ones_raise(tmp_path, monkeypatch):
    assert web_app.import_optional("medreg.premarket.no_such_domain.api") is None
    assert web_app.import_optional("medreg_no_such_package.pages") is None
    (tmp_path / "medreg_broken_pages.py").write_text("import medreg_dependency_that_is_missing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError):
        web_app.import_optional("medreg_broken_pages")
    sys.modules.pop("medreg_broken_pages", None)


def test_included_domain_routers_are_real_routers(app):
    for name in app.state.domain_routers:
        assert any(getattr(r, "path", "").startswith("/") for r in sys.modules[name].router.routes)


def test_health_and_static(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    htmx = client.get("/static/htmx.min.js")
    assert htmx.status_code == 200 and "htmx" in htmx.text[:2000]
    assert client.get("/static/medreg.css").status_code == 200


def test_base_page_carries_csrf_header_for_htmx(client):
    html = client.get("/").text
    match = re.search(r"hx-headers='([^']+)'", html)
    assert match and json.loads(match.group(1).replace("&#34;", '"'))["X-CSRF-Token"]
    assert 'id="lang-en"' in html and 'href="/login"' in html
    assert "演示数据" in html  # neutral footer about made-up demo data


def test_navigation_is_role_aware(client, reviewer, monkeypatch):
    monkeypatch.setattr(templating, "_NAV", {})
    templating.register_nav("/_nav/queue", "Reviewer", roles=["reviewer"], order=1)
    templating.register_nav("/_nav/public", "Public", roles=["public"], order=2)
    templating.register_nav("/_nav/all", "Home", order=3)
    anonymous = client.get("/").text
    assert "/_nav/public" in anonymous and "/_nav/all" in anonymous and "/_nav/queue" not in anonymous
    login(client, reviewer.username)
    page = client.get("/").text
    assert "/_nav/queue" in page and "/_nav/all" in page and "/_nav/public" not in page
    assert "审评员" in page  # the role badge, translated


def test_worker_starts_and_stops_with_the_app(db, monkeypatch):
    import medreg.core.worker as worker

    started = []

    def fake_start():
        stop = threading.Event()
        thread = threading.Thread(target=stop.wait, daemon=True)
        thread.start()
        started.append((thread, stop))
        return thread, stop

    monkeypatch.setattr(worker, "start_in_process_worker", fake_start)
    application = web_app.create_app(Settings(run_worker_in_process=True, secret_key="k"))
    bind_session(application, db)
    with TestClient(application) as c:
        assert c.get("/healthz").status_code == 200
        assert len(started) == 1 and started[0][0].is_alive()
    assert started[0][1].is_set() and not started[0][0].is_alive()
    quiet = web_app.create_app(Settings(run_worker_in_process=False, secret_key="k"))
    with TestClient(quiet):
        assert len(started) == 1
