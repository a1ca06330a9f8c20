"""Group commit on a real redis-server, without Ray: a batch is answered only once written, the next batch is
applied while one is being written, and a failed write fails the batch behind it too (never sent), then the
shard reloads from Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import redis

from actors.shard import ShardActor
from actors.store import Changes
from config import Settings
from domain.errors import Unavailable


class Tally(ShardActor):
    """A shard whose commands write one hash field each; it counts its reloads."""

    kind = "tally"

    def __init__(self, settings: Settings) -> None:
        self.reloads = 0
        super().__init__(settings, shard=0)

    def load(self, client: Any) -> None:
        self.reloads += 1

    def write(self, key: str, field: str) -> Any:
        def command(changes: Changes) -> str:
            changes.hset(key, field, {"field": field})
            return field

        return self.submit(command)


def test_a_failed_write_fails_its_batch_and_the_one_applied_behind_it_then_the_shard_reloads(
        settings: Settings, redis_client: redis.Redis) -> None:
    redis_client.set("gc:not-a-hash", "a string: HSET on it fails inside EXEC")
    shard = Tally(settings.model_copy(update={"group_commit_max_batch": 1}))  # one command per batch

    async def story() -> list[Any]:
        first = asyncio.ensure_future(shard.write("gc:not-a-hash", "a"))
        await asyncio.sleep(0)  # the writer takes the first batch and starts writing it
        second = asyncio.ensure_future(shard.write("gc:tally", "b"))
        outcomes = await asyncio.gather(first, second, return_exceptions=True)
        third = await shard.write("gc:tally", "c")
        await shard.store.redis.aclose()
        return [*outcomes, third]

    first, second, third = asyncio.run(story())
    assert isinstance(first, redis.exceptions.ResponseError) and "WRONGTYPE" in str(first)
    assert isinstance(second, Unavailable) and second.code == "store_unavailable"  # 503: retry it
    assert third == "c" and shard.reloads == 2  # at start, and after the failed write
    assert redis_client.hkeys("gc:tally") == ["c"]  # the batch behind the failed one was never written


def test_every_command_of_many_concurrent_batches_is_answered_after_its_write(
        settings: Settings, redis_client: redis.Redis) -> None:
    shard = Tally(settings.model_copy(update={"group_commit_max_batch": 8}))

    async def story() -> list[str]:
        answered = []

        async def one(i: int) -> None:
            await shard.write("gc:many", f"f{i}")
            assert redis_client.hexists("gc:many", f"f{i}")  # durable before the answer
            answered.append(f"f{i}")

        await asyncio.gather(*(one(i) for i in range(100)))
        await shard.store.redis.aclose()
        return answered

    assert sorted(asyncio.run(story())) == sorted(f"f{i}" for i in range(100))
    assert shard.commands == 100 and shard.batches >= 100 // 8
