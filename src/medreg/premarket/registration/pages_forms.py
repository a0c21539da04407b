"""Form handling of the registration pages: the posted fields of each action, the error shown next to
its field, and the pages re-rendered when an action is refused.

Post/Redirect/Get: an action that succeeds redirects (303); one the domain refuses rolls the request's
transaction back (nothing of it is written) and re-renders the page with the translated message next
to the field at fault, with the error's HTTP status.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from medreg.core.actor import Actor
from medreg.core.clock import to_shanghai, today_shanghai
from medreg.core.db import MAX_ID
from medreg.core.errors import DomainError, NotFound, ValidationFailed
from medreg.core.i18n import _, translate_error
from medreg.core.related import related_links
from medreg.core.templating import render, request_locale
from medreg.premarket.innovation import queries as innovation_queries
from medreg.premarket.registration import queries, service
from medreg.premarket.registration import service_support as support
from medreg.premarket.registration.rules import ConditionalGround, ConsultationTopic
from medreg.premarket.registration.schemas import CATEGORY_PATTERNS, CHANGEABLE_FIELDS
from medreg.premarket.registration.states import CONSULTATION_TABLE
from medreg.premarket.registration.web_common import labels

MAX_CONDITIONS = 5  # rows of the conditional-approval form
PRODUCT_FIELDS = ("product_name", "model_spec", "structure_composition", "intended_use")


@dataclass
class FormError:
    """A refused form: which form, which field, the message in the page's language."""

    form: str
    message: str
    field: str | None = None
    code: str = "error"
    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    details: dict = dataclasses.field(default_factory=dict)

    def on(self, form: str, name: str | None = None) -> bool:
        return self.form == form and (name is None or self.field == name)


def form_error(request: Request, form: str, err: DomainError,
               values: FormData | dict | None = None) -> FormError:
    kept = {k: v for k, v in (values or {}).items()
            if k not in ("csrf_token", "password") and isinstance(v, str)}
    return FormError(form=form, message=translate_error(err, request_locale(request)), field=err.field,
                     code=err.code, values=kept, details=err.details)


def refused(session: Session, err: DomainError) -> None:
    """Undo what the refused action wrote; a record the caller may not see stays a 404 page."""
    session.rollback()
    if isinstance(err, NotFound) and err.field in ("app_id", "consultation_id", "certificate_id"):
        raise err


def see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def number(form: FormData, name: str, *, required: bool = True) -> int | None:
    raw = text(form, name)
    if not raw and not required:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise ValidationFailed(_("'{name}' must be a whole number."), field=name, params={"name": name})
    return int(raw)


def day(form: FormData, name: str, *, required: bool = True) -> date | None:
    raw = text(form, name)
    if not raw and not required:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(_("'{name}' must be a date (YYYY-MM-DD)."), field=name,
                               params={"name": name}) from None


def version_of(form: FormData) -> int:
    try:
        return int(text(form, "expected_version"))
    except ValueError:
        raise ValidationFailed(_("Reload the page: the version of the record is missing."),
                               field="expected_version") from None


# ---- the new-application form --------------------------------------------------------------------
def application_from_form(form: FormData) -> dict[str, Any]:
    """The fields of ``RegistrationCreate`` from the form (empty inputs are left out)."""
    kind = text(form, "kind") or "initial"
    data: dict[str, Any] = {"kind": kind}
    if kind == "initial":
        for name in (*PRODUCT_FIELDS, "device_class", "subcatalogue_code", *CATEGORY_PATTERNS):
            if text(form, name):
                data[name] = text(form, name)
        data["innovation_application_id"] = number(form, "innovation_application_id", required=False)
    else:
        data["registration_id"] = number(form, "registration_id", required=False)
        changes = {k: text(form, f"change_{k}") for k in CHANGEABLE_FIELDS if text(form, f"change_{k}")}
        if kind == "change" or changes:
            data["changes"] = changes
    return data


