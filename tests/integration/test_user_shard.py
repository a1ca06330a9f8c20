"""The user shard against the session's real redis-server, run in-process (the class without `ray.remote`):
its persistence, lazy loading after a restart, the email index and its orphan claims."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
import redis
from ulid import ULID

from actors import keys
from actors.users import ORPHAN_GRACE_SECONDS, UserShard
from config import Settings
from domain.clock import epoch
from domain.errors import Conflict, Forbidden, Invalid, Unavailable
from domain.ids import new_id
from domain.passwords import Passwords
from tests.shop import Shop

T = TypeVar("T")
PASSWORD = "Correct-horse-42"


def on_shard(settings: Settings, story: Callable[[UserShard], Awaitable[T]], shard: int = 0) -> T:
    """Run `story` against a freshly started shard (a restart, from Redis's point of view)."""

    async def run() -> T:
        return await story(UserShard(settings, shard))

    return asyncio.run(run())


def unique_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


@pytest.fixture
def client(redis_client: redis.Redis) -> redis.Redis:
    return redis_client


def events_of(client: redis.Redis, settings: Settings, user_id: str) -> list[str]:
    entries: Any = client.xrevrange(settings.events_stream, count=500)
    return [e["type"] for _, e in reversed(entries) if json.loads(e["data"]).get("user_id") == user_id]


def test_a_registered_shopper_and_their_address_survive_a_shard_restart(settings: Settings,
                                                                        client: redis.Redis) -> None:
    email = unique_email("restart")

    async def register_and_add(shard: UserShard) -> tuple[dict[str, Any], dict[str, Any]]:
        user = await shard.register(email, PASSWORD, "Ada", "Lovelace")
        return user, await shard.add_address(user["id"], Shop.address())

    user, address = on_shard(settings, register_and_add)
    assert client.hget(keys.USER_EMAILS, email) == user["id"]
    raw: Any = client.hget(keys.users(0), user["id"])
    stored = json.loads(raw)
    assert stored["password_hash"].startswith("$argon2id$") and stored["addresses"][0]["id"] == address["id"]

    async def reread(shard: UserShard) -> dict[str, Any]:
        return await shard.get(user["id"])

    assert on_shard(settings, reread)["addresses"] == [address]
    assert events_of(client, settings, user["id"]) == ["user.registered", "address.added"]


def test_a_claim_orphaned_by_a_crash_is_taken_over_but_a_fresh_one_is_not(settings: Settings,
                                                                           client: redis.Redis) -> None:
    stale_email, fresh_email = unique_email("orphan"), unique_email("inflight")
    crashed_id = f"usr_{ULID.from_timestamp(epoch() - ORPHAN_GRACE_SECONDS - 5)}"  # claimed, never written
    client.hset(keys.USER_EMAILS, mapping={stale_email: crashed_id, fresh_email: new_id("usr")})

    async def register_both(shard: UserShard) -> tuple[dict[str, Any], Conflict]:
        taken_over = await shard.register(stale_email, PASSWORD, "Ada", "Lovelace")
        with pytest.raises(Conflict) as refused:
            await shard.register(fresh_email, PASSWORD, "Ada", "Lovelace")
        return taken_over, refused.value

    taken_over, refused = on_shard(settings, register_both)
    assert client.hget(keys.USER_EMAILS, stale_email) == taken_over["id"] != crashed_id
    assert refused.code == "email_taken"


def test_ensure_admin_promotes_an_existing_account_with_the_admin_password_and_is_idempotent(
        settings: Settings, client: redis.Redis) -> None:
    email = unique_email("promoted")

    async def promote(shard: UserShard) -> list[dict[str, Any]]:
        shopper = await shard.register(email, PASSWORD, "Ada", "Lovelace")
        # once an admin, the account keeps its role whatever the configured password (it may have changed since)
        return [shopper, await shard.ensure_admin(email, PASSWORD), await shard.ensure_admin(email, "x")]

    shopper, admin, again = on_shard(settings, promote)
    assert shopper["role"] == "customer" and admin["role"] == again["role"] == "admin"
    assert shopper["id"] == admin["id"] == again["id"]
    assert events_of(client, settings, shopper["id"]) == ["user.registered", "user.updated"]  # once, not twice


def test_ensure_admin_refuses_an_email_someone_registered_with_another_password(settings: Settings,
                                                                                client: redis.Redis) -> None:
    email = unique_email("squatter")

    async def squat_then_bootstrap(shard: UserShard) -> tuple[dict[str, Any], Conflict]:
        squatter = await shard.register(email, "Squatter-pass-1", "Mallory", "Squat")
        with pytest.raises(Conflict) as refused:
            await shard.ensure_admin(email.upper(), PASSWORD)
        return squatter, refused.value

    squatter, refused = on_shard(settings, squat_then_bootstrap)
    assert refused.code == "admin_email_taken" and email in refused.message
    assert on_shard(settings, lambda shard: shard.get(squatter["id"]))["role"] == "customer"
    assert events_of(client, settings, squatter["id"]) == ["user.registered"]


def test_ensure_admin_still_creates_a_new_admin(settings: Settings, client: redis.Redis) -> None:
    email = unique_email("new-admin")
    admin = on_shard(settings, lambda shard: shard.ensure_admin(email, PASSWORD))
    assert admin["role"] == "admin" and client.hget(keys.USER_EMAILS, email) == admin["id"]
    assert events_of(client, settings, admin["id"]) == ["user.registered"]


def test_a_password_change_needs_the_current_password_and_is_journaled(settings: Settings,
                                                                       client: redis.Redis) -> None:
    email = unique_email("changer")

    async def change(shard: UserShard) -> tuple[str, Forbidden, Invalid]:
        user = await shard.register(email, PASSWORD, "Ada", "Lovelace")
        with pytest.raises(Forbidden) as wrong:
            await shard.change_password(user["id"], "Not-the-pass-1", "Newer-pass-123")
        with pytest.raises(Invalid) as weak:
            await shard.change_password(user["id"], PASSWORD, "short1")
        await shard.change_password(user["id"], PASSWORD, "Newer-pass-123")
        return user["id"], wrong.value, weak.value

    user_id, wrong, weak = on_shard(settings, change)
    assert (wrong.code, weak.code) == ("invalid_credentials", "weak_password")
    raw: Any = client.hget(keys.users(0), user_id)
    assert Passwords.from_settings(settings).verify(json.loads(raw)["password_hash"], "Newer-pass-123")
    assert events_of(client, settings, user_id) == ["user.registered", "user.password_changed"]


def test_a_rush_of_registrations_hashes_within_the_cap_and_the_overflow_is_busy(settings: Settings,
                                                                                client: redis.Redis) -> None:
    tight = settings.model_copy(update={"max_concurrent_password_hashes": 1, "max_waiting_password_hashes": 2})
    emails = [unique_email("rush") for _ in range(8)]

    async def rush(shard: UserShard) -> tuple[list[Any], int]:
        answers = await asyncio.gather(*(shard.register(email, PASSWORD, "Ada", "Lovelace") for email in emails),
                                       return_exceptions=True)
        return answers, shard.passwords.gate.peak

    answers, peak = on_shard(tight, rush)
    assert peak == 1  # argon2id's memory, once at a time
    registered = [email for email, answer in zip(emails, answers, strict=True) if isinstance(answer, dict)]
    refused = [answer for answer in answers if not isinstance(answer, dict)]
    # one hashing and two waiting are admitted; the rest are busy, unless a hash finished (freeing its slot) before
    # the last of the rush reached the gate: each first awaits Redis for its email, so on a slow machine it may
    assert 3 <= len(registered) < len(emails) and refused, answers
    assert all(isinstance(answer, Unavailable) and answer.code == "busy" for answer in refused), refused
    assert all(client.hget(keys.USER_EMAILS, email) for email in registered)
    assert not any(client.hget(keys.USER_EMAILS, email) for email in set(emails) - set(registered))  # still free
