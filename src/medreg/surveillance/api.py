"""JSON API of active surveillance: critical values, registry import and procedures (tenancy),
monitors and their looks (the boundary chart's points), monitoring runs and alert cases (thin)."""

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session

from medreg.core import clock
from medreg.core.actor import Actor
from medreg.core.db import MAX_ID
from medreg.core.deps import api_router, get_session, require_login
from medreg.core.errors import ValidationFailed
from medreg.evidence import service as evidence
from medreg.surveillance import (
    queries,
    queries_studies,
    service,
    service_alerts,
    service_citations,
    service_monitoring,
    service_stop,
)
from medreg.surveillance.maxsprt import poisson_critical_value
from medreg.surveillance.protocol_form import build_protocol
from medreg.surveillance.schemas import (
    AlertAction,
    AlertDetail,
    AlertRead,
    CriticalValueRead,
    ImportRead,
    LookRead,
    MonitorCreate,
    MonitorLooks,
    MonitorRead,
    MonitorStop,
    ProcedurePage,
    ProcedureRead,
    RunBody,
)
from medreg.surveillance.schemas_studies import (
    AnalysisRead,
    CitationRead,
    CiteBody,
    ProtocolCreate,
    ProtocolRead,
    StudyRead,
    StudyReportRead,
    StudyRunBody,
)
from medreg.surveillance.service_delta import delta_rule

router = api_router(prefix="/api/surveillance", tags=["surveillance"])
MAX_CSV = 50 * 1024 * 1024


@router.get("/critical-value", response_model=CriticalValueRead)
def critical_value(
    sample_size: float = Query(gt=0, le=1000),
    alpha: float = Query(0.05, gt=0, le=0.5),
    min_events: int = Query(1, ge=1, le=100),
):
    r = poisson_critical_value(sample_size, alpha, min_events=min_events)
    return CriticalValueRead(
        critical_value=r.critical_value, alpha=r.alpha, sample_size=sample_size, min_events=min_events
    )


