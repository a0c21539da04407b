"""HTML pages of export sales certificates (出口销售证明, NMPA 2025 No.126): the public check
(``/verify/export``, no login; the JSON twin is ``/api/verify/export``), the list with the issue form
of the provincial bureau, the certificate with its verification code and QR code, its PDF, and
revocation (公示作废, Art.10-11). Thin routes over ``service_export`` and ``queries_export``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from medreg.core import i18n, qr
from medreg.core.actor import Actor
from medreg.core.clock import today_shanghai, utcnow
from medreg.core.deps import RecordId, current_actor, get_session, pages_router, require_roles
from medreg.core.errors import DomainError
from medreg.core.i18n import _
from medreg.core.templating import env, register_nav, render, request_locale
from medreg.premarket.registration import export_rules, queries_export, service_export
from medreg.premarket.registration.pages_forms import form_error, refused, see_other, text, version_of

router = pages_router(tags=["export certificate pages"])
Db = Depends(get_session)
Holder = Depends(require_roles("registrant", "reviewer", "admin"))

register_nav("/registration/export-certificates", _("Export certificates"),
             roles=["registrant", "province", "office", "admin"],
             description=_("Export sales certificates (NMPA 2025 No.126) with their verification codes"),
             order=34)
register_nav("/verify/export", _("Verify an export certificate"), roles=None,
             description=_("Check an export sales certificate by its number and verification code"), order=92)

EXPORT_STATUS_LABELS = {
    "valid": _("Valid"),
    "expired": _("Expired"),
    "revoked": _("Revoked"),
    "lapsed": _("Lapsed (registration certificate cancelled)"),
}


def verification_url(request: Request, number_en: str, code: str) -> str:
    """The address the QR code holds: this server's public check with the number and the code."""
    base = str(request.base_url).rstrip("/")
    return f"{base}/verify/export?{urlencode({'number': number_en, 'code': code})}"


def _context(request: Request, export) -> dict:
    url = verification_url(request, export.number_en, export.verification_code)
    return {"export": export, "labels": EXPORT_STATUS_LABELS, "verify_url": url,
            "qr_svg": qr.svg(url, module=3, title=export.number_en)}


@router.get("/verify/export")
def verify(request: Request, number: str = Query(default="", max_length=40),
           code: str = Query(default="", max_length=40), session: Session = Db,
           actor: Actor = Depends(current_actor)):
    asked = bool(number.strip() and code.strip())
    found = (queries_export.verify_export_certificate(session, number, code, today_shanghai())
             if asked else None)
    return render(request, "registration/verify_export.html",
                  {"number": number, "code": code, "asked": asked, "found": found,
                   "labels": EXPORT_STATUS_LABELS})


def _list(request: Request, session: Session, actor: Actor, error=None, status_code: int = 200):
    items = queries_export.list_export_certificates(session, actor, today_shanghai())
    may_issue = bool(actor.workflow_roles & {"province", "admin"})
    return render(request, "registration/export_certificates.html",
                  {"items": items, "labels": EXPORT_STATUS_LABELS, "may_issue": may_issue, "error": error},
                  status_code=status_code)


@router.get("/registration/export-certificates")
def export_certificates(request: Request, session: Session = Db, actor: Actor = Holder):
    return _list(request, session, actor)


async def posted(request: Request) -> FormData:
    return await request.form()


Form = Depends(posted)


@router.post("/registration/export-certificates")
def issue(request: Request, form: FormData = Form, session: Session = Db, actor: Actor = Holder):
    numbers = [n for n in text(form, "registration_numbers").replace(",", "\n").splitlines() if n.strip()]
    data: dict = {"registration_numbers": numbers}
    if text(form, "valid_until"):
        data["valid_until"] = text(form, "valid_until")
    try:
        export = service_export.issue_export_certificate(session, actor, data)
    except DomainError as err:
        refused(session, err)
        return _list(request, session, actor, form_error(request, "issue", err, form), err.http_status)
    return see_other(f"/registration/export-certificates/{export.id}?done=issue")


def _letter_code(export) -> str | None:
    parsed = export_rules.parse_export_number(export.number_en)
    return parsed.letter_code if parsed else None


def _detail(request: Request, session: Session, actor: Actor, export_id: int, error=None,
            status_code: int = 200):
    export = queries_export.get_export_certificate(session, actor, export_id, today_shanghai())
    roles = actor.workflow_roles
    issuer = "province" in roles and service_export.letter_code_of(actor) == _letter_code(export)
    may_revoke = export.status != "revoked" and ("admin" in roles or issuer)
    return render(request, "registration/export_certificate.html",
                  {**_context(request, export), "may_revoke": may_revoke, "error": error},
                  status_code=status_code)


@router.get("/registration/export-certificates/{export_id:int}")
def export_certificate(request: Request, export_id: RecordId, session: Session = Db, actor: Actor = Holder):
    return _detail(request, session, actor, export_id)


@router.get("/registration/export-certificates/{export_id:int}/pdf")
def export_certificate_pdf(request: Request, export_id: RecordId, session: Session = Db,
                           actor: Actor = Holder) -> Response:
    from weasyprint import HTML  # imported on use: it loads Pango

    export = queries_export.get_export_certificate(session, actor, export_id, today_shanghai())
    locale = request_locale(request)
    token = i18n.current_locale.set(locale)
    try:
        html = env.get_template("registration/export_certificate_pdf.html").render(
            {"locale": locale, "now": utcnow(), **_context(request, export)})
    finally:
        i18n.current_locale.reset(token)
    return Response(HTML(string=html).write_pdf(), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{export.number_en}.pdf"'})


@router.post("/registration/export-certificates/{export_id:int}/revoke")
def revoke(request: Request, export_id: RecordId, form: FormData = Form, session: Session = Db,
           actor: Actor = Holder):
    try:
        service_export.revoke_export_certificate(session, actor, export_id, text(form, "reason"),
                                                 expected_version=version_of(form))
    except DomainError as err:
        refused(session, err)
        return _detail(request, session, actor, export_id, form_error(request, "revoke", err, form),
                       err.http_status)
    return see_other(f"/registration/export-certificates/{export_id}?done=revoke")
