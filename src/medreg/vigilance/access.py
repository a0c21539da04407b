"""Who may see and act on an adverse-event case (tenancy lives here, used by service and queries).

- the reporting organisation (hospital, registrant, distributor) sees its own reports, drafts included;
- a registrant sees the submitted reports on its own devices (``registrant_org_id``);
- a monitoring centre sees every submitted report; a provincial centre (an organisation with a
  province) acts on the reports of events in its province, the national centre (no province) closes;
- an admin sees and may do everything; anyone else gets NotFound.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlalchemy.orm import Session

from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.db import MAX_ID
from medreg.core.errors import Conflict, NotFound
from medreg.vigilance.models import VigilanceCase
from medreg.vigilance.states import ADMIN, NATIONAL, PROVINCE, REGISTRANT, REPORTER, Status


def is_centre(actor: Actor) -> bool:
    return actor.has(Role.MONITORING_CENTRE)


def roles_on(actor: Actor, case: VigilanceCase) -> frozenset[str]:
    """The transition-table roles ``actor`` holds on this case."""
    out: set[str] = set()
    if actor.has(Role.ADMIN):
        out.add(ADMIN)
    if actor.organisation_id is not None and actor.organisation_id == case.reporter_org_id:
        out.add(REPORTER)
    if (
        actor.has(Role.REGISTRANT)
        and actor.organisation_id is not None
        and actor.organisation_id == case.registrant_org_id
    ):
        out.add(REGISTRANT)
    if is_centre(actor):
        if actor.province is None:
            out.add(NATIONAL)
        elif case.province is not None and actor.province == case.province:
            out.add(PROVINCE)
    return frozenset(out)


def visible(actor: Actor, case: VigilanceCase) -> bool:
    if actor.has(Role.ADMIN):
        return True
    if actor.organisation_id is not None and actor.organisation_id == case.reporter_org_id:
        return True
    if case.status == Status.DRAFT:
        return False
    return is_centre(actor) or REGISTRANT in roles_on(actor, case)


def scope(stmt, actor: Actor):
    """Restrict a select of VigilanceCase to what ``actor`` may see."""
    if actor.has(Role.ADMIN):
        return stmt
    own = VigilanceCase.reporter_org_id == actor.organisation_id
    if is_centre(actor):
        return stmt.where(or_(own, VigilanceCase.status != Status.DRAFT))
    if actor.has(Role.REGISTRANT) and actor.organisation_id is not None:
        return stmt.where(
            or_(
                own,
                (VigilanceCase.registrant_org_id == actor.organisation_id)
                & (VigilanceCase.status != Status.DRAFT),
            )
        )
    if actor.organisation_id is None:
        return stmt.where(False)
    return stmt.where(own)


def load(session: Session, actor: Actor, case_id: Any, expected_version: int | None = None) -> VigilanceCase:
    ok = isinstance(case_id, int) and 1 <= case_id <= MAX_ID
    case = session.get(VigilanceCase, case_id) if ok else None
    if case is None or not visible(actor, case):
        raise NotFound("Adverse-event report {id} was not found.", field="case_id", params={"id": case_id})
    if expected_version is not None and case.version != expected_version:
        raise Conflict(
            "The record was changed by someone else (version {current}, you saw {seen}); "
            "reload and try again.",
            field="expected_version",
            params={"current": case.version, "seen": expected_version},
        )
    return case
