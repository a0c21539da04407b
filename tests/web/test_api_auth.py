"""Bearer tokens, /api/me, the public actor, and CSRF exemptions."""

from __future__ import annotations

from fastapi import Depends
from sqlalchemy import select

from medreg.core import auth
from medreg.core.accounts import LoginAttempt, Organisation
from medreg.core.actor import Actor
from medreg.core.deps import current_actor, get_session, pages_router, require_roles
from tests.factories import PASSWORD, actor_for, make_user
from tests.web.conftest import csrf_of, login


def test_token_endpoint_and_api_me(client, reviewer, db):
    response = client.post("/api/auth/token", json={"username": reviewer.username, "password": PASSWORD,
                                                     "name": "ci"})
    assert response.status_code == 200
    token = response.json()["access_token"]
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["username"] == reviewer.username
    assert me.json()["roles"] == ["reviewer"]


def test_token_endpoint_wrong_password_is_401_and_recorded(client, reviewer, db):
    response = client.post("/api/auth/token", json={"username": reviewer.username, "password": "nope"})
    assert response.status_code == 401
    assert response.json() == {"error": "not_authenticated", "message": "Wrong username or password.",
                               "field": "password", "details": {}}
    assert db.scalars(select(LoginAttempt.succeeded)
                      .where(LoginAttempt.username == reviewer.username)).all() == [False]


def test_bad_or_unknown_bearer_is_401_not_public(client):
    for header in ("Bearer not-a-real-token", "Basic abc", "Bearer "):
        response = client.get("/api/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json()["field"] == "authorization"
        assert response.headers["www-authenticate"] == "Bearer"


def test_anonymous_is_the_public_actor(app, client):
    router = pages_router(prefix="/_who")

    @router.get("")
    def who(actor: Actor = Depends(current_actor)):
        return {"username": actor.username, "roles": sorted(actor.roles), "public": actor.is_public}

    app.include_router(router)
    assert client.get("/_who").json() == {"username": "public", "roles": ["public"], "public": True}
    assert client.get("/api/me").status_code == 401


def _writer_app(app):
    router = pages_router(prefix="/_write")

    @router.post("/org")
    def add_org(session=Depends(get_session), actor: Actor = Depends(require_roles("reviewer", "admin"))):
        session.add(Organisation(kind="registrant", name="CSRF test org"))
        session.flush()
        return {"ok": True}

    app.include_router(router)


def _org_exists(db) -> bool:
    return db.scalar(select(Organisation.id).where(Organisation.name == "CSRF test org")) is not None


def test_csrf_blocks_cookie_form_post_without_token(app, client, reviewer, db):
    _writer_app(app)
    login(client, reviewer.username)
    response = client.post("/_write/org", data={"x": "1"})
    assert response.status_code == 403
    assert not _org_exists(db)
    assert client.post("/_write/org", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert not _org_exists(db)
    token = csrf_of(client)
    assert client.post("/_write/org", data={"csrf_token": token}).status_code == 200
    assert _org_exists(db)


def test_csrf_header_works_for_htmx_and_json(app, client, reviewer, db):
    _writer_app(app)
    login(client, reviewer.username)
    response = client.post("/_write/org", headers={"X-CSRF-Token": csrf_of(client)}, json={})
    assert response.status_code == 200 and _org_exists(db)


def test_bearer_requests_are_exempt_from_csrf(app, client, reviewer, db):
    _writer_app(app)
    token = auth.issue_token(db, actor_for(reviewer), reviewer.id, "script", None)
    db.commit()
    response = client.post("/_write/org", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and _org_exists(db)


def test_role_check(app, client, db):
    _writer_app(app)
    registrant = make_user(db, "registrant")
    db.commit()
    token = auth.issue_token(db, actor_for(registrant), registrant.id, "script", None)
    db.commit()
    response = client.post("/_write/org", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403 and 'data-error="permission_denied"' in response.text
    assert not _org_exists(db)
