"""Errors are mapped once: domain errors, validation, stale data and integrity clashes; no 500s."""

from __future__ import annotations

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from sqlalchemy.orm.exc import StaleDataError

from medreg.core.accounts import Organisation
from medreg.core.deps import api_router, get_session, pages_router
from medreg.core.errors import (
    Conflict,
    InvalidTransition,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from tests.web.conftest import csrf_of

ERRORS = {
    "not_found": (NotFound, 404),
    "permission_denied": (PermissionDenied, 403),
    "not_authenticated": (NotAuthenticated, 401),
    "invalid_transition": (InvalidTransition, 409),
    "conflict": (Conflict, 409),
    "validation_failed": (ValidationFailed, 422),
    "rate_limited": (RateLimited, 429),
}


class Thing(BaseModel):
    name: str = Field(min_length=2, max_length=20)
    count: int = Field(ge=0)


def _routes(app: FastAPI) -> None:
    api = api_router(prefix="/api/_err")
    pages = pages_router(prefix="/_err")

    for router in (api, pages):
        @router.get("/raise/{kind}")
        def raise_kind(kind: str):
            cls, _status = ERRORS[kind]
            raise cls("The file {name} is too large.", field="attachment", params={"name": "a.pdf"},
                      details={"limit": 10})

        @router.get("/stale")
        def stale():
            raise StaleDataError("UPDATE statement on table 'x' expected to update 1 row(s); 0 were matched.")

        @router.get("/dup")
        def dup(session=Depends(get_session)):
            session.add(Organisation(kind="registrant", name="Duplicate Org"))
            session.flush()
            session.add(Organisation(kind="registrant", name="Duplicate Org"))
            session.flush()

    @api.post("/thing")
    def thing(body: Thing):
        return body

    @api.get("/count")
    def count(n: int):
        return {"n": n}

    app.include_router(api)
    app.include_router(pages)


@pytest.fixture
def eclient(app):
    _routes(app)
    with TestClient(app, raise_server_exceptions=True) as c:
        c.headers["X-CSRF-Token"] = csrf_of(c)  # anonymous browser session: unsafe methods need it
        yield c


@pytest.mark.parametrize("kind", sorted(ERRORS))
def test_domain_error_json(eclient, kind):
    cls, status = ERRORS[kind]
    response = eclient.get(f"/api/_err/raise/{kind}")
    assert response.status_code == status == cls.http_status
    assert response.json() == {"error": kind, "message": "The file a.pdf is too large.",
                               "field": "attachment", "details": {"limit": 10}}


@pytest.mark.parametrize("kind", sorted(set(ERRORS) - {"not_authenticated"}))
def test_domain_error_html_page(eclient, kind):
    _cls, status = ERRORS[kind]
    response = eclient.get(f"/_err/raise/{kind}")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert f'data-error="{kind}"' in response.text and 'data-field="attachment"' in response.text
    assert "The file a.pdf is too large." in response.text  # untranslated msgid falls back to English


def test_htmx_errors_are_fragments_for_the_message_area(eclient):
    response = eclient.get("/_err/raise/conflict", headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert response.headers["hx-retarget"] == "#messages"
    assert "<html" not in response.text and 'data-error="conflict"' in response.text


def test_validation_error_lists_fields(eclient):
    response = eclient.post("/api/_err/thing", json={"name": "x", "count": -1})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_failed" and body["field"] == "name"
    fields = {e["field"]: e["reason"] for e in body["details"]["errors"]}
    assert set(fields) == {"name", "count"} and all(fields.values())


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, None),
    ({"json": {"name": "ok name"}}, "count"),
    ({"json": {"name": "ok name", "count": "many"}}, "count"),
    ({"json": [1, 2]}, None),
])
def test_bad_bodies_are_422_never_500(eclient, kwargs, field):
    response = eclient.post("/api/_err/thing", **kwargs)
    assert response.status_code == 422
    if field:
        assert response.json()["field"] == field


def test_bad_query_parameter_is_422_with_field(eclient):
    response = eclient.get("/api/_err/count", params={"n": "abc"})
    assert response.status_code == 422 and response.json()["field"] == "n"


def test_stale_data_is_409(eclient):
    assert eclient.get("/api/_err/stale").json()["error"] == "conflict"
    assert eclient.get("/api/_err/stale").status_code == 409
    assert eclient.get("/_err/stale").status_code == 409


def test_integrity_error_is_409_and_rolled_back(eclient, db):
    response = eclient.get("/api/_err/dup")
    assert response.status_code == 409 and response.json()["error"] == "conflict"
    assert db.query(Organisation).filter_by(name="Duplicate Org").count() == 0


def test_unknown_paths(eclient):
    assert eclient.get("/api/_err/none").json()["error"] == "not_found"
    page = eclient.get("/definitely/not/here")
    assert page.status_code == 404 and "该页面不存在" in page.text
    assert eclient.delete("/api/me").status_code == 405


def test_anonymous_api_post_without_csrf_is_refused(app):
    _routes(app)
    with TestClient(app) as c:
        response = c.post("/api/_err/thing", json={"name": "fine", "count": 1})
        assert response.status_code == 403 and response.json()["field"] == "csrf_token"
        c.headers["X-CSRF-Token"] = csrf_of(c)
        assert c.post("/api/_err/thing", json={"name": "fine", "count": 1}).status_code == 200
