"""Real-world evidence cited in a registration or change-registration case.

``premarket`` and ``evidence`` are sibling layers that do not import each other: the citation is
evidence's record (``evidence.service.record_citation``, with both hashes), and this use case, one
layer up, checks through each domain's own queries that the actor may see the study and the
application, and that the case is a registration or change registration still open.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.errors import Conflict, NotFound, ValidationFailed
from medreg.evidence import queries as evidence_queries
from medreg.evidence import service as evidence
from medreg.evidence.models import EvidenceCitation
from medreg.premarket.registration import queries as registration_queries
from medreg.surveillance import queries_studies

__all__ = ["cite_in_application", "citations_of"]


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
