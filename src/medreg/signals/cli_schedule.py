"""``medreg signals schedule show | set | off``: the snapshot schedule of the configured analyses (thin;
act as ``--user``; the same calls as the analyses page and ``/api/signals/schedule``)."""

from __future__ import annotations

import typer

from medreg.core.cli_support import acting, report_error
from medreg.core.clock import to_shanghai
from medreg.core.errors import ValidationFailed
from medreg.core.recurrence import weekday_number
from medreg.signals import scheduling

app = typer.Typer(help="When the worker exports a snapshot and runs the enabled analyses (Beijing time).",
                  no_args_is_help=True)


def _when(value) -> str:
    return to_shanghai(value).strftime("%Y-%m-%d %H:%M") + " (Asia/Shanghai)" if value else "-"


def _print(current: scheduling.SnapshotSchedule) -> None:
    s, job = current.schedule, current.last_job
    if s is None:
        typer.echo("snapshot schedule: not set")
        return
    typer.echo(f"snapshot schedule: {s.recurrence.describe()}, {'on' if s.enabled else 'off'} "
               f"(version {s.version}); folder {s.params.get('folder')}")
    kept = scheduling.kept_versions(s)
    typer.echo(f"next run: {_when(s.next_run_at)}; keeps "
               + (f"the newest {kept} snapshot version(s)" if kept else "every snapshot version")
               + ("" if s.params.get("keep") else " (the installation's setting)"))
    last = f"{s.last_outcome} for {_when(s.last_due_at)}" if s.last_outcome else "-"
    typer.echo(f"last: {last}" + (f"; job {job.id} {job.status}" if job else "")
               + (f" ({s.last_note})" if s.last_note else "") + f"; skipped so far: {s.skipped_runs}")


@app.command("show")
def show_cmd(user: str = typer.Option(..., "--user", help="Act as this user (monitoring centre).")) -> None:
    """The schedule, its next run and its last job."""
    with acting(user) as (session, actor):
        _print(scheduling.current(session, actor))


@app.command("set")
def set_cmd(
    user: str = typer.Option(..., "--user", help="Act as this user (monitoring centre)."),
    every: str = typer.Option(..., "--every", help="monthly, weekly, daily or interval."),
    at: str | None = typer.Option(None, "--at", help="HH:MM, Beijing time (daily, weekly, monthly)."),
    weekday: str | None = typer.Option(None, "--weekday", help="mon..sun or 1-7 (weekly)."),
    day_of_month: int | None = typer.Option(None, "--day-of-month",
                                            help="1-31 (monthly; beyond the month's end: its last day)."),
    interval_minutes: int | None = typer.Option(None, "--interval-minutes", help="5 to 44640 (interval)."),
    keep: int | None = typer.Option(None, "--keep", help="Snapshot versions to keep after each export "
                                    "(older ones are removed); default: the signals_keep_snapshots setting."),
) -> None:
    """Schedule the snapshot and the enabled analyses, e.g. --every weekly --weekday mon --at 02:15."""
    try:
        day = weekday_number(weekday) if weekday is not None else None
    except ValidationFailed as err:
        raise report_error(err) from None
    with acting(user) as (session, actor):
        current = scheduling.set_schedule(session, actor, {
            "every": every, "at": at, "weekday": day, "day_of_month": day_of_month,
            "interval_minutes": interval_minutes, "enabled": True, "keep": keep})
        _print(current)


@app.command("off")
def off_cmd(user: str = typer.Option(..., "--user", help="Act as this user (monitoring centre).")) -> None:
    """Stop the scheduled snapshots (the recurrence is kept; ``set`` turns it on again)."""
    with acting(user) as (session, actor):
        current = scheduling.current(session, actor)
        if current.schedule is None:
            raise report_error(ValidationFailed("No snapshot schedule is set.", field="schedule"))
        s = current.schedule
        values = {"every": s.every, "at": s.at_time, "weekday": s.weekday, "day_of_month": s.day_of_month,
                  "interval_minutes": s.interval_minutes, "enabled": False, "keep": s.params.get("keep")}
        _print(scheduling.set_schedule(session, actor, values))
