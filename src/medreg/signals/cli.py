"""``medreg signals``: disproportionality scores from a report-level table (thin; no database).

``medreg signals score REPORTS.csv --report-col R --device-col D --event-col E --out SCORES.csv`` counts
the pairs with DuckDB (``counting``), scores them (``scoring``) and writes one row per pair, plus the
fitted GPS prior in a JSON side file. Bad input prints one line naming the option and exits with 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import typer

from medreg.core.errors import DomainError, ValidationFailed
from medreg.signals.counting import count_pairs
from medreg.signals.ebgm import GPSPrior
from medreg.signals.scoring import COLUMNS, MH_COLUMNS, PairCounts, Scores, score

app = typer.Typer(help="Signal detection: PRR, ROR, IC and EBGM over adverse-event reports "
                       "(Announcement No. 63, measure VII).", no_args_is_help=True)


def _fail(err: DomainError) -> None:
    where = f" [{err.field}]" if err.field else ""
    typer.secho(f"error{where}: {err.message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(err.exit_code)


def write_scores(counts: PairCounts, scores: Scores, out: Path) -> int:
    """Write device,event and the score columns as CSV (undefined values empty, infinite as inf)."""
    table = {"device": counts.devices[counts.pair_device], "event": counts.events[counts.pair_event]}
    names = COLUMNS + (MH_COLUMNS if counts.stratified else ())
    table.update({name: np.asarray(scores.columns[name]) for name in names})
    literal = "'" + str(out).replace("'", "''") + "'"
    con = duckdb.connect()
    try:
        con.register("scores", table)
        con.execute(f"COPY (SELECT * FROM scores) TO {literal} (HEADER, DELIMITER ',')")
    finally:
        con.close()
    return int(counts.n11.size)


def prior_document(counts: PairCounts, scores: Scores, squash: bool) -> dict:
    doc = {"prior": {"alpha1": scores.prior.alpha1, "beta1": scores.prior.beta1,
                     "alpha2": scores.prior.alpha2, "beta2": scores.prior.beta2, "p": scores.prior.p},
           "likelihood": "component-truncated at N >= 1 (DuMouchel 1999; openEBGM negLL)",
           "pairs": int(counts.n11.size), "reports": int(counts.n_total),
           "strata": [str(s) for s in counts.strata] if counts.stratified else []}
    if scores.fit is not None:
        doc.update(neg_log_lik=scores.fit.neg_log_lik, consistent=scores.fit.consistent,
                   num_close=scores.fit.num_close, num_converged=scores.fit.num_converged,
                   fitted_points=scores.fit.points, squashed=squash,
                   converged_inside_bounds=scores.fit.inside)
    else:
        doc.update(fitted=False)
    return doc


@app.command("score")
def score_cmd(
    reports: Path = typer.Argument(..., help="Report-level CSV or Parquet (report x device x event rows)."),
    report_col: str = typer.Option(..., "--report-col", help="Column with the report id."),
    device_col: str = typer.Option(..., "--device-col", help="Column with the device."),
    event_col: str = typer.Option(..., "--event-col", help="Column with the event term."),
    strata_cols: list[str] = typer.Option([], "--strata-cols",
                                          help="Stratify by these columns (repeat, or comma-separated)."),
    out: Path = typer.Option(..., "--out", help="Where to write the scores (CSV)."),
    prior_out: Path | None = typer.Option(None, "--prior-out",
                                          help="The fitted prior (JSON); default OUT with .prior.json."),
    prior: str | None = typer.Option(None, "--prior",
                                     help="Use this prior instead of fitting: alpha1,beta1,alpha2,beta2,P."),
    squash: bool = typer.Option(True, "--squash/--no-squash", help="Squash the points for the prior fit."),
    threads: int | None = typer.Option(None, "--threads", min=1, help="DuckDB threads (default: all)."),
    flag_cols: str | None = typer.Option(
        None, "--flag-cols", help="The file's first-occurrence flags (first of report x device, of report x "
        "event, of report; comma-separated): count them instead of the report ids (DuckDB engine)."),
    engine: str = typer.Option("duckdb", "--engine", help="Counting engine: duckdb (embedded) or spark."),
    spark_master: str = typer.Option("local[*]", "--spark-master", help="Spark master URL (--engine spark)."),
) -> None:
    """Count every (device, event) pair and write its PRR, ROR, IC and EBGM with their intervals."""
    strata = [c.strip() for item in strata_cols for c in item.split(",") if c.strip()]
    try:
        given = _parse_prior(prior) if prior else None
        names = {"report_col": report_col, "device_col": device_col, "event_col": event_col,
                 "strata_cols": strata}
        if engine == "duckdb":
            flags = [c.strip() for c in flag_cols.split(",")] if flag_cols else None
            counts = count_pairs(reports, threads=threads, flag_cols=flags, **names)
        elif engine == "spark":
            from medreg.signals.counting_spark import count_pairs_spark

            counts = count_pairs_spark(reports, master=spark_master, **names)
        else:
            raise ValidationFailed("Unknown engine '{engine}': use duckdb or spark.", field="engine",
                                   params={"engine": engine})
        try:
            scores = score(counts, prior=given, squash=squash)
        except ValueError as err:
            raise ValidationFailed("The GPS prior could not be fitted: {reason}", field="prior",
                                   params={"reason": str(err)}) from None
    except DomainError as err:
        _fail(err)
    rows = write_scores(counts, scores, out)
    side = prior_out or out.with_suffix(".prior.json")
    side.write_text(json.dumps(prior_document(counts, scores, squash), indent=2) + "\n", encoding="utf-8")
    typer.echo(f"{rows} pairs from {counts.n_total} reports -> {out} (prior: {side})")
    if scores.fit is not None and not scores.fit.consistent:
        typer.secho("warning: the GPS prior fit is not confirmed by a second start"
                    + ("" if scores.fit.inside else " and lies on the parameter bound")
                    + "; see the prior file", err=True, fg=typer.colors.YELLOW)


def _parse_prior(text: str) -> GPSPrior:
    try:
        values = [float(x) for x in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 5 or not all(v > 0 for v in values) or not values[4] < 1:
        raise ValidationFailed("Give the prior as five positive numbers alpha1,beta1,alpha2,beta2,P "
                               "with P < 1.", field="prior")
    return GPSPrior(*values)


def with_runs() -> typer.Typer:
    """The whole ``medreg signals`` group: ``score`` plus the commands over the filed reports.

    Those (``cli_runs``, ``cli_schedule``) need the database and the other domains; ``score`` needs
    neither, so this module alone stays light and ``medreg.console`` runs ``medreg signals score`` from it.
    """
    from medreg.signals import cli_runs, cli_schedule

    if not any(c.name == "run" for c in app.registered_commands):
        cli_runs.register(app)
        app.add_typer(cli_runs.analyses_app, name="analyses")
        app.add_typer(cli_schedule.app, name="schedule")
    return app
