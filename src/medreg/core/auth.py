"""Accounts service: create users, log in with rate limiting, API tokens, passwords. Never commits.

Login attempts are rows of ``login_attempt`` in the caller's transaction. A failed login must be
stored although the login fails, so :func:`check_login` *returns* the outcome instead of
raising: the web entry points render the error as a normal response and the request
transaction commits the attempt. :func:`authenticate` is the raising form for callers that
commit regardless (or do not need the attempt kept).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from medreg.core import audit
from medreg.core.accounts import ApiToken, LoginAttempt, Organisation, Role, User, UserRole
from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.core.errors import (
    Conflict,
    DomainError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from medreg.core.i18n import _
from medreg.core.security import hash_password, needs_rehash, new_token, sha256_hex, verify_password
from medreg.core.settings import get_settings

PASSWORD_MIN = 10
PASSWORD_MAX = 256
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ASSIGNABLE_ROLES = frozenset(r.value for r in Role if r is not Role.PUBLIC)
# One client address (an office behind NAT) may fail for several usernames before it is held.
CLIENT_FAILURE_FACTOR = 4
_DUMMY_HASH = hash_password("medreg-timing-equaliser")


# --- users -----------------------------------------------------------------------------------

def validate_password(password: str, *, username: str | None = None) -> None:
    if len(password) < PASSWORD_MIN:
        raise ValidationFailed(_("The password must have at least {min} characters."), field="password",
                               params={"min": PASSWORD_MIN})
    if len(password) > PASSWORD_MAX:
        raise ValidationFailed(_("The password must have at most {max} characters."), field="password",
                               params={"max": PASSWORD_MAX})
    if username and username.lower() in password.lower():
        raise ValidationFailed(_("The password must not contain the username."), field="password")
    if len(set(password)) < 4:
        raise ValidationFailed(_("The password is too simple."), field="password")


def create_user(session: Session, actor: Actor, *, username: str, display_name: str, password: str,
                roles: list[str] | tuple[str, ...] | frozenset[str], organisation_id: int | None = None,
                email: str | None = None) -> User:
    """Create an account (administrators and the system only)."""
    if not actor.has(Role.ADMIN):
        raise PermissionDenied(_("Only an administrator can create accounts."))
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise ValidationFailed(_("A username has 3 to 64 letters, digits, dots, hyphens or underscores."),
                               field="username")
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 120:
        raise ValidationFailed(_("The display name must have 1 to 120 characters."), field="display_name")
    if email is not None:
        email = email.strip() or None
    if email and (len(email) > 200 or not EMAIL_RE.match(email)):
        raise ValidationFailed(_("This is not a valid e-mail address."), field="email")
    validate_password(password, username=username)
    role_set = {str(r).strip() for r in roles}
    if not role_set:
        raise ValidationFailed(_("Give the account at least one role."), field="roles")
    unknown = sorted(role_set - ASSIGNABLE_ROLES)
    if unknown:
        raise ValidationFailed(_("Unknown role: {role}."), field="roles", params={"role": ", ".join(unknown)})
    if organisation_id is not None and session.get(Organisation, organisation_id) is None:
        raise ValidationFailed(_("No such organisation."), field="organisation_id")
    taken = session.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
    if taken is not None:
        raise Conflict(_("The username {username} is already taken."), field="username",
                       params={"username": username})
    user = User(username=username, display_name=display_name, email=email,
                password_hash=hash_password(password), organisation_id=organisation_id)
    user.role_rows = [UserRole(role=r) for r in sorted(role_set)]
    session.add(user)
    session.flush()
    audit.record(session, actor, "create_user", "user", user.id,
                 after={"username": username, "display_name": display_name, "email": email,
                        "roles": sorted(role_set), "organisation_id": organisation_id})
    return user


def find_organisation(session: Session, name: str) -> Organisation:
    org = session.scalar(select(Organisation).where(or_(Organisation.name == name,
                                                        Organisation.name_en == name)))
    if org is None:
        raise NotFound(_("No organisation named {name}."), field="org", params={"name": name})
    return org


def change_password(session: Session, actor: Actor, user_id: int, *, new_password: str,
                    old_password: str | None = None) -> None:
    """A user changes its own password (old password required); an administrator resets any."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."), field="user_id")
    own = actor.user_id == user.id
    if not own and not actor.has(Role.ADMIN):
        raise PermissionDenied(_("You may only change your own password."))
    if own and not verify_password(user.password_hash, old_password or ""):
        raise ValidationFailed(_("The current password is wrong."), field="old_password")
    validate_password(new_password, username=user.username)
    user.password_hash = hash_password(new_password)
    session.flush()
    audit.record(session, actor, "change_password" if own else "reset_password", "user", user.id)


