"""A registrant cites an evidence pack on its change registration application (Measure IV of No. 63: the
evidence for a simplified change registration travels with the change registration case).

``medreg.ai`` sits above ``medreg.premarket`` in the import contract, so it reads the application through
``premarket.registration.queries`` (which applies that domain's tenancy); the citation lives here. Rules
(medreg policy, no legal text sets them): only the pack's organisation may cite it; only on its own change
registration application (kind ``change``); before the licensing decision (not once approved, issued,
refused, withdrawn or refused acceptance); once per pack and application. Each citation is immutable and
writes an audit event on the citation and on the application's own trail.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.ai.models import EvidenceCitation, EvidencePack
from medreg.ai.service_evidence import get_pack
from medreg.core import audit
from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from medreg.core.i18n import _
from medreg.core.related import RelatedLink
from medreg.premarket.registration import queries as registration
from medreg.premarket.registration.states import FINAL, Status

CITATION = "ai_evidence_citation"
APPLICATION = "registration_application"
CLOSED = FINAL | {Status.APPROVED}


def cite_pack(session: Session, actor: Actor, pack_id: int, application_id: int) -> EvidenceCitation:
    if not actor.has(Role.REGISTRANT):
        raise PermissionDenied("Only the registrant may cite its evidence pack.", field="actor")
    pack = get_pack(session, actor, pack_id)
    if pack.organisation_id != actor.organisation_id:
        raise PermissionDenied("Only the registrant may cite its evidence pack.", field="actor")
    app = registration.get_application(session, actor, application_id)
    if app.registrant_org_id != pack.organisation_id:
        raise PermissionDenied("Only the registrant may cite its evidence pack.", field="application_id")
    if app.kind != "change":
        raise ValidationFailed("An evidence pack is cited on a change registration application.",
                               field="application_id")
    if app.status in CLOSED:
        raise ValidationFailed("The application is decided or closed; evidence can no longer be cited.",
                               field="application_id")
    exists = session.scalar(select(EvidenceCitation.id).where(EvidenceCitation.pack_id == pack.id,
                                                              EvidenceCitation.application_id == app.id))
    if exists is not None:
        raise Conflict("This evidence pack is already cited on this application.", field="application_id")
    c = EvidenceCitation(pack_id=pack.id, application_id=app.id, cited_by_user_id=actor.user_id)
    session.add(c)
    session.flush()
    after = {"pack_id": pack.id, "application_id": app.id, "pack_sha256": pack.pack_sha256,
             "outcome": pack.decision.get("outcome")}
    audit.record(session, actor, "ai.evidence.cite", CITATION, c.id, after=after)
    audit.record(session, actor, "ai.evidence.cite", APPLICATION, app.id, after=after)
    return c


def citations_of_pack(session: Session, actor: Actor, pack_id: int) -> list[dict]:
    """The applications a pack is cited on, as far as ``actor`` may see them."""
    get_pack(session, actor, pack_id)
    rows = session.scalars(select(EvidenceCitation).where(EvidenceCitation.pack_id == pack_id)
                           .order_by(EvidenceCitation.id))
    out = []
    for c in rows:
        try:
            a = registration.get_application(session, actor, c.application_id)
        except NotFound:  # an application the actor may not see (e.g. a curator of another unit)
            continue
        out.append({"application_id": a.id, "acceptance_number": a.acceptance_number,
                    "product_name": a.product_name, "status": a.status, "cited_at": c.created_at})
    return out


def packs_of_application(session: Session, actor: Actor, application_id: int) -> list[dict]:
    """The evidence packs cited on an application, for whoever may see the application (its registrant and
    the regulator once submitted)."""
    app = registration.get_application(session, actor, application_id)
    rows = session.execute(select(EvidenceCitation, EvidencePack)
                           .join(EvidencePack, EvidencePack.id == EvidenceCitation.pack_id)
                           .where(EvidenceCitation.application_id == app.id).order_by(EvidenceCitation.id))
    return [{"pack_id": p.id, "kind": p.kind, "outcome": p.decision.get("outcome"),
             "decided_by": p.decision.get("decided_by", []), "changes": p.changes,
             "pack_sha256": p.pack_sha256, "run_a_id": p.run_a_id, "run_b_id": p.run_b_id,
             "cited_at": c.created_at} for c, p in rows]


def citable_applications(session: Session, actor: Actor) -> list:
    """The registrant's change registration applications still open to evidence (for the cite form)."""
    if not actor.has(Role.REGISTRANT):
        return []
    return [a for a in registration.list_applications(session, actor, kind="change", limit=200)
            if a.status not in CLOSED and a.registrant_org_id == actor.organisation_id]


def evidence_links(session: Session, actor: Actor, application_id: int) -> list[RelatedLink]:
    """Related link of a registration application to the evidence packs cited on it (registered with
    ``medreg.core.related`` by the AI pages): only for whoever may see the application and only when at
    least one pack is cited."""
    try:
        packs = packs_of_application(session, actor, application_id)
    except (NotFound, PermissionDenied):  # the caller may not see the application: no link
        return []
    if not packs:
        return []
    return [RelatedLink(href=f"/ai/applications/{application_id}/evidence", label=_("AI evidence packs"),
                        count=len(packs), key="ai-evidence")]
