"""``medreg catalog``: search and browse the 医疗器械分类目录, import an official table as a new version.

Search and tree read the database's current catalogue version; with no database (or before
``medreg catalog load``) they read the rows shipped with medreg (sub-catalogues 01 and 04).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.tree import Tree
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from medreg.catalog import queries, service, tables
from medreg.core.cli_support import actor_named
from medreg.core.db import session_scope
from medreg.core.errors import DomainError

app = typer.Typer(help="The classification catalogue (医疗器械分类目录): search, browse, import.",
                  no_args_is_help=True)
console = Console(width=160)
naming_app = typer.Typer(help="Generic names (令第19号, 2019 No.99): check a name.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print the JSON body of the API instead of a table.")


def fail(err: DomainError) -> None:
    where = f" [{err.field}]" if err.field else ""
    typer.secho(f"error{where}: {err.message}", err=True, fg=typer.colors.RED)
    for p in err.details.get("problems", []):
        typer.secho(f"  row {p['row']} {p['field']}: {p['reason']}", err=True)
    raise typer.Exit(err.exit_code)


@contextmanager
def reading() -> Iterator[Session | None]:
    """A read-only session on the database, or None if it has no catalogue tables yet."""
    try:
        with session_scope() as session:
            queries.current_index(session)
            yield session
    except SQLAlchemyError:
        yield None


def _rich(highlighted: str) -> str:
    text = highlighted.replace("[", r"\[")
    return re.sub(r"&(lt|gt|amp|quot|#x27);", lambda m: {"lt": "<", "gt": ">", "amp": "&", "quot": '"',
                                                           "#x27": "'"}[m.group(1)],
                  text.replace("<mark>", "[bold yellow]").replace("</mark>", "[/]"))


@app.command("search")
def search_cmd(query: str = typer.Argument(..., help="Chinese, pinyin, English words or a code."),
               limit: int = typer.Option(10, min=1, max=100), as_json: bool = JSON) -> None:
    """Search by name, 品名举例, description, intended use or code; best first, matches highlighted."""
    with reading() as session:
        body = queries.search_entries(session, query, limit)
    if as_json:
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{body['count']} result(s) — catalogue {body['version']}")
    for col in ("score", "code", "二级产品类别", "class", "matched", "via"):
        table.add_column(col)
    for r in body["results"]:
        table.add_row(f"{r['score']:.2f}", r["category2_code"], r["category2_name"], r["management_class"],
                      f"{r['matched_field']}: {_rich(r['highlight'])}", r["via"])
    console.print(table)


@app.command("tree")
def tree_cmd(subcatalogue: str = typer.Option(None, "--sub", help="Only this sub-catalogue (01-22)."),
             as_json: bool = JSON) -> None:
    """Browse sub-catalogue -> 一级 -> 二级 categories (with their classes)."""
    with reading() as session:
        body = queries.tree(session)
    subs = [s for s in body["subcatalogues"] if subcatalogue is None or s["code"] == subcatalogue.zfill(2)]
    if as_json:
        typer.echo(json.dumps({**body, "subcatalogues": subs}, ensure_ascii=False, indent=2))
        return
    root = Tree(f"医疗器械分类目录 {body['version']}")
    for s in subs:
        node = root.add(f"{s['code']} {s['name']} ({s['rows']} rows)")
        for c1 in s["children"]:
            n1 = node.add(f"{c1['code']} {c1['name']}")
            for c2 in c1["children"]:
                classes = "/".join(sorted({e["management_class"] for e in c2["entries"]}))
                n1.add(f"{c2['code']} {c2['name']} [{classes}]")
    console.print(root)


@app.command("import")
def import_cmd(file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                           help=".xlsx, .docx or .csv table"),
               label: str = typer.Option(..., "--label", help="Version label, e.g. '2022-30'."),
               subcatalogue: str = typer.Option(
                   None, "--subcatalogue", help="Sub-catalogue code when the file has no 子目录 column."),
               user: str = typer.Option(..., "--user", help="Act as this user (admin or reviewer).")) -> None:
    """Validate the whole file, then store it as the new current version (all or nothing)."""
    data = file.read_bytes()
    try:
        with session_scope() as session:
            parsed = tables.read_catalogue_file(file, data, subcatalogue)
            version = service.import_table(session, actor_named(session, user), parsed, label=label,
                                           source_name=file.name, sha256=hashlib.sha256(data).hexdigest())
            typer.echo(f"imported {file.name} as version '{version.label}': {version.rows} rows "
                       f"(sub-catalogues in file: {version.subcatalogues})")
    except DomainError as err:
        fail(err)


@app.command("load")
def load_cmd() -> None:
    """Load the rows shipped with medreg (sub-catalogues 01, 04) as a version, once."""
    with session_scope() as session:
        version = service.load_shipped(session)
        typer.echo(f"loaded version '{version.label}': {version.rows} rows" if version
                   else "shipped catalogue already loaded")


@app.command("versions")
def versions_cmd() -> None:
    """The catalogue versions, oldest first."""
    with session_scope() as session:
        for v in queries.versions(session):
            mark = "*" if v["is_current"] else " "
            typer.echo(f"{mark} {v['id']:>3} {v['label']:<30} {v['rows']:>6} rows  "
                       f"{','.join(v['subcatalogues'])}  {v['source_name']}  {v['imported_at']}")


@app.command("history")
def history_cmd(code: str = typer.Argument(..., help="二级 category code, e.g. 01-07-01")) -> None:
    """An entry's rows in every version."""
    try:
        with session_scope() as session:
            body = queries.entry_history(session, code)
    except DomainError as err:
        fail(err)
    typer.echo(json.dumps(body, ensure_ascii=False, indent=2))


