"""The accounts service: create_user, login checks and rate limiting, tokens, passwords."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from medreg.core import auth
from medreg.core.accounts import ApiToken, LoginAttempt, User
from medreg.core.actor import Actor
from medreg.core.audit import AuditEvent
from medreg.core.errors import Conflict, NotAuthenticated, PermissionDenied, RateLimited, ValidationFailed
from medreg.core.security import sha256_hex
from medreg.core.settings import get_settings
from tests.factories import PASSWORD, actor_for, make_org, make_user

GOOD = "a-long-enough-passphrase"


def _create(db, **kw):
    args = dict(username="li.wei", display_name="李伟", password=GOOD, roles=["reviewer"])
    args.update(kw)
    return auth.create_user(db, Actor.system(), **args)


def test_create_user_stores_hash_roles_and_audit(db):
    org = make_org(db, "regulator_unit")
    user = _create(db, organisation_id=org.id, email="li.wei@example.org")
    assert user.roles == {"reviewer"}
    assert user.password_hash != GOOD and user.password_hash.startswith("$argon2id$")
    event = db.scalar(select(AuditEvent).where(AuditEvent.entity_type == "user",
                                               AuditEvent.entity_id == str(user.id)))
    assert event.action == "create_user" and event.after["roles"] == ["reviewer"]
    assert "password" not in str(event.after)


@pytest.mark.parametrize(("kw", "field"), [
    ({"username": "x"}, "username"),
    ({"username": "has space"}, "username"),
    ({"display_name": "  "}, "display_name"),
    ({"password": "short1234"}, "password"),
    ({"password": "li.wei-is-my-password"}, "password"),
    ({"password": "aaaaaaaaaaaa"}, "password"),
    ({"roles": []}, "roles"),
    ({"roles": ["reviewer", "wizard"]}, "roles"),
    ({"roles": ["public"]}, "roles"),
    ({"email": "not-an-address"}, "email"),
    ({"organisation_id": 987654}, "organisation_id"),
])
def test_create_user_rejects_bad_input_with_field(db, kw, field):
    with pytest.raises(ValidationFailed) as info:
        _create(db, **kw)
    assert info.value.field == field


def test_password_min_length_is_ten(db):
    with pytest.raises(ValidationFailed) as info:
        _create(db, password="abcdefgh9")  # 9 characters
    assert info.value.params == {"min": 10}
    assert _create(db, password="abcdefgh9x").id  # 10 characters


def test_duplicate_username_is_conflict_even_in_other_case(db):
    _create(db)
    with pytest.raises(Conflict) as info:
        _create(db, username="LI.WEI")
    assert info.value.field == "username"


def test_only_admins_create_users(db):
    reviewer = actor_for(make_user(db, "reviewer"))
    with pytest.raises(PermissionDenied):
        auth.create_user(db, reviewer, username="someone", display_name="S", password=GOOD,
                         roles=["registrant"])
    admin = actor_for(make_user(db, "admin"))
    assert auth.create_user(db, admin, username="someone", display_name="S", password=GOOD,
                            roles=["registrant"]).roles == {"registrant"}


def _attempts(db, username):
    return db.scalars(select(LoginAttempt).where(LoginAttempt.username == username)
                      .order_by(LoginAttempt.id)).all()


def test_authenticate_right_and_wrong_password(db):
    user = make_user(db, "registrant")
    assert auth.authenticate(db, username=user.username, password=PASSWORD, client="10.0.0.1").id == user.id
    with pytest.raises(NotAuthenticated) as info:
        auth.authenticate(db, username=user.username, password="wrong password", client="10.0.0.1")
    assert info.value.http_status == 401
    with pytest.raises(NotAuthenticated):
        auth.authenticate(db, username="nobody-here", password=PASSWORD, client="10.0.0.1")
    assert [a.succeeded for a in _attempts(db, user.username)] == [True, False]
    assert [a.succeeded for a in _attempts(db, "nobody-here")] == [False]


def test_inactive_user_cannot_log_in(db):
    user = make_user(db, "registrant")
    user.is_active = False
    result = auth.check_login(db, username=user.username, password=PASSWORD, client=None)
    assert not result.ok and isinstance(result.error, NotAuthenticated)


def test_rate_limit_after_max_failures_even_with_right_password(db):
    limit = get_settings().login_max_failures
    user = make_user(db, "registrant")
    for _ in range(limit):
        result = auth.check_login(db, username=user.username, password="wrong password", client="c1")
        assert isinstance(result.error, NotAuthenticated)
    result = auth.check_login(db, username=user.username, password=PASSWORD, client="c1")
    assert isinstance(result.error, RateLimited) and result.error.http_status == 429
    assert len(_attempts(db, user.username)) == limit + 1
    assert not any(a.succeeded for a in _attempts(db, user.username))


def test_old_failures_fall_out_of_the_window(db):
    settings = get_settings()
    user = make_user(db, "registrant")
    for _ in range(settings.login_max_failures):
        auth.check_login(db, username=user.username, password="wrong password", client="c2")
    for attempt in _attempts(db, user.username):
        attempt.at -= timedelta(seconds=settings.login_window_seconds + 1)
    db.flush()
    assert auth.check_login(db, username=user.username, password=PASSWORD, client="c2").ok


def test_one_client_failing_on_many_usernames_is_held(db):
    limit = get_settings().login_max_failures * auth.CLIENT_FAILURE_FACTOR
    user = make_user(db, "registrant")
    for i in range(limit):
        auth.check_login(db, username=f"guess{i}", password="wrong password", client="203.0.113.9")
    held = auth.check_login(db, username=user.username, password=PASSWORD, client="203.0.113.9")
    assert isinstance(held.error, RateLimited)
    assert auth.check_login(db, username=user.username, password=PASSWORD, client="198.51.100.1").ok


def test_tokens_store_only_the_hash_and_expire(db):
    user = make_user(db, "registrant")
    me = actor_for(user)
    token = auth.issue_token(db, me, user.id, "laptop", timedelta(days=1))
    row = db.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert row.token_sha256 == sha256_hex(token) and token not in row.token_sha256
    assert auth.actor_for_token(db, token).user_id == user.id
    assert auth.actor_for_token(db, token + "x") is None
    row.expires_at = row.created_at - timedelta(seconds=1)
    db.flush()
    assert auth.actor_for_token(db, token) is None


def test_revoked_token_and_foreign_tokens(db):
    user, other = make_user(db, "registrant"), make_user(db, "registrant")
    token = auth.issue_token(db, actor_for(user), user.id, "ci", None)
    with pytest.raises(PermissionDenied):
        auth.issue_token(db, actor_for(other), user.id, "steal", timedelta(days=1))
    with pytest.raises(ValidationFailed) as info:
        auth.issue_token(db, actor_for(user), user.id, "bad", timedelta(seconds=-5))
    assert info.value.field == "expires_in"
    row_id = db.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id))
    auth.revoke_token(db, actor_for(user), row_id)
    assert auth.actor_for_token(db, token) is None


def test_change_password_own_and_admin_reset(db):
    user = make_user(db, "registrant")
    me = actor_for(user)
    with pytest.raises(ValidationFailed) as info:
        auth.change_password(db, me, user.id, old_password="wrong", new_password=GOOD)
    assert info.value.field == "old_password"
    auth.change_password(db, me, user.id, old_password=PASSWORD, new_password=GOOD)
    assert auth.authenticate(db, username=user.username, password=GOOD, client=None).id == user.id
    with pytest.raises(PermissionDenied):
        auth.change_password(db, actor_for(make_user(db, "reviewer")), user.id, new_password=GOOD + "!")
    auth.change_password(db, actor_for(make_user(db, "admin")), user.id, new_password="reset-by-admin-1")
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == str(user.id),
                                                         AuditEvent.entity_type == "user")).all()
    assert actions == ["change_password", "reset_password"]
    assert db.scalar(select(func.count()).select_from(User).where(User.id == user.id)) == 1
