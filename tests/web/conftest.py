"""Web test fixtures: the app with ``get_session`` bound to the rolled-back test session.

The override mimics the real dependency: commit on success (a savepoint release inside the test
transaction), roll back on any exception. Data a test creates before calling the app must be
committed (``db.commit()``), or a request that rolls back would take it away too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from medreg.core.deps import get_session
from medreg.web.app import create_app
from tests.factories import PASSWORD, make_org, make_user

__all__ = ["PASSWORD"]


def bind_session(app: FastAPI, db: Session) -> None:
    def _session() -> Iterator[Session]:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise

    app.dependency_overrides[get_session] = _session


@pytest.fixture
def app(db: Session) -> FastAPI:
    application = create_app()
    bind_session(application, db)
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as c:
        yield c


@pytest.fixture
def reviewer(db: Session):
    org = make_org(db, "regulator_unit")
    user = make_user(db, "reviewer", org=org)
    db.commit()
    return user


def csrf_of(client: TestClient) -> str:
    """The CSRF token of the client's session, read from the login page."""
    import re

    html = client.get("/login").text
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "login form carries a csrf_token field"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD, **extra):
    token = csrf_of(client)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token, **extra})
