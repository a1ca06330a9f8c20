"""How long a sign-in must wait after failed ones: exponential backoff, per email and per client address. Pure.

A subject (an email, a client address) has `free` failures; after the `free`-th, its next attempt waits `base`
seconds after the last failure, and each failure past that doubles the wait, up to `max`:

    failures:  0 .. free-1   free   free+1   free+2  ...
    wait (s):  0             base   2 base   4 base  ...  max

Failures are forgotten `memory` seconds after the last one. Per email the owner's own password is what is being
guessed, so few failures are free; per client address many people may share one (an office, a mobile carrier),
so more are, and spraying one password over many emails from one address is what it stops.

The script that counts the failures in Redis (serve/login_guard.py) takes `free` and the waits past it as a short
table (`schedule`), and waits `schedule[min(failures - free, len - 1)]` after the last failure once `free` are
used up: the doubling and the cap are written once, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config import Settings


@dataclass(frozen=True)
class Backoff:
    free: int
    base_seconds: float
    max_seconds: float

    def wait_after(self, failures: int) -> float:
        """Seconds the next attempt waits after the last of `failures` failures."""
        if failures < self.free:
            return 0.0
        exponent = failures - self.free
        if exponent >= 64:  # 2**64 * base is past any cap; and keeps the float finite
            return self.max_seconds
        return min(self.max_seconds, self.base_seconds * 2.0 ** exponent)

    def schedule(self) -> list[float]:
        """The waits after the `free`-th failure, the `free`+1-th, ... up to the first capped one; failures
        beyond wait the last entry, failures before it none."""
        waits = [self.wait_after(self.free)]
        while waits[-1] < self.max_seconds:
            waits.append(self.wait_after(self.free + len(waits)))
        return waits


@dataclass(frozen=True)
class LoginPolicy:
    per_email: Backoff
    per_address: Backoff
    memory_seconds: int  # failures are forgotten this long after the last one
    known_address_seconds: int  # an address the owner signed in from stays theirs this long

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginPolicy:
        base, cap = settings.login_backoff_base_seconds, settings.login_backoff_max_seconds
        return cls(Backoff(settings.login_failures_per_email_free, base, cap),
                   Backoff(settings.login_failures_per_ip_free, base, cap),
                   settings.login_failure_memory_seconds, settings.login_known_address_seconds)
