"""Test fixtures shared by every test.

The database under test comes from ``MEDREG_TEST_DATABASE_URL`` (the Makefile runs the suite once
on SQLite and once on a fresh PostgreSQL database). The schema is built once per run; each test
runs inside a transaction that is rolled back, so tests never see each other's rows.
"""

from __future__ import annotations

import atexit
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

_TMP = Path(tempfile.mkdtemp(prefix="medreg-test-"))
PG_SERVER_URL = os.environ.get("MEDREG_TEST_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")


def _choose_database() -> str:
    """``MEDREG_TEST_DB=postgresql`` gives each run (and each xdist worker) a fresh database."""
    if os.environ.get("MEDREG_TEST_DATABASE_URL"):
        return os.environ["MEDREG_TEST_DATABASE_URL"]
    if os.environ.get("MEDREG_TEST_DB", "sqlite") == "postgresql":
        name = f"medreg_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        _pg_admin(f'CREATE DATABASE "{name}"')
        atexit.register(_pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return f"{PG_SERVER_URL}/{name}"
    return f"sqlite:///{_TMP / 'test.db'}"


def _pg_admin(sql: str) -> None:
    import psycopg

    dsn = PG_SERVER_URL.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)


TEST_DATABASE_URL = _choose_database()
os.environ["MEDREG_DATABASE_URL"] = TEST_DATABASE_URL
os.environ.setdefault("MEDREG_SECRET_KEY", "test-secret-key")
os.environ.setdefault("MEDREG_FILE_STORE_DIR", str(_TMP / "files"))
os.environ.setdefault("MEDREG_SIGNALS_SNAPSHOT_DIR", str(_TMP / "signals"))  # the demo load runs an analysis
os.environ.setdefault("MEDREG_RUN_WORKER_IN_PROCESS", "false")
# argon2's cheapest parameters: a strong hash costs ~0.5 s of CPU and the suite makes thousands
# (tests/core/test_password_hashing.py checks the strong default itself).
os.environ.setdefault("MEDREG_PASSWORD_HASHING", "test")

from hypothesis import settings as hypothesis_settings  # noqa: E402

from medreg.core import db as core_db  # noqa: E402

# No per-example deadline: on a loaded 2-core machine one example can take 0.4 s (flaky, not slow).
hypothesis_settings.register_profile("medreg", deadline=None)
hypothesis_settings.load_profile("medreg")
from medreg.models import metadata  # noqa: E402


def pytest_report_header(config):
    return f"medreg test database: {TEST_DATABASE_URL.split('@')[-1]}"


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    core_db.reset_engine()
    eng = core_db.get_engine()
    metadata.drop_all(eng)
    metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (commits become savepoints)."""
    with engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()
            outer.rollback()


@pytest.fixture
def dialect(engine: Engine) -> str:
    return engine.dialect.name

