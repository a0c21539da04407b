"""Bulk import of a large report file (CSV, XLSX or openFDA device-event JSON; up to millions of rows)
as a resumable background job (``medreg.core.jobs``, kind ``vigilance.import``).

``start_bulk_import`` stores the file (``core.files``) and enqueues the job; the worker then

1. **validates the whole file** (header, every row: form, IMDRF codes, UDI, reporter role, the
   device's registrant) without writing anything; a file with any bad row is refused as a whole: the
   job ends with ``result = {"status": "refused", "bad_rows", "errors": [{row, field, reason}, ...]}``
   and not one report is written;
2. **inserts** the draft reports in batches. Each batch (cases, their initial versions, their IMDRF
   code rows, one ``create`` audit event per report and one ``import`` event naming the case ids and
   the file rows) is committed *together with*
   the checkpoint ``next_row``, so a worker killed at any point resumes after the last committed batch:
   no row is written twice and none is skipped.

The whole file is all or nothing: every report carries the job's id (``import_job_id``), and a job
that ends without success (**cancelled**, or **failed** on its last attempt, whether its handler runs or
its worker died) removes the reports it inserted (with their versions, IMDRF code rows and duplicate
decisions) in one transaction, with one ``rollback`` audit event per report: the kind's ``on_abandon``
hook, ``bulk_rollback.on_abandon``, run by the job kernel. Its message says how many. Reports someone
submitted or marked as the original of a duplicate meanwhile are kept (and counted).

Each report is filed exactly as ``service.create_report`` files it (same columns, registrant found from
the certificate number, quality score of the draft, a ``create`` audit event with the case snapshot);
the rows are written with multi-row ``INSERT``s and the audit events with ``audit.record_many`` (one
head lock per batch, the hash chain intact). The reading of each format is in ``bulk_source.py``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from medreg.core import audit, files, jobs
from medreg.core.accounts import Organisation, Role, User
from medreg.core.actor import Actor
from medreg.core.bulkinsert import insert_rows
from medreg.core.clock import to_shanghai, utcnow
from medreg.core.errors import DomainError, PermissionDenied, ValidationFailed
from medreg.vigilance import quality, service
from medreg.vigilance.aet import terminology
from medreg.vigilance.assessment import _registered
from medreg.vigilance.bulk_rollback import on_abandon, rollback_import
from medreg.vigilance.bulk_source import FORMATS, FileUnreadable, open_source
from medreg.vigilance.deadlines import ReporterRole
from medreg.vigilance.models import CASE_FIELDS, VigilanceCase, VigilanceReportCode, VigilanceReportVersion
from medreg.vigilance.rules import CODE_FIELDS
from medreg.vigilance.schemas import ReportContent
from medreg.vigilance.states import Status, VersionKind
from medreg.vigilance.udi import parse_udi

KIND = "vigilance.import"
ERRORS_KEPT = 10_000  # bad rows listed in the job result (the count is always exact)
PROGRESS_EVERY = 20_000  # rows between two progress writes while validating
ROLES = {r.value for r in ReporterRole}
__all__ = ["KIND", "rollback_import", "run_import", "start_bulk_import"]  # rollback_import: bulk_rollback.py


def _validate_params(params: dict) -> dict:
    unknown = set(params) - {"file_id", "org_id", "user_id", "batch", "format", "reporter_role"}
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
    out["format"] = params.get("format", "csv")
    if out["format"] not in FORMATS:
        raise ValidationFailed("'{name}' must be one of: {allowed}.", field="params.format",
                               params={"name": "format", "allowed": ", ".join(FORMATS)})
    out["reporter_role"] = params.get("reporter_role")
    if out["reporter_role"] is not None and out["reporter_role"] not in ROLES:
        raise ValidationFailed("'{name}' must be one of: {allowed}.", field="params.reporter_role",
                               params={"name": "reporter_role", "allowed": ", ".join(sorted(ROLES))})
    return out


def _format_of(filename: str, fmt: str | None) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if fmt is None:
        fmt = next((f for f, e in FORMATS.items() if e == ext), None)
    if fmt not in FORMATS:
        raise ValidationFailed("A bulk import is a .csv, .xlsx or openFDA .json file.", field="filename")
    if FORMATS[fmt] != ext:
        raise ValidationFailed("A {format} import needs a .{ext} file.", field="filename",
                               params={"format": fmt, "ext": FORMATS[fmt]})
    return fmt


def start_bulk_import(session: Session, actor: Actor, *, filename: str, data: bytes | BinaryIO,
                      batch: int = 5000, fmt: str | None = None,
                      reporter_role: str | None = None) -> jobs.Job:
    """Store the file and enqueue its import for the actor's organisation. Never commits.

    ``fmt`` (csv, xlsx, openfda) defaults from the extension; ``reporter_role`` is the role of the
    openFDA reports (a CSV or XLSX carries its own ``reporter.role`` column), by default the
    organisation's own (registrant for a registrant, using_entity for a hospital)."""
    org = session.get(Organisation, actor.organisation_id) if actor.organisation_id else None
    if org is None or org.kind not in service.ROLES_BY_ORG:
        raise PermissionDenied(
            "Only hospitals, registrants and distributors file adverse-event reports here.", field="actor")
    fmt = _format_of(filename, fmt)
    stored = files.store(session, actor, filename=filename, data=data, declared_mime=None)
    params = {"file_id": stored.id, "org_id": org.id, "user_id": actor.user_id, "batch": batch,
              "format": fmt}
    if reporter_role is not None:
        params["reporter_role"] = reporter_role
    return jobs.enqueue(session, actor, KIND, params)


