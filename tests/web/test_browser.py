"""The login page in headless Chromium: log in, switch language, log out (htmx loaded, CSRF kept)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from medreg.core.deps import get_session
from medreg.web.app import create_app
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def live_server(db) -> Iterator[str]:
    """The app served by uvicorn in a thread, on the rolled-back test session (one request at a time)."""
    app = create_app()
    lock = threading.Lock()

    def _session():
        with lock:
            try:
                yield db
                db.commit()
            except BaseException:
                db.rollback()
                raise

    app.dependency_overrides[get_session] = _session
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def page():
    if not CHROMIUM:
        pytest.skip("chromium is not installed (make chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(locale="zh-CN")
        yield context.new_page()
        browser.close()


def test_login_switch_language_logout(live_server, page, reviewer):
    page.goto(f"{live_server}/login")
    assert page.inner_text("h1") == "登录"
    page.fill("#username", reviewer.username)
    page.fill("#password", "wrong password")
    page.click("#login-submit")
    assert "用户名或密码错误" in page.inner_text("#login-error")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{live_server}/")
    assert page.inner_text("#current-user") == reviewer.display_name
    assert page.evaluate("typeof htmx") == "object"
    page.click("#lang-en")
    page.wait_for_selector("html[lang=en]")
    assert "Log out" in page.inner_text("#logout-button")
    page.click("#logout-button")
    page.wait_for_selector("#login-link")
    assert page.inner_text("#login-link") == "Log in"
