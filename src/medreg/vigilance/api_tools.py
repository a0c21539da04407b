"""JSON API of the vigilance tools: the IMDRF code picker and suggestions, the Order 1 reporting clocks,
duplicate candidates with the reviewer's merge / dismiss decision, and cluster alerts. Thin routes."""

from datetime import datetime

from fastapi import Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.deps import api_router, get_session, require_login
from medreg.core.errors import ValidationFailed
from medreg.core.i18n import translate
from medreg.core.templating import request_locale
from medreg.vigilance import aet_search, bulk, deadlines, event_types, export, review, service_import
from medreg.vigilance.aet import terminology
from medreg.vigilance.api import MAX_ID, Body

router = api_router(prefix="/api/vigilance", tags=["vigilance"])
MAX_IMPORT_BYTES = 50 * 1024 * 1024  # larger files: the CLI
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SuggestBody(Body):
    narrative: str = Field(default="", max_length=20_000)
    outcome: deadlines.Outcome | None = None


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


# ---- duplicates and clusters ----------------------------------------------------------------------
class DecisionBody(Body):
    case_a: int = Field(ge=1, le=MAX_ID)
    case_b: int = Field(ge=1, le=MAX_ID)
    decision: str = Field(pattern=r"^(merged|dismissed)$")
    note: str | None = Field(default=None, max_length=2000)


class PairOut(BaseModel):
    a: int
    b: int
    score: float
    features: dict
    matching: list[str]


class ClusterOut(BaseModel):
    device: str
    lot: str
    province: str | None
    case_ids: list[int]
    count: int
    first_date: str
    last_date: str


@router.get("/duplicates", response_model=list[PairOut])
def duplicate_candidates(
    threshold: float = Query(default=0.8, gt=0, le=1),
    window_days: int = Query(default=30, ge=0, le=365),
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    return [
        PairOut(a=p.a, b=p.b, score=p.score, features=p.features, matching=list(p.matching))
        for p in review.duplicate_candidates(session, actor, threshold=threshold, window_days=window_days)
    ]


@router.post("/duplicates/decide", status_code=201)
def decide_duplicate(
    body: DecisionBody, session: Session = Depends(get_session), actor: Actor = Depends(require_login)
):
    row = review.decide_duplicate(session, actor, body.case_a, body.case_b, body.decision, body.note)
    return {"case_a": row.case_a_id, "case_b": row.case_b_id, "decision": row.decision, "score": row.score}


@router.get("/clusters", response_model=list[ClusterOut])
def cluster_alerts(
    min_events: int = Query(default=3, ge=2, le=1000),
    window_days: int = Query(default=7, ge=0, le=365),
    by_province: bool = False,
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    return [
        ClusterOut(
            device=a.device,
            lot=a.lot,
            province=a.province,
            case_ids=list(a.case_ids),
            count=a.count,
            first_date=a.first_date.isoformat(),
            last_date=a.last_date.isoformat(),
        )
        for a in review.cluster_alerts(
            session, actor, min_events=min_events, window_days=window_days, by_province=by_province
        )
    ]


# ---- imaging and AI event types -------------------------------------------------------------------
@router.get("/event-types")
def list_event_types(group: str | None = Query(default=None, pattern=r"^(imaging|ai)$")):
    """Imaging and AI event types mapped onto IMDRF codes, with the reporting scope (Order 1 Art.18)."""
    return {
        "scope_article": event_types.SCOPE_ARTICLE,
        "release": terminology().version,
        "event_types": [r.__dict__ for r in event_types.event_types() if group in (None, r.group)],
        # named by issue 7, no source found: not event types of the table, each flagged sourced=false
        "unsourced": [dict(r.__dict__, nearest_imdrf_codes=list(r.nearest_imdrf_codes))
                      for r in event_types.unsourced() if group in (None, r.group)],
    }


# ---- bulk import ----------------------------------------------------------------------------------
@router.post("/import", status_code=201)
async def import_reports(
    request: Request,
    format: str = Query(pattern=r"^(csv|xlsx|openfda)$"),
    reporter_role: deadlines.ReporterRole = deadlines.ReporterRole.REGISTRANT,
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    """The request body is the file (CSV or openFDA JSON, UTF-8). All or nothing: a file with bad rows is
    refused (422) with every bad row in ``details.errors``."""
    raw = await request.body()
    if len(raw) > MAX_IMPORT_BYTES:
        raise ValidationFailed(
            "The file is larger than {limit} bytes.", field="file", params={"limit": MAX_IMPORT_BYTES}
        )
    parsed = service_import.parse_file(raw, format, reporter_role=reporter_role.value)
    result = service_import.import_reports(session, actor, parsed)
    return {"created": result.created, "unmapped_fda_terms": result.unmapped}


@router.post("/import/jobs", status_code=202)
async def start_bulk_import(
    request: Request,
    filename: str = Query(default="reports.csv", min_length=5, max_length=255),
    batch: int = Query(default=5000, ge=10, le=50_000),
    format: str | None = Query(default=None, pattern=r"^(csv|xlsx|openfda)$"),
    reporter_role: deadlines.ReporterRole | None = None,
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    """A large CSV, XLSX or openFDA JSON file (the request body) imported by a resumable background job;
    poll ``/api/jobs/{id}`` (the jobs page and ``medreg jobs show``) for progress and the result."""
    job = bulk.start_bulk_import(session, actor, filename=filename, data=await request.body(), batch=batch,
                                 fmt=format, reporter_role=reporter_role.value if reporter_role else None)
    session.flush()
    return bulk.job_result(job)


# ---- export ---------------------------------------------------------------------------------------
@router.get("/export")
def export_reports(
    format: str = Query(default="json", pattern=r"^(csv|xlsx|json|fhir)$"),
    status: str | None = Query(default=None, max_length=20, pattern=r"^[a-z_]+$"),
    outcome: deadlines.Outcome | None = None,
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    """The reports the caller may see, as CSV, XLSX, JSON rows or a FHIR R5 Bundle of AdverseEvent."""
    items = export.cases(session, actor, status=status, outcome=outcome)
    if format == "fhir":
        return JSONResponse(export.to_fhir_bundle(items), media_type="application/fhir+json")
    rows = [export.row(c) for c in items]
    if format == "xlsx":
        return Response(
            export.to_xlsx(rows),
            media_type=XLSX,
            headers={"Content-Disposition": 'attachment; filename="vigilance-reports.xlsx"'},
        )
    if format == "csv":
        return Response(
            export.to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="vigilance-reports.csv"'},
        )
    return rows
