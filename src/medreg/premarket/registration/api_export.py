"""JSON API of export sales certificates (出口销售证明, NMPA 2025 No.126): the public check
(``GET /api/verify/export?number=…&code=…``, no login) and, for the holder and the regulator, list,
issue, read and revoke. The HTML twins are in ``pages_export``.
"""

from fastapi import Depends, Path, Query
from sqlalchemy.orm import Session

from medreg.core import clock
from medreg.core.actor import Actor
from medreg.core.db import MAX_ID
from medreg.core.deps import api_router, current_actor, get_session, require_login
from medreg.core.errors import NotFound
from medreg.premarket.registration import queries_export, service_export
from medreg.premarket.registration.schemas import (
    ExportCertificateCreate,
    ExportCertificateRead,
    ExportRevoke,
    ExportVerification,
)

router = api_router(prefix="/api", tags=["export certificates"])
ExportId = Path(ge=1, le=MAX_ID, description="export certificate id")
Number = Query(max_length=40, description="京药监械出2026000001号 or No.MDBJ2026000001")
Code = Query(max_length=40, description="the verification code printed on the certificate")
NO_MATCH = "No export certificate matches this number and verification code."


@router.get("/verify/export", response_model=ExportVerification)
def verify(number: str = Number, code: str = Code, session: Session = Depends(get_session),
           actor: Actor = Depends(current_actor)):
    """Public: the certificate, its holder, devices, dates and status (valid, expired, revoked, lapsed).
    A wrong code and an unknown number are the same 404."""
    found = queries_export.verify_export_certificate(session, number, code, clock.today_shanghai())
    if found is None:
        raise NotFound(NO_MATCH, field="number")
    return found


@router.get("/registration/export-certificates", response_model=list[ExportCertificateRead])
def list_exports(session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    return queries_export.list_export_certificates(session, actor, clock.today_shanghai())


@router.post("/registration/export-certificates", response_model=ExportCertificateRead, status_code=201)
def issue(body: ExportCertificateCreate, session: Session = Depends(get_session),
          actor: Actor = Depends(require_login)):
    export = service_export.issue_export_certificate(session, actor, body)
    return queries_export.get_export_certificate(session, actor, export.id, clock.today_shanghai())


@router.get("/registration/export-certificates/{export_id}", response_model=ExportCertificateRead)
def read(export_id: int = ExportId, session: Session = Depends(get_session),
         actor: Actor = Depends(require_login)):
    return queries_export.get_export_certificate(session, actor, export_id, clock.today_shanghai())


@router.post("/registration/export-certificates/{export_id}/revoke", response_model=ExportCertificateRead)
def revoke(body: ExportRevoke, export_id: int = ExportId, session: Session = Depends(get_session),
           actor: Actor = Depends(require_login)):
    service_export.revoke_export_certificate(session, actor, export_id, body.reason,
                                             expected_version=body.expected_version)
    return queries_export.get_export_certificate(session, actor, export_id, clock.today_shanghai())
