"""The password policy and argon2id hashing, without Ray or Redis."""

from __future__ import annotations

import pytest

from domain.errors import Invalid
from domain.passwords import Passwords, check_password

FAST = Passwords(time_cost=1, memory_kib=8192, parallelism=1)


@pytest.mark.parametrize(
    ("password", "missing"),
    [
        ("short1", "at least 10 characters"),
        ("onlyletterslong", "a digit"),
        ("1234567890123", "a letter"),
        ("x1" * 65, "at most 128 characters"),
        ("ada.lovelace1@example.com", "not the email address"),
        ("ADA.LOVELACE1", "not the email address"),
    ],
)
def test_weak_passwords_are_refused_with_what_they_lack(password: str, missing: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_password(password, "Ada.Lovelace1@example.com")
    assert refused.value.code == "weak_password"
    assert missing in refused.value.details["requirements"]


def test_a_long_mixed_password_meets_the_policy() -> None:
    check_password("Correct-horse-42", "ada@example.com")


def test_a_hash_is_argon2id_salted_and_verifies_only_the_right_password() -> None:
    first, second = FAST.hash("Correct-horse-42"), FAST.hash("Correct-horse-42")
    assert first.startswith("$argon2id$") and first != second
    assert FAST.verify(first, "Correct-horse-42")
    assert not FAST.verify(first, "Correct-horse-43")


def test_an_unknown_account_or_a_broken_hash_never_verifies() -> None:
    assert not FAST.verify(None, "Correct-horse-42")
    assert not FAST.verify("not-a-hash", "Correct-horse-42")


def test_a_hash_made_with_older_costs_needs_rehashing() -> None:
    stronger = Passwords(time_cost=2, memory_kib=8192, parallelism=1)
    old = FAST.hash("Correct-horse-42")
    assert stronger.needs_rehash(old)
    assert not FAST.needs_rehash(old)
    assert stronger.verify(old, "Correct-horse-42")  # the old hash still logs in; it is then upgraded
