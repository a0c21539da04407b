"""Bulk import of a large CSV report file (up to millions of rows) as a resumable background job
(``medreg.core.jobs``, kind ``vigilance.import``).

``start_bulk_import`` stores the file (``core.files``) and enqueues the job; the worker then

1. **validates the whole file** (header, every row: form, IMDRF codes, UDI, reporter role) without
   writing anything; a file with any bad row is refused as a whole: the job ends with
   ``result = {"status": "refused", "bad_rows", "errors": [{row, field, reason}, ...]}`` and not one
   report is written;
2. **inserts** the draft reports in batches. Each batch (cases, their initial versions, their IMDRF
   code rows and one audit event naming the case ids and the file rows) is committed *together with*
   the checkpoint ``next_row``, so a worker killed at any point resumes after the last committed batch:
   no row is written twice and none is skipped.

Each report is filed exactly as ``service.create_report`` files it (same columns, registrant found from
the certificate number, quality score of the draft); the rows are written with bulk ``INSERT``s and the
audit trail has one ``import`` event per batch (``vigilance_import``, the case id range) rather than
one per report.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import insert
from sqlalchemy.orm import Session

from medreg.core import audit, files, jobs
from medreg.core.accounts import Organisation, Role, User
from medreg.core.actor import Actor
from medreg.core.clock import to_shanghai, utcnow
from medreg.core.errors import DomainError, PermissionDenied, ValidationFailed
from medreg.vigilance import imports, quality, service
from medreg.vigilance.aet import terminology
from medreg.vigilance.assessment import _registered
from medreg.vigilance.models import VigilanceCase, VigilanceReportCode, VigilanceReportVersion
from medreg.vigilance.rules import CODE_FIELDS
from medreg.vigilance.schemas import ReportContent
from medreg.vigilance.states import Status, VersionKind

KIND = "vigilance.import"
ERRORS_KEPT = 10_000  # bad rows listed in the job result (the count is always exact)
PROGRESS_EVERY = 20_000  # rows between two progress writes while validating


def _validate_params(params: dict) -> dict:
    unknown = set(params) - {"file_id", "org_id", "user_id", "batch"}
    if unknown:
        raise ValidationFailed("Unknown parameter(s) for vigilance.import: {names}.", field="params",
                               params={"names": ", ".join(sorted(unknown))})
    out = {}
    for name in ("file_id", "org_id", "user_id"):
        try:
            out[name] = int(params[name])
        except (KeyError, TypeError, ValueError):
            raise ValidationFailed("'{name}' is required.", field=f"params.{name}",
                                   params={"name": name}) from None
    try:
        out["batch"] = int(params.get("batch", 5000))
    except (TypeError, ValueError):
        out["batch"] = 0
    if not 10 <= out["batch"] <= 50_000:
        raise ValidationFailed("'batch' must be a whole number from 10 to 50000.", field="params.batch")
    return out


def start_bulk_import(session: Session, actor: Actor, *, filename: str, data: bytes | BinaryIO,
                      batch: int = 5000) -> jobs.Job:
    """Store the CSV and enqueue its import for the actor's organisation. Never commits."""
    org = session.get(Organisation, actor.organisation_id) if actor.organisation_id else None
    if org is None or org.kind not in service.ROLES_BY_ORG:
        raise PermissionDenied(
            "Only hospitals, registrants and distributors file adverse-event reports here.", field="actor")
    if not filename.lower().endswith(".csv"):
        raise ValidationFailed("A bulk import is a .csv file.", field="filename")
    stored = files.store(session, actor, filename=filename, data=data, declared_mime=None)
    return jobs.enqueue(session, actor, KIND, {"file_id": stored.id, "org_id": org.id,
                                               "user_id": actor.user_id, "batch": batch})


def _rows(fh: BinaryIO) -> tuple[list[str], Iterator[dict]]:
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    return list(reader.fieldnames or []), reader


