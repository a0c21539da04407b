"""Read side of real-world evidence studies, with tenancy.

The monitoring centre, administrators and reviewers see every registered study. Anyone else sees only
the studies of devices they are responsible for: the caller (the surveillance domain, which knows
which device identifiers a registrant's monitors follow) passes those DIs as ``own_dis``, and a study
is visible when its protocol names one of them. Without a role and without DIs nothing is visible:
a study that may not be seen is reported as not existing (``NotFound``), as elsewhere.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.errors import NotFound, PermissionDenied
from medreg.evidence.models import EvidenceCitation, RegisteredProtocol, StudyAnalysis

__all__ = ["Study", "can_read_all", "citations", "list_studies", "read_analysis", "read_protocol"]


@dataclass(frozen=True)
class Study:
    protocol: RegisteredProtocol
    analyses: tuple[StudyAnalysis, ...]  # newest first


def can_read_all(actor: Actor) -> bool:
    return actor.has(Role.MONITORING_CENTRE) or actor.has(Role.ADMIN) or actor.has(Role.REVIEWER)


def _visible(actor: Actor, protocol: RegisteredProtocol, own_dis: Collection[str] | None) -> bool:
    if can_read_all(actor):
        return True
    return bool(set(protocol.content.get("device_dis") or ()) & set(own_dis or ()))


def _check_reader(actor: Actor, own_dis: Collection[str] | None) -> None:
    if not can_read_all(actor) and own_dis is None:
        raise PermissionDenied(
            "Only the monitoring centre, reviewers and the registrant of the device may see its studies."
        )


def list_studies(session: Session, actor: Actor, *, own_dis: Collection[str] | None = None) -> list[Study]:
    """Registered protocols the actor may see (newest first) with their analyses."""
    _check_reader(actor, own_dis)
    protocols = [
        p
        for p in session.scalars(select(RegisteredProtocol).order_by(RegisteredProtocol.id.desc())).all()
        if _visible(actor, p, own_dis)
    ]
    by_protocol: dict[int, list[StudyAnalysis]] = {p.id: [] for p in protocols}
    if protocols:
        for a in session.scalars(
            select(StudyAnalysis)
            .where(StudyAnalysis.protocol_id.in_(list(by_protocol)))
            .order_by(StudyAnalysis.id.desc())
        ):
            by_protocol[a.protocol_id].append(a)
    return [Study(p, tuple(by_protocol[p.id])) for p in protocols]


def read_protocol(
    session: Session, actor: Actor, protocol_id: int, *, own_dis: Collection[str] | None = None
) -> RegisteredProtocol:
    _check_reader(actor, own_dis)
    row = session.get(RegisteredProtocol, protocol_id)
    if row is None or not _visible(actor, row, own_dis):
        raise NotFound("No such protocol.", field="protocol_id")
    return row


def read_analysis(
    session: Session, actor: Actor, analysis_id: int, *, own_dis: Collection[str] | None = None
) -> tuple[RegisteredProtocol, StudyAnalysis]:
    """An analysis with the protocol it was run under, if the actor may see the study."""
    _check_reader(actor, own_dis)
    row = session.get(StudyAnalysis, analysis_id)
    if row is None:
        raise NotFound("No such analysis.", field="analysis_id")
    protocol = session.get(RegisteredProtocol, row.protocol_id)
    if protocol is None or not _visible(actor, protocol, own_dis):
        raise NotFound("No such analysis.", field="analysis_id")
    return protocol, row


def citations(
    session: Session, *, analysis_id: int | None = None, application_ids: Collection[int] | None = None
) -> list[EvidenceCitation]:
    """Citations of one analysis, or of analyses in some applications (the caller filters by tenancy)."""
    q = select(EvidenceCitation).order_by(EvidenceCitation.id)
    if analysis_id is not None:
        q = q.where(EvidenceCitation.analysis_id == analysis_id)
    if application_ids is not None:
        q = q.where(EvidenceCitation.application_id.in_(list(application_ids)))
    return list(session.scalars(q).all())
