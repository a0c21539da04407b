"""``medreg vigilance``: adverse-event reports, the IMDRF code picker and the Order 1 clocks (thin).

Each report command opens a unit of work as ``--user USERNAME`` (``core.cli_support.acting``) and calls
one service or query. Domain errors print one line with the field (and each bad row of a refused file)
and exit with their code (2 validation, 3 permission, 4 not found, 5 conflict or invalid transition).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.cli_support import acting
from medreg.core.clock import utcnow
from medreg.core.errors import ValidationFailed
from medreg.vigilance import aet_search, aet_zh, bulk, deadlines, export, queries, service, service_import
from medreg.vigilance.aet import terminology

app = typer.Typer(
    help="Adverse-event reports (SAMR/NHC Order 1), IMDRF codes, reporting clocks.", no_args_is_help=True
)
aet_app = typer.Typer(help="IMDRF Adverse Event Terminology (annexes A-G).", no_args_is_help=True)
report_app = typer.Typer(help="Adverse-event reports.", no_args_is_help=True)
app.add_typer(aet_app, name="aet")
app.add_typer(report_app, name="report")
USER = typer.Option(..., "--user", help="Act as this user (username).")
VERSION = typer.Option(None, "--expected-version", help="The version you saw (optimistic locking).")
console = Console(width=160)


def _print_quality(session: Session, actor: Actor, case_id: int) -> None:
    q = queries.case_quality(session, actor, case_id, utcnow())
    console.print(f"quality {q.score}/100")
    for r in q.reasons:
        console.print(f"  - [{r.field}] {r.message.format(**r.params)}", markup=False)


@aet_app.command("search")
def aet_search_cmd(
    query: str, annex: str = typer.Option(None, help="Annex letters, e.g. A or EF."), limit: int = 20
):
    """Search IMDRF terms by code prefix or English words."""
    aet = terminology()
    result = aet_search.search(aet, query, annexes=annex, limit=limit)
    if result.note:
        console.print(result.note)
    table = Table("code", "level", "term", "selectable")
    for h in result.hits:
        table.add_row(h.term.code, str(h.term.level), h.term.term, "yes" if h.term.selectable else "no")
    console.print(table)


@aet_app.command("import-zh")
def aet_import_zh(
    file: Path,
    source: str = typer.Option(
        ..., "--source", help="the official source: issuing body, document, date, URL"),
    user: str = USER,
):
    """Install official Chinese IMDRF terms from a CSV you hold (code,term_zh); none ship with medreg."""
    try:
        raw = file.read_bytes()
    except OSError as err:
        typer.secho(f"error [file]: {err}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    with acting(user) as (session, actor):
        count = aet_zh.import_terms(session, actor, raw, source=source)
    console.print(f"{count} Chinese IMDRF terms installed; restart the web server to use them there")


@aet_app.command("code")
def aet_code_cmd(code: str):
    """Validate one code and show its place in the tree."""
    aet = terminology()
    check = aet.check(code)
    console.print(" > ".join(f"{t.code} {t.term}" for t in aet.path(code)) or code)
    console.print("valid" if check.ok else f"not valid: {check.reason.format(**check.params)}")
    if not check.ok:
        raise typer.Exit(2)


@aet_app.command("suggest")
def aet_suggest_cmd(narrative: str, outcome: str = typer.Option(None, help="death | serious_injury | other")):
    """Suggest codes from a narrative, each with the reason."""
    aet = terminology()
    note = aet_search.no_chinese_note(aet, narrative)
    if note:
        console.print(note)
    for s in aet_search.suggest(aet, narrative, outcome=outcome):
        console.print(f"{s.code}  {s.term}  - {s.reason.format(**s.params)}")


@app.command("clocks")
def clocks_cmd(
    outcome: str = typer.Option(...),
    role: str = typer.Option(..., help="reporter role"),
    aware_at: str = typer.Option(..., help="ISO date-time with zone, e.g. 2025-03-03T10:00+08:00"),
    overseas: bool = False,
    cluster: bool = False,
):
    """The statutory reporting duties (Order 1) and their due dates."""
    try:
        at = datetime.fromisoformat(aware_at)
        duties = deadlines.reporting_duties(outcome, role, overseas=overseas, cluster=cluster)
        if isinstance(duties, deadlines.NoDuty):
            console.print(f"no statutory clock: {duties.reason} ({duties.article})")
            return
        for duty in duties:
            d = deadlines.deadline(duty, at)
            console.print(
                f"{duty.article}  {duty.limit} {duty.unit.value}  due {d.due_on}"
                f"{' ' + d.due_at.isoformat() if duty.unit.value == 'hours' else ''}  {duty.description}"
            )
    except (ValueError, ValidationFailed) as err:
        typer.secho(f"error: {err}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None


@report_app.command("create")
def create_cmd(file: Path, user: str = USER):
    """Create a draft report from a JSON file (the form); prints its quality and reasons."""
    try:
        data = json.loads(file.read_text("utf-8"))
    except (OSError, ValueError) as err:
        typer.secho(f"error [file]: {err}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    with acting(user) as (session, actor):
        case = service.create_report(session, actor, data)
        console.print(f"report {case.id} created (version {case.version})")
        _print_quality(session, actor, case.id)


@report_app.command("submit")
def submit_cmd(case_id: int, user: str = USER, expected_version: int = VERSION):
    """Submit (or resubmit) a report; starts the statutory clock."""
    with acting(user) as (session, actor):
        case = service.submit(session, actor, case_id, expected_version=expected_version)
        late = {True: "late", False: "on time", None: "no statutory clock"}[case.late]
        console.print(f"report {case.id} {case.status}; {late}; due {case.report_due_at}")


@report_app.command("show")
def show_cmd(case_id: int, user: str = USER):
    """A report, its versions and its quality."""
    with acting(user) as (session, actor):
        c = queries.get_case(session, actor, case_id)
        console.print(
            f"report {c.id} [{c.status}] {c.device_name} lot {c.lot_number} outcome {c.outcome} "
            f"due {c.report_due_at} late {c.late}"
        )
        for v in queries.versions(session, actor, case_id):
            console.print(f"  v{v.version_no} {v.kind} submitted {v.submitted_at}")
        _print_quality(session, actor, case_id)


@report_app.command("list")
def list_cmd(user: str = USER, status: str = typer.Option(None), late: bool = typer.Option(None)):
    """Reports the user may see."""
    with acting(user) as (session, actor):
        table = Table("id", "status", "device", "outcome", "late", "quality")
        for c in queries.list_cases(session, actor, status=status, late=late):
            table.add_row(
                str(c.id), c.status, c.device_name or "", c.outcome or "", str(c.late), str(c.quality_score)
            )
        console.print(table)


@app.command("stats")
def stats_cmd(user: str = USER, by: str = typer.Option("reporter", help="reporter | registrant")):
    """Reports, late reports and mean quality per reporter or registrant."""
    if by not in ("reporter", "registrant"):
        typer.secho("error [by]: must be reporter or registrant", err=True, fg=typer.colors.RED)
        raise typer.Exit(2)
    with acting(user) as (session, actor):
        table = Table("organisation", "reports", "late", "mean quality")
        for row in queries.per_organisation(session, actor, by):
            table.add_row(
                row["organisation"] or str(row["org_id"]),
                str(row["reports"]),
                str(row["late"]),
                str(row["mean_quality"]),
            )
        console.print(table)


@report_app.command("import")
def import_cmd(
    file: Path,
    user: str = USER,
    fmt: str = typer.Option("csv", "--format", help="csv | xlsx | openfda"),
    role: str | None = typer.Option(
        None, "--role", help="reporter role of openFDA reports (default: registrant; in the background: "
        "the organisation's own)"),
    background: bool = typer.Option(
        False, "--background",
        help="large file: a resumable background job (vigilance.import) run by `medreg worker`"),
    batch: int = typer.Option(5000, "--batch", help="rows per committed batch of a background import"),
):
    """Import a CSV, XLSX or openFDA device-event JSON file as draft reports (all or nothing)."""
    if background:
        with acting(user) as (session, actor), file.open("rb") as fh:
            job = bulk.start_bulk_import(session, actor, filename=file.name, data=fh, batch=batch, fmt=fmt,
                                         reporter_role=role)
            session.flush()
            job_id = job.id
        console.print(f"job {job_id} queued ({bulk.KIND}); follow it: medreg jobs show {job_id} --follow")
        return
    try:
        raw = file.read_bytes()
    except OSError as err:
        typer.secho(f"error [file]: {err}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    with acting(user) as (session, actor):
        result = service_import.import_reports(
            session, actor, service_import.parse_file(raw, fmt, reporter_role=role or "registrant")
        )
    console.print(f"{len(result.created)} reports imported as drafts")
    for term, n in sorted(result.unmapped.items()):
        console.print(f"  unmapped FDA problem term: {term} ({n})", markup=False)


@app.command("export")
def export_cmd(
    user: str = USER,
    fmt: str = typer.Option("csv", "--format", help="csv | xlsx | json | fhir"),
    out: Path = typer.Option(..., "--out", help="file to write"),
):
    """Export the reports the user may see (CSV, JSON rows or a FHIR R5 Bundle of AdverseEvent)."""
    if fmt not in ("csv", "xlsx", "json", "fhir"):
        typer.secho("error [format]: must be csv, xlsx, json or fhir", err=True, fg=typer.colors.RED)
        raise typer.Exit(2)
    with acting(user) as (session, actor):
        items = export.cases(session, actor)
        if fmt == "fhir":
            text = json.dumps(export.to_fhir_bundle(items), ensure_ascii=False, indent=1)
        elif fmt == "json":
            text = json.dumps([export.row(c) for c in items], ensure_ascii=False, indent=1)
        elif fmt == "xlsx":
            text = None
            out.write_bytes(export.to_xlsx([export.row(c) for c in items]))
        else:
            text = export.to_csv([export.row(c) for c in items])
    if text is not None:
        out.write_text(text, "utf-8")
    console.print(f"{len(items)} reports written to {out}", markup=False)


@app.command("demo")
def demo_cmd(count: int = typer.Option(300, help="how many made-up reports"), seed: int = 63):
    """Load made-up demo reports (labelled demo) filed by the demo hospitals."""
    from medreg.vigilance import demo

    with acting(None) as (session, _):
        made = demo.load(session, count, seed)
    console.print(f"{made} demo reports loaded (made up)")
