"""``medreg surveillance``: critical values, registry import, monitoring runs, alerts, demo (thin).

Each command but the pure ones opens one unit of work (``core.cli_support.acting``), acts as
``--user USERNAME`` and calls one service or query. Domain errors print one line (and the import's
row/field/reason report) and exit with their code.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from pydantic import ValidationError as PydanticError
from rich.console import Console
from rich.table import Table

from medreg.core.cli_support import acting
from medreg.core.clock import today_shanghai
from medreg.core.db import MAX_ID
from medreg.core.errors import DomainError, ValidationFailed
from medreg.surveillance import queries, service, service_edit, service_monitoring, service_stop
from medreg.surveillance.maxsprt import poisson_critical_value
from medreg.surveillance.schemas import MonitorEdit, MonitorSupersede
from medreg.surveillance.service_delta import delta_rule

app = typer.Typer(
    help="Active surveillance of implants: sequential monitoring (MaxSPRT, DELTA).", no_args_is_help=True
)
USER = typer.Option(..., "--user", help="Act as this user (username).")
console = Console(width=160)


@app.command("critical-value")
def critical_value(
    sample_size: float = typer.Option(..., "--T", help="Upper limit, expected events."),
    alpha: float = typer.Option(0.05, "--alpha"),
    min_events: int = typer.Option(1, "--M", help="Minimum events to signal."),
) -> None:
    """Critical value of the continuous Poisson MaxSPRT (Kulldorff et al. 2011)."""
    try:
        r = poisson_critical_value(sample_size, alpha, min_events=min_events)
    except DomainError as err:
        typer.secho(f"error [{err.field}]: {err.message}", err=True, fg=typer.colors.RED)
        raise typer.Exit(err.exit_code) from None
    typer.echo(f"CV={r.critical_value:.6f} alpha={r.alpha:.6f} T={sample_size:g} M={min_events}")


@app.command("import")
def import_cmd(
    path: Path = typer.Argument(..., exists=True, dir_okay=False),
    user: str = USER,
    hospital: str = typer.Option(None, "--hospital", help="Site code (monitoring centre only)."),
) -> None:
    """Import a registry extract (CSV in UTF-8, or XLSX) all-or-nothing."""
    with acting(user) as (session, actor):
        batch = service.import_extract(
            session,
            actor,
            path.read_bytes(),
            filename=path.name,
            today=today_shanghai(),
            hospital_code=hospital,
        )
        typer.echo(f"imported {batch.rows} procedures (batch {batch.id}, sha256 {batch.sha256[:12]})")


@app.command("monitor-create")
def monitor_create(
    user: str = USER,
    name: str = typer.Option(..., "--name"),
    device_group: str = typer.Option(..., "--group"),
    udi_di: str = typer.Option(..., "--di", help="The monitored device's UDI-DI (GTIN-14)."),
    outcome: str = typer.Option(..., "--outcome"),
    window_days: int = typer.Option(..., "--window-days"),
    reference_start: str = typer.Option(..., "--reference-start", help="YYYY-MM-DD"),
    reference_end: str = typer.Option(..., "--reference-end", help="YYYY-MM-DD"),
    alpha: float = typer.Option(0.05, "--alpha"),
    sample_size: float = typer.Option(20.0, "--T", help="Upper limit, expected events."),
    min_events: int = typer.Option(4, "--M", help="Minimum events to signal."),
    looks: int = typer.Option(None, "--looks", help="Group-sequential: this many equal looks."),
    look_at: str = typer.Option(None, "--look-at", help="Group-sequential: fractions of T, e.g. 0.25,0.5,1"),
    cusum_or: float = typer.Option(2.0, "--cusum-or", help="CUSUM: odds ratio to detect (R_A)."),
    cusum_null_or: float = typer.Option(1.0, "--cusum-null-or", help="CUSUM: odds ratio of the null (R_0)."),
    cusum_false_alarm: float = typer.Option(0.05, "--cusum-false-alarm",
                                            help="CUSUM: false-alarm probability over the sequence."),
    kind: str = typer.Option("maxsprt_poisson", "--kind", help="maxsprt_poisson, maxsprt_binomial or delta."),
    margin: float = typer.Option(0.0, "--margin", help="DELTA: margin of the risk difference."),
    min_pairs: int = typer.Option(20, "--min-pairs", help="DELTA: minimum matched pairs to alert."),
    caliper: float = typer.Option(0.2, "--caliper", help="DELTA: caliper, SD of the logit score."),
    z: int = typer.Option(1, "--z", help="maxsprt_binomial: comparators matched to each procedure."),
    spending: str = typer.Option(None, "--spending",
                                 help="DELTA: alpha spending across looks (obf, pocock or hsd); --alpha is "
                                      "then overall and one-sided."),
    planned_pairs: int = typer.Option(None, "--planned-pairs",
                                      help="DELTA: planned matched pairs (the monitor ends there)."),
    gamma: float = typer.Option(-4.0, "--gamma", help="DELTA --spending hsd: Hwang-Shih-DeCani gamma."),
    notes: str = typer.Option(None, "--notes", help="Notes on the monitor (editable later)."),
) -> None:
    """Define a monitor: a Poisson MaxSPRT, continuous or group-sequential (--looks G or --look-at
    fractions), or a DELTA propensity-matched comparison (--kind delta --margin --min-pairs --caliper;
    --alpha is then per look, or overall with --spending and --planned-pairs)."""
    with acting(user) as (session, actor):
        try:
            fractions = [float(x) for x in look_at.split(",")] if look_at else None
        except ValueError:
            raise ValidationFailed(
                "The looks must be fractions separated by commas.", field="look_at"
            ) from None
        m = service_monitoring.create_monitor(
            session, actor, name=name, device_group=device_group, udi_di=udi_di, outcome=outcome,
            window_days=window_days, reference_start=_day(reference_start, "reference_start"),
            reference_end=_day(reference_end, "reference_end"), alpha=alpha, sample_size=sample_size,
            min_events=min_events, planned_looks=looks, look_at=fractions, cusum_odds_ratio=cusum_or,
            cusum_null_odds_ratio=cusum_null_or, cusum_false_alarm=cusum_false_alarm, kind=kind,
            delta_margin=margin, delta_min_pairs=min_pairs, delta_caliper=caliper, binomial_z=z,
            delta_spending=spending, delta_planned_pairs=planned_pairs, delta_hsd_gamma=gamma, notes=notes)
        if m.kind == "delta":
            typer.echo(f"monitor {m.id}: DELTA, {delta_rule(m)}")
            return
        design = f"group-sequential, looks at {m.look_plan}" if m.look_plan else "continuous"
        if m.kind == "maxsprt_binomial":
            design = f"binomial, 1:{m.binomial_z} matched, N={m.sample_size:g} events"
            if m.look_plan:
                design += f", group-sequential, looks at {[int(x) for x in m.look_plan]} events"
        typer.echo(f"monitor {m.id}: CV={m.critical_value:.5f} ({design}); CUSUM "
                   f"R_0={m.cusum_null_odds_ratio:g} R_A={m.cusum_odds_ratio:g} "
                   f"false alarm {m.cusum_false_alarm:g}")


@app.command("monitor-stop")
def monitor_stop(
    monitor_id: int = typer.Argument(..., min=1, max=MAX_ID),
    user: str = USER,
    reason: str = typer.Option(..., "--reason", help="Why the monitor is stopped (kept, audited)."),
) -> None:
    """Stop an active monitor (monitoring centre): no further looks."""
    with acting(user) as (session, actor):
        m = service_stop.stop_monitor(session, actor, monitor_id, reason)
        typer.echo(f"monitor {m.id}: stopped")


def _settings(pairs: list[str] | None) -> dict:
    """``--set key=value`` options as a dict (``look_at`` as a comma-separated list of fractions)."""
    out: dict = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValidationFailed("Write each setting as name=value.", field="set")
        key = key.strip()
        out[key] = [x for x in value.replace(" ", "").split(",") if x] if key == "look_at" else value.strip()
    return out


def _checked(model, values: dict) -> dict:
    """``values`` through the API's schema (same checks); the first problem names its field."""
    try:
        return model.model_validate(values).model_dump(exclude_unset=True)
    except PydanticError as exc:
        loc = exc.errors()[0].get("loc") or ("",)
        raise ValidationFailed("The input is not valid.", field=str(loc[0])) from None


