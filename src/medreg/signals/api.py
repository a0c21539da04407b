"""JSON API of signal management: runs, cases with their statistics over time and the reports behind
them, and the case actions (optimistic locking with ``expected_version``). Thin routes.

Tenancy: the monitoring centre sees every case and run; a registrant the cases of its own devices
(certificate- and registrant-level cases; no runs); anyone else nothing (NotFound for a case id).
The configured analyses (``/api/signals/analyses``) are the centre's: list, create, change, delete (one
that never ran) and run now (a ``signals.run`` job, on the next snapshot or on an existing one of
``/api/signals/snapshots``), all audited; so is the snapshot schedule (``/api/signals/schedule``: when
the worker exports a snapshot and runs the active analyses) and each analysis' own schedule
(``/api/signals/analyses/{id}/schedule``).
"""

from __future__ import annotations

from fastapi import Depends, Path, Query, Response
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.db import MAX_ID
from medreg.core.deps import RecordId, api_router, get_session, require_login
from medreg.core.settings import get_settings
from medreg.signals import analyses, queries, scheduling, service
from medreg.signals.runs import get_run, list_runs
from medreg.signals.schemas import (
    ActionBody,
    AnalysisCreate,
    AnalysisPatch,
    AnalysisRead,
    AnalysisScheduleSet,
    AnalysisStatusRead,
    CaseDetail,
    CaseRead,
    RespondBody,
    RunNowBody,
    RunQueued,
    RunRead,
    ScheduleBrief,
    ScheduleRead,
    ScheduleSet,
    SnapshotRead,
    StatRead,
)
from medreg.signals.states import Status

router = api_router(prefix="/api/signals", tags=["signals"])
ACTIONS = r"^(validate|assess|decide_action|close|dismiss)$"
STATUSES = "^(" + "|".join(s.value for s in Status) + ")$"
SOURCES = "^(" + "|".join(queries.SOURCES) + ")$"


def case_read(case) -> CaseRead:
    out = CaseRead.model_validate(case)
    out.latest = StatRead.model_validate(case.stats[-1]) if case.stats else None
    out.response_late = service.response_late(case)
    return out


def case_detail(session: Session, actor: Actor, case) -> CaseDetail:
    return CaseDetail(**case_read(case).model_dump(),
                      stats=[StatRead.model_validate(s) for s in case.stats],
                      reports=queries.case_reports(session, actor, case.id),
                      allowed_actions=queries.allowed_actions(actor, case))


@router.get("/runs", response_model=list[RunRead])
def runs(limit: int = Query(50, ge=1, le=1000), session: Session = Depends(get_session),
         actor: Actor = Depends(require_login)):
    return [RunRead.model_validate(r) for r in list_runs(session, actor, limit)]


@router.get("/runs/{run_id}", response_model=RunRead)
def run(run_id: RecordId, session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    return RunRead.model_validate(get_run(session, actor, run_id))


@router.get("/cases", response_model=list[CaseRead])
def cases(status: str | None = Query(None, pattern=STATUSES),
          source: str | None = Query(None, pattern=SOURCES), limit: int = Query(100, ge=1, le=1000),
          session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    found = queries.list_cases(session, actor, status=status, source=source, limit=limit)
    return [case_read(c) for c in found]


@router.get("/cases/{case_id}", response_model=CaseDetail)
def case(case_id: RecordId, session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    return case_detail(session, actor, queries.get_case(session, actor, case_id))


@router.post("/cases/{case_id}/respond", response_model=CaseDetail)
def respond(body: RespondBody, case_id: RecordId, session: Session = Depends(get_session),
            actor: Actor = Depends(require_login)):
    done = service.respond(session, actor, case_id, body.response, expected_version=body.expected_version)
    return case_detail(session, actor, done)


@router.post("/cases/{case_id}/{action}", response_model=CaseDetail)
def act(body: ActionBody, case_id: RecordId, action: str = Path(pattern=ACTIONS),
        session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    done = service.act(session, actor, case_id, action, expected_version=body.expected_version,
                       decision=body.decision, reason=body.reason, due_days=body.due_days)
    return case_detail(session, actor, done)


@router.get("/analyses", response_model=list[AnalysisRead])
def analyses_list(session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    return [AnalysisRead.model_validate(a) for a in analyses.list_analyses(session, actor)]


@router.get("/analyses/status", response_model=list[AnalysisStatusRead])
def analyses_status(session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    return [AnalysisStatusRead.model_validate(r) for r in analyses.overview(session, actor)]


@router.post("/analyses", response_model=AnalysisRead, status_code=201)
def analyses_create(body: AnalysisCreate, session: Session = Depends(get_session),
                    actor: Actor = Depends(require_login)):
    created = analyses.create_analysis(session, actor, body.model_dump(exclude_unset=True))
    return AnalysisRead.model_validate(created)


@router.patch("/analyses/{analysis_id}", response_model=AnalysisRead)
def analyses_update(body: AnalysisPatch, analysis_id: RecordId, session: Session = Depends(get_session),
                    actor: Actor = Depends(require_login)):
    values = body.model_dump(exclude_unset=True)
    version = values.pop("expected_version")
    return AnalysisRead.model_validate(analyses.update_analysis(session, actor, analysis_id, values,
                                                                expected_version=version))


@router.delete("/analyses/{analysis_id}", status_code=204)
def analyses_delete(analysis_id: RecordId, expected_version: int = Query(ge=1, le=MAX_ID),
                    session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    analyses.delete_analysis(session, actor, analysis_id, expected_version=expected_version)
    return Response(status_code=204)


@router.post("/analyses/{analysis_id}/run", response_model=RunQueued, status_code=202)
def analyses_run(analysis_id: RecordId, body: RunNowBody | None = None,
                 session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    version = body.snapshot_version if body is not None else None
    job = analyses.run_now(session, actor, analysis_id, get_settings().signals_snapshot_dir, version)
    return RunQueued.model_validate(job)


@router.get("/snapshots", response_model=list[SnapshotRead])
def snapshots_list(actor: Actor = Depends(require_login)):
    """The finished snapshots of the analyses' folder, newest first (centre only)."""
    scheduling.current_folder(actor)
    return [SnapshotRead.model_validate(s) for s in analyses.snapshots(get_settings().signals_snapshot_dir)]


@router.get("/analyses/{analysis_id}/schedule", response_model=ScheduleBrief | None)
def analysis_schedule_get(analysis_id: RecordId, session: Session = Depends(get_session),
                          actor: Actor = Depends(require_login)):
    sch = scheduling.analysis_schedule(session, actor, analysis_id)
    return ScheduleBrief.model_validate(sch) if sch is not None else None


@router.put("/analyses/{analysis_id}/schedule", response_model=ScheduleBrief | None)
def analysis_schedule_set(body: AnalysisScheduleSet, analysis_id: RecordId,
                          session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    values = body.model_dump()
    version = values.pop("expected_version")
    sch = scheduling.set_analysis_schedule(session, actor, analysis_id, values, expected_version=version)
    return ScheduleBrief.model_validate(sch) if sch is not None else None


@router.get("/schedule", response_model=ScheduleRead)
def schedule_get(session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    return ScheduleRead.of(scheduling.current(session, actor))


@router.put("/schedule", response_model=ScheduleRead)
def schedule_set(body: ScheduleSet, session: Session = Depends(get_session),
                 actor: Actor = Depends(require_login)):
    values = body.model_dump()
    version = values.pop("expected_version")
    return ScheduleRead.of(scheduling.set_schedule(session, actor, values, expected_version=version))
