"""The ``medreg`` command. Thin: each command opens a ``session_scope()`` and calls one service.

Domain errors become exit codes (see ``medreg.core.errors``), never tracebacks.
"""

from __future__ import annotations

import typer

from medreg.ai.cli import app as ai_app
from medreg.catalog.cli import app as catalog_app
from medreg.catalog.cli import classify_cmd, naming_app
from medreg.core import migrate, reference
from medreg.core.audit_cli import app as audit_app
from medreg.core.db import session_scope
from medreg.core.errors import DomainError
from medreg.core.jobs_cli import app as jobs_app
from medreg.core.jobs_cli import worker_cmd
from medreg.core.schedules_cli import app as schedules_app
from medreg.core.users_cli import app as users_app
from medreg.demo import app as demo_app
from medreg.premarket.experts.cli import app as experts_app
from medreg.premarket.innovation.cli import app as innovation_app
from medreg.premarket.registration import jobs as _registration_jobs  # noqa: F401  (job kinds)
from medreg.premarket.registration.cli import app as registration_app
from medreg.signals import jobs as _signals_jobs  # noqa: F401  (job kinds)
from medreg.signals.cli import with_runs as _signals_app
from medreg.surveillance.cli import app as surveillance_app
from medreg.vigilance.cli import app as vigilance_app

app = typer.Typer(help="medreg: whole life-cycle regulation of high-end medical devices.",
                  no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(users_app, name="users")
app.add_typer(jobs_app, name="jobs")
app.add_typer(schedules_app, name="schedules")
app.command("worker")(worker_cmd)


reference_app = typer.Typer(help="Reference data shipped with medreg (see src/medreg/data/*/SOURCE.md).",
                            no_args_is_help=True)
app.add_typer(reference_app, name="reference")
app.add_typer(demo_app, name="demo")
app.add_typer(innovation_app, name="innovation")
app.add_typer(experts_app, name="experts")
app.add_typer(registration_app, name="registration")
app.add_typer(vigilance_app, name="vigilance")
app.add_typer(ai_app, name="ai")
app.add_typer(surveillance_app, name="surveillance")
app.add_typer(catalog_app, name="catalog")
app.command("classify")(classify_cmd)
app.add_typer(naming_app, name="naming")
app.add_typer(_signals_app(), name="signals")


@reference_app.command("load")
def reference_load() -> None:
    """Load (or refresh) the legal time limits and the catalogue sub-catalogues into the database."""
    with session_scope() as session:
        loaded = reference.load_all(session)
    if not loaded:
        typer.echo("reference data already up to date")
    for name, rows in loaded.items():
        typer.echo(f"loaded {name}: {rows} rows")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply the migrations to MEDREG_DATABASE_URL (creates ./medreg.db by default)."""
    migrate.upgrade(revision=revision)
    typer.echo(f"database upgraded to {revision}")


@app.command("serve")
def serve(host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
          port: int = typer.Option(8000, help="TCP port."),
          reload: bool = typer.Option(False, help="Restart on code changes (development).")) -> None:
    """Run the web application (uvicorn with the medreg.web.app:create_app factory)."""
    import uvicorn

    uvicorn.run("medreg.web.app:create_app", factory=True, host=host, port=port, reload=reload)


@db_app.command("revision")
def db_revision(message: str = typer.Argument(..., help="What the migration changes.")) -> None:
    """Developers: autogenerate a migration from the models (compare against MEDREG_DATABASE_URL)."""
    migrate.revision(message)


def fail(err: DomainError) -> None:
    """Print a domain error as one clear line and exit with its code."""
    where = f" [{err.field}]" if err.field else ""
    typer.secho(f"error{where}: {err.message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(err.exit_code)


if __name__ == "__main__":  # pragma: no cover
    app()