@app.command("monitor-edit")
def monitor_edit(
    monitor_id: int = typer.Argument(..., min=1, max=MAX_ID),
    user: str = USER,
    name: str = typer.Option(None, "--name"),
    notes: str = typer.Option(None, "--notes"),
    settings: list[str] = typer.Option(None, "--set", help="A design field, e.g. --set alpha=0.01 "
                                       "--set look_at=0.5,1 (only before the monitor's first look)."),
    continuous: bool = typer.Option(False, "--continuous", help="Drop the planned looks."),
) -> None:
    """Edit a monitor (monitoring centre): name and notes at any time, its design before its first look."""
    with acting(user) as (session, actor):
        values = _settings(settings)
        values.update({k: v for k, v in (("name", name), ("notes", notes)) if v is not None})
        if continuous:
            values.update(planned_looks=None, look_at=None)
        m = service_edit.edit_monitor(session, actor, monitor_id, _checked(MonitorEdit, values))
        typer.echo(f"monitor {m.id}: {m.name}; CV={m.critical_value:.5f}")


@app.command("monitor-supersede")
def monitor_supersede(
    monitor_id: int = typer.Argument(..., min=1, max=MAX_ID),
    user: str = USER,
    reason: str = typer.Option(..., "--reason", help="Why a new monitor replaces this one (kept, audited)."),
    name: str = typer.Option(None, "--name", help="The new monitor's name (default: the old one's)."),
    settings: list[str] = typer.Option(None, "--set", help="A changed design field, e.g. --set alpha=0.01."),
) -> None:
    """Define a new monitor from this one with the changed settings; it supersedes this one (stopped)."""
    with acting(user) as (session, actor):
        old = queries.monitor_looks(session, actor, monitor_id)[0]
        values = {**service_edit.design_of(old), "name": name or old.name, **_settings(settings),
                  "reason": reason}
        if "planned_looks" in values:
            values.pop("look_at", None)
        body = _checked(MonitorSupersede, values)
        body.pop("reason")
        m = service_edit.supersede_monitor(session, actor, monitor_id, reason, **body)
        typer.echo(f"monitor {m.id}: supersedes monitor {monitor_id}; CV={m.critical_value:.5f}")


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed("Enter a date as YYYY-MM-DD.", field=field) from None