def _default_role(org: Organisation) -> str:
    allowed = service.ROLES_BY_ORG[org.kind]
    return (ReporterRole.REGISTRANT if ReporterRole.REGISTRANT in allowed else min(allowed)).value


class _Filer:
    """Checks forms and writes batches of them as draft reports of one organisation (bulk INSERTs).

    The registrant and registration lookups (one per certificate number) are cached for the file."""

    def __init__(self, actor: Actor, org: Organisation, now: datetime, job_id: int | None = None):
        self.actor, self.org, self.now, self.job_id = actor, org, now, job_id
        self.allowed = service.ROLES_BY_ORG[org.kind]
        self.registrants: dict = {}
        self.registered: dict = {}
        self.contexts: dict = {}
        self.terms = terminology()

    def _lookups(self, session: Session, content: ReportContent) -> tuple[int | None, dict | None]:
        number = content.device.registration_number
        key = (content.device.registrant_org_id, number)
        if key not in self.registrants:
            try:
                self.registrants[key] = service._registrant(session, content)
            except DomainError as err:
                self.registrants[key] = err
        found = self.registrants[key]
        if isinstance(found, DomainError):
            raise found
        if number not in self.registered:
            self.registered[number] = _registered(session, number)
        return found, self.registered[number]

    def check(self, session: Session | None, form: dict, row: int, *, stored: bool = True
              ) -> tuple[tuple[ReportContent, dict] | None, list[dict]]:
        """The form as ``create_report`` would take it (content and stored JSON), or its first error.
        With a session, the device's registrant is checked too (``file`` looks it up again)."""
        try:
            content = service.parse_content(form)
            if content.reporter.role is not None and content.reporter.role not in self.allowed:
                reason = f"this organisation cannot report as '{content.reporter.role.value}'"
                return None, [{"row": row, "field": "reporter.role", "reason": reason}]
            if session is not None:
                self._lookups(session, content)
            if not stored:
                if content.device.udi:
                    parse_udi(content.device.udi)
                return (content, {}), []
            return (content, service.stored_form(content)), []
        except DomainError as err:
            return None, [{"row": row, "field": err.field or "row", "reason": err.message}]

    def _quality(self, stored: dict, registered: dict | None) -> int:
        number = (stored.get("device") or {}).get("registration_number")
        ctx = self.contexts.get(number)
        if ctx is None:
            ctx = self.contexts[number] = quality.Context(today=to_shanghai(self.now).date(),
                                                          registered=registered)
        return quality.score(stored, self.terms, ctx).score

    def file(self, session: Session, batch: list[tuple[ReportContent, dict]]) -> list[int]:
        cases, codes = [], []
        for content, stored in batch:
            registrant, registered = self._lookups(session, content)
            d, e, udi = content.device, content.event, stored.get("udi_parsed") or {}
            cases.append(dict(
                status=Status.DRAFT.value, reporter_org_id=self.org.id, reporter_user_id=self.actor.user_id,
                reporter_role=content.reporter.role.value if content.reporter.role else None,
                registrant_org_id=registrant, province=e.province,
                outcome=e.outcome.value if e.outcome else None, overseas=e.overseas, cluster=e.cluster,
                aware_at=e.aware_at, event_date=e.event_date, device_name=d.generic_name,
                registration_number=d.registration_number, model=d.model, udi_di=udi.get("di"),
                lot_number=d.lot_number or udi.get("lot"), serial_number=d.serial_number or udi.get("serial"),
                first_submitted_at=None, report_due_at=None, late=None, evaluation_due_at=None,
                final_submitted_at=None, evaluation_late=None, return_reason=None, duplicate_of_id=None,
                latest_version_no=1, quality_score=self._quality(stored, registered),
                import_job_id=self.job_id, created_at=self.now, updated_at=self.now, version=1))
            codes.append([(f, a, c) for f, a in CODE_FIELDS.items() for c in getattr(content.codes, f)])
        ids = insert_rows(session, VigilanceCase.__table__, cases, with_ids=True)
        insert_rows(session, VigilanceReportVersion.__table__, [
            dict(case_id=i, version_no=1, kind=VersionKind.INITIAL.value, content=stored,
                 created_by_user_id=self.actor.user_id, created_at=self.now, submitted_at=None)
            for i, (_, stored) in zip(ids, batch, strict=True)])
        insert_rows(session, VigilanceReportCode.__table__, [
            dict(case_id=i, version_no=1, field=f, annex=a, code=c)
            for i, cs in zip(ids, codes, strict=True) for f, a, c in cs])
        # One audit event per report, as create_report writes it (the case snapshot after filing).
        audit.record_many(session, self.actor, "create", service.ENTITY, [
            (i, None, {f: row[f] for f in CASE_FIELDS}) for i, row in zip(ids, cases, strict=True)])
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


