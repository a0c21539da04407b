"""The Alembic migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from medreg.core import migrate
from medreg.core.db import make_engine
from medreg.models import metadata
from tests.conftest import PG_SERVER_URL, _pg_admin


@pytest.fixture
def empty_database_url(dialect, tmp_path):
    if dialect == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    name = f"medreg_migr_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER_URL}/{name}"
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migrations_match_models(empty_database_url):
    migrate.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations disagree: run `medreg db revision`? {diff}"


def test_downgrade_to_base_and_up_again(empty_database_url):
    migrate.upgrade(empty_database_url)
    from alembic import command

    command.downgrade(migrate.alembic_config(empty_database_url), "base")
    migrate.upgrade(empty_database_url)