# --- login -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class LoginResult:
    user: User | None
    error: DomainError | None

    @property
    def ok(self) -> bool:
        return self.user is not None


def recent_failures(session: Session, *, username: str | None = None, client: str | None = None,
                    now: datetime | None = None) -> int:
    settings = get_settings()
    since = (now or utcnow()) - timedelta(seconds=settings.login_window_seconds)
    stmt = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since)
    if username is not None:
        stmt = stmt.where(LoginAttempt.username == username)
    if client is not None:
        stmt = stmt.where(LoginAttempt.client == client)
    return session.scalar(stmt) or 0


def check_login(session: Session, *, username: str, password: str, client: str | None) -> LoginResult:
    """Check a login and record the attempt in ``session``. Returns the outcome, never raises for
    bad credentials: commit the transaction in both cases so failed attempts are kept."""
    settings = get_settings()
    key = (username or "").strip()[:64]
    client = (client or None) and client[:64]
    now = utcnow()
    limit = settings.login_max_failures
    limited = recent_failures(session, username=key, now=now) >= limit or (
        client is not None
        and recent_failures(session, client=client, now=now) >= limit * CLIENT_FAILURE_FACTOR)
    user = session.scalar(select(User).where(User.username == key)) if key else None
    # Verify even when the user is unknown or held, so timing does not reveal either.
    good = verify_password(user.password_hash if user else _DUMMY_HASH, password or "")
    ok = good and not limited and user is not None and user.is_active
    session.add(LoginAttempt(username=key, client=client, succeeded=ok, at=now))
    session.flush()
    if limited:
        minutes = max(1, settings.login_window_seconds // 60)
        return LoginResult(None, RateLimited(
            _("Too many failed logins. Try again in {minutes} minutes."), field="username",
            params={"minutes": minutes}))
    if not ok:
        return LoginResult(None, NotAuthenticated(_("Wrong username or password."), field="password"))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return LoginResult(user, None)


def authenticate(session: Session, *, username: str, password: str, client: str | None) -> User:
    """:func:`check_login` that raises ``RateLimited`` (429) or ``NotAuthenticated`` (401).

    The attempt row is in ``session``; it is lost if the caller rolls back on the exception."""
    result = check_login(session, username=username, password=password, client=client)
    if result.error is not None:
        raise result.error
    return result.user


# --- API tokens ------------------------------------------------------------------------------

def issue_token(session: Session, actor: Actor, user_id: int, name: str,
                expires_in: timedelta | int | None = timedelta(days=90)) -> str:
    """A new bearer token for ``user_id`` (that user or an administrator). Returns the token once;
    only its SHA-256 is stored."""
    if actor.user_id != user_id and not actor.has(Role.ADMIN):
        raise PermissionDenied(_("You may only create tokens for yourself."))
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound(_("No such user."), field="user_id")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed(_("The token name must have 1 to 100 characters."), field="name")
    if isinstance(expires_in, int):
        expires_in = timedelta(seconds=expires_in)
    if expires_in is not None and expires_in <= timedelta(0):
        raise ValidationFailed(_("The token must expire in the future."), field="expires_in")
    token = new_token()
    row = ApiToken(user_id=user.id, name=name, token_sha256=sha256_hex(token),
                   expires_at=utcnow() + expires_in if expires_in is not None else None)
    session.add(row)
    session.flush()
    audit.record(session, actor, "issue_token", "api_token", row.id,
                 after={"user_id": user.id, "name": name, "expires_at": row.expires_at})
    return token


def user_for_token(session: Session, token: str) -> User | None:
    if not token:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == sha256_hex(token)))
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= utcnow():
        return None
    return row.user if row.user.is_active else None


def actor_for_token(session: Session, token: str) -> Actor | None:
    """The actor a bearer token stands for, or None (unknown, revoked, expired, inactive user)."""
    user = user_for_token(session, token)
    return Actor.from_user(user) if user else None


def revoke_token(session: Session, actor: Actor, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is None or (row.user_id != actor.user_id and not actor.has(Role.ADMIN)):
        raise NotFound(_("No such token."), field="token_id")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
        audit.record(session, actor, "revoke_token", "api_token", row.id)
