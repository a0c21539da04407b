"""Password hashing (argon2id) and token helpers."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from medreg.core.settings import get_settings


def _make_hasher() -> PasswordHasher:
    """argon2id with the library's recommended parameters (RFC 9106 low-memory: 64 MiB, 3 passes).

    ``MEDREG_PASSWORD_HASHING=test`` takes argon2-cffi's ``CHEAPEST`` profile, which the library
    provides for test suites: the suite creates and logs in thousands of users, and each strong hash
    costs about half a second of CPU. A hash made that way is still an argon2id hash; under the
    strong setting ``needs_rehash`` is true for it, so the next login upgrades it.
    """
    if get_settings().password_hashing == "test":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher()


_hasher = _make_hasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def sha256_hex(data: str | bytes) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