def _source(fh: BinaryIO, params: dict, org: Organisation):
    known = frozenset(t.code for t in terminology() if t.selectable)
    return open_source(fh, params.get("format", "csv"), known_codes=known,
                       reporter_role=params.get("reporter_role") or _default_role(org))


def validate_file(session: Session, fh: BinaryIO, params: dict, filer: _Filer,
                  progress: Callable[[int], None] | None = None) -> tuple[int, int, list[dict], dict]:
    """Check every row; return (rows, bad rows, the first ERRORS_KEPT errors, unmapped FDA terms).
    Reads only."""
    rows = bad = 0
    errors: list[dict] = []
    try:
        src = _source(fh, params, filer.org)
        errors = [e.__dict__ for e in src.header_errors]
        if errors:
            return 0, 1, errors, {}
        for row, form, shape in src.rows:
            rows = row
            found = [e.__dict__ for e in shape] or filer.check(session, form, row, stored=False)[1]
            if found:
                bad += 1
                errors.extend(found[: max(0, ERRORS_KEPT - len(errors))])
            if progress and row % PROGRESS_EVERY == 0:
                progress(row)
    except FileUnreadable as exc:
        return rows, bad + 1, errors + [{"row": rows + 1, "field": "file", "reason": str(exc)}], {}
    if rows == 0 and not errors:
        return 0, 1, [{"row": 0, "field": "file", "reason": "no rows"}], {}
    return rows, bad, errors, dict(src.unmapped)


