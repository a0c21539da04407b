"""``medreg users ...``: create and list accounts, issue API tokens (thin: one service call each)."""

from __future__ import annotations

from datetime import timedelta

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from medreg.core import auth
from medreg.core.accounts import User
from medreg.core.actor import Actor
from medreg.core.db import session_scope
from medreg.core.errors import DomainError, NotFound

app = typer.Typer(help="User accounts and API tokens.", no_args_is_help=True)


def _fail(err: DomainError) -> None:
    where = f" [{err.field}]" if err.field else ""
    typer.secho(f"error{where}: {err.message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(err.exit_code)


@app.command("create")
def create(
    username: str = typer.Argument(..., help="Login name (3-64 letters, digits, . _ -)."),
    role: list[str] = typer.Option(..., "--role", "-r", help="Role; repeat for several."),
    org: str | None = typer.Option(None, "--org", help="Organisation name (Chinese or English)."),
    display_name: str | None = typer.Option(None, "--display-name", help="Shown in the pages."),
    email: str | None = typer.Option(None, "--email"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                 help="At least 10 characters; prompted (hidden) when omitted."),
) -> None:
    """Create an account (acting as the system administrator)."""
    try:
        with session_scope() as session:
            org_id = auth.find_organisation(session, org).id if org else None
            user = auth.create_user(session, Actor.system(), username=username,
                                    display_name=display_name or username, password=password,
                                    roles=role, organisation_id=org_id, email=email)
            roles = ", ".join(sorted(user.roles))
            summary = f"created user {user.username} (id {user.id}) with roles {roles}"
    except DomainError as err:
        _fail(err)
    typer.echo(summary)


@app.command("list")
def list_users() -> None:
    """List the accounts with their roles and organisations."""
    table = Table("id", "username", "display name", "roles", "organisation", "active")
    with session_scope() as session:
        for user in session.scalars(select(User).order_by(User.username)):
            org = user.organisation.name if user.organisation else ""
            table.add_row(str(user.id), user.username, user.display_name, ", ".join(sorted(user.roles)),
                          org, "yes" if user.is_active else "no")
    Console().print(table)


@app.command("token")
def token(
    username: str = typer.Argument(...),
    name: str = typer.Option("cli", "--name", help="A label to recognise the token by."),
    days: int = typer.Option(90, "--days", min=1, max=3650, help="Days until the token expires."),
) -> None:
    """Issue an API bearer token for USERNAME (printed once; only its hash is stored)."""
    try:
        with session_scope() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise NotFound("No such user.", field="username")
            value = auth.issue_token(session, Actor.system(), user.id, name, timedelta(days=days))
    except DomainError as err:
        _fail(err)
    typer.echo(value)
