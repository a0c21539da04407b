"""Login, logout, rate limiting and CSRF through the web app."""

from __future__ import annotations

import uuid

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from medreg.core import auth
from medreg.core.accounts import LoginAttempt, User, UserRole
from medreg.core.actor import Actor
from medreg.core.db import session_scope
from medreg.core.deps import pages_router, require_login
from medreg.core.security import hash_password
from medreg.core.settings import get_settings
from medreg.web.app import create_app
from medreg.web.auth_pages import safe_next
from tests.factories import PASSWORD, actor_for
from tests.web.conftest import csrf_of, login


def _attempts(db, username) -> list[bool]:
    return list(db.scalars(select(LoginAttempt.succeeded).where(LoginAttempt.username == username)
                           .order_by(LoginAttempt.id)))


def test_login_success_sets_session_and_redirects(client, reviewer, db):
    response = login(client, reviewer.username, next="/api/me")
    assert response.status_code == 303 and response.headers["location"] == "/api/me"
    me = client.get("/api/me").json()
    assert me["username"] == reviewer.username and me["roles"] == ["reviewer"]
    home = client.get("/")
    assert reviewer.display_name in home.text and 'id="logout-button"' in home.text
    assert _attempts(db, reviewer.username) == [True]


def test_login_failure_shows_translated_error_and_is_recorded(client, reviewer, db):
    response = login(client, reviewer.username, "wrong password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text and 'data-error="not_authenticated"' in response.text
    assert client.get("/api/me").status_code == 401
    assert _attempts(db, reviewer.username) == [False]


def test_rate_limited_with_the_right_password(client, reviewer, db):
    limit = get_settings().login_max_failures
    for _ in range(limit):
        assert login(client, reviewer.username, "wrong password").status_code == 401
    response = login(client, reviewer.username, PASSWORD)
    assert response.status_code == 429
    assert response.headers["retry-after"] == str(get_settings().login_window_seconds)
    assert "登录失败次数过多" in response.text and 'data-error="rate_limited"' in response.text
    assert client.get("/api/me").status_code == 401
    assert _attempts(db, reviewer.username) == [False] * (limit + 1)


def test_failed_attempts_are_committed_by_the_real_request_transaction(engine):
    """No session override: the app's own per-request transaction must keep failed attempts."""
    username = f"rl-{uuid.uuid4().hex[:10]}"
    with session_scope() as s:
        s.add(User(username=username, display_name="Rate limit", password_hash=hash_password(PASSWORD),
                   role_rows=[UserRole(role="registrant")]))
    try:
        with TestClient(create_app(), follow_redirects=False) as client:
            limit = get_settings().login_max_failures
            for _ in range(limit):
                assert login(client, username, "wrong password").status_code == 401
            assert login(client, username, PASSWORD).status_code == 429
            token = client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
            assert token.status_code == 429 and token.json()["error"] == "rate_limited"
            assert token.headers["retry-after"]
        with session_scope() as s:
            rows = s.scalars(select(LoginAttempt.succeeded).where(LoginAttempt.username == username)).all()
        assert rows == [False] * (limit + 2)
    finally:
        with session_scope() as s:
            s.execute(delete(LoginAttempt).where(LoginAttempt.username == username))
            s.execute(delete(User).where(User.username == username))


def test_logout_needs_csrf_and_ends_the_session(client, reviewer):
    login(client, reviewer.username)
    assert client.post("/logout").status_code == 403
    assert client.get("/api/me").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert response.status_code == 303
    assert client.get("/api/me").status_code == 401


def test_login_form_without_csrf_is_refused_and_writes_nothing(client, reviewer, db):
    before = db.scalar(select(func.count()).select_from(LoginAttempt))
    response = client.post("/login", data={"username": reviewer.username, "password": PASSWORD})
    assert response.status_code == 403 and 'data-field="csrf_token"' in response.text
    wrong = client.post("/login", data={"username": reviewer.username, "password": PASSWORD,
                                        "csrf_token": "forged"})
    assert wrong.status_code == 403
    assert db.scalar(select(func.count()).select_from(LoginAttempt)) == before
    assert client.get("/api/me").status_code == 401


def test_login_rotates_the_csrf_token(client, reviewer):
    before = csrf_of(client)
    login(client, reviewer.username)
    assert csrf_of(client) != before


def test_password_change_ends_other_sessions(client, reviewer, db):
    login(client, reviewer.username)
    assert client.get("/api/me").status_code == 200
    auth.change_password(db, actor_for(reviewer), reviewer.id, old_password=PASSWORD,
                         new_password="a-brand-new-passphrase")
    db.commit()
    assert client.get("/api/me").status_code == 401


def test_protected_page_redirects_anonymous_to_login(app, client):
    router = pages_router(prefix="/_private")

    @router.get("/page")
    def page(actor: Actor = Depends(require_login)):
        return {"ok": True}

    app.include_router(router)
    response = client.get("/_private/page?x=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2F_private%2Fpage%3Fx%3D1"


@pytest.mark.parametrize(("target", "expected"), [
    ("/innovation/12", "/innovation/12"), ("https://evil.example/", "/"), ("//evil.example", "/"),
    ("/\\evil.example", "/"), ("", "/"), (None, "/"), ("javascript:alert(1)", "/"),
])
def test_next_is_local_only(target, expected):
    assert safe_next(target) == expected