@router.post("/import", response_model=ImportRead, status_code=201)
async def import_extract(
    request: Request,
    filename: str = Query("extract.csv", max_length=200),
    hospital: str | None = Query(None, max_length=32),
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    body = await request.body()
    if len(body) > MAX_CSV:
        raise ValidationFailed("The file is too large (at most 50 MB).", field="file")
    # CSV (UTF-8) or XLSX, told apart by the content (a workbook is a ZIP archive)
    return service.import_extract(
        session, actor, body, filename=filename, today=clock.today_shanghai(), hospital_code=hospital
    )


@router.get("/procedures", response_model=ProcedurePage)
def procedures(
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    total, rows = queries.list_procedures(session, actor, limit=limit, offset=offset)
    return ProcedurePage(total=total, items=[ProcedureRead.model_validate(r) for r in rows])


@router.get("/monitors", response_model=list[MonitorRead])
def monitors(session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    return queries.list_monitors(session, actor)


@router.get("/monitors/{monitor_id}/looks", response_model=MonitorLooks)
def monitor_looks(
    monitor_id: int = Path(ge=1, le=MAX_ID),
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    monitor, looks = queries.monitor_looks(session, actor, monitor_id)
    return MonitorLooks(
        monitor=MonitorRead.model_validate(monitor),
        looks=[LookRead.model_validate(lk) for lk in looks],
        certificate=queries.device_certificate(session, actor, monitor.udi_di),
        alert_rule=delta_rule(monitor) if monitor.kind == "delta" else None,
    )


@router.post("/monitors", response_model=MonitorRead, status_code=201)
def create_monitor(body: MonitorCreate, session: Session = Depends(get_session),
                   actor: Actor = Depends(require_login)):
    """Define a monitor (monitoring centre): a Poisson MaxSPRT (continuous or group-sequential, its CV
    fixed now) or a DELTA-style propensity-matched comparison (``kind: "delta"``)."""
    return service_monitoring.create_monitor(session, actor, **body.model_dump())


@router.post("/monitors/{monitor_id}/stop", response_model=MonitorRead)
def stop_monitor(body: MonitorStop, monitor_id: int = Path(ge=1, le=MAX_ID),
                 session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    """Stop an active monitor with the reasons (monitoring centre): no further looks; audited."""
    return service_stop.stop_monitor(session, actor, monitor_id, body.reason)


@router.post("/run", response_model=list[LookRead])
def run(body: RunBody, session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    return service_monitoring.run_monitors(session, actor, body.as_of)


@router.get("/alerts", response_model=list[AlertRead])
def alerts(session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    return queries.list_alerts(session, actor)


@router.get("/alerts/{alert_id}", response_model=AlertDetail)
def alert(alert_id: int = Path(ge=1, le=MAX_ID), session: Session = Depends(get_session),
          actor: Actor = Depends(require_login)):
    """The JSON twin of ``/surveillance/alerts/{id}``."""
    a, monitor, look, _looks = queries.get_alert(session, actor, alert_id)
    return AlertDetail(alert=AlertRead.model_validate(a), look=LookRead.model_validate(look),
                       monitor=MonitorRead.model_validate(monitor),
                       allowed_actions=service_alerts.allowed_actions(actor, a),
                       signal_case_href=f"/signals/{a.signal_case_id}" if a.signal_case_id else None)


@router.post("/alerts/{alert_id}/{action}", response_model=AlertRead)
def alert_action(
    body: AlertAction,
    alert_id: int = Path(ge=1, le=MAX_ID),
    action: str = Path(pattern=r"^(investigate|confirm|dismiss|close|raise)$"),
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    """The fallback workflow of an alert without a signal case, or ``raise``: open (or join) its signal
    case. An alert that follows a signal case answers 409 (act on ``/api/signals/cases/{id}``)."""
    if action == "raise":
        return service_alerts.raise_signal_case(session, actor, alert_id,
                                                expected_version=body.expected_version)
    return service_alerts.transition_alert(
        session, actor, alert_id, action, expected_version=body.expected_version, note=body.note
    )


@router.get("/studies", response_model=list[StudyRead])
def studies(session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    return [
        StudyRead(
            protocol=ProtocolRead.model_validate(s.protocol),
            analyses=[AnalysisRead.model_validate(a) for a in s.analyses],
        )
        for s in queries_studies.studies(session, actor)
    ]


@router.post("/studies/protocols", response_model=ProtocolRead, status_code=201)
def register_protocol(body: ProtocolCreate, session: Session = Depends(get_session),
                      actor: Actor = Depends(require_login)):
    """Register a study protocol (timestamped, SHA-256 of its canonical JSON; centre and reviewers)."""
    return evidence.register_protocol(session, actor, build_protocol(body.model_dump()))


@router.get("/studies/protocols/{protocol_id}", response_model=ProtocolRead)
def protocol(protocol_id: int = Path(ge=1, le=MAX_ID), session: Session = Depends(get_session),
             actor: Actor = Depends(require_login)):
    """The JSON twin of ``/surveillance/studies/protocols/{id}``."""
    return queries_studies.read_protocol(session, actor, protocol_id)


@router.get("/studies/analyses/{analysis_id}", response_model=StudyReportRead)
def study_report(
    analysis_id: int = Path(ge=1, le=MAX_ID),
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    """The JSON twin of ``/surveillance/studies/analyses/{id}`` (and of its PDF)."""
    protocol, analysis = queries_studies.read_analysis(session, actor, analysis_id)
    return StudyReportRead(
        protocol=ProtocolRead.model_validate(protocol),
        analysis=AnalysisRead.model_validate(analysis),
        results=analysis.results,
        citations=[
            CitationRead.model_validate(c)
            for c in service_citations.citations_of(session, actor, analysis_id)
        ],
    )


@router.post("/studies/protocols/{protocol_id}/run", response_model=AnalysisRead, status_code=201)
def study_run(
    body: StudyRunBody,
    protocol_id: int = Path(ge=1, le=MAX_ID),
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    from medreg.surveillance.service_studies import run_study  # statsmodels, lifelines: seconds to import

    return run_study(session, actor, protocol_id, data_cutoff=body.data_cutoff, today=clock.today_shanghai())


@router.post("/studies/analyses/{analysis_id}/citations", response_model=CitationRead, status_code=201)
def cite(
    body: CiteBody,
    analysis_id: int = Path(ge=1, le=MAX_ID),
    session: Session = Depends(get_session),
    actor: Actor = Depends(require_login),
):
    """Cite the analysis as real-world evidence in a registration or change-registration case."""
    return service_citations.cite_in_application(
        session, actor, analysis_id, body.application_id, note=body.note
    )