@app.command("run")
def run_cmd(
    user: str = USER, as_of: str = typer.Option(None, "--as-of", help="Look date; default today.")
) -> None:
    """Append one look to every active monitor; alerts are opened on signals."""
    day = date.fromisoformat(as_of) if as_of else today_shanghai()
    with acting(user) as (session, actor):
        looks = service_monitoring.run_monitors(session, actor, day)
        table = Table("monitor", "look", "procedures", "observed", "expected", "LLR", "CV", "signal",
                      "DELTA: pairs, RD (CI)")
        for lk in looks:
            delta = "" if lk.pairs is None else _delta_cell(lk)
            table.add_row(
                str(lk.monitor_id),
                str(lk.look_no),
                str(lk.procedures),
                f"{lk.observed:g}",
                f"{lk.expected:.2f}",
                f"{lk.llr:.3f}",
                f"{lk.critical_value:.3f}",
                "SIGNAL" if lk.signal else "",
                delta,
            )
        console.print(table)


def _delta_cell(lk) -> str:
    """DELTA: pairs, RD (CI), and with alpha spending the information and the nominal alpha."""
    text = f"{lk.pairs}, " + ("-" if lk.risk_difference is None else f"{lk.risk_difference:.4f}")
    if lk.rd_lower is not None:
        text += f" ({lk.rd_lower:.4f}, {lk.rd_upper:.4f})"
    if lk.info_fraction is not None:
        text += f", t={lk.info_fraction:.3f}"
    if lk.nominal_alpha is not None:
        text += f", nominal alpha {lk.nominal_alpha:.2e}, spent {lk.alpha_spent:.5f}"
    return text


@app.command("alerts")
def alerts_cmd(user: str = USER) -> None:
    """List the alert cases the user may see (an alert following a signal case: its state and case)."""
    with acting(user) as (session, actor):
        for a in queries.list_alerts(session, actor):
            case = f" -> signal case {a.signal_case_id}" if a.signal_case_id else " (own workflow)"
            typer.echo(f"#{a.id} [{a.status}] v{a.version} {a.summary}{case}")


@app.command("alert-raise")
def alert_raise_cmd(alert_id: int = typer.Argument(..., min=1), user: str = USER) -> None:
    """Raise an alert that has no signal case to one (monitoring centre); the alert then follows it.
    Alerts are otherwise worked through their signal case (``medreg signals``)."""
    from medreg.surveillance import service_alerts

    with acting(user) as (session, actor):
        alert = queries.get_alert(session, actor, alert_id)[0]
        alert = service_alerts.raise_signal_case(session, actor, alert_id, expected_version=alert.version)
        typer.echo(f"#{alert.id} [{alert.status}] -> signal case {alert.signal_case_id}")


@app.command("demo")
def demo_cmd(
    seed: int = typer.Option(2025, "--seed"),
    procedures: int = typer.Option(6000, "--procedures"),
    user: str = typer.Option("system", "--user"),
) -> None:
    """Load the MADE-UP demo registry (sites, procedures, monitors) and run monthly looks."""
    from medreg.surveillance.demo_load import load_demo

    with acting(user) as (session, actor):
        summary = load_demo(session, actor, seed=seed, n_procedures=procedures)
        typer.echo(summary)
