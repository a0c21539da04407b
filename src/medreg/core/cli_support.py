"""Shared pieces of the domain CLIs: act as a named user in one unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core.accounts import User
from medreg.core.actor import Actor
from medreg.core.db import session_scope
from medreg.core.errors import DomainError, NotAuthenticated


def actor_named(session: Session, username: str) -> Actor:
    """The active user ``username`` as an Actor; ``NotAuthenticated`` (field ``user``) otherwise."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        raise NotAuthenticated("Unknown or inactive user '{name}'.", field="user", params={"name": username})
    return Actor.from_user(user)


ROW_PROBLEMS = ("errors", "problems")  # detail keys holding [{"row", "field", "reason"}, ...] of a file
MAX_ROWS_SHOWN = 50


def report_error(err: DomainError) -> typer.Exit:
    """Print a domain error as one line, then its details: each problem of a refused file as
    ``row N [field]: reason`` (the first 50), any other detail as ``key: value``. Returns the
    ``typer.Exit`` (the error's exit code) to raise."""
    where = f" [{err.field}]" if err.field else ""
    typer.secho(f"error{where}: {err.message}", err=True, fg=typer.colors.RED)
    for key, value in (err.details or {}).items():
        if key in ROW_PROBLEMS and isinstance(value, list):
            for p in value[:MAX_ROWS_SHOWN]:
                typer.echo(f"  row {p.get('row')} [{p.get('field')}]: {p.get('reason')}", err=True)
            if len(value) > MAX_ROWS_SHOWN:
                typer.echo(f"  ... and {len(value) - MAX_ROWS_SHOWN} more", err=True)
        else:
            typer.echo(f"  {key}: {value}", err=True)
    return typer.Exit(err.exit_code)


@contextmanager
def acting(username: str | None) -> Iterator[tuple[Session, Actor]]:
    """A unit of work as ``username`` (``None``: the public), committed on success; a domain error
    becomes one line and its exit code, never a traceback."""
    try:
        with session_scope() as session:
            yield session, (Actor.public() if username is None else actor_named(session, username))
    except DomainError as err:
        raise report_error(err) from None