def _description(file: Path | None, name: str | None) -> dict:
    from pydantic import ValidationError

    from medreg.catalog.schemas import DeviceDescription

    try:
        raw = json.loads(file.read_text(encoding="utf-8")) if file else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        typer.secho(f"error [file]: not a readable JSON file ({exc})", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    if name:
        raw = {**raw, "name": name} if isinstance(raw, dict) else raw
    try:
        return DeviceDescription.model_validate(raw).model_dump()
    except ValidationError as exc:
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"]) or "file"
            typer.secho(f"error [{where}]: {e['msg']}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None


def classify_cmd(file: Path = typer.Argument(None, dir_okay=False, help="Device description (JSON)."),
                 name: str = typer.Option(None, "--name", help="Classify by this product name (only)."),
                 as_json: bool = typer.Option(False, "--json", help="Print exactly the API response body."),
                 with_standards: bool = typer.Option(
                     False, "--standards",
                     help="Which standards apply (the body of POST /api/v1/classification/standards).")
                 ) -> None:
    """The engine's opinion: management class, trace of the rules that fired, catalogue matches."""
    if file is None and not name:
        typer.secho("error [file]: give FILE.json or --name", err=True, fg=typer.colors.RED)
        raise typer.Exit(2)
    facts = _description(file, name)
    try:
        with reading() as session:
            body = (queries.product_standards if with_standards else queries.determine)(session, facts)
    except DomainError as err:
        fail(err)
    if as_json:
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    if with_standards:
        _print_standards(body)
        return
    decided = body["decided_by"] or {}
    console.print(f"[bold]management class: {body['management_class'] or '—'}[/] ({body['status']}; "
                  f"decided by {decided.get('rule', '—')} \\[{decided.get('source', '—')}], "
                  f"confidence {decided.get('confidence', '—')})")
    table = Table(title="trace: every rule that fired")
    for col in ("", "rule", "article", "effect", "class", "why"):
        table.add_column(col)
    for t in body["trace"]:
        table.add_row("★" if t["decisive"] else "", t["rule"], t["article"], t["effect"], t["class"] or "",
                      t["why"])
    console.print(table)
    for f in body["facts"]:
        console.print(f"fact {f['fact']} = {f['value']} ({f['article']}: {f['why']})")
    for c in body["conflicts"]:
        console.print(f"conflict {c['rules']} {c['classes']}: {c['resolution']}")
    for m in body["catalogue_matches"]:
        console.print(f"catalogue {m['score']:.2f} {m['code']} {m['name']} \\[{m['management_class']}] "
                      f"{m['matched_field']}: {_rich(m['highlight'])}")
    for c in body["subcatalogue_candidates"]:
        console.print(f"sub-catalogue {c['code']} {c['name']}: {c['score']:.2f} {c['confidence']} "
                      f"({', '.join(c['sources'])}; {c['rows_in_catalogue']} rows in the catalogue)")
    for s in body["rule_sets"]:
        if s["in_scope"]:
            console.print(f"rule set {s['id']} in scope ({s['source_held']} text held; "
                          f"fired: {', '.join(s['fired']) or 'none'})")
    for n in body["notes"]:
        console.print(f"note: {n}")


def _print_standards(body: dict) -> None:
    console.print(f"[bold]class {body['management_class'] or '—'}[/] ({body['status']}); standards from: "
                  f"{body['basis']}")
    table = Table(title=f"{body['count']} standard(s)")
    for col in ("number", "title", "status", "adopts", "why"):
        table.add_column(col)
    for r in body["standards"]:
        why = r["provenance"] + (f" ({r['condition']})" if r["condition"] else "")
        table.add_row(r["number"], r["title_zh"], r["status"], " ".join(
            x for x in (r["intl_standard"], r["adoption"]) if x), why)
    console.print(table)


@naming_app.command("check")
def naming_check_cmd(name: str = typer.Argument(..., help="The generic name to check."),
                     as_json: bool = JSON) -> None:
    """Core word, feature words, violations (with the rule text) and suggestions; exit 1 on a fail."""
    if not name.strip() or len(name) > 200:
        typer.secho("error [name]: give a name of 1 to 200 characters", err=True, fg=typer.colors.RED)
        raise typer.Exit(2)
    body = queries.check_name(name)
    if as_json:
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        core = body["core_word"] or {}
        console.print(f"[bold]{body['verdict'].upper()}[/] {body['name']}")
        console.print(f"core word: {core.get('term', '—')} ({core.get('domain') or 'not in the term lists'})")
        for f in body["feature_words"]:
            console.print(f"feature word: {f['term']} ({f['kind']}{', default' if f['default'] else ''})")
        for v in body["violations"]:
            console.print(f"{v['severity']}: {v['rule']} {v['article']} — '{v['found']}': {v['why']}\n"
                          f"    {v['text_zh']}")
        for s in body["suggestions"]:
            console.print(f"suggestion: {s}")
    if body["verdict"] == "fail":
        raise typer.Exit(1)


@app.command("fda")
def fda_cmd(code: str = typer.Argument(..., help="二级 category code, e.g. 04-09-01"),
            as_json: bool = JSON) -> None:
    """FDA product-code candidates for an NMPA category: FDA class and regulation next to the NMPA class."""
    try:
        with reading() as session:
            body = queries.fda_links(session, code)
    except DomainError as err:
        fail(err)
    if as_json:
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{body['code']} {body['name']} — NMPA class {'/'.join(body['nmpa_classes'])}")
    for col in ("status", "score", "FDA code", "device name", "FDA class", "regulation", "matched"):
        table.add_column(col)
    for link in body["links"]:
        score = f"{link['score']:.2f}" if link["score"] is not None else ""
        table.add_row(link["status"], score, link["product_code"], link["device_name"], link["fda_class"],
                      link["regulation_number"], "、".join(link["matched_terms"]))
    console.print(table)


@app.command("fda-decide")
def fda_decide_cmd(code: str = typer.Argument(...), product_code: str = typer.Argument(...),
                   decision: str = typer.Option(..., "--decision", help="confirmed or rejected"),
                   note: str = typer.Option("", "--note"),
                   user: str = typer.Option(..., "--user", help="Act as this reviewer.")) -> None:
    """A reviewer confirms or rejects a crosswalk link (audited)."""
    try:
        with session_scope() as session:
            actor = actor_named(session, user)
            link = service.decide_link(session, actor, code, product_code, decision, note)
            typer.echo(f"{code} ↔ {product_code}: {link.status}")
    except DomainError as err:
        fail(err)


@app.command("standards")
def standards_cmd(code: str = typer.Argument(..., help="二级 category code, or a query with --search"),
                  search: bool = typer.Option(False, "--search", help="Search standards by number or title."),
                  active: bool = typer.Option(None, "--active/--passive", help="Is the device active?"),
                  as_json: bool = JSON) -> None:
    """Which standards apply to a catalogue category (or search the standards registry)."""
    try:
        with reading() as session:
            body = (queries.search_standards(code) if search
                    else queries.entry_standards(session, code, active))
    except DomainError as err:
        fail(err)
    if as_json:
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    rows = body["results"] if search else body["standards"]
    table = Table(title=f"{body['count']} standard(s)")
    for col in ("number", "title", "status", "adopts", "why"):
        table.add_column(col)
    for r in rows:
        why = r.get("provenance", f"score {r.get('score', '')}")
        why += f" ({r['condition']})" if r.get("condition") else ""
        table.add_row(r["number"], r["title_zh"], r["status"], " ".join(x for x in (r["intl_standard"],
                                                                                 r["adoption"]) if x), why)
    console.print(table)
