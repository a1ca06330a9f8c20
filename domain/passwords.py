"""Passwords: the policy a new password must meet, and argon2id hashing. Pure: no Ray, no Redis.

Hashing is deliberately slow (tens of milliseconds of CPU and `memory_kib` of memory), so async callers run
`hash` and `verify` in a worker thread (`asyncio.to_thread`) and never on the event loop.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from domain.errors import Invalid

if TYPE_CHECKING:
    from config import Settings

PASSWORD_MIN, PASSWORD_MAX = 10, 128


def check_password(password: str, email: str) -> None:
    """The policy: 10 to 128 characters, at least a letter and a digit, and not the email (nor its local part)."""
    problems = []
    if len(password) < PASSWORD_MIN:
        problems.append(f"at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        problems.append(f"at most {PASSWORD_MAX} characters")
    if not any(c.isalpha() for c in password):
        problems.append("a letter")
    if not any(c.isdigit() for c in password):
        problems.append("a digit")
    email = email.strip().lower()
    if password.strip().lower() in (email, email.partition("@")[0]):
        problems.append("not the email address")
    if problems:
        raise Invalid("weak_password", "The password needs " + ", ".join(problems), {"requirements": problems})


class Passwords:
    """argon2id with the configured cost. `verify` of no hash still spends the time of a real check, so an
    unknown email cannot be told from a wrong password by timing."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 1) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism,
                                      type=Type.ID)
        self._decoy: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Passwords:
        return cls(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        if password_hash is None:
            if self._decoy is None:
                self._decoy = self.hash(secrets.token_urlsafe(16))
            password_hash, password = self._decoy, password + "\0never"
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than the configured ones."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
