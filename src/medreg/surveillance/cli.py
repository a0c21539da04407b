"""``medreg surveillance``: critical values, registry import, monitoring runs, alerts, demo (thin).

Each command opens a ``session_scope()`` (except the pure ones), acts as ``--user USERNAME`` and calls
one service or query. Domain errors print one line (and the import's row/field/reason report) and exit
with their code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core.accounts import User
from medreg.core.actor import Actor
from medreg.core.clock import today_shanghai
from medreg.core.db import session_scope
from medreg.core.errors import DomainError, NotAuthenticated
from medreg.surveillance import queries, service, service_monitoring
from medreg.surveillance.maxsprt import poisson_critical_value

app = typer.Typer(
    help="Active surveillance of implants: sequential monitoring (MaxSPRT).", no_args_is_help=True
)
USER = typer.Option(..., "--user", help="Act as this user (username).")
console = Console(width=160)


def _actor(session: Session, username: str) -> Actor:
    if username == "system":
        return Actor.system()
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        raise NotAuthenticated("Unknown or inactive user '{name}'.", field="user", params={"name": username})
    return Actor.from_user(user)


@contextmanager
def acting(username: str) -> Iterator[tuple[Session, Actor]]:
    try:
        with session_scope() as session:
            yield session, _actor(session, username)
    except DomainError as err:
        where = f" [{err.field}]" if err.field else ""
        typer.secho(f"error{where}: {err.message}", err=True, fg=typer.colors.RED)
        for e in err.details.get("errors", [])[:50]:
            typer.secho(f"  row {e['row']} {e['field']}: {e['reason']}", err=True)
        raise typer.Exit(err.exit_code) from None


@app.command("critical-value")
def critical_value(
    sample_size: float = typer.Option(..., "--T", help="Upper limit, expected events."),
    alpha: float = typer.Option(0.05, "--alpha"),
    min_events: int = typer.Option(1, "--M", help="Minimum events to signal."),
) -> None:
    """Critical value of the continuous Poisson MaxSPRT (Kulldorff et al. 2011)."""
    try:
        r = poisson_critical_value(sample_size, alpha, min_events=min_events)
    except DomainError as err:
        typer.secho(f"error [{err.field}]: {err.message}", err=True, fg=typer.colors.RED)
        raise typer.Exit(err.exit_code) from None
    typer.echo(f"CV={r.critical_value:.6f} alpha={r.alpha:.6f} T={sample_size:g} M={min_events}")


@app.command("import")
def import_cmd(
    path: Path = typer.Argument(..., exists=True, dir_okay=False),
    user: str = USER,
    hospital: str = typer.Option(None, "--hospital", help="Site code (monitoring centre only)."),
) -> None:
    """Import a registry extract (CSV in UTF-8, or XLSX) all-or-nothing."""
    with acting(user) as (session, actor):
        batch = service.import_extract(
            session,
            actor,
            path.read_bytes(),
            filename=path.name,
            today=today_shanghai(),
            hospital_code=hospital,
        )
        typer.echo(f"imported {batch.rows} procedures (batch {batch.id}, sha256 {batch.sha256[:12]})")


@app.command("run")
def run_cmd(
    user: str = USER, as_of: str = typer.Option(None, "--as-of", help="Look date; default today.")
) -> None:
    """Append one look to every active monitor; alerts are opened on signals."""
    day = date.fromisoformat(as_of) if as_of else today_shanghai()
    with acting(user) as (session, actor):
        looks = service_monitoring.run_monitors(session, actor, day)
        table = Table("monitor", "look", "procedures", "observed", "expected", "LLR", "CV", "signal")
        for lk in looks:
            table.add_row(
                str(lk.monitor_id),
                str(lk.look_no),
                str(lk.procedures),
                f"{lk.observed:g}",
                f"{lk.expected:.2f}",
                f"{lk.llr:.3f}",
                f"{lk.critical_value:.3f}",
                "SIGNAL" if lk.signal else "",
            )
        console.print(table)


@app.command("alerts")
def alerts_cmd(user: str = USER) -> None:
    """List the alert cases the user may see."""
    with acting(user) as (session, actor):
        for a in queries.list_alerts(session, actor):
            typer.echo(f"#{a.id} [{a.status}] v{a.version} {a.summary}")


@app.command("demo")
def demo_cmd(
    seed: int = typer.Option(2025, "--seed"),
    procedures: int = typer.Option(6000, "--procedures"),
    user: str = typer.Option("system", "--user"),
) -> None:
    """Load the MADE-UP demo registry (sites, procedures, monitors) and run monthly looks."""
    from medreg.surveillance.demo_load import load_demo

    with acting(user) as (session, actor):
        summary = load_demo(session, actor, seed=seed, n_procedures=procedures)
        typer.echo(summary)