def _check_row(form: dict, row: int, allowed: set) -> tuple[ReportContent | None, list[dict]]:
    try:
        content = service.parse_content(form)
        service.stored_form(content)  # parses the UDI
    except DomainError as err:
        return None, [{"row": row, "field": err.field or "row", "reason": err.message}]
    if content.reporter.role is not None and content.reporter.role not in allowed:
        return None, [{"row": row, "field": "reporter.role",
                       "reason": f"this organisation cannot report as '{content.reporter.role.value}'"}]
    return content, []


def validate_file(fh: BinaryIO, allowed: set, progress=None) -> tuple[int, int, list[dict]]:
    """Check every row; return (rows, bad rows, the first ERRORS_KEPT errors). Reads only."""
    columns, records = _rows(fh)
    errors = [e.__dict__ for e in imports.bad_columns(columns)]
    if errors:
        return 0, 1, errors
    rows = bad = 0
    try:
        for rows, record in enumerate(records, start=1):
            form, shape = imports.form_of(record, rows)
            found = [e.__dict__ for e in shape] or _check_row(form, rows, allowed)[1]
            if found:
                bad += 1
                errors.extend(found[: max(0, ERRORS_KEPT - len(errors))])
            if progress and rows % PROGRESS_EVERY == 0:
                progress(rows)
    except (UnicodeDecodeError, csv.Error) as exc:
        return rows, bad + 1, errors + [{"row": rows + 1, "field": "file", "reason": str(exc)[:200]}]
    if rows == 0:
        return 0, 1, [{"row": 0, "field": "file", "reason": "no rows"}]
    return rows, bad, errors


class _Filer:
    """Writes batches of validated forms as draft reports of one organisation (bulk INSERTs)."""

    def __init__(self, actor: Actor, org: Organisation, now: datetime):
        self.actor, self.org, self.now = actor, org, now
        self.registrants: dict = {}
        self.registered: dict = {}
        self.terms = terminology()

    def _lookups(self, session: Session, content: ReportContent) -> tuple[int | None, dict | None]:
        number = content.device.registration_number
        key = (content.device.registrant_org_id, number)
        if key not in self.registrants:
            self.registrants[key] = service._registrant(session, content)
        if number not in self.registered:
            self.registered[number] = _registered(session, number)
        return self.registrants[key], self.registered[number]

    def file(self, session: Session, contents: list[ReportContent]) -> list[int]:
        cases, stored_forms, codes = [], [], []
        for content in contents:
            stored = service.stored_form(content)
            registrant, registered = self._lookups(session, content)
            d, e, udi = content.device, content.event, stored.get("udi_parsed") or {}
            ctx = quality.Context(today=to_shanghai(self.now).date(), registered=registered)
            cases.append(dict(
                status=Status.DRAFT, reporter_org_id=self.org.id, reporter_user_id=self.actor.user_id,
                reporter_role=content.reporter.role.value if content.reporter.role else None,
                registrant_org_id=registrant, province=e.province,
                outcome=e.outcome.value if e.outcome else None, overseas=e.overseas, cluster=e.cluster,
                aware_at=e.aware_at, event_date=e.event_date, device_name=d.generic_name,
                registration_number=d.registration_number, model=d.model, udi_di=udi.get("di"),
                lot_number=d.lot_number or udi.get("lot"), serial_number=d.serial_number or udi.get("serial"),
                latest_version_no=1, quality_score=quality.score(stored, self.terms, ctx).score,
                created_at=self.now, updated_at=self.now, version=1))
            stored_forms.append(stored)
            codes.append([(f, a, c) for f, a in CODE_FIELDS.items() for c in getattr(content.codes, f)])
        ids = list(session.scalars(
            insert(VigilanceCase).returning(VigilanceCase.id, sort_by_parameter_order=True), cases))
        session.execute(insert(VigilanceReportVersion), [
            dict(case_id=i, version_no=1, kind=VersionKind.INITIAL, content=s,
                 created_by_user_id=self.actor.user_id, created_at=self.now)
            for i, s in zip(ids, stored_forms, strict=True)])
        code_rows = [dict(case_id=i, version_no=1, field=f, annex=a, code=c)
                     for i, cs in zip(ids, codes, strict=True) for f, a, c in cs]
        if code_rows:
            session.execute(insert(VigilanceReportCode), code_rows)
        return ids


