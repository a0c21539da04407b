"""``medreg signals run`` and ``medreg signals list`` (thin; act as ``--user``)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from medreg.core.cli_support import acting
from medreg.signals import queries
from medreg.signals.runs import RunSettings, list_runs, run_all

console = Console(width=180)


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.3g}"


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run_cmd(
        user: str = typer.Option(..., "--user", help="Act as this user (monitoring centre)."),
        snapshot_dir: Path = typer.Option(..., "--snapshot-dir", help="Folder of the versioned snapshots."),
        label: str = typer.Option(..., "--label", help="A name for this run, e.g. 2026-W48."),
        level: int = typer.Option(1, "--level", help="IMDRF term level of the events: 1, 2 or 3."),
        annexes: str = typer.Option("A", "--annexes", help="Event annexes among A, E, F (e.g. A or AE)."),
        statistic: str = typer.Option("ebgm", "--statistic", help="Criteria: prr, ror, ic or ebgm."),
        threshold: float | None = typer.Option(None, "--threshold", help="Default: the published one."),
        min_n: int = typer.Option(3, "--min-n", help="Minimum number of reports of a pair."),
        full: bool = typer.Option(False, "--full", help="Export every report (not only the changed ones)."),
    ) -> None:
        """Export a snapshot of the reports, score it and open or update signal cases."""
        settings = RunSettings(folder=str(snapshot_dir), label=label, level=level, annexes=annexes,
                               statistic=statistic, threshold=threshold, min_n=min_n, incremental=not full)
        with acting(user) as (session, actor):
            run = run_all(session, actor, settings)
            typer.echo(f"run {run.id}: snapshot v{run.snapshot_version} ({run.reports} reports), "
                       f"{run.pairs} pairs, {run.flagged} met '{run.criteria}': "
                       f"{run.opened} cases opened, {run.updated} updated")

    @app.command("list")
    def list_cmd(
        user: str = typer.Option(..., "--user", help="Act as this user."),
        status: str | None = typer.Option(None, "--status", help="Only cases in this state."),
        runs: bool = typer.Option(False, "--runs", help="List the runs instead of the cases."),
        limit: int = typer.Option(100, "--limit", min=1, max=10000),
    ) -> None:
        """The signal cases you may see (a registrant: its own devices), with their latest statistics."""
        with acting(user) as (session, actor):
            if runs:
                table = Table("run", "label", "snapshot", "reports", "level", "pairs", "flagged", "opened",
                              "updated", "criteria")
                for r in list_runs(session, actor, limit):
                    table.add_row(str(r.id), r.label, f"v{r.snapshot_version}", str(r.reports),
                                  f"{r.event_level} {r.annexes}", str(r.pairs), str(r.flagged), str(r.opened),
                                  str(r.updated), r.criteria)
            else:
                table = Table("case", "device", "event", "status", "runs", "n11", "PRR025", "ROR025", "IC025",
                              "EB05", "EBGM")
                for c in queries.list_cases(session, actor, status=status, limit=limit):
                    s = c.stats[-1] if c.stats else None
                    table.add_row(str(c.id), c.device, c.event, c.status, str(len(c.stats)),
                                  str(s.n11) if s else "", _num(s and s.prr_lower), _num(s and s.ror_lower),
                                  _num(s and s.ic025), _num(s and s.eb05), _num(s and s.ebgm))
            console.print(table)
