"""The registrant's UDI-DIs page (Order 47 Art.101): its own certificates with the device identifiers
declared for each, and the form to declare one more - the same call as
``POST /api/registration/certificates/{id}/udi-di`` (``service_udi.declare_di``: GTIN check digit, one
certificate per DI, the certificate's own registrant only, audited), and beside each DI the form to
withdraw one declared by mistake (``service_udi.withdraw_di``, with the reasons, audited). The
surveillance registry links an implant to its certificate through these declarations, never by name
or model."""

from __future__ import annotations

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.deps import get_session, pages_router, require_roles
from medreg.core.errors import DomainError, ValidationFailed
from medreg.core.i18n import _
from medreg.core.templating import register_nav, render
from medreg.premarket.registration import queries, service_udi
from medreg.premarket.registration.pages_forms import form_error, see_other

router = pages_router(tags=["registration pages"])
Registrant = Depends(require_roles("registrant"))
Db = Depends(get_session)
FORM = "declare-di"

register_nav("/registration/udi-dis", _("UDI-DIs of my certificates"), roles=["registrant"],
             description=_("Declare the device identifiers of your certificates' products"), order=34)


def _page(request: Request, session: Session, actor: Actor, error=None, status_code: int = 200):
    org = actor.organisation_id
    certificates = [] if org is None else queries.list_certificates(session, actor, registrant_org_id=org,
                                                                     limit=500)
    return render(request, "registration/udi_dis.html", {
        "certificates": certificates,
        "dis": {} if org is None else queries.declared_dis(session, actor, org),
        "error": error, "form": FORM, "done": request.query_params.get("done"),
        "withdrawn": request.query_params.get("withdrawn"),
    }, status_code=status_code)


@router.get("/registration/udi-dis")
def udi_dis(request: Request, session: Session = Db, actor: Actor = Registrant):
    return _page(request, session, actor)


def _certificate_id(form) -> int:
    raw = str(form.get("certificate_id") or "").strip()
    if not raw.isdigit() or len(raw) > 12:
        raise ValidationFailed("Choose one of your certificates.", field="certificate_id")
    return int(raw)


@router.post("/registration/udi-dis")
async def declare(request: Request, session: Session = Db, actor: Actor = Registrant):
    form = await request.form()
    try:
        row = service_udi.declare_di(session, actor, _certificate_id(form), str(form.get("di") or ""))
    except DomainError as err:
        session.rollback()  # not ``refused``: a certificate that is not found is said on the form
        return _page(request, session, actor, form_error(request, FORM, err, form), err.http_status)
    return see_other(f"/registration/udi-dis?done={row.di}#certificate-{row.certificate_id}")


@router.post("/registration/udi-dis/withdraw")
async def withdraw(request: Request, session: Session = Db, actor: Actor = Registrant):
    """Withdraw a DI declared by mistake (``service_udi.withdraw_di``: own certificates, a reason,
    audited)."""
    form = await request.form()
    try:
        row = service_udi.withdraw_di(session, actor, str(form.get("di") or ""),
                                      str(form.get("reason") or "")[:4000])
    except DomainError as err:
        session.rollback()
        return _page(request, session, actor, form_error(request, "withdraw-di", err, form), err.http_status)
    return see_other(f"/registration/udi-dis?withdrawn={row.di}#certificate-{row.certificate_id}")
