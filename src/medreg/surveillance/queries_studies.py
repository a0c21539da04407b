"""Read side of the real-world evidence studies run on the registry, with the registrant's tenancy.

The centre and reviewers see every study (``evidence.queries``). A registrant sees the studies of its
own devices: the device identifiers its monitors follow (``Monitor.registrant_org_id``), which is
where the registry records whose device a DI is. Hospitals see no study (their data are in every
study; the results are the centre's).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.evidence import queries as evidence_queries
from medreg.evidence.models import RegisteredProtocol, StudyAnalysis
from medreg.surveillance.models import Monitor

__all__ = ["own_dis", "read_analysis", "read_protocol", "studies"]


def own_dis(session: Session, actor: Actor) -> frozenset[str] | None:
    """The device identifiers of the actor's organisation when it is a registrant; None for the centre
    and reviewers (who see all) and for anyone else (who sees none)."""
    if (
        evidence_queries.can_read_all(actor)
        or not actor.has(Role.REGISTRANT)
        or actor.organisation_id is None
    ):
        return None
    return frozenset(
        session.scalars(
            select(Monitor.udi_di).where(Monitor.registrant_org_id == actor.organisation_id).distinct()
        ).all()
    )


def studies(session: Session, actor: Actor) -> list[evidence_queries.Study]:
    return evidence_queries.list_studies(session, actor, own_dis=own_dis(session, actor))


def read_protocol(session: Session, actor: Actor, protocol_id: int) -> RegisteredProtocol:
    return evidence_queries.read_protocol(session, actor, protocol_id, own_dis=own_dis(session, actor))


def read_analysis(
    session: Session, actor: Actor, analysis_id: int
) -> tuple[RegisteredProtocol, StudyAnalysis]:
    return evidence_queries.read_analysis(session, actor, analysis_id, own_dis=own_dis(session, actor))
