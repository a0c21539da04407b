"""``medreg schedules list | add | enable | disable | delete``: the recurring jobs the worker starts
(operators; acts as the ``system`` actor, like ``medreg jobs``). Times are Beijing time (Asia/Shanghai)."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from medreg.core import schedules
from medreg.core.actor import Actor
from medreg.core.cli_support import report_error
from medreg.core.errors import ValidationFailed
from medreg.core.jobs_cli import _session, _when, console, parse_params
from medreg.core.recurrence import Recurrence, weekday_number

app = typer.Typer(help="Recurring jobs: the worker queues them at their due times.", no_args_is_help=True)


@app.command("list")
def list_cmd() -> None:
    """Every schedule with its recurrence, next run and last outcome."""
    with _session() as s:
        rows = schedules.list_schedules(s, Actor.system())
        table = Table(title=f"schedules ({len(rows)})")
        for col in ("id", "name", "kind", "when", "on", "next run", "last", "job", "skipped", "params"):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(str(r.id), r.name, r.kind, r.recurrence.describe(), "yes" if r.enabled else "no",
                          _when(r.next_run_at), f"{r.last_outcome or '-'} {r.last_note or ''}".strip(),
                          str(r.last_job_id or "-"), str(r.skipped_runs),
                          json.dumps(r.params, ensure_ascii=False))
    console.print(table)


@app.command("add")
def add_cmd(
    name: str = typer.Argument(..., help="A unique name, e.g. 'nightly audit check'."),
    kind: str = typer.Option(..., "--kind", help="The job kind (medreg jobs kinds)."),
    every: str = typer.Option(..., "--every", help="monthly, weekly, daily or interval."),
    at: str | None = typer.Option(None, "--at", help="HH:MM, Beijing time (daily, weekly, monthly)."),
    weekday: str | None = typer.Option(None, "--weekday", help="mon..sun or 1-7 (weekly)."),
    day_of_month: int | None = typer.Option(None, "--day-of-month",
                                            help="1-31 (monthly; beyond the month's end: its last day)."),
    interval_minutes: int | None = typer.Option(None, "--interval-minutes", help="5 to 44640 (interval)."),
    param: list[str] = typer.Option([], "--param", "-p", help="A job parameter key=value (repeatable)."),
) -> None:
    """Schedule a job kind (audited ``schedule.create``)."""
    params = parse_params(param)
    try:
        day = weekday_number(weekday) if weekday is not None else None
    except ValidationFailed as err:
        raise report_error(err) from None
    with _session() as s:
        rec = Recurrence(every, interval_minutes, at, day, day_of_month)
        sch = schedules.create(s, Actor.system(), name, kind, rec, params=params)
        typer.echo(f"schedule {sch.id} '{sch.name}': {sch.recurrence.describe()}, "
                   f"next run {_when(sch.next_run_at)}")


def _toggle(schedule_id: int, on: bool) -> None:
    with _session() as s:
        sch = schedules.change(s, Actor.system(), schedule_id, enabled=on)
        typer.echo(f"schedule {sch.id} '{sch.name}' {'enabled' if on else 'disabled'}; "
                   f"next run {_when(sch.next_run_at)}")


@app.command("enable")
def enable_cmd(schedule_id: int = typer.Argument(..., help="The schedule id.")) -> None:
    """Turn a schedule on: its next run is its next due time from now (no catch-up for the time off)."""
    _toggle(schedule_id, True)


@app.command("delete")
def delete_cmd(schedule_id: int = typer.Argument(..., help="The schedule id.")) -> None:
    """Remove a schedule (audited ``schedule.delete``; a job it already queued keeps running)."""
    with _session() as s:
        schedules.delete(s, Actor.system(), schedule_id)
        typer.echo(f"schedule {schedule_id} deleted")


@app.command("disable")
def disable_cmd(schedule_id: int = typer.Argument(..., help="The schedule id.")) -> None:
    """Turn a schedule off (audited; a job it already queued keeps running)."""
    _toggle(schedule_id, False)
