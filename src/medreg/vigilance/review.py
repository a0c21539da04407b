"""Duplicate and cluster review: candidate pairs and cluster alerts read from the cases (through the
pure ``duplicates`` and ``clusters`` rules), and the reviewer's merge / dismiss decision (audited).
Service layer: never commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from medreg.core import audit
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, PermissionDenied, ValidationFailed
from medreg.vigilance import clusters, duplicates
from medreg.vigilance.access import is_centre, load, scope
from medreg.vigilance.models import CASE_FIELDS, VigilanceCase, VigilanceDuplicateDecision
from medreg.vigilance.states import Status


def _submitted(session: Session, actor: Actor) -> list[VigilanceCase]:
    stmt = scope(select(VigilanceCase), actor).where(
        VigilanceCase.status != Status.DRAFT, VigilanceCase.duplicate_of_id.is_(None)
    )
    return list(session.scalars(stmt.options(selectinload(VigilanceCase.versions))))


def _row(case: VigilanceCase) -> duplicates.ReportRow:
    content = case.versions[-1].content if case.versions else {}
    patient, event = content.get("patient") or {}, content.get("event") or {}
    return duplicates.ReportRow(
        id=case.id,
        event_date=case.event_date,
        registration_number=case.registration_number,
        udi_di=case.udi_di,
        device_name=case.device_name,
        model=case.model,
        lot=case.lot_number,
        serial=case.serial_number,
        age=patient.get("age_years"),
        sex=patient.get("sex"),
        outcome=case.outcome,
        narrative=" ".join(str(event.get(k) or "") for k in ("description", "device_problem")).strip(),
    )


def _decided(session: Session) -> set[tuple[int, int]]:
    return {
        (a, b)
        for a, b in session.execute(
            select(VigilanceDuplicateDecision.case_a_id, VigilanceDuplicateDecision.case_b_id)
        )
    }


def duplicate_candidates(
    session: Session, actor: Actor, *, threshold: float = 0.8, window_days: int = 30
) -> list[duplicates.Pair]:
    if not 0 < threshold <= 1:
        raise ValidationFailed(
            "'{name}' must be between {minimum} and {maximum}.",
            field="threshold",
            params={"name": "threshold", "minimum": 0, "maximum": 1},
        )
    rows = [_row(c) for c in _submitted(session, actor)]
    return duplicates.find_duplicates(
        rows, threshold=threshold, window_days=window_days, exclude=_decided(session)
    )


def cluster_alerts(
    session: Session, actor: Actor, *, min_events: int = 3, window_days: int = 7, by_province: bool = False
) -> list[clusters.ClusterAlert]:
    if min_events < 2 or not 0 <= window_days <= 365:
        raise ValidationFailed(
            "Cluster parameters out of range (at least 2 events, 0 to 365 days).",
            field="min_events" if min_events < 2 else "window_days",
        )
    events = [
        clusters.Event(c.id, c.event_date, c.registration_number or c.udi_di, c.lot_number, c.province)
        for c in _submitted(session, actor)
        if c.event_date and (c.registration_number or c.udi_di) and c.lot_number
    ]
    return clusters.detect(events, min_events=min_events, window_days=window_days, by_province=by_province)


def decide_duplicate(
    session: Session, actor: Actor, case_a: int, case_b: int, decision: str, note: str | None = None
) -> VigilanceDuplicateDecision:
    """``merged``: the later case becomes a duplicate of the earlier one; ``dismissed``: not duplicates."""
    if not (is_centre(actor) or actor.has("admin")):
        raise PermissionDenied("Only a monitoring centre decides on duplicates.", field="actor")
    if decision not in ("merged", "dismissed"):
        raise ValidationFailed(
            "'{name}' must be one of: {allowed}.",
            field="decision",
            params={"name": "decision", "allowed": "merged, dismissed"},
        )
    if case_a == case_b:
        raise ValidationFailed("A report cannot duplicate itself.", field="case_b")
    a, b = sorted((case_a, case_b))
    first, second = load(session, actor, a), load(session, actor, b)
    if session.scalar(
        select(VigilanceDuplicateDecision).where(
            VigilanceDuplicateDecision.case_a_id == a, VigilanceDuplicateDecision.case_b_id == b
        )
    ):
        raise Conflict("This pair has already been decided.", field="case_b")
    if second.duplicate_of_id is not None or first.duplicate_of_id is not None:
        raise Conflict("One of these reports is already merged into another.", field="case_b")
    pair = duplicates.score_pair(_row(first), _row(second))
    row = VigilanceDuplicateDecision(
        case_a_id=a,
        case_b_id=b,
        decision=decision,
        score=pair.score,
        decided_by_user_id=actor.user_id,
        note=note,
    )
    session.add(row)
    with audit.recorded_change(session, actor, f"duplicate_{decision}", "vigilance_case", second, CASE_FIELDS,
                               note=note) as extra:
        if decision == "merged":
            second.duplicate_of_id = first.id
        extra.update(pair=[a, b], score=pair.score, matching=list(pair.matching))
    return row
