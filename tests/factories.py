"""Small builders for test data (organisations, users with roles, actors)."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from medreg.core.accounts import Organisation, OrgKind, User, UserRole
from medreg.core.actor import Actor
from medreg.core.security import hash_password

_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"
_HASH = hash_password(PASSWORD)


def make_org(session: Session, kind: str = OrgKind.REGISTRANT, *, name: str | None = None,
             country: str = "CN", province: str | None = "Beijing") -> Organisation:
    org = Organisation(kind=str(kind), name=name or f"{kind} {next(_seq)}", country=country,
                       province=province)
    session.add(org)
    session.flush()
    return org


def make_user(session: Session, *roles: str, org: Organisation | None = None,
              username: str | None = None) -> User:
    n = next(_seq)
    user = User(username=username or f"user{n}", display_name=f"User {n}", password_hash=_HASH,
                organisation=org)
    user.role_rows = [UserRole(role=str(r)) for r in roles]
    session.add(user)
    session.flush()
    return user


def actor_for(user: User) -> Actor:
    return Actor.from_user(user)


def make_actor(session: Session, role: str, org_kind: str | None = None, **org_kw) -> Actor:
    org = make_org(session, org_kind, **org_kw) if org_kind else None
    return actor_for(make_user(session, role, org=org))
