"""End-to-end fixtures: a live medreg server on its own fresh database, and headless Chromium.

The live server runs as a separate process (``python -m uvicorn --factory medreg.web.app:create_app``)
so that it has its own engine and settings and commits for real, without touching the engine of the
rest of the test run. Its database is made the way ``make demo`` makes one: ``medreg db upgrade``
(the Alembic migrations) then ``medreg demo load`` (reference data, demo accounts, demo cases).
SQLite file in a temporary directory by default; a fresh PostgreSQL database when
``MEDREG_TEST_DB=postgresql`` (dropped at the end).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.conftest import PG_SERVER_URL, _pg_admin

DEMO_PASSWORD = "demo-password-2026"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BIN = Path(sys.executable).parent
# Screenshots go to docs/screenshots/ (the user guide's pictures) only when asked for with
# MEDREG_SCREENSHOTS=1, so that an ordinary test run leaves the working tree clean.
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass
class LiveServer:
    url: str
    database_url: str
    engine: Engine  # the server's database, for the few checks and time moves a test makes directly
    tmp: Path

    def __call__(self, path: str = "/") -> str:
        return self.url + path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(env: dict, *args: str) -> None:
    done = subprocess.run([str(BIN / "medreg"), *args], env=env, capture_output=True, text=True, timeout=180)
    if done.returncode:
        raise RuntimeError(f"medreg {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the live server exited ({proc.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the live server did not answer within {timeout}s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    if not CHROMIUM:
        pytest.skip("chromium is not installed (make chromium)")
    from medreg.core.db import make_engine

    tmp = Path(tempfile.mkdtemp(prefix="medreg-e2e-"))
    pg_name = None
    if os.environ.get("MEDREG_TEST_DB", "sqlite") == "postgresql":
        pg_name = f"medreg_e2e_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        _pg_admin(f'CREATE DATABASE "{pg_name}"')
        database_url = f"{PG_SERVER_URL}/{pg_name}"
    else:
        database_url = f"sqlite:///{tmp / 'e2e.db'}"
    env = {
        **os.environ,
        "MEDREG_DATABASE_URL": database_url,
        "MEDREG_FILE_STORE_DIR": str(tmp / "files"),
        "MEDREG_SECRET_KEY": "e2e-secret-key",
        "MEDREG_RUN_WORKER_IN_PROCESS": "false",
        "MEDREG_DEFAULT_LOCALE": "zh_CN",
    }
    _run(env, "db", "upgrade")
    _run(env, "demo", "load")
    port = _free_port()
    log = tmp / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "medreg.web.app:create_app",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp,
        )  # fmt: skip
    engine = make_engine(database_url)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, proc, log)
        yield LiveServer(url=url, database_url=database_url, engine=engine, tmp=tmp / "screenshots")
    finally:
        engine.dispose()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if pg_name:
            _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(live_server):
    """Per module: Playwright's sync API runs an event loop while open, so it must be closed before
    other browser tests (tests/web/test_browser.py) start their own."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Visitor:
    """One browser context (its own cookies): a visitor who may log in as one user."""

    def __init__(self, browser, server: LiveServer, locale: str) -> None:
        # The browser asks for the other language: the visitor must use the switch on the page.
        accept = "en-US" if locale == "zh_CN" else "zh-CN"
        self.context = browser.new_context(locale=accept, viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.server, self.locale = server, locale

    def goto(self, path: str):
        self.page.goto(self.server(path))
        return self.page

    def switch_language(self) -> None:
        """Click the language switch in the page header (sets the ``lang`` cookie)."""
        lang = self.locale.replace("_", "-")
        if self.page.get_attribute("html", "lang") != lang:
            self.page.click(f"#lang-{self.locale}")
            self.page.wait_for_selector(f"html[lang={lang}]")

    def login(self, username: str, password: str = DEMO_PASSWORD):
        self.goto("/login")
        self.switch_language()
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("#login-submit")
        # attached, not visible: on a phone the account sits in the folded header menu
        self.page.wait_for_selector("#current-user", state="attached")
        return self.page

    def screenshot(self, name: str) -> Path:
        folder = DOCS_SCREENSHOTS if os.environ.get("MEDREG_SCREENSHOTS") == "1" else self.server.tmp
        folder.mkdir(parents=True, exist_ok=True)
        short = "zh" if self.locale == "zh_CN" else "en"
        path = folder / f"{name}.{short}.png"
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 1000
        return path

    def close(self) -> None:
        if self.context is not None:
            self.context.close()
            self.context = None


@pytest.fixture
def visitors(browser, live_server):
    """``visitors(locale)`` opens a new visitor; all are closed after the test."""
    opened: list[Visitor] = []

    def open_visitor(locale: str) -> Visitor:
        v = Visitor(browser, live_server, locale)
        opened.append(v)
        return v

    yield open_visitor
    for v in opened:
        v.close()
