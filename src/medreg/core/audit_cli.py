"""``medreg audit``: verify the hash chain, read the trail.

Exit codes: 0 the chain is intact; 7 (:data:`EXIT_CHAIN_BROKEN`) the chain is broken (each
problem is printed, naming the event); 2 bad options; 1 the database cannot be read. See ``docs/audit.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from medreg.core import audit, audit_verify
from medreg.core.clock import to_shanghai
from medreg.core.db import session_scope

EXIT_CHAIN_BROKEN = 7

app = typer.Typer(help="The hash-chained audit trail: verify it, read it.", no_args_is_help=True)


@contextmanager
def _session() -> Iterator[Session]:
    """``session_scope()``, with an unreachable or unmigrated database as one line and exit 1."""
    try:
        with session_scope() as session:
            yield session
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        typer.secho(f"error: cannot read the audit trail ({reason}); is the database migrated "
                    "(medreg db upgrade)?", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None


def _event_label(p: audit_verify.ChainProblem) -> str:
    seq = f"#{p.seq}" if p.seq is not None else "#?"
    if p.event_id is None:
        return f"{seq} (no event row)"
    return f"{seq} id={p.event_id} action={p.action} entity={p.entity_type}:{p.entity_id}"


@app.command("verify")
def verify_cmd(
    batch: int = typer.Option(5000, min=100, max=100_000, help="Events read per query."),
) -> None:
    """Recompute every event's hash and link; exit 0 if intact, 7 if any event was altered."""
    with _session() as session:
        report = audit_verify.verify_report(session, batch=batch)
    if report.intact:
        typer.echo(f"audit chain intact: {report.events} events")
        if report.head_hash:
            typer.echo(f"head: #{report.head_seq} {report.head_hash}")
        return
    typer.secho(f"audit chain BROKEN: {len(report.problems)} problem(s) in {report.events} events",
                fg=typer.colors.RED)
    for p in report.problems:
        typer.echo(f"  {p.kind}: event {_event_label(p)}: {p.message}")
    raise typer.Exit(EXIT_CHAIN_BROKEN)


@app.command("log")
def log_cmd(
    entity_type: str | None = typer.Option(None, "--entity-type", help="Only events of this record type."),
    entity_id: str | None = typer.Option(None, "--entity-id", help="Only events of this record id."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="How many events, newest first."),
) -> None:
    """Print the most recent audit events (times in Asia/Shanghai)."""
    if entity_id is not None and entity_type is None:
        typer.secho("error [entity-id]: --entity-id needs --entity-type", err=True, fg=typer.colors.RED)
        raise typer.Exit(2)
    with _session() as session:
        events = audit.recent(session, entity_type=entity_type, entity_id=entity_id, limit=limit)
        table = Table(title=f"audit events ({len(events)}, newest first)")
        for col in ("seq", "at (Asia/Shanghai)", "actor", "action", "entity", "note"):
            table.add_column(col, overflow="fold")
        for ev in events:
            table.add_row(str(ev.seq), to_shanghai(ev.at).strftime("%Y-%m-%d %H:%M:%S"),
                          ev.actor_username, ev.action, f"{ev.entity_type}:{ev.entity_id}", ev.note or "")
    Console(width=160).print(table)
