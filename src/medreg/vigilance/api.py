"""JSON API of adverse-event reporting (Order 1): reports and their versions, the review workflow,
quality (returned on every save so the reporter can fix the report), late and quality figures per
reporter and registrant, the IMDRF code picker and suggestions, and the statutory clocks.

Thin routes: parse, one service or query call, return a schema. Errors are 4xx with field and reason.
"""

from datetime import datetime

from fastapi import Depends, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.deps import api_router, get_session, require_login
from medreg.core.i18n import translate
from medreg.core.templating import request_locale
from medreg.vigilance import aet_search, deadlines, queries, service
from medreg.vigilance.aet import terminology
from medreg.vigilance.quality import Quality
from medreg.vigilance.schemas import CaseRead, ReportContent, VersionRead
from medreg.vigilance.states import VersionKind

router = api_router(prefix="/api/vigilance", tags=["vigilance"])
MAX_ID = 2**31 - 1
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


class SuggestBody(Body):
    narrative: str = Field(default="", max_length=20_000)
    outcome: deadlines.Outcome | None = None


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


class TermOut(BaseModel):
    code: str
    annex: str
    term: str
    definition: str
    level: int
    selectable: bool
    status: str


class SearchOut(BaseModel):
    query: str
    release: str
    note: str | None
    hits: list[TermOut]


class SuggestionOut(BaseModel):
    code: str
    term: str
    annex: str
    score: float
    reason: str


class SuggestOut(BaseModel):
    note: str | None
    suggestions: list[SuggestionOut]


class DeadlineOut(BaseModel):
    duty: str
    description: str
    article: str
    limit: int
    unit: str
    due_on: str
    due_at: datetime
    rolled_due_on: str


class ClocksOut(BaseModel):
    deadlines: list[DeadlineOut]
    no_duty: str | None = None
    article: str | None = None


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


def _term(t) -> TermOut:
    return TermOut(
        code=t.code,
        annex=t.annex,
        term=t.term,
        definition=t.definition,
        level=t.level,
        selectable=t.selectable,
        status=t.status,
    )


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


# ---- IMDRF code picker and suggestions ------------------------------------------------------------
@router.get("/aet/search", response_model=SearchOut)
def aet_search_route(
    request: Request,
    q: str = Query(max_length=200),
    annex: str | None = Query(default=None, pattern=r"^[A-G]{1,7}$"),
    selectable_only: bool = False,
    limit: int = Query(default=20, ge=1, le=200),
):
    aet = terminology()
    result = aet_search.search(aet, q, annexes=annex, selectable_only=selectable_only, limit=limit)
    note = translate(result.note, request_locale(request)) if result.note else None
    return SearchOut(
        query=result.query, release=aet.version, note=note, hits=[_term(h.term) for h in result.hits]
    )


@router.get("/aet/codes/{code}")
def aet_code(code: str = Path(max_length=8, pattern=r"^[A-Ga-g][0-9]{2,7}$"), request: Request = None):
    aet = terminology()
    check = aet.check(code)
    t = aet.get(code)
    return {
        "code": code.upper(),
        "valid": check.ok,
        "reason": translate(check.reason, request_locale(request), **check.params) if check.reason else None,
        "term": _term(t) if t else None,
        "path": [_term(p) for p in aet.path(code)],
        "children": [_term(c) for c in aet.children(code.upper())],
    }


@router.post("/aet/suggest", response_model=SuggestOut)
def aet_suggest(body: SuggestBody, request: Request, actor: Actor = Depends(require_login)):
    aet, locale = terminology(), request_locale(request)
    out = aet_search.suggest(aet, body.narrative, outcome=body.outcome)
    note = aet_search.no_chinese_note(aet, body.narrative)
    return SuggestOut(
        note=translate(note, locale) if note else None,
        suggestions=[
            SuggestionOut(
                code=s.code,
                term=s.term,
                annex=s.annex,
                score=s.score,
                reason=translate(s.reason, locale, **s.params),
            )
            for s in out
        ],
    )


# ---- statutory clocks (Order 1) -------------------------------------------------------------------
@router.get("/clocks", response_model=ClocksOut)
def clocks(
    request: Request,
    outcome: deadlines.Outcome,
    reporter_role: deadlines.ReporterRole,
    aware_at: AwareDatetime,
    overseas: bool = False,
    cluster: bool = False,
):
    locale = request_locale(request)
    duties = deadlines.reporting_duties(outcome, reporter_role, overseas=overseas, cluster=cluster)
    if isinstance(duties, deadlines.NoDuty):
        return ClocksOut(deadlines=[], no_duty=translate(duties.reason, locale), article=duties.article)
    out = []
    for duty in duties:
        d = deadlines.deadline(duty, aware_at)
        out.append(
            DeadlineOut(
                duty=duty.key,
                description=translate(duty.description, locale),
                article=duty.article,
                limit=duty.limit,
                unit=duty.unit.value,
                due_on=d.due_on.isoformat(),
                due_at=d.due_at,
                rolled_due_on=d.rolled_due_on.isoformat(),
            )
        )
    return ClocksOut(deadlines=out)
