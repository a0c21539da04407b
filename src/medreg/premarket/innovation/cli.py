"""``medreg innovation``: the innovative special review from the command line (thin).

Each command opens one unit of work (``core.cli_support.acting``), acts as ``--user USERNAME`` and
calls one service or query. Domain errors print one line and exit with their code (2 validation,
3 permission, 4 not found, 5 conflict or invalid transition).
"""

from __future__ import annotations

from datetime import date

import typer
from rich.console import Console
from rich.table import Table

from medreg.core.cli_support import acting
from medreg.premarket.experts import service as experts
from medreg.premarket.innovation import queries, service

app = typer.Typer(help="Innovative device special review (NMPA 2018 No.83).", no_args_is_help=True)
USER = typer.Option(..., "--user", help="Act as this user (username).")
TODAY = typer.Option(None, "--today", help="The legal day (YYYY-MM-DD); default: today in Beijing.")


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        typer.secho("error [today]: give the date as YYYY-MM-DD", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None


@app.command("list")
def list_cmd(
    user: str = USER,
    status: str | None = typer.Option(None, help="Only this status."),
    limit: int = typer.Option(50, min=1, max=500),
) -> None:
    """The applications this user may see."""
    with acting(user) as (session, actor):
        rows = queries.list_for(session, actor, status=status, limit=limit)
        table = Table(title=f"innovation applications ({len(rows)})")
        for col in ("id", "acceptance no", "product", "class", "status", "submitted", "version"):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(
                str(r.id),
                r.acceptance_no or "",
                r.product_name,
                r.proposed_class or "",
                r.status,
                r.submitted_on.isoformat() if r.submitted_on else "",
                str(r.version),
            )
    Console(width=160).print(table)


@app.command("show")
def show_cmd(app_id: int, user: str = USER, today: str | None = TODAY) -> None:
    """One application: fields, clocks, documents, allowed actions."""
    with acting(user) as (session, actor):
        d = queries.get_for(session, actor, app_id, today=_day(today))
    a = d.application
    typer.echo(f"#{a.id} {a.product_name} ({a.acceptance_no or 'not accepted'}) - {a.status} v{a.version}")
    typer.echo(
        f"applicant: {d.applicant}; class proposed {a.proposed_class}, determined {a.determined_class}"
    )
    typer.echo(f"patent: {a.patent_kind} {a.patent_number} granted {a.patent_grant_date}")
    for c in d.clocks:
        state = (
            "stopped" if c.stopped_on else ("paused" if c.paused else ("OVERDUE" if c.overdue else "running"))
        )
        typer.echo(f"clock {c.name}: due {c.due_on}, {c.used}/{c.limit} {c.unit}, {state} ({c.legal_basis})")
    for doc in d.documents:
        typer.echo(f"document {doc.id}: {doc.doc_type} - {doc.title}")
    for n in d.notices:
        typer.echo(f"notice {n.id}: {n.starts_on} to {n.ends_on}, {n.objections} objection(s)")
    typer.echo("allowed actions: " + (", ".join(d.allowed_actions) or "none"))


@app.command("queue")
def queue_cmd(user: str = USER, today: str | None = TODAY) -> None:
    """What waits on this reviewer or expert, earliest due date first."""
    with acting(user) as (session, actor):
        for i in queries.reviewer_queue(session, actor, _day(today)):
            flag = " OVERDUE" if i.overdue else (" paused" if i.paused else "")
            typer.echo(
                f"#{i.application_id} {i.status:<18} due {i.due_on} ({i.clock}){flag} {i.product_name}"
            )


@app.command("accept")
def accept_cmd(
    app_id: int,
    user: str = USER,
    version: int | None = typer.Option(None, "--version"),
    today: str | None = TODAY,
) -> None:
    """Formal check passed: accept and number the application (No.83 Art.6)."""
    with acting(user) as (session, actor):
        a = service.accept(session, actor, app_id, expected_version=version, today=_day(today))
        typer.echo(f"accepted #{a.id}: {a.acceptance_no}")


@app.command("candidates")
def candidates_cmd(app_id: int, user: str = USER, today: str | None = TODAY) -> None:
    """Experts of the pool with their eligibility and conflicts for this application."""
    with acting(user) as (session, actor):
        a = service.load(session, actor, app_id)
        for c in experts.candidate_experts(session, actor, a, today=_day(today)):
            mark = "ok " if c.selectable else "NO "
            why = "; ".join(f"{p.reason} ({p.article})" for p in c.problems + c.conflicts)
            typer.echo(f"{mark}{c.expert.id:>4} {c.expert.name} [{', '.join(c.expert.fields)}] {why}")


@app.command("assign-experts")
def assign_cmd(
    app_id: int,
    expert_ids: list[int],
    user: str = USER,
    leader: int | None = typer.Option(None, "--leader", help="Expert id of the group leader."),
    version: int | None = typer.Option(None, "--version"),
    today: str | None = TODAY,
) -> None:
    """Assign at least three experts without conflicts (CMDE Art.9-11)."""
    with acting(user) as (session, actor):
        rows = service.assign_experts(
            session, actor, app_id, expert_ids, leader_id=leader, expected_version=version, today=_day(today)
        )
        typer.echo(f"assigned {len(rows)} experts to #{app_id}")


@app.command("decide")
def decide_cmd(
    app_id: int,
    user: str = USER,
    approve: bool = typer.Option(..., "--approve/--reject", help="The decision."),
    reasons: str | None = typer.Option(None, "--reasons"),
    password: str = typer.Option(..., prompt=True, hide_input=True, help="Re-enter your password to sign."),
    version: int | None = typer.Option(None, "--version"),
    today: str | None = TODAY,
) -> None:
    """The final decision, electronically signed (No.83 Art.10-11)."""
    with acting(user) as (session, actor):
        a = service.decide(
            session,
            actor,
            app_id,
            approve=approve,
            reasons=reasons,
            password=password,
            expected_version=version,
            today=_day(today),
        )
        typer.echo(f"#{a.id} {a.status} on {a.decided_on} (signature {a.decision_signature_id})")


@app.command("notices")
def notices_cmd(
    current: bool = typer.Option(False, "--current", help="Only notices open today."),
    today: str | None = TODAY,
) -> None:
    """Public notices (no login needed)."""
    with acting(None) as (session, _public):
        rows = queries.public_notices(session, _day(today), current_only=current)
    for n in rows:
        typer.echo(
            f"{n.starts_on} to {n.ends_on}{' (open)' if n.open else ''}: {n.applicant} - {n.product_name}"
        )
