"""``medreg registration``: registration cases, office actions and certificate look-up (thin).

Each command opens one unit of work (``core.cli_support.acting``), acts as ``--user USERNAME`` and
calls one service or query. Domain errors print one line and exit with their code (2 validation,
3 permission, 4 not found, 5 conflict or invalid transition).
"""

from __future__ import annotations

from datetime import date

import typer
from rich.console import Console
from rich.table import Table

from medreg.core.cli_support import acting
from medreg.core.clock import today_shanghai
from medreg.core.errors import PermissionDenied
from medreg.premarket.registration import queries, service, service_udi
from medreg.premarket.registration.states import REGISTRANT, TABLE

app = typer.Typer(
    help="Registration, change and renewal (SAMR Order 47, 2021); certificates.", no_args_is_help=True
)
USER = typer.Option(..., "--user", help="Act as this user (username).")
ON = typer.Option(
    None, "--on", help="The legal day of the act or view (YYYY-MM-DD); default: today in Beijing."
)
VERSION = typer.Option(None, "--expected-version", help="The version you saw (optimistic locking).")
console = Console(width=160)


def _day(value: str | None) -> date:
    if value is None:
        return today_shanghai()
    try:
        return date.fromisoformat(value)
    except ValueError:
        typer.secho("error [on]: give the date as YYYY-MM-DD", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None


def _d(value: date | None) -> str:
    return value.isoformat() if value else ""


@app.command("list")
def list_cmd(
    user: str = USER,
    status: str | None = typer.Option(None),
    kind: str | None = typer.Option(None),
    q: str | None = typer.Option(None, help="Product name or acceptance number contains."),
    limit: int = typer.Option(50, min=1, max=500),
) -> None:
    """The applications this user may see."""
    with acting(user) as (session, actor):
        rows = queries.list_applications(session, actor, status=status, kind=kind, q=q, limit=limit)
    table = Table(title=f"registration applications ({len(rows)})")
    for col in (
        "id",
        "acceptance no",
        "kind",
        "product",
        "class",
        "status",
        "priority",
        "submitted",
        "version",
    ):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            str(r.id),
            r.acceptance_number or "",
            r.kind,
            r.product_name,
            r.device_class,
            r.status,
            "yes" if r.priority else "",
            _d(r.submitted_on),
            str(r.version),
        )
    console.print(table)


@app.command("show")
def show_cmd(app_id: int, user: str = USER, on: str | None = ON) -> None:
    """One application: fields, statutory clocks (with their articles), allowed actions."""
    today = _day(on)
    with acting(user) as (session, actor):
        a = queries.get_application(session, actor, app_id)
        clocks = queries.application_clocks(session, actor, app_id, today)
        allowed = TABLE.allowed_actions(a.status, actor.workflow_roles)
    for key, value in a.model_dump().items():
        if value not in (None, "", {}):
            typer.echo(f"{key:>26}: {value}")
    table = Table(title=f"clocks on {today.isoformat()}")
    for col in ("clock", "legal basis", "started", "due", "used", "left", "state"):
        table.add_column(col, overflow="fold")
    for c in clocks:
        state = (
            "stopped" if c.stopped_on else ("OVERDUE" if c.overdue else ("paused" if c.paused else "running"))
        )
        table.add_row(c.name, c.legal_basis, _d(c.started_on), _d(c.due_on), str(c.used), str(c.left), state)
    console.print(table)
    typer.echo(f"allowed actions for you: {', '.join(allowed) or '-'}")


@app.command("queue")
def queue_cmd(user: str = USER, on: str | None = ON) -> None:
    """The regulator's queue: earliest due first, overdue flagged, innovative priority shown."""
    with acting(user) as (session, actor):
        items = queries.reviewer_queue(session, actor, _day(on))
    table = Table(title=f"registration queue ({len(items)})")
    for col in ("id", "acceptance no", "product", "status", "priority", "clock", "due", "left", "overdue"):
        table.add_column(col, overflow="fold")
    for i in items:
        a, c = i.application, i.clock
        table.add_row(
            str(a.id),
            a.acceptance_number or "",
            a.product_name,
            a.status,
            "yes" if a.priority else "",
            c.name if c else "",
            _d(c.due_on) if c else "",
            str(c.left) if c else "",
            "OVERDUE" if i.overdue else "",
        )
    console.print(table)


def _simple(action: str, help_text: str, text_arg: str | None = None):
    """A command for one office/registrant action taking at most one text argument."""

    def command(
        app_id: int,
        user: str = USER,
        on: str | None = ON,
        expected_version: int | None = VERSION,
        text: str | None = typer.Option(None, f"--{text_arg}", help=f"The {text_arg}.") if text_arg else None,
    ) -> None:
        with acting(user) as (session, actor):
            fn = getattr(service, action)
            args = (text,) if text_arg else ()
            a = fn(session, actor, app_id, *args, expected_version=expected_version, on=_day(on))
            typer.echo(f"application {a.id}: {a.status} (version {a.version})")

    command.__doc__ = help_text
    if not text_arg:

        def command_no_text(
            app_id: int, user: str = USER, on: str | None = ON, expected_version: int | None = VERSION
        ) -> None:
            return command(app_id, user, on, expected_version, None)

        command_no_text.__doc__ = help_text
        return command_no_text
    return command