def application_choices(session: Session, actor: Actor) -> dict:
    """The approved innovative applications and the valid certificates the registrant may build on."""
    innovations = innovation_queries.list_for(session, actor, "approved", limit=500)
    certificates = queries.list_certificates(session, actor, registrant_org_id=actor.organisation_id,
                                             status="valid", limit=500)
    return {"innovations": innovations, "certificates": certificates, "classes": ["II", "III"],
            "kinds": ["initial", "change", "renewal"], "changeable": CHANGEABLE_FIELDS,
            "category_patterns": CATEGORY_PATTERNS}


# ---- actions on an application ---------------------------------------------------------------------
def _conditions(form: FormData) -> list[dict]:
    rows = []
    for i in range(1, MAX_CONDITIONS + 1):
        desc, due = text(form, f"condition_{i}_description"), text(form, f"condition_{i}_due_on")
        if desc or due:
            rows.append({"description": desc, "due_on": due})
    return rows


def _approve_conditionally(session, actor, app_id, form, version):
    data = {"ground": text(form, "ground"), "conditions": _conditions(form),
            "valid_until": text(form, "valid_until") or None, "reasons": text(form, "reasons") or None}
    return service.approve_conditionally(session, actor, app_id, data, password=text(form, "password"),
                                         expected_version=version)


def _with(fn, *names: str, optional: tuple[str, ...] = ()):
    """An action whose service takes ``expected_version`` and the named text fields."""
    def call(session, actor, app_id, form, version):
        kw = {n: text(form, n) for n in names}
        kw.update({n: text(form, n) or None for n in optional})
        return fn(session, actor, app_id, expected_version=version, **kw)
    return call


def _unversioned(fn):
    """A legal act without a version in its service: check the version the user saw first."""
    def call(session, actor, app_id, form, version):
        support.load(session, actor, app_id, version)
        return fn(session, actor, app_id)
    return call


ACTIONS = {
    "submit": _with(service.submit),
    "accept": _with(service.accept),
    "deem_accepted": _unversioned(service.deem_accepted),
    "request_corrections": _with(service.request_corrections, "notes"),
    "provide_corrections": _with(service.provide_corrections),
    "refuse_acceptance": _with(service.refuse_acceptance, "reasons"),
    "start_review": _with(service.start_review),
    "request_supplement": _with(service.request_supplement, "request"),
    "provide_supplement": _with(service.provide_supplement),
    "terminate_review": _unversioned(service.terminate_review),
    "propose_negative": _with(service.propose_negative, "reasons"),
    "file_objection": _with(service.file_objection, "objection"),
    "close_objection_window": _with(service.close_objection_window),
    "uphold_objection": _with(service.uphold_objection, "answer"),
    "dismiss_objection": _with(service.dismiss_objection, "answer"),
    "complete_review": _with(service.complete_review, "summary"),
    "approve": _with(service.approve, "password", optional=("reasons",)),
    "approve_conditionally": _approve_conditionally,
    "refuse": _with(service.refuse, "password", "reasons"),
    "issue_certificate": _with(service.issue_certificate),
    "withdraw": _with(service.withdraw, "reason"),
}
SIGNED = frozenset({"approve", "approve_conditionally", "refuse"})


def timeline_of(session: Session, actor: Actor, app_id: int) -> list[dict]:
    """The audit events of an application, their instants in Beijing time."""
    return [{"at": to_shanghai(e.at), "action": e.action, "actor": e.actor_username, "note": e.note}
            for e in queries.application_history(session, actor, app_id)]


def may_open_innovation(session: Session, actor: Actor, innovation_id: int | None) -> bool:
    """Link the innovative application only for whom may open it (the administrator sees registration
    cases and consultations but no innovative application: docs/security-model.md)."""
    if not innovation_id:
        return False
    try:
        innovation_queries.get_for(session, actor, innovation_id)
    except NotFound:
        return False
    return True


