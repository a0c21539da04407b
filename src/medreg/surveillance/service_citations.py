"""Real-world evidence cited in a registration or change-registration case.

``premarket`` and ``evidence`` are sibling layers that do not import each other: the citation is
evidence's record (``evidence.service.record_citation``, with both hashes), and this use case, one
layer up, checks through each domain's own queries that the actor may see the study and the
application, and that the case is a registration or change registration still open.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from medreg.core.i18n import _
from medreg.core.related import RelatedLink
from medreg.evidence import queries as evidence_queries
from medreg.evidence import service as evidence
from medreg.evidence.models import EvidenceCitation
from medreg.premarket.registration import queries as registration_queries
from medreg.surveillance import queries_studies

__all__ = ["APPLICATION", "cite_in_application", "citations_of", "study_links"]

APPLICATION = "registration_application"  # the entity type of registration cases (audit, related links)


CITABLE_KINDS = ("initial", "change")  # registration and change registration (Order 47 Art.52, Art.79)
CLOSED = ("acceptance_refused", "certificate_issued", "refused", "withdrawn")  # registration.states.FINAL


def cite_in_application(
    session: Session, actor: Actor, analysis_id: int, application_id: int, *, note: str | None = None
) -> EvidenceCitation:
    """Cite a study analysis as real-world evidence in a registration or change-registration case.

    The actor must see both: the study (centre and reviewers; the registrant of the studied device) and
    the application (its registrant; regulators once submitted). The case must still be open.
    """
    _protocol, analysis = queries_studies.read_analysis(session, actor, analysis_id)
    try:
        application = registration_queries.get_application(session, actor, application_id)
    except NotFound as exc:
        raise NotFound(exc.template, field="application_id", params=exc.params) from exc
    if application.kind not in CITABLE_KINDS:
        raise ValidationFailed(
            "Real-world evidence is cited in a registration or change registration application.",
            field="application_id",
        )
    if application.status in CLOSED:
        raise Conflict("The application is closed: nothing can be added to it.", field="application_id")
    text = (note or "").strip() or None
    if text is not None and len(text) > 2000:
        raise ValidationFailed("The note is too long (at most 2000 characters).", field="note")
    return evidence.record_citation(session, actor, analysis, application.id, note=text)


def citations_of(session: Session, actor: Actor, analysis_id: int) -> list[EvidenceCitation]:
    """The applications citing an analysis that the actor may see (the study itself must be visible)."""
    queries_studies.read_analysis(session, actor, analysis_id)
    out = []
    for c in evidence_queries.citations(session, analysis_id=analysis_id):
        try:
            registration_queries.get_application(session, actor, c.application_id)
        except NotFound:
            continue
        out.append(c)
    return out


def study_links(session: Session, actor: Actor, application_id: int) -> list[RelatedLink]:
    """Related links of a registration case to the study analyses cited in it as real-world evidence
    (registered with ``medreg.core.related`` by the study pages): only for whoever may see the case, and
    only the analyses that reader may also see."""
    try:
        registration_queries.get_application(session, actor, application_id)
    except (NotFound, PermissionDenied):  # the caller may not see the application: no link
        return []
    out = []
    for c in evidence_queries.citations(session, application_ids=[application_id]):
        try:
            protocol, analysis = queries_studies.read_analysis(session, actor, c.analysis_id)
        except (NotFound, PermissionDenied):
            continue
        out.append(RelatedLink(
            href=f"/surveillance/studies/analyses/{analysis.id}", label=_("Real-world evidence study"),
            key=f"rwe-study-{analysis.id}", detail=f"{protocol.title} ({analysis.data_cutoff.isoformat()})",
        ))
    return out
