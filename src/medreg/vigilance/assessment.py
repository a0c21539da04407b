"""The quality of a case's current version (quality.py) with its context read from the case and the
registration certificate. Service layer: reads, never writes (the service stores the score)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.clock import as_utc, to_shanghai
from medreg.core.errors import DomainError
from medreg.premarket.registration import queries as registration_queries
from medreg.vigilance import quality
from medreg.vigilance.aet import terminology
from medreg.vigilance.models import VigilanceCase


def _registered(session: Session, number: str | None) -> dict | None:
    if not number:
        return None
    try:
        cert = registration_queries.certificate_by_number(session, Actor.system(), number)
    except DomainError:
        return None
    return {"product_name": cert.product_name, "model_spec": cert.model_spec}


def context(session: Session, case: VigilanceCase, now: datetime) -> quality.Context:
    days_late = 0
    if case.late and case.first_submitted_at and case.report_due_at:
        overdue = as_utc(case.first_submitted_at) - as_utc(case.report_due_at)
        days_late = max(1, math.ceil(overdue / timedelta(days=1)))
    due = case.evaluation_due_at
    return quality.Context(
        late=case.late, days_late=days_late, final_submitted=case.final_submitted_at is not None,
        # due_at is the first instant after the due day (Beijing), so the due day is the day before
        evaluation_due=(to_shanghai(due) - timedelta(days=1)).date() if due else None,
        today=to_shanghai(now).date(), registered=_registered(session, case.registration_number))


def assess(session: Session, case: VigilanceCase, now: datetime) -> quality.Quality:
    return quality.score(case.versions[-1].content, terminology(), context(session, case, now))
