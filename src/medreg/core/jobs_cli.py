"""``medreg jobs ...`` (list, show, enqueue, cancel) and ``medreg worker`` (run the queue).

The CLI acts as the ``system`` actor (an operator with shell access to the server). Exit codes are
those of the domain errors (``medreg.core.errors``); an unreachable database is one line and exit 1.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import typer
from rich.console import Console
from rich.progress_bar import ProgressBar
from rich.table import Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from medreg.core import jobs, worker
from medreg.core.actor import Actor
from medreg.core.clock import to_shanghai
from medreg.core.db import session_scope
from medreg.core.errors import DomainError

app = typer.Typer(help="Background jobs: list, show, enqueue, cancel.", no_args_is_help=True)
console = Console(width=160)


@contextmanager
def _session() -> Iterator[Session]:
    """``session_scope()`` with domain errors and database errors as one line and an exit code."""
    try:
        with session_scope() as session:
            yield session
    except DomainError as err:
        where = f" [{err.field}]" if err.field else ""
        typer.secho(f"error{where}: {err.message}", err=True, fg=typer.colors.RED)
        raise typer.Exit(err.exit_code) from None
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        typer.secho(f"error: database unavailable ({reason}); is it migrated (medreg db upgrade)?",
                    err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None


def _when(value) -> str:
    return to_shanghai(value).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _progress_text(job: jobs.Job) -> str:
    if job.total:
        return f"{job.done}/{job.total} ({100 * job.done / job.total:.0f}%)"
    return str(job.done) if job.done else "-"


def parse_params(pairs: list[str]) -> dict:
    """``k=v`` pairs; a value that parses as JSON (numbers, true, lists) is taken as JSON."""
    out: dict = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            typer.secho(f"error [param]: expected key=value, got {pair!r}", err=True, fg=typer.colors.RED)
            raise typer.Exit(2)
        try:
            out[key.strip()] = json.loads(raw)
        except ValueError:
            out[key.strip()] = raw
    return out


@app.command("list")
def list_cmd(
    status: str | None = typer.Option(None, help="queued, running, succeeded, failed or cancelled."),
    kind: str | None = typer.Option(None, help="Only jobs of this kind."),
    limit: int = typer.Option(50, min=1, max=1000, help="How many jobs, newest first."),
) -> None:
    """List jobs, newest first (times in Asia/Shanghai)."""
    with _session() as s:
        rows = jobs.list_jobs(s, Actor.system(), status=status, kind=kind, limit=limit)
        table = Table(title=f"jobs ({len(rows)}, newest first)")
        for col in ("id", "kind", "status", "progress", "attempts", "created", "message"):
            table.add_column(col, overflow="fold")
        for j in rows:
            table.add_row(str(j.id), j.kind, j.status, _progress_text(j), f"{j.attempts}/{j.max_attempts}",
                          _when(j.created_at), j.message or "")
    console.print(table)


def _render(job: jobs.Job) -> None:
    console.print(f"[bold]job {job.id}[/bold]  {job.kind}  [bold]{job.status}[/bold]  "
                  f"attempt {job.attempts}/{job.max_attempts}  worker {job.worker_id or '-'}")
    console.print(ProgressBar(total=float(job.total or 1), completed=float(job.done if job.total else 0),
                              width=50), f"  {_progress_text(job)}  {job.message or ''}")
    console.print(f"params: {json.dumps(job.params, ensure_ascii=False)}")
    console.print(f"created {_when(job.created_at)}  started {_when(job.started_at)}  "
                  f"heartbeat {_when(job.heartbeat_at)}  finished {_when(job.finished_at)}")
    if job.result is not None:
        console.print("result: " + json.dumps(job.result, ensure_ascii=False, indent=2))
    if job.error:
        console.print(f"[red]error:[/red] {job.error}", markup=True, highlight=False)


@app.command("show")
def show_cmd(
    job_id: int = typer.Argument(..., help="The job id."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Refresh until the job has finished."),
    interval: float = typer.Option(1.0, min=0.1, help="Seconds between refreshes with --follow."),
) -> None:
    """Show one job: status, a progress bar, params, result and error."""
    while True:
        with _session() as s:
            job = jobs.get(s, Actor.system(), job_id)
        _render(job)
        if not follow or job.status in jobs.FINISHED:
            return
        time.sleep(interval)
        console.rule()


@app.command("enqueue")
def enqueue_cmd(
    kind: str = typer.Argument(..., help="The job kind, e.g. audit.verify."),
    param: list[str] = typer.Option([], "--param", "-p", help="A parameter key=value (repeatable)."),
) -> None:
    """Queue a job; a running worker (``medreg worker``) picks it up."""
    params = parse_params(param)
    with _session() as s:
        job = jobs.enqueue(s, Actor.system(), kind, params)
    typer.echo(f"job {job.id} queued ({kind})")


@app.command("cancel")
def cancel_cmd(job_id: int = typer.Argument(..., help="The job id.")) -> None:
    """Cancel a queued or running job (a running job stops at its next progress report)."""
    with _session() as s:
        job = jobs.cancel(s, Actor.system(), job_id)
    typer.echo(f"job {job.id} cancelled")


@app.command("clean-up")
def clean_up_cmd(job_id: int = typer.Argument(..., help="The job id.")) -> None:
    """Run the on_abandon hook of a failed or cancelled job again (after it failed; idempotent)."""
    with _session() as s:
        job, ok = jobs.rerun_abandon(s, Actor.system(), job_id)
        message = job.message
    if not ok:
        typer.secho(f"job {job_id}: the clean-up failed again; see `medreg jobs show {job_id}`", err=True,
                    fg=typer.colors.RED)
        raise typer.Exit(1)
    typer.echo(f"job {job_id} cleaned up" + (f": {message}" if message else ""))


@app.command("kinds")
def kinds_cmd() -> None:
    """The job kinds this installation can run."""
    for kind in jobs.registered_kinds():
        typer.echo(kind)


def worker_cmd(
    poll_interval: float = typer.Option(2.0, min=0.1, help="Seconds to wait when the queue is empty."),
    lease: float | None = typer.Option(
        None, min=1.0, help="Seconds without heartbeat after which a running job is taken over "
        "(default: MEDREG_JOB_LEASE_SECONDS, 60)."),
    once: bool = typer.Option(False, "--once", help="Run the queued jobs, then exit."),
    worker_id: str | None = typer.Option(None, help="Name of this worker (default host:pid)."),
) -> None:
    """Run background jobs until stopped (SIGTERM / Ctrl-C finish or hand back the current job)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runner = worker.Worker(worker_id, lease_seconds=lease)
    if once:
        count = 0
        while runner.run_once() is not None:
            count += 1
        typer.echo(f"worker {runner.worker_id}: {count} job(s) run")
        return
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    typer.echo(f"worker {runner.worker_id} started (poll {poll_interval}s, lease {runner.lease_seconds}s)")
    with suppress(KeyboardInterrupt):  # the current job was handed back to the queue
        runner.run_forever(poll_interval, stop)
    typer.echo(f"worker {runner.worker_id} stopped")
