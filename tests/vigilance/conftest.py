"""Fixtures of the vigilance tests that commit (background jobs run in their own transactions)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, func, select, update

from medreg.core import files, jobs
from medreg.core.accounts import Organisation, OrgKind, Role, User, UserRole
from medreg.core.actor import Actor
from medreg.core.audit import AuditEvent, AuditHead
from medreg.core.db import session_scope
from medreg.vigilance.models import VigilanceCase, VigilanceReportCode, VigilanceReportVersion
from tests.factories import make_org, make_user

EVENTS, HEAD = AuditEvent.__table__, AuditHead.__table__
JOBS, FILES = jobs.Job.__table__, files.StoredFile.__table__


@pytest.fixture
def hospital(engine):
    """A hospital user on committed rows; its reports, jobs, files and audit events are removed after."""
    with engine.connect() as conn:
        head = conn.execute(select(HEAD)).first()
        max_event = conn.execute(select(func.max(EVENTS.c.id))).scalar() or 0
        max_job = conn.execute(select(func.max(JOBS.c.id))).scalar() or 0
        max_file = conn.execute(select(func.max(FILES.c.id))).scalar() or 0
    with session_scope() as s:
        org = make_org(s, OrgKind.HOSPITAL, province="Beijing")
        user = make_user(s, Role.HOSPITAL, org=org, username=f"bulk-{uuid.uuid4().hex[:10]}")
        s.refresh(user)
        actor = Actor.from_user(user)
    yield actor
    with engine.begin() as conn:
        cases = select(VigilanceCase.id).where(VigilanceCase.reporter_org_id == actor.organisation_id)
        conn.execute(delete(VigilanceReportCode.__table__).where(VigilanceReportCode.case_id.in_(cases)))
        conn.execute(delete(VigilanceReportVersion.__table__).where(VigilanceReportVersion.case_id.in_(cases)))
        conn.execute(delete(VigilanceCase.__table__).where(VigilanceCase.id.in_(cases)))
        conn.execute(delete(JOBS).where(JOBS.c.id > max_job))
        conn.execute(delete(FILES).where(FILES.c.id > max_file))
        conn.execute(delete(EVENTS).where(EVENTS.c.id > max_event))
        if head is None:
            conn.execute(delete(HEAD))
        else:
            conn.execute(update(HEAD).values(last_seq=head.last_seq, last_hash=head.last_hash))
        conn.execute(delete(UserRole.__table__).where(UserRole.user_id == actor.user_id))
        conn.execute(delete(User.__table__).where(User.id == actor.user_id))
        conn.execute(delete(Organisation.__table__).where(Organisation.id == actor.organisation_id))
