"""Catalog tests reuse the web fixtures (app bound to the rolled-back session, client)."""

from tests.web.conftest import app, client  # noqa: F401
