"""Run the Alembic migrations from code (CLI ``medreg db upgrade``, tests, demo)."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config


def alembic_config(url: str | None = None) -> Config:
    ini = files("medreg") / "alembic.ini"
    cfg = Config(str(ini))
    cfg.set_main_option("script_location", str(files("medreg") / "migrations"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def revision(message: str, url: str | None = None) -> None:
    """Developers: autogenerate a migration from the models."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
