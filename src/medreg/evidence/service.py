"""Use cases of RWE studies: register a protocol (before looking at data), record an analysis.

A registered protocol cannot be edited: a changed protocol is a new registration with a new hash. An
analysis is recorded only under a registered protocol whose stored content still hashes to its
registered SHA-256, and it stores the hash of its own results, so a report can cite both.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core import audit
from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, NotFound, PermissionDenied
from medreg.evidence.models import EvidenceCitation, RegisteredProtocol, StudyAnalysis
from medreg.evidence.protocol import StudyProtocol, protocol_hash

__all__ = ["get_analysis", "get_protocol", "record_analysis", "record_citation", "register_protocol"]


def _require(actor: Actor) -> None:
    if not (actor.has(Role.MONITORING_CENTRE) or actor.has(Role.ADMIN) or actor.has(Role.REVIEWER)):
        raise PermissionDenied(
            "Only the monitoring centre and reviewers may run real-world evidence studies."
        )


def register_protocol(session: Session, actor: Actor, protocol: StudyProtocol) -> RegisteredProtocol:
    _require(actor)
    digest = protocol_hash(protocol)
    if session.scalar(select(RegisteredProtocol).where(RegisteredProtocol.sha256 == digest)) is not None:
        raise Conflict("This protocol is already registered.", field="protocol")
    row = RegisteredProtocol(
        title=protocol.title[:200],
        device_group=protocol.device_group[:64],
        content=json.loads(protocol.canonical()),
        sha256=digest,
        registered_by=actor.username,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "evidence.protocol.register",
        "evidence_protocol",
        row.id,
        after={"sha256": digest, "title": row.title},
    )
    return row


def get_protocol(session: Session, actor: Actor, protocol_id: int) -> RegisteredProtocol:
    _require(actor)
    row = session.get(RegisteredProtocol, protocol_id)
    if row is None:
        raise NotFound("No such protocol.", field="protocol_id")
    return row


def get_analysis(
    session: Session, actor: Actor, analysis_id: int
) -> tuple[RegisteredProtocol, StudyAnalysis]:
    """An analysis with the protocol it was run under (the study report's content)."""
    _require(actor)
    row = session.get(StudyAnalysis, analysis_id)
    if row is None:
        raise NotFound("No such analysis.", field="analysis_id")
    return get_protocol(session, actor, row.protocol_id), row


def _canonical_hash(value: dict) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_analysis(
    session: Session, actor: Actor, protocol_id: int, *, data_cutoff: date, results: dict
) -> StudyAnalysis:
    """Store the results of an analysis run under a registered, unaltered protocol."""
    protocol = get_protocol(session, actor, protocol_id)
    if _canonical_hash(protocol.content) != protocol.sha256:
        raise Conflict("The stored protocol no longer matches its registered hash.", field="protocol_id")
    row = StudyAnalysis(
        protocol_id=protocol.id,
        protocol_sha256=protocol.sha256,
        data_cutoff=data_cutoff,
        results=results,
        results_sha256=_canonical_hash(results),
        run_by=actor.username,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "evidence.analysis.record",
        "evidence_analysis",
        row.id,
        after={
            "protocol_sha256": protocol.sha256,
            "results_sha256": row.results_sha256,
            "data_cutoff": data_cutoff,
        },
    )
    return row


def record_citation(
    session: Session, actor: Actor, analysis: StudyAnalysis, application_id: int, *, note: str | None = None
) -> EvidenceCitation:
    """Record that ``analysis`` is cited as real-world evidence in registration application
    ``application_id``. The caller has checked that the actor may see both (``evidence`` does not know
    the applications: ``surveillance.service_studies.cite_in_application``)."""
    exists = session.scalar(
        select(EvidenceCitation).where(
            EvidenceCitation.analysis_id == analysis.id, EvidenceCitation.application_id == application_id
        )
    )
    if exists is not None:
        raise Conflict("This analysis is already cited in this application.", field="application_id")
    row = EvidenceCitation(
        analysis_id=analysis.id,
        application_id=application_id,
        protocol_sha256=analysis.protocol_sha256,
        results_sha256=analysis.results_sha256,
        note=note,
        cited_by=actor.username,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "evidence.analysis.cite",
        "evidence_analysis",
        analysis.id,
        after={
            "application_id": application_id,
            "protocol_sha256": row.protocol_sha256,
            "results_sha256": row.results_sha256,
            "note": note,
        },
    )
    return row
