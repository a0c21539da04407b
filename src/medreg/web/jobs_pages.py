"""Background jobs in the browser and as JSON: list with live progress, detail, start, cancel.

The same calls as ``medreg jobs …`` (core/jobs.py); administrators see every job, other users their own
and every job of the kinds their roles oversee (``job_handler(oversee=...)``, ``jobs.may_see``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from medreg.core import jobs
from medreg.core.actor import Actor
from medreg.core.deps import RecordId, api_router, get_session, pages_router, require_login
from medreg.core.i18n import _
from medreg.core.templating import register_nav, render

pages = pages_router(prefix="/jobs", tags=["jobs"])
api = api_router(prefix="/api/jobs", tags=["jobs"])

# shown to the roles that see jobs other than their own: administrators, and the roles that oversee a
# kind of job (the monitoring centre: signal snapshots and runs; tests/core/test_jobs.py checks the list)
NAV_ROLES = ("admin", "monitoring_centre")
register_nav("/jobs/", _("Background jobs"), roles=NAV_ROLES,
             description=_("Long-running work with its progress: audit-chain and file-store checks, "
                           "signal snapshots and runs."))


STATUS_LABELS = jobs.STATUS_LABELS


class JobRead(BaseModel):
    id: int
    kind: str
    status: str
    params: dict
    done: int
    total: int | None
    fraction: float | None
    message: str | None
    attempts: int
    max_attempts: int
    error: str | None
    result: Any | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: jobs.Job) -> JobRead:
        return cls(**{f: getattr(job, f) for f in cls.model_fields})


class JobStart(BaseModel):
    kind: str
    params: dict = {}


@api.get("/", response_model=list[JobRead])
def api_list(status: str | None = None, kind: str | None = None, limit: int = 50,
             session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    return [JobRead.of(j) for j in jobs.list_jobs(session, actor, status=status, kind=kind, limit=limit)]


@api.get("/{job_id}", response_model=JobRead)
def api_get(job_id: RecordId, session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    return JobRead.of(jobs.get(session, actor, job_id))


@api.post("/", response_model=JobRead, status_code=201)
def api_start(body: JobStart, session: Session = Depends(get_session),
              actor: Actor = Depends(require_login)):
    return JobRead.of(jobs.enqueue(session, actor, body.kind, body.params))


@api.post("/{job_id}/cancel", response_model=JobRead)
def api_cancel(job_id: RecordId, session: Session = Depends(get_session),
               actor: Actor = Depends(require_login)):
    return JobRead.of(jobs.cancel(session, actor, job_id))


@pages.get("/", name="jobs")
def page_list(request: Request, session: Session = Depends(get_session),
              actor: Actor = Depends(require_login)) -> Response:
    context = {"jobs": jobs.list_jobs(session, actor), "kinds": jobs.registered_kinds(),
               "status_labels": STATUS_LABELS}
    if request.headers.get("HX-Request"):
        return render(request, "jobs/_rows.html", context)
    return render(request, "jobs/list.html", context)


@pages.get("/{job_id}", name="job")
def page_detail(job_id: RecordId, request: Request, session: Session = Depends(get_session),
                actor: Actor = Depends(require_login)) -> Response:
    return render(request, "jobs/detail.html",
                  {"job": jobs.get(session, actor, job_id), "status_labels": STATUS_LABELS})


@pages.post("/")
def page_start(kind: str = Form(...), session: Session = Depends(get_session),
               actor: Actor = Depends(require_login)) -> Response:
    job = jobs.enqueue(session, actor, kind, {})
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@pages.post("/{job_id}/cancel")
def page_cancel(job_id: RecordId, session: Session = Depends(get_session),
                actor: Actor = Depends(require_login)) -> Response:
    jobs.cancel(session, actor, job_id)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)