for _action, _help, _text in (
    ("submit", "Submit the dossier (registrant; Order 47 Art.52).", None),
    ("accept", "Accept the application (office/province; Art.53).", None),
    ("request_corrections", "Ask for all corrections at once, within 5 WD (Art.53(3)).", "notes"),
    ("refuse_acceptance", "Refuse to accept: not this authority's competence (Art.53(4)).", "reasons"),
    ("start_review", "Start the technical review (reviewer; Art.91-92).", None),
    ("request_supplement", "Ask for supplements, once; the review clock pauses (Art.54).", "request"),
    ("provide_supplement", "Supplements received (registrant; Art.54).", None),
    ("propose_negative", "Tell the reasons of an intended negative conclusion (Art.57).", "reasons"),
    ("complete_review", "Give a favourable review opinion (Art.58, Art.94).", "summary"),
    ("close_objection_window", "No objection within 15 days: opinion unfavourable (Art.57).", None),
    ("issue_certificate", "Issue the certificate / change document (Art.95, Art.81).", None),
    ("withdraw", "Withdraw the application (registrant; Art.55).", "reason"),
):
    app.command(_action.replace("_", "-"))(_simple(_action, _help, _text))


@app.command("decide")
def decide_cmd(
    app_id: int,
    decision: str = typer.Argument(..., help="approve | refuse"),
    user: str = USER,
    reasons: str | None = typer.Option(None, "--reasons"),
    on: str | None = ON,
    expected_version: int | None = VERSION,
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, help="Your password: the decision is signed (21 CFR 11.200)."
    ),
) -> None:
    """Approve or refuse, with an electronic signature (Order 47 Art.58, Art.94)."""
    if decision not in ("approve", "refuse"):
        typer.secho("error [decision]: approve or refuse", err=True, fg=typer.colors.RED)
        raise typer.Exit(2)
    with acting(user) as (session, actor):
        fn = service.approve if decision == "approve" else service.refuse
        kwargs = {"reasons": reasons} if reasons is not None or decision == "refuse" else {}
        a = fn(
            session,
            actor,
            app_id,
            password=password,
            expected_version=expected_version,
            on=_day(on),
            **{k: (v or "") for k, v in kwargs.items()},
        )
        typer.echo(f"application {a.id}: {a.status} ({a.decision}, signed)")


@app.command("certificate")
def certificate_cmd(number: str, user: str | None = typer.Option(None, "--user", help="Optional.")) -> None:
    """Look up a certificate by its number (public, Order 47 Art.12, Art.115)."""
    with acting(user) as (session, actor):
        c = queries.certificate_by_number(session, actor, number)
    for key, value in c.model_dump(exclude={"obligations", "change_documents"}).items():
        typer.echo(f"{key:>24}: {value}")
    for o in c.obligations:
        typer.echo(f"  condition due {o.due_on}: {o.description} [{o.status}]")
    for d in c.change_documents:
        typer.echo(f"  change document {d.id} of {d.issued_on}: {', '.join(d.changes)}")


@app.command("late-obligations")
def late_cmd(
    user: str = USER,
    on: str | None = ON,
    flag: bool = typer.Option(
        False, "--flag", help="Also mark them late in the records (regulator; Order 47 Art.63)."
    ),
) -> None:
    """Conditional-approval obligations past their deadline."""
    today = _day(on)
    with acting(user) as (session, actor):
        if flag:
            service.mark_late_obligations(session, actor, today)
        rows = queries.late_obligations(session, actor, today)
    for o in rows:
        typer.echo(f"certificate {o.certificate_id}: due {o.due_on} [{o.status}] {o.description}")
    typer.echo(f"{len(rows)} late obligation(s) on {today.isoformat()}")


@app.command("deemed-renewals")
def deemed_cmd(user: str = USER, on: str | None = ON) -> None:
    """Issue renewals deemed granted: applied in time, undecided at expiry (Order 47 Art.82)."""
    with acting(user) as (session, actor):
        done = service.apply_deemed_renewals(session, actor, _day(on))
        for c in done:
            typer.echo(f"renewed {c.number}: valid {c.valid_from} to {c.valid_until} (deemed)")
    typer.echo(f"{len(done)} renewal(s) deemed granted")


@app.command("declare-di")
def declare_di_cmd(certificate_id: int = typer.Argument(..., min=1), di: str = typer.Argument(...),
                   user: str = USER) -> None:
    """Declare a UDI-DI (GTIN) of a certificate's product: its registrant, or the office (Art.101)."""
    with acting(user) as (session, actor):
        row = service_udi.declare_di(session, actor, certificate_id, di)
        typer.echo(f"certificate {row.certificate_id}: UDI-DI {row.di} declared")


@app.command("withdraw-di")
def withdraw_di_cmd(di: str = typer.Argument(...), user: str = USER,
                    reason: str = typer.Option(..., "--reason", help="Why it was declared by mistake."),
                    ) -> None:
    """Withdraw a UDI-DI declared by mistake: the certificate's registrant, or the office (audited)."""
    with acting(user) as (session, actor):
        row = service_udi.withdraw_di(session, actor, di, reason)
        typer.echo(f"certificate {row.certificate_id}: UDI-DI {row.di} withdrawn")


@app.command("dis")
def dis_cmd(user: str = USER) -> None:
    """The UDI-DIs declared for the certificates of the user's organisation (a registrant)."""
    with acting(user) as (session, actor):
        if not actor.has(REGISTRANT) or actor.organisation_id is None:
            raise PermissionDenied("Only a registrant has certificates of its own.")
        declared = queries.declared_dis(session, actor, actor.organisation_id)
        certificates = queries.list_certificates(session, actor, registrant_org_id=actor.organisation_id,
                                                 limit=500)
        for c in certificates:
            dis = ", ".join(d.di for d in declared.get(c.number, [])) or "-"
            typer.echo(f"{c.number} [{c.status}] {c.product_name}: {dis}")
