"""JSON API of the AI domain (``/api/ai``): evaluation databases and versions (curators), case ids and runs
(registrants), comparisons, platform equivalence, change triage. Thin: one service or query call a route.

No route returns a label, a case's metadata or a salt (tests/ai/test_api.py walks every route).
"""

from fastapi import Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from medreg.ai import queries, service, service_citations, service_evidence, service_runs
from medreg.ai.schemas import (
    DatabaseCreate,
    DatabaseRead,
    EvidenceCreate,
    EvidenceRead,
    RunRead,
    RunSubmit,
    VersionCreate,
    VersionRead,
)
from medreg.core.actor import Actor
from medreg.core.db import MAX_ID
from medreg.core.deps import api_router, get_session, require_login

router = api_router(prefix="/api/ai", tags=["ai"])
DbId = Path(ge=1, le=MAX_ID, description="evaluation database id")
VersionId = Path(ge=1, le=MAX_ID, description="evaluation database version id")
RunId = Path(ge=1, le=MAX_ID, description="evaluation run id")
PackId = Path(ge=1, le=MAX_ID, description="evidence pack id")


class PairBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run_a: int = Field(ge=1, le=MAX_ID)
    run_b: int = Field(ge=1, le=MAX_ID)
    margin: float = Field(default=0.05, gt=0, lt=1)
    fp_rate: float = Field(default=1.0, gt=0, le=100, description="detection: FP per image compared")


class EquivalenceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run_a: int = Field(ge=1, le=MAX_ID)
    run_b: int = Field(ge=1, le=MAX_ID)
    score_margin: float = Field(default=0.05, gt=0, lt=1)
    metric_margin: float = Field(default=0.02, gt=0, lt=1)
    fp_rate: float = Field(default=1.0, gt=0, le=100, description="detection: FP per image compared")


class TriageBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    changes: list[str] = Field(min_length=1, max_length=30)
    evidence: dict[str, bool | str | None] = Field(default_factory=dict)


@router.get("/databases", response_model=list[DatabaseRead])
def list_databases(session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    return queries.list_databases(session)


@router.post("/databases", response_model=DatabaseRead, status_code=201)
def register_database(body: DatabaseCreate, session: Session = Depends(get_session),
                      actor: Actor = Depends(require_login)):
    return DatabaseRead.model_validate(service.register_database(session, actor, body))


@router.get("/databases/{database_id}/versions", response_model=list[VersionRead])
def list_versions(database_id: int = DbId, session: Session = Depends(get_session),
                  actor: Actor = Depends(require_login)):
    service.get_database(session, database_id)
    return queries.list_versions(session, database_id)


@router.post("/databases/{database_id}/versions", response_model=VersionRead, status_code=201)
def add_version(body: VersionCreate, database_id: int = DbId, session: Session = Depends(get_session),
                actor: Actor = Depends(require_login)):
    return VersionRead.model_validate(service.add_version(session, actor, database_id, body))


@router.get("/versions/{version_id}", response_model=VersionRead)
def get_version(version_id: int = VersionId, session: Session = Depends(get_session),
                actor: Actor = Depends(require_login)):
    return VersionRead.model_validate(service.get_version(session, version_id))


@router.get("/versions/{version_id}/cases")
def case_ids(version_id: int = VersionId, session: Session = Depends(get_session),
             actor: Actor = Depends(require_login)) -> dict:
    return {"version_id": version_id, "case_ids": service.case_ids(session, version_id)}


@router.get("/versions/{version_id}/verify")
def verify_version(version_id: int = VersionId, session: Session = Depends(get_session),
                   actor: Actor = Depends(require_login)) -> dict:
    return service.verify_version(session, actor, version_id)


@router.post("/versions/{version_id}/runs", response_model=RunRead, status_code=201)
def submit_run(body: RunSubmit, version_id: int = VersionId, session: Session = Depends(get_session),
               actor: Actor = Depends(require_login)):
    return RunRead.model_validate(service_runs.submit_run(session, actor, version_id, body))


@router.get("/runs", response_model=list[RunRead])
def list_runs(session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    return [RunRead.model_validate(r) for r in service_runs.list_runs(session, actor)]


@router.get("/runs/{run_id}", response_model=RunRead)
def get_run(run_id: int = RunId, session: Session = Depends(get_session),
            actor: Actor = Depends(require_login)):
    return RunRead.model_validate(service_runs.get_run(session, actor, run_id))


@router.get("/runs/{run_id}/verify")
def verify_run(run_id: int = RunId, session: Session = Depends(get_session),
               actor: Actor = Depends(require_login)) -> dict:
    return service_runs.verify_run(session, actor, run_id)


@router.post("/compare")
def compare(body: PairBody, session: Session = Depends(get_session),
            actor: Actor = Depends(require_login)) -> dict:
    return service_runs.compare_runs(session, actor, body.run_a, body.run_b, body.margin, body.fp_rate)


@router.post("/equivalence")
def equivalence(body: EquivalenceBody, session: Session = Depends(get_session),
                actor: Actor = Depends(require_login)) -> dict:
    return service_runs.equivalence_runs(session, actor, body.run_a, body.run_b, body.score_margin,
                                         body.metric_margin, body.fp_rate)


@router.post("/triage")
def triage(body: TriageBody, actor: Actor = Depends(require_login)) -> dict:
    return service_runs.triage_change(body.changes, body.evidence)


@router.post("/evidence", response_model=EvidenceRead, status_code=201)
def create_evidence(body: EvidenceCreate, session: Session = Depends(get_session),
                    actor: Actor = Depends(require_login)):
    return EvidenceRead.model_validate(service_evidence.create_pack(session, actor, **body.model_dump()))


@router.get("/evidence", response_model=list[EvidenceRead])
def list_evidence(registration_reference: str | None = Query(None, max_length=64),
                  session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    return [EvidenceRead.model_validate(p) for p in service_evidence.list_packs(session, actor,
                                                                               registration_reference)]


@router.get("/evidence/{pack_id}", response_model=EvidenceRead)
def get_evidence(pack_id: int = PackId, session: Session = Depends(get_session),
                 actor: Actor = Depends(require_login)):
    return EvidenceRead.model_validate(service_evidence.get_pack(session, actor, pack_id))


@router.get("/evidence/{pack_id}/verify")
def verify_evidence(pack_id: int = PackId, session: Session = Depends(get_session),
                    actor: Actor = Depends(require_login)) -> dict:
    return service_evidence.verify_pack(session, actor, pack_id)


class CitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_id: int = Field(ge=1, le=MAX_ID)


@router.post("/evidence/{pack_id}/citations", status_code=201)
def cite_evidence(body: CitationCreate, pack_id: int = PackId, session: Session = Depends(get_session),
                  actor: Actor = Depends(require_login)):
    c = service_citations.cite_pack(session, actor, pack_id, body.application_id)
    return {"id": c.id, "pack_id": c.pack_id, "application_id": c.application_id, "created_at": c.created_at}


@router.get("/evidence/{pack_id}/citations")
def evidence_citations(pack_id: int = PackId, session: Session = Depends(get_session),
                       actor: Actor = Depends(require_login)):
    return service_citations.citations_of_pack(session, actor, pack_id)


AppId = Path(ge=1, le=MAX_ID, description="registration application id")


@router.get("/applications/{application_id}/evidence")
def application_evidence(application_id: int = AppId, session: Session = Depends(get_session),
                         actor: Actor = Depends(require_login)):
    return service_citations.packs_of_application(session, actor, application_id)
