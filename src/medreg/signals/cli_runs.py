"""``medreg signals run``, ``list``, ``snapshot``, ``prune`` and ``analyses`` (list, add, set, delete, run,
schedule; thin; act as ``--user``)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from medreg.core.cli_support import acting, report_error
from medreg.core.clock import to_shanghai
from medreg.core.errors import ValidationFailed
from medreg.core.recurrence import weekday_number
from medreg.core.settings import get_settings
from medreg.signals import analyses, queries, retention, scheduling
from medreg.signals.runs import RunSettings, list_runs, run_all

console = Console(width=180)
LEVELS_HELP = "certificate | registrant | category | category1 | category2 | fda-product-code."


def _when(value) -> str:
    return to_shanghai(value).strftime("%Y-%m-%d %H:%M") + " (Asia/Shanghai)" if value else "-"


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.3g}"


def _look(s) -> str:
    """A monitor-raised case's latest look: LLR against the critical value, or DELTA's risk difference."""
    x = (s.look_stats or {}) if s is not None else {}
    if not x:
        return ""
    if x.get("risk_difference") is not None:
        return f"RD {x['risk_difference']:.4f} ({x['rd_lower']:.4f}, {x['rd_upper']:.4f})"
    return f"LLR {x.get('llr') or 0:.3f} >= CV {x.get('critical_value') or 0:.3f}"


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
        device_level: str = typer.Option("certificate", "--device-level",
                                         help=LEVELS_HELP),
        strata: str = typer.Option("", "--strata", help="Strata, e.g. year,sex,age_band,reporter_type."),
        engine: str = typer.Option("duckdb", "--engine", help="Counting engine: duckdb or spark."),
        spark_master: str = typer.Option("local[*]", "--spark-master",
                                         help="Spark master URL (--engine spark)."),
        snapshot_version: int | None = typer.Option(None, "--snapshot-version",
                                                    help="Score this existing snapshot (no export)."),
    ) -> None:
        """Export a snapshot of the reports, score it and open or update signal cases."""
        settings = RunSettings(folder=str(snapshot_dir), label=label, level=level, annexes=annexes,
                               statistic=statistic, threshold=threshold, min_n=min_n, incremental=not full,
                               device_level=device_level, strata=strata, engine=engine,
                               spark_master=spark_master, snapshot_version=snapshot_version)
        with acting(user) as (session, actor):
            run = run_all(session, actor, settings)
            typer.echo(f"run {run.id}: snapshot v{run.snapshot_version} ({run.reports} reports), "
                       f"{run.device_level} x events, strata '{run.strata or '-'}', {run.engine}: "
                       f"{run.pairs} pairs, {run.flagged} met '{run.criteria}': "
                       f"{run.opened} cases opened, {run.updated} updated")

    @app.command("snapshot")
    def snapshot_cmd(
        user: str = typer.Option(..., "--user", help="Act as this user (monitoring centre)."),
        snapshot_dir: Path = typer.Option(..., "--snapshot-dir", help="Folder of the versioned snapshots."),
        full: bool = typer.Option(False, "--full", help="Export every report (not only the changed ones)."),
    ) -> None:
        """Export the next snapshot and queue the active configured analyses on it (worker jobs)."""
        with acting(user) as (session, actor):
            snap, job_ids = analyses.export_and_enqueue(session, actor, snapshot_dir, incremental=not full)
            typer.echo(f"snapshot v{snap.version} ({snap.reports} reports); "
                       f"{len(job_ids)} runs queued: {', '.join(map(str, job_ids)) or '-'}")

    @app.command("prune")
    def prune_cmd(
        user: str = typer.Option(..., "--user", help="Act as this user (monitoring centre)."),
        snapshot_dir: Path = typer.Option(..., "--snapshot-dir", help="Folder of the versioned snapshots."),
        keep: int = typer.Option(..., "--keep", help="Keep the newest N finished versions (N >= 1)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be removed."),
    ) -> None:
        """Remove old snapshot versions with their analysis tables (audited; runs keep their results)."""
        with acting(user) as (session, actor):
            prune = retention.plan(session, actor, snapshot_dir, keep)
            if not dry_run:
                retention.record(session, actor, prune)
        gone = prune.files if dry_run else retention.remove(snapshot_dir, prune.files)
        def names(versions) -> str:
            return ", ".join(f"v{v}" for v in versions) or "none"

        busy = f" (in use by queued or running runs: {names(prune.busy)})" if prune.busy else ""
        typer.echo(f"{'would remove' if dry_run else 'removed'} versions "
                   f"{names(v['version'] for v in prune.removed)}: {len(gone)} files, "
                   f"{prune.bytes / 1e6:.1f} MB; kept {names(prune.kept)}{busy}")

    @app.command("list")
    def list_cmd(
        user: str = typer.Option(..., "--user", help="Act as this user."),
        status: str | None = typer.Option(None, "--status", help="Only cases in this state."),
        source: str | None = typer.Option(
            None, "--source", help="Only cases raised by: disproportionality | surveillance_monitor."),
        runs: bool = typer.Option(False, "--runs", help="List the runs instead of the cases."),
        limit: int = typer.Option(100, "--limit", min=1, max=10000),
    ) -> None:
        """The signal cases you may see (a registrant: its own devices), with their latest statistics."""
        if source is not None and source not in queries.SOURCES:
            raise typer.BadParameter(f"one of: {', '.join(queries.SOURCES)}", param_hint="--source")
        with acting(user) as (session, actor):
            if runs:
                table = Table("run", "label", "snapshot", "reports", "device", "level", "strata", "engine",
                              "pairs", "flagged", "opened", "updated", "criteria")
                for r in list_runs(session, actor, limit):
                    table.add_row(str(r.id), r.label, f"v{r.snapshot_version}", str(r.reports),
                                  r.device_level,
                                  f"{r.event_level} {r.annexes}", r.strata or "-", r.engine, str(r.pairs),
                                  str(r.flagged), str(r.opened), str(r.updated), r.criteria)
            else:
                table = Table("case", "source", "level", "device", "event", "status", "runs", "n11", "PRR025",
                              "ROR025", "IC025", "EB05", "EBGM", "look")
                for c in queries.list_cases(session, actor, status=status, source=source, limit=limit):
                    s = c.stats[-1] if c.stats else None
                    table.add_row(str(c.id), c.source, c.device_level, c.device, c.event, c.status,
                                  str(len(c.stats)), str(s.n11) if s else "", _num(s and s.prr_lower),
                                  _num(s and s.ror_lower), _num(s and s.ic025), _num(s and s.eb05),
                                  _num(s and s.ebgm), _look(s))
            console.print(table)


analyses_app = typer.Typer(help="The analyses run after each snapshot (monitoring centre).",
                           no_args_is_help=True)


def _show(rows, own: dict) -> None:
    table = Table("id", "name", "active", "device", "level", "strata", "criteria", "engine", "runs",
                  "version")
    for a in rows:
        crit = f"{a.statistic} > {'default' if a.threshold is None else f'{a.threshold:g}'}, n >= {a.min_n}"
        sch = own.get(a.schedule_id)
        table.add_row(str(a.id), a.name, "yes" if a.active else "no", a.device_level,
                      f"{a.event_level} {a.annexes}", a.strata or "-", crit, a.engine,
                      sch.recurrence.describe() if sch else "after each snapshot", str(a.version))
    console.print(table)


def _values(**kw) -> dict:
    return {k: v for k, v in kw.items() if v is not None}


@analyses_app.command("list")
def analyses_list(user: str = typer.Option(..., "--user", help="Act as this user.")) -> None:
    """The configured analyses."""
    with acting(user) as (session, actor):
        _show(analyses.list_analyses(session, actor),
              {r.analysis.schedule_id: r.schedule for r in analyses.overview(session, actor) if r.schedule})


@analyses_app.command("add")
def analyses_add(
    user: str = typer.Option(..., "--user", help="Act as this user (monitoring centre)."),
    name: str = typer.Option(..., "--name", help="A unique name, e.g. 'weekly certificates A L2'."),
    level: int = typer.Option(1, "--level", help="IMDRF term level of the events: 1, 2 or 3."),
    annexes: str = typer.Option("A", "--annexes", help="Event annexes among A, E, F."),
    device_level: str = typer.Option("certificate", "--device-level",
                                     help=LEVELS_HELP),
    strata: str = typer.Option("", "--strata", help="Strata, e.g. year,sex,age_band,reporter_type."),
    statistic: str = typer.Option("ebgm", "--statistic", help="Criteria: prr, ror, ic or ebgm."),
    threshold: float | None = typer.Option(None, "--threshold", help="Default: the published one."),
    min_n: int = typer.Option(3, "--min-n", help="Minimum number of reports of a pair."),
    engine: str = typer.Option("duckdb", "--engine", help="Counting engine: duckdb or spark."),
) -> None:
    """Configure a new analysis (audited)."""
    with acting(user) as (session, actor):
        a = analyses.create_analysis(session, actor, _values(
            name=name, event_level=level, annexes=annexes, device_level=device_level, strata=strata,
            statistic=statistic, min_n=min_n, engine=engine) | {"threshold": threshold})
        typer.echo(f"analysis {a.id} '{a.name}' added")


@analyses_app.command("set")
def analyses_set(
    analysis_id: int = typer.Argument(..., help="The analysis id."),
    user: str = typer.Option(..., "--user", help="Act as this user (monitoring centre)."),
    name: str | None = typer.Option(None, "--name"),
    active: bool | None = typer.Option(None, "--active/--inactive",
                                       help="Run it after each snapshot or not."),
    level: int | None = typer.Option(None, "--level"),
    annexes: str | None = typer.Option(None, "--annexes"),
    device_level: str | None = typer.Option(None, "--device-level"),
    strata: str | None = typer.Option(None, "--strata", help="'' for none."),
    statistic: str | None = typer.Option(None, "--statistic"),
    threshold: float | None = typer.Option(None, "--threshold"),
    default_threshold: bool = typer.Option(False, "--default-threshold", help="Back to the published one."),
    min_n: int | None = typer.Option(None, "--min-n"),
    engine: str | None = typer.Option(None, "--engine"),
) -> None:
    """Change a configured analysis (audited with the values before and after)."""
    values = _values(name=name, active=active, event_level=level, annexes=annexes, device_level=device_level,
                     strata=strata, statistic=statistic, threshold=threshold, min_n=min_n, engine=engine)
    if default_threshold:
        values["threshold"] = None
    with acting(user) as (session, actor):
        a = analyses.update_analysis(session, actor, analysis_id, values)
        typer.echo(f"analysis {a.id} '{a.name}' changed (version {a.version})")


@analyses_app.command("delete")
def analyses_delete(
    analysis_id: int = typer.Argument(..., help="The analysis id."),
    user: str = typer.Option(..., "--user", help="Act as this user (monitoring centre)."),
) -> None:
    """Delete an analysis that never ran (audited); deactivate one that ran (``set --inactive``)."""
    with acting(user) as (session, actor):
        analyses.delete_analysis(session, actor, analysis_id)
        typer.echo(f"analysis {analysis_id} deleted")


@analyses_app.command("run")
def analyses_run(
    analysis_id: int = typer.Argument(..., help="The analysis id."),
    user: str = typer.Option(..., "--user", help="Act as this user (monitoring centre)."),
    snapshot_dir: Path | None = typer.Option(None, "--snapshot-dir",
                                             help="Default: MEDREG_SIGNALS_SNAPSHOT_DIR."),
    snapshot_version: int | None = typer.Option(None, "--snapshot-version",
                                                help="Score this existing snapshot (default: the next)."),
) -> None:
    """Queue a run of the analysis now (a signals.run job: next snapshot, or the one given, then scores;
    a worker runs it)."""
    folder = snapshot_dir or get_settings().signals_snapshot_dir
    with acting(user) as (session, actor):
        job = analyses.run_now(session, actor, analysis_id, folder, snapshot_version)
        on = f"snapshot v{snapshot_version}" if snapshot_version else "the next snapshot"
        typer.echo(f"analysis {analysis_id}: job {job.id} queued on {on} ({folder})")


@analyses_app.command("schedule")
def analyses_schedule(
    analysis_id: int = typer.Argument(..., help="The analysis id."),
    user: str = typer.Option(..., "--user", help="Act as this user (monitoring centre)."),
    every: str = typer.Option(..., "--every",
                              help="snapshot (after each snapshot: the default), monthly, weekly, daily or "
                                   "interval."),
    at: str | None = typer.Option(None, "--at", help="HH:MM, Beijing time (daily, weekly, monthly)."),
    weekday: str | None = typer.Option(None, "--weekday", help="mon..sun or 1-7 (weekly)."),
    day_of_month: int | None = typer.Option(None, "--day-of-month",
                                            help="1-31 (monthly; beyond the month's end: its last day)."),
    interval_minutes: int | None = typer.Option(None, "--interval-minutes", help="5 to 44640 (interval)."),
) -> None:
    """Give the analysis its own schedule (it then scores the newest snapshot at those times instead of
    running after each snapshot), or --every snapshot to run it after each snapshot again."""
    try:
        day = weekday_number(weekday) if weekday is not None else None
    except ValidationFailed as err:
        raise report_error(err) from None
    with acting(user) as (session, actor):
        sch = scheduling.set_analysis_schedule(session, actor, analysis_id, {
            "every": every, "at": at, "weekday": day, "day_of_month": day_of_month,
            "interval_minutes": interval_minutes})
        when = "after each snapshot"
        if sch is not None:
            when = (f"{sch.recurrence.describe()}, next run {_when(sch.next_run_at)}"
                    + ("" if sch.enabled else " (off: the analysis is disabled)"))
        typer.echo(f"analysis {analysis_id}: {when}")