def render_case(request: Request, session: Session, actor: Actor, app_id: int,
                error: FormError | None = None, status_code: int = 200) -> Response:
    """The case page: fields, clocks, documents and notices, consultations, timeline, and the forms
    of the actions the caller may take now."""
    app = queries.get_application(session, actor, app_id)
    today = today_shanghai()
    produced = queries.list_certificates(session, actor, application_id=app.id, limit=1)
    consultations = [c for c in queries.list_consultations(session, actor, limit=500)
                     if c.registration_application_id == app.id]
    context = {
        **labels(),
        "app": app,
        "today": today,
        "clocks": queries.application_clocks(session, actor, app_id, today),
        "allowed": support.allowed_actions(session, actor, app_id),
        "timeline": timeline_of(session, actor, app_id),
        "certificate": produced[0] if produced else None,
        "base_certificate": queries.get_certificate(session, actor, app.registration_id)
        if app.registration_id else None,
        "consultations": consultations,
        "grounds": [g.value for g in ConditionalGround],
        "max_conditions": MAX_CONDITIONS,
        "signed": SIGNED,
        "error": error,
        # links registered by higher domains (e.g. the AI evidence packs cited on this application)
        "related": related_links(session, actor, "registration_application", app.id),
        "innovation_link": may_open_innovation(session, actor, app.innovation_application_id),
    }
    return render(request, "registration/case.html", context, status_code=status_code)


# ---- consultations ---------------------------------------------------------------------------------
def consultation_from_form(form: FormData) -> dict[str, Any]:
    return {"innovation_application_id": number(form, "innovation_application_id"),
            "registration_application_id": number(form, "registration_application_id", required=False),
            "topic": text(form, "topic"), "question": text(form, "question")}


CONSULTATION_ACTIONS = {
    "answer": lambda s, a, cid, form, v: service.answer_consultation(
        s, a, cid, text(form, "answer"), expected_version=v),
    "decline": lambda s, a, cid, form, v: service.decline_consultation(
        s, a, cid, text(form, "reasons"), expected_version=v),
    "schedule_meeting": lambda s, a, cid, form, v: service.schedule_meeting(
        s, a, cid, meeting_on=day(form, "meeting_on"), details=text(form, "details"), expected_version=v),
    "issue_minutes": lambda s, a, cid, form, v: service.issue_minutes(
        s, a, cid, text(form, "minutes"), expected_version=v),
    "confirm_minutes": lambda s, a, cid, form, v: service.confirm_minutes(s, a, cid, expected_version=v),
    "withdraw": lambda s, a, cid, form, v: service.withdraw_consultation(s, a, cid, expected_version=v),
}


def render_consultations(request: Request, session: Session, actor: Actor, error: FormError | None = None,
                         status_code: int = 200) -> Response:
    context = {**labels(), "items": queries.list_consultations(session, actor, limit=500),
               "topics": [t.value for t in ConsultationTopic], "error": error,
               "innovations": innovation_queries.list_for(session, actor, "approved", limit=500)
               if actor.has("registrant") else [],
               "applications": queries.list_applications(session, actor, limit=500)
               if actor.has("registrant") else []}
    return render(request, "registration/consultations.html", context, status_code=status_code)


def render_consultation(request: Request, session: Session, actor: Actor, consultation_id: int,
                        error: FormError | None = None, status_code: int = 200) -> Response:
    c = queries.get_consultation(session, actor, consultation_id)
    mine = actor.has("registrant") and actor.organisation_id == c.registrant_org_id
    allowed = [a for a in CONSULTATION_TABLE.allowed_actions(c.status, actor.workflow_roles)
               if (a in ("withdraw", "confirm_minutes")) == mine
               and (mine or "office" in actor.workflow_roles)]
    context = {**labels(), "c": c, "error": error, "allowed": allowed, "today": today_shanghai(),
               "clock": queries.consultation_clock(session, actor, consultation_id, today_shanghai()),
               "innovation_link": may_open_innovation(session, actor, c.innovation_application_id)}
    return render(request, "registration/consultation.html", context, status_code=status_code)


# ---- certificates ----------------------------------------------------------------------------------
def render_certificate(request: Request, session: Session, actor: Actor, certificate_id: int,
                       error: FormError | None = None, status_code: int = 200) -> Response:
    cert = queries.get_certificate(session, actor, certificate_id)
    mine = actor.has("registrant") and actor.organisation_id == cert.registrant_org_id
    context = {**labels(), "cert": cert, "mine": mine, "error": error, "today": today_shanghai(),
               "can_cancel": bool(actor.workflow_roles & {"office", "province", "admin"})}
    return render(request, "registration/certificate.html", context, status_code=status_code)
