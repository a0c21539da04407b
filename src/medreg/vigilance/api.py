"""JSON API of adverse-event reporting (Order 1): reports and their versions, the review workflow,
quality (returned on every save so the reporter can fix the report), late and quality figures per
reporter and registrant, the IMDRF code picker and suggestions, and the statutory clocks.

Thin routes: parse, one service or query call, return a schema. Errors are 4xx with field and reason.
"""


from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.deps import MAX_ID, api_router, get_session, require_login
from medreg.core.i18n import translate
from medreg.core.templating import request_locale
from medreg.vigilance import deadlines, queries, service
from medreg.vigilance.quality import Quality
from medreg.vigilance.schemas import CaseRead, ReportContent, VersionRead
from medreg.vigilance.states import VersionKind

router = api_router(prefix="/api/vigilance", tags=["vigilance"])
CaseId = Path(ge=1, le=MAX_ID, description="adverse-event case id")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Versioned(Body):
    expected_version: int = Field(ge=1, le=MAX_ID, description="the version you saw")


class UpdateBody(Versioned):
    content: ReportContent


class ReturnBody(Versioned):
    reason: str = Field(min_length=1, max_length=2000)


class VersionBody(Versioned):
    kind: VersionKind
    content: ReportContent


class ReasonOut(BaseModel):
    field: str
    message: str
    msgid: str
    params: dict


class PartOut(BaseModel):
    name: str
    points: float
    out_of: int
    reasons: list[ReasonOut]


class QualityOut(BaseModel):
    score: int
    parts: list[PartOut]


class SavedOut(BaseModel):
    case: CaseRead
    quality: QualityOut


class DetailOut(SavedOut):
    versions: list[VersionRead]
    allowed_actions: list[str]


def _quality(q: Quality, locale: str) -> QualityOut:
    return QualityOut(
        score=q.score,
        parts=[
            PartOut(
                name=p.name,
                points=round(p.points, 2),
                out_of=p.out_of,
                reasons=[
                    ReasonOut(
                        field=r.field,
                        message=translate(r.message, locale, **r.params),
                        msgid=r.message,
                        params=r.params,
                    )
                    for r in p.reasons
                ],
            )
            for p in q.parts
        ],
    )


def _saved(request: Request, session: Session, actor: Actor, case) -> SavedOut:
    q = queries.case_quality(session, actor, case.id, utcnow())
    return SavedOut(case=CaseRead.model_validate(case), quality=_quality(q, request_locale(request)))


# ---- reports --------------------------------------------------------------------------------------
@router.get("/reports", response_model=list[CaseRead])
def list_reports(
    status: str | None = Query(default=None, max_length=20, pattern=r"^[a-z_]+$"),
    outcome: deadlines.Outcome | None = None,
    late: bool | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=10**6),
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    return queries.list_cases(
        session, actor, status=status, outcome=outcome, late=late, limit=limit, offset=offset
    )


@router.post("/reports", response_model=SavedOut, status_code=201)
def create_report(
    body: ReportContent,
    request: Request,
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    return _saved(request, session, actor, service.create_report(session, actor, body))


@router.get("/reports/{case_id}", response_model=DetailOut)
def report_detail(
    request: Request,
    case_id: int = CaseId,
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    saved = _saved(request, session, actor, service.load(session, actor, case_id))
    return DetailOut(
        **saved.model_dump(),
        versions=queries.versions(session, actor, case_id),
        allowed_actions=queries.allowed_actions(session, actor, case_id),
    )


@router.post("/reports/{case_id}/update", response_model=SavedOut)
def update_report(
    body: UpdateBody,
    request: Request,
    case_id: int = CaseId,
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    case = service.update_draft(session, actor, case_id, body.content, expected_version=body.expected_version)
    return _saved(request, session, actor, case)


@router.post("/reports/{case_id}/submit", response_model=SavedOut)
def submit_report(
    body: Versioned,
    request: Request,
    case_id: int = CaseId,
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    case = service.submit(session, actor, case_id, expected_version=body.expected_version)
    return _saved(request, session, actor, case)


@router.post("/reports/{case_id}/return", response_model=SavedOut)
def return_report(
    body: ReturnBody,
    request: Request,
    case_id: int = CaseId,
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    case = service.return_for_correction(
        session, actor, case_id, body.reason, expected_version=body.expected_version
    )
    return _saved(request, session, actor, case)


@router.post("/reports/{case_id}/accept", response_model=SavedOut)
def accept_report(
    body: Versioned,
    request: Request,
    case_id: int = CaseId,
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    case = service.accept(session, actor, case_id, expected_version=body.expected_version)
    return _saved(request, session, actor, case)


@router.post("/reports/{case_id}/versions", response_model=SavedOut)
def add_version(
    body: VersionBody,
    request: Request,
    case_id: int = CaseId,
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    case = service.add_version(
        session, actor, case_id, body.content, body.kind, expected_version=body.expected_version
    )
    return _saved(request, session, actor, case)


@router.post("/reports/{case_id}/close", response_model=SavedOut)
def close_report(
    body: Versioned,
    request: Request,
    case_id: int = CaseId,
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    case = service.close(session, actor, case_id, expected_version=body.expected_version)
    return _saved(request, session, actor, case)


@router.get("/stats/{by}")
def per_organisation(
    by: str = Path(pattern=r"^(reporter|registrant)$"),
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    return queries.per_organisation(session, actor, by)
