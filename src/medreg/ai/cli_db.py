"""``medreg ai db`` and ``medreg ai run``: the sealed evaluation databases from scripts (thin).

Each command opens a ``session_scope()``, acts as ``--user USERNAME`` and calls one service. Domain errors
print ``error [field]: reason`` and exit with their code (2 validation, 3 permission, 4 not found,
5 conflict, 6 rate limited). Output is JSON; no command prints a label.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.ai import inputs_detection, queries, service, service_runs
from medreg.ai.csvfiles import read_rows, split_cols
from medreg.ai.models import EvalDatabase, EvalVersion
from medreg.ai.schemas import RunRead, VersionRead
from medreg.core.cli_support import acting
from medreg.core.errors import NotFound

db_app = typer.Typer(help="Sealed evaluation databases (curators).", no_args_is_help=True)
run_app = typer.Typer(help="Evaluation runs on a sealed database (registrants).", no_args_is_help=True)
USER = typer.Option(..., "--user", help="Act as this user (username).")
CODE = typer.Option(..., "--code", help="Code of the evaluation database.")


def _print(obj) -> None:
    typer.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


def _version(session: Session, code: str, number: int | None) -> EvalVersion:
    q = select(EvalVersion).join(EvalDatabase, EvalDatabase.id == EvalVersion.database_id).where(
        EvalDatabase.code == code)
    q = q.where(EvalVersion.number == number) if number else q.order_by(EvalVersion.number.desc())
    v = session.scalars(q.limit(1)).first()
    if v is None:
        raise NotFound("Evaluation database version {id} not found.", field="code",
                       params={"id": f"{code} v{number or 'latest'}"})
    return v


@db_app.command("register")
def register(user: str = USER, code: str = CODE, name: str = typer.Option(..., "--name"),
             task: str = typer.Option("binary", "--task", help="binary, multiclass or detection"),
             modality: str = typer.Option(..., "--modality"),
             description: str | None = typer.Option(None, "--description")) -> None:
    """Register an evaluation database."""
    with acting(user) as (session, actor):
        d = service.register_database(session, actor, {"code": code, "name": name, "task": task,
                                                       "modality": modality, "description": description})
        _print({"id": d.id, "code": d.code})


@db_app.command("seal")
def seal(user: str = USER, code: str = CODE,
         cases: Path = typer.Option(..., "--cases", help="CSV: case_id,label and the metadata columns; "
                                    "detection: one row per lesion, case_id,x,y[,z],radius or "
                                    "case_id,x0,y0,x1,y1 (empty coordinates: no lesion)."),
         provenance: str = typer.Option(..., "--provenance"),
         metadata_cols: list[str] = typer.Option(None, "--metadata-cols",
                                                 help="Comma-separated or repeated."),
         categories: str = typer.Option("", "--categories", help="multiclass: classes in order."),
         rule: str = typer.Option("centre", "--rule", help="detection: centre or iou"),
         dims: int = typer.Option(2, "--dims", help="detection, centre rule: 2 or 3 coordinates"),
         max_distance: float | None = typer.Option(None, "--max-distance",
                                                   help="detection, centre rule: instead of the radius"),
         iou: float = typer.Option(0.5, "--iou", help="detection, IoU rule: threshold"),
         duplicates: str = typer.Option("ignore", "--duplicates", help="detection: ignore or false-positive"),
         ) -> None:
    """Seal a new immutable version from a cases CSV; prints its public facts and Merkle root."""
    with acting(user) as (session, actor):
        fields = split_cols(metadata_cols)
        rows = read_rows(cases, "cases")
        db = session.scalar(select(EvalDatabase).where(EvalDatabase.code == code))
        if db is None:
            raise NotFound("Evaluation database {id} not found.", field="code", params={"id": code})
        body: dict = {"provenance": provenance, "metadata_fields": fields,
                      "categories": split_cols([categories]) or None}
        if db.task == "detection":
            service.need_curator(actor)  # nothing of the file is read before the role is checked
            body["matching"] = {"rule": rule, "dims": dims, "max_distance": max_distance, "iou": iou,
                                "duplicates": duplicates}
            if rule in ("centre", "iou") and dims in (2, 3):
                body["cases"] = inputs_detection.cases_from_rows(rows, rule=rule, dims=dims,
                                                                 metadata_fields=fields)
            else:
                body["cases"] = []  # the service names the bad rule
        else:
            body["cases"] = [{"case_id": (r.get("case_id") or "").strip(),
                              "label": (r.get("label") or "").strip(),
                              "metadata": {f: (r.get(f) or "").strip() for f in fields}} for r in rows]
        v = service.add_version(session, actor, db.id, body)
        _print(VersionRead.model_validate(v).model_dump(mode="json"))


@db_app.command("list")
def list_cmd(user: str = USER) -> None:
    """Databases and the public facts of their versions."""
    with acting(user) as (session, _actor):
        _print([{**d.model_dump(mode="json"), "versions": [v.model_dump(mode="json")
                                                           for v in queries.list_versions(session, d.id)]}
                for d in queries.list_databases(session)])


@db_app.command("verify")
def verify(user: str = USER, code: str = CODE, number: int | None = typer.Option(None, "--version")) -> None:
    """Recompute a version's Merkle root from the stored cases (curators)."""
    with acting(user) as (session, actor):
        _print(service.verify_version(session, actor, _version(session, code, number).id))


@run_app.command("submit")
def submit(user: str = USER, code: str = CODE, number: int | None = typer.Option(None, "--version"),
           outputs: Path = typer.Option(..., "--outputs", help="CSV: case_id,score (or case_id,class); "
                                        "detection: one row per mark, case_id,<location>,score."),
           algorithm: str = typer.Option(..., "--algorithm"),
           algorithm_version: str = typer.Option(..., "--algorithm-version"),
           hardware: str = typer.Option(..., "--hardware"), os: str = typer.Option(..., "--os"),
           accelerator: str = typer.Option("none", "--accelerator"),
           framework: str = typer.Option(..., "--framework"),
           threshold: float = typer.Option(0.5, "--threshold")) -> None:
    """Submit one output per case; prints the run with its aggregate metrics, hashes and signature."""
    with acting(user) as (session, actor):
        version = _version(session, code, number)
        rows = read_rows(outputs, "outputs")
        m = version.matching
        items = inputs_detection.marks_from_rows(rows, rule=m["rule"], dims=m.get("dims", 2)) if m else []
        for r in rows if not m else []:
            item: dict = {"case_id": (r.get("case_id") or "").strip()}
            if "class" in r:
                item["class"] = (r.get("class") or "").strip()
            else:
                try:
                    item["score"] = float(r.get("score") or "nan")
                except ValueError:
                    item["score"] = None
                if item["score"] != item["score"]:
                    item["score"] = None
            items.append(item)
        run = service_runs.submit_run(session, actor, version.id, {
            "algorithm_name": algorithm, "algorithm_version": algorithm_version,
            "platform": {"hardware": hardware, "os": os, "accelerator": accelerator, "framework": framework},
            "threshold": threshold, "outputs": items})
        _print(RunRead.model_validate(run).model_dump(mode="json"))


@run_app.command("show")
def show(run_id: int, user: str = USER) -> None:
    """A run this user may see."""
    with acting(user) as (session, actor):
        _print(RunRead.model_validate(service_runs.get_run(session, actor, run_id)).model_dump(mode="json"))


@run_app.command("verify")
def verify_run(run_id: int, user: str = USER) -> None:
    """Recompute a run's outputs hash, result hash and signature."""
    with acting(user) as (session, actor):
        _print(service_runs.verify_run(session, actor, run_id))
