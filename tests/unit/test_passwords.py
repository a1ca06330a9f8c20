"""The password policy, argon2id hashing and the cap on concurrent hashes, without Ray or Redis."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest

from domain.errors import Invalid, Unavailable
from domain.passwords import HashGate, Passwords, check_password

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


# -- the cap on concurrent hashes -----------------------------------------------------------------------------
async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


def _held(release: threading.Event) -> Callable[[int], int]:
    def hash_stand_in(n: int) -> int:  # a hash that takes as long as the test says
        release.wait(10)
        return n

    return hash_stand_in


def test_no_more_hashes_run_at_once_than_the_cap_and_the_rest_wait_their_turn() -> None:
    async def story() -> None:
        gate, release = HashGate(limit=2, max_waiting=10), threading.Event()
        calls = [asyncio.create_task(gate.run(_held(release), n)) for n in range(8)]
        await _until(lambda: gate.running == 2 and gate.waiting == 6)
        release.set()
        assert await asyncio.gather(*calls) == list(range(8))
        assert (gate.peak, gate.running, gate.waiting) == (2, 0, 0)

    asyncio.run(story())


def test_past_the_waiting_room_a_hash_is_refused_as_busy_with_a_retry_after() -> None:
    async def story() -> None:
        gate, release = HashGate(limit=1, max_waiting=2), threading.Event()
        admitted = [asyncio.create_task(gate.run(_held(release), n)) for n in range(3)]
        await _until(lambda: gate.running == 1 and gate.waiting == 2)
        with pytest.raises(Unavailable) as refused:
            await gate.run(_held(release), 99)
        assert refused.value.code == "busy" and refused.value.details == {"retry_after": 1}
        release.set()
        assert await asyncio.gather(*admitted) == [0, 1, 2]
        assert await gate.run(_held(release), 3) == 3  # room again once they are done

    asyncio.run(story())


def test_a_caller_that_stops_waiting_does_not_free_the_slot_of_a_hash_still_running() -> None:
    async def story() -> None:
        gate, release = HashGate(limit=1, max_waiting=0), threading.Event()
        abandoned = asyncio.create_task(gate.run(_held(release), 1))
        await _until(lambda: gate.running == 1)
        abandoned.cancel()
        with pytest.raises(Unavailable):  # its thread still hashes: no second one beside it
            await gate.run(_held(release), 2)
        release.set()
        await _until(lambda: gate.running == 0 and gate.waiting == 0)
        assert await gate.run(_held(release), 3) == 3
        assert gate.peak == 1

    asyncio.run(story())


def test_hashing_and_verifying_through_the_gate() -> None:
    async def story() -> None:
        passwords = Passwords(time_cost=1, memory_kib=8192, parallelism=1, gate=HashGate(1, 8))
        hashes = await asyncio.gather(*(passwords.hash_async(f"Correct-horse-{n}") for n in range(4)))
        assert await passwords.verify_async(hashes[2], "Correct-horse-2")
        assert not await passwords.verify_async(hashes[2], "Correct-horse-3")
        assert passwords.gate.peak == 1

    asyncio.run(story())