@contextmanager
def _fewer_gc_passes() -> Iterator[None]:
    """A million rows allocate hundreds of millions of short-lived objects, nearly all freed by reference
    counting; the cyclic collector's default gen-0 threshold (700) makes it walk the long-lived objects
    (the IMDRF release, caches, mappers) thousands of times for nothing: ~30 % of the job's CPU. Raised
    while the job runs and restored after (cycles are still collected, less often)."""
    before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@jobs.job_handler(KIND, max_attempts=3, roles=(Role.HOSPITAL, Role.REGISTRANT, Role.ADMIN),
                  validate=_validate_params, on_abandon=on_abandon)
def run_import(ctx: jobs.JobContext) -> None:
    with _fewer_gc_passes():
        _run_import(ctx)


def _run_import(ctx: jobs.JobContext) -> None:
    p = ctx.params
    with ctx.session() as s:
        actor, org = _owner(s, p, ctx.job_id)
        stored = s.get(files.StoredFile, p["file_id"])
        if stored is None:
            raise ValidationFailed("The file is not in the file store.", field="params.file_id")
        s.expunge(stored)
        s.expunge(org)
    filer = _Filer(actor, org, utcnow(), ctx.job_id)
    state = ctx.checkpoint or {"phase": "validate"}
    if state["phase"] == "validate":
        ctx.progress(0, None, "validating")
        with ctx.session() as s, files.open_file(stored) as fh:
            rows, bad, errors, unmapped = validate_file(
                s, fh, p, filer, lambda n: ctx.progress(n, None, "validating"))
        if bad:
            ctx.progress(rows, rows, f"refused: {bad} bad rows; nothing was imported")
            ctx.set_result({"status": "refused", "rows": rows, "bad_rows": bad, "errors": errors,
                            "errors_listed": len(errors)})
            return
        state = {"phase": "insert", "rows": rows, "next_row": 0, "created": 0, "first_id": None,
                 "last_id": None, "unmapped_fda_terms": unmapped}
        ctx.save_checkpoint(state, done=0, total=rows, message="validated; importing")
    _insert(ctx, stored, filer, state)
    ctx.set_result({"status": "imported", "format": p.get("format", "csv"), "rows": state["rows"],
                    "created": state["created"], "first_id": state["first_id"], "last_id": state["last_id"],
                    "unmapped_fda_terms": state.get("unmapped_fda_terms", {})})


def _insert(ctx: jobs.JobContext, stored: files.StoredFile, filer: _Filer, state: dict) -> None:
    batch_size = int(ctx.params["batch"])

    def flush(batch: list[tuple[ReportContent, dict]], end_row: int) -> None:
        with ctx.session() as s:
            ids = filer.file(s, batch)
            audit.record(s, filer.actor, "import", "vigilance_import", f"{ids[0]}-{ids[-1]}",
                         after={"job": ctx.job_id, "file_id": stored.id, "reports": len(ids),
                                "file_rows": f"{state['next_row'] + 1}-{end_row}"})
            new = dict(state, next_row=end_row, created=state["created"] + len(ids),
                       first_id=state["first_id"] or ids[0], last_id=ids[-1])
            ctx.save_checkpoint(new, done=end_row, total=state["rows"],
                                message=f"imported {new['created']} reports", session=s)
        state.update(new)

    with files.open_file(stored) as fh:
        src = _source(fh, ctx.params, filer.org)
        batch: list[tuple[ReportContent, dict]] = []
        row = 0
        for row, form, shape in src.rows:
            if row <= state["next_row"]:
                continue  # committed by an earlier attempt
            checked, errors = filer.check(None, form, row) if not shape else (None, shape)
            if errors:  # the store is content-addressed, so the file cannot change under us
                raise ValidationFailed("Row {row} no longer validates.", field="file", params={"row": row})
            batch.append(checked)
            if len(batch) >= batch_size:
                flush(batch, row)
                batch = []
        if batch:
            flush(batch, row)


def job_result(job: jobs.Job) -> dict[str, Any]:
    """The job as the API and pages show it."""
    return {"id": job.id, "status": job.status, "done": job.done, "total": job.total,
            "message": job.message, "result": job.result}
