"""``medreg experts``: the expert pool from the command line (thin; office users only)."""

from __future__ import annotations

from datetime import date

import typer
from sqlalchemy import select

from medreg.core.accounts import User
from medreg.core.errors import ValidationFailed
from medreg.premarket.experts import queries, service
from medreg.premarket.innovation.cli import USER, acting

app = typer.Typer(help="The expert pool (CMDE 2025 No.7, chapter 3).", no_args_is_help=True)


@app.command("list")
def list_cmd(
    user: str = USER,
    active: bool | None = typer.Option(None, "--active/--inactive"),
    field: str | None = typer.Option(None, "--field", help="Only experts of this field."),
) -> None:
    """The pool (visible to the innovation review office only, CMDE Art.18)."""
    with acting(user) as (session, actor):
        for e in queries.list_experts(session, actor, active=active, field_of_expertise=field):
            state = "active" if e.active else "inactive"
            typer.echo(f"{e.id:>4} {e.name} ({e.title}, born {e.birth_year}) [{', '.join(e.fields)}] {state}")


@app.command("add")
def add_cmd(
    user: str = USER,
    expert_user: str = typer.Option(..., "--expert-user", help="Username of the expert's account."),
    name: str = typer.Option(..., "--name"),
    title: str = typer.Option(..., "--title"),
    field: list[str] = typer.Option(..., "--field", help="A field of expertise (repeat)."),
    birth_year: int = typer.Option(..., "--birth-year"),
    organisation_id: int | None = typer.Option(None, "--organisation-id"),
    age_exempt: bool = typer.Option(False, "--age-exempt", help="Academician or senior expert."),
) -> None:
    """Add an expert with a senior title (CMDE Art.9)."""
    with acting(user) as (session, actor):
        account = session.scalar(select(User).where(User.username == expert_user))
        if account is None:
            raise ValidationFailed(
                "Unknown user '{name}'.", field="expert-user", params={"name": expert_user}
            )
        e = service.add_expert(
            session,
            actor,
            {
                "user_id": account.id,
                "name": name,
                "title": title,
                "fields": field,
                "birth_year": birth_year,
                "organisation_id": organisation_id,
                "age_exempt": age_exempt,
            },
        )
        typer.echo(f"added expert {e.id}: {e.name}")


@app.command("declare-interest")
def interest_cmd(
    expert_id: int,
    user: str = USER,
    organisation_id: int = typer.Option(..., "--organisation-id"),
    kind: str = typer.Option(
        ...,
        "--kind",
        help="employment, consulting, research_collaboration, gift, patent, shareholding or other",
    ),
    description: str = typer.Option("", "--description"),
    since: str | None = typer.Option(None, "--since"),
    until: str | None = typer.Option(None, "--until"),
) -> None:
    """Record an interest of an expert (CMDE Art.10)."""
    with acting(user) as (session, actor):
        try:
            start = date.fromisoformat(since) if since else None
            end = date.fromisoformat(until) if until else None
        except ValueError:
            raise ValidationFailed("Dates are YYYY-MM-DD.", field="since") from None
        i = service.declare_interest(
            session,
            actor,
            expert_id,
            {
                "organisation_id": organisation_id,
                "kind": kind,
                "description": description,
                "since": start,
                "until": end,
            },
        )
        typer.echo(f"declared interest {i.id} for expert {expert_id}")
