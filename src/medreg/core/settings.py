"""Settings from the environment (``MEDREG_*``), via pydantic-settings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDREG_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./medreg.db",
        description="SQLAlchemy URL. SQLite is the embedded default; PostgreSQL "
        "(postgresql+psycopg://...) is the production database.",
    )
    secret_key: str = Field(
        default="dev-insecure-change-me",
        description="Signs session cookies and CSRF tokens. Must be set in production.",
    )
    file_store_dir: Path = Field(default=Path("./var/files"), description="Content-addressed dossier store.")
    signals_snapshot_dir: Path = Field(default=Path("./var/signals"),
                                       description="Snapshot folder of the signal runs started by hand.")
    signals_keep_snapshots: int | None = Field(
        default=None, ge=1,
        description="Snapshot versions a signals.snapshot job keeps (the newest ones; older versions and "
                    "their analysis tables are removed after each export). None keeps every version.")
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, description="Largest accepted attachment.")
    login_max_failures: int = Field(default=5, description="Failed logins allowed per window and username.")
    login_window_seconds: int = Field(default=900, description="Window for login rate limiting.")
    session_max_age_seconds: int = Field(default=8 * 3600)
    cookie_secure: bool = Field(default=False, description="Set True behind HTTPS.")
    default_locale: str = Field(default="zh_CN")
    run_worker_in_process: bool = Field(default=True,
                                        description="Demo: run the job worker in the web process.")
    job_lease_seconds: float = Field(
        default=60, gt=0, description="Seconds without a heartbeat after which a running job's worker "
        "counts as dead: the job is taken over, or failed on its last attempt (`medreg worker --lease`).")
    password_hashing: Literal["strong", "test"] = Field(
        default="strong", description="Password hashing cost: `strong` (argon2id, RFC 9106 low-memory "
        "parameters) everywhere but in test suites, which may set `test` (argon2's cheapest parameters).")
    sql_echo: bool = False


@lru_cache
def get_settings() -> Settings:
    return Settings()
