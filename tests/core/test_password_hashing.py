"""The password hashing cost: strong by default, cheap only where a test suite asks for it."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles

from medreg.core import security
from medreg.core.settings import Settings


def test_the_default_is_argon2id_with_the_recommended_parameters(monkeypatch):
    monkeypatch.delenv("MEDREG_PASSWORD_HASHING", raising=False)
    assert Settings().password_hashing == "strong"


def test_strong_setting_makes_rfc_9106_low_memory_hashes(monkeypatch):
    monkeypatch.setenv("MEDREG_PASSWORD_HASHING", "strong")
    monkeypatch.setattr(security, "get_settings", lambda: Settings())
    hasher = security._make_hasher()
    low = profiles.RFC_9106_LOW_MEMORY
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (
        low.time_cost, low.memory_cost, low.parallelism)
    assert hasher.hash("s3cret").startswith(f"$argon2id$v=19$m={low.memory_cost},t={low.time_cost},")


def test_a_test_hash_is_upgraded_under_the_strong_setting(monkeypatch):
    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST).hash("s3cret")
    monkeypatch.setattr(security, "_hasher", PasswordHasher())
    assert security.verify_password(cheap, "s3cret")
    assert security.needs_rehash(cheap)
    assert not security.verify_password(cheap, "wrong")
