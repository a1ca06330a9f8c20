"""Passwords: the policy a new password must meet, and argon2id hashing. Pure: no Ray, no Redis.

Hashing is deliberately slow (tens of milliseconds of CPU and `memory_kib` of memory each), so async callers use
`hash_async` and `verify_async`: they run on the instance's `HashGate`, at most `max_concurrent_password_hashes`
at once on its own threads, never on the event loop; a flood of sign-ins or registrations waits its turn, and past
`max_waiting_password_hashes` waiting is answered `busy` (503) instead of queueing memory without bound. One
instance per process (the API replica's, the user shard's) makes the cap per process.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from domain.errors import Invalid, Unavailable

if TYPE_CHECKING:
    from config import Settings

T = TypeVar("T")
PASSWORD_MIN, PASSWORD_MAX = 10, 128
BUSY_RETRY_AFTER_SECONDS = 1


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


class HashGate:
    """Runs at most `limit` calls at once, on its own `limit` threads; refuses a call with Unavailable("busy")
    when `max_waiting` are already waiting. A slot is given back when the call's thread is done with it, not
    when its caller stops waiting (a cancelled request cannot let a hash run beyond the cap).
    `running`, `waiting` and `peak` (the most ever running at once) are there to be looked at."""

    def __init__(self, limit: int, max_waiting: int) -> None:
        self.limit, self.max_waiting = limit, max_waiting
        self._pool = ThreadPoolExecutor(limit, thread_name_prefix="password-hash")
        self._lock = threading.Lock()
        self._admitted = 0  # running or waiting
        self.running = self.peak = 0

    @property
    def waiting(self) -> int:
        return self._admitted - self.running

    async def run(self, call: Callable[..., T], *args: object) -> T:
        with self._lock:
            if self._admitted >= self.limit + self.max_waiting:
                raise Unavailable("busy", "Too many sign-ins and registrations at once; retry shortly",
                                  {"retry_after": BUSY_RETRY_AFTER_SECONDS})
            self._admitted += 1
        future = self._pool.submit(self._counted, call, *args)
        future.add_done_callback(self._leave)  # also when cancelled before it ran
        return await asyncio.wrap_future(future)

    def _counted(self, call: Callable[..., T], *args: object) -> T:
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            return call(*args)
        finally:
            with self._lock:
                self.running -= 1

    def _leave(self, _: object) -> None:
        with self._lock:
            self._admitted -= 1


class Passwords:
    """argon2id with the configured cost. `verify` of no hash still spends the time of a real check, so an
    unknown email cannot be told from a wrong password by timing. `hash` and `verify` block; the `_async` forms
    run them on the gate."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 1,
                 gate: HashGate | None = None) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism,
                                      type=Type.ID)
        self._decoy: str | None = None
        self.gate = gate or HashGate(1, 0)  # without a gate of its own: one hash at a time, no queue

    @classmethod
    def from_settings(cls, settings: Settings) -> Passwords:
        gate = HashGate(settings.max_concurrent_password_hashes, settings.max_waiting_password_hashes)
        return cls(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism, gate)

    async def hash_async(self, password: str) -> str:
        return await self.gate.run(self.hash, password)

    async def verify_async(self, password_hash: str | None, password: str) -> bool:
        return await self.gate.run(self.verify, password_hash, password)

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