def _owner(session: Session, params: dict, job_id: int) -> tuple[Actor, Organisation]:
    """The actor the reports are filed as: the user who enqueued the job, of the named organisation."""
    job = session.get(jobs.Job, job_id)
    user = session.get(User, params["user_id"])
    org = session.get(Organisation, params["org_id"])
    if (user is None or org is None or job is None or job.created_by_user_id != user.id
            or user.organisation_id != org.id or org.kind not in service.ROLES_BY_ORG):
        raise PermissionDenied("The import must be started by a user of the reporting organisation.",
                               field="params.user_id")
    return Actor.from_user(user), org


@jobs.job_handler(KIND, max_attempts=3, roles=(Role.HOSPITAL, Role.REGISTRANT, Role.ADMIN),
                  validate=_validate_params)
def run_import(ctx: jobs.JobContext) -> None:
    p = ctx.params
    with ctx.session() as s:
        actor, org = _owner(s, p, ctx.job_id)
        stored = s.get(files.StoredFile, p["file_id"])
        if stored is None:
            raise ValidationFailed("The file is not in the file store.", field="params.file_id")
        s.expunge(stored)
        s.expunge(org)
    allowed = service.ROLES_BY_ORG[org.kind]
    state = ctx.checkpoint or {"phase": "validate"}
    if state["phase"] == "validate":
        ctx.progress(0, None, "validating")
        with files.open_file(stored) as fh:
            rows, bad, errors = validate_file(fh, allowed, lambda n: ctx.progress(n, None, "validating"))
        if bad:
            ctx.progress(rows, rows, f"refused: {bad} bad rows; nothing was imported")
            ctx.set_result({"status": "refused", "rows": rows, "bad_rows": bad, "errors": errors,
                            "errors_listed": len(errors)})
            return
        state = {"phase": "insert", "rows": rows, "next_row": 0, "created": 0, "first_id": None,
                 "last_id": None}
        ctx.save_checkpoint(state, done=0, total=rows, message="validated; importing")
    _insert(ctx, stored, actor, org, state, allowed)
    ctx.set_result({"status": "imported", "rows": state["rows"], "created": state["created"],
                    "first_id": state["first_id"], "last_id": state["last_id"]})


def _insert(ctx: jobs.JobContext, stored: files.StoredFile, actor: Actor, org: Organisation,
            state: dict, allowed: set) -> None:
    filer = _Filer(actor, org, utcnow())
    batch_size = int(ctx.params["batch"])

    def flush(batch: list[ReportContent], end_row: int) -> None:
        with ctx.session() as s:
            ids = filer.file(s, batch)
            audit.record(s, actor, "import", "vigilance_import", f"{ids[0]}-{ids[-1]}",
                         after={"job": ctx.job_id, "file_id": stored.id, "reports": len(ids),
                                "file_rows": f"{state['next_row'] + 1}-{end_row}"})
            new = dict(state, next_row=end_row, created=state["created"] + len(ids),
                       first_id=state["first_id"] or ids[0], last_id=ids[-1])
            ctx.save_checkpoint(new, done=end_row, total=state["rows"],
                                message=f"imported {new['created']} reports", session=s)
        state.update(new)

    with files.open_file(stored) as fh:
        _, records = _rows(fh)
        batch: list[ReportContent] = []
        for row, record in enumerate(records, start=1):
            if row <= state["next_row"]:
                continue  # committed by an earlier attempt
            content, errors = _check_row(imports.form_of(record, row)[0], row, allowed)
            if errors:  # the file changed under us: the store is content-addressed, so it cannot
                raise ValidationFailed("Row {row} no longer validates.", field="file", params={"row": row})
            batch.append(content)
            if len(batch) >= batch_size:
                flush(batch, row)
                batch = []
        if batch:
            flush(batch, row)


def job_result(job: jobs.Job) -> dict[str, Any]:
    """The job as the API and pages show it."""
    return {"id": job.id, "status": job.status, "done": job.done, "total": job.total,
            "message": job.message, "result": job.result}
