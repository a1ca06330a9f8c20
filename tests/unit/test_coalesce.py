"""Concurrent requests for one shard travel together; each still gets its own answer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from actors.coalesce import Coalescer
from domain.errors import Conflict, NotFound


class FakeShardLink:
    """Stands in for the network hop only: answers each batch item by item, recording the batches."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    async def send(self, items: list[str]) -> list[dict[str, Any] | Exception]:
        self.batches.append(list(items))
        await asyncio.sleep(0)  # a real call yields while in flight
        return [{"id": i} if not i.startswith("short") else Conflict("out_of_stock", "m") for i in items]


def test_concurrent_requests_share_calls_and_keep_their_own_answers() -> None:
    link = FakeShardLink()
    batcher: Coalescer[str, Any] = Coalescer(link.send, max_batch=8)

    async def rush() -> list[Any]:
        return await asyncio.gather(*(batcher.submit(f"r{i}") for i in range(20)), batcher.submit("short-1"),
                                    return_exceptions=True)

    results = asyncio.run(rush())
    assert [r["id"] for r in results[:20]] == [f"r{i}" for i in range(20)]
    assert isinstance(results[20], Conflict) and results[20].code == "out_of_stock"
    assert len(link.batches) < 21 and max(len(b) for b in link.batches) <= 8
    assert sorted(i for b in link.batches for i in b) == sorted([f"r{i}" for i in range(20)] + ["short-1"])


def test_a_failed_call_fails_every_request_it_carried_and_the_next_batch_still_goes() -> None:
    calls = 0

    async def flaky(items: list[str]) -> list[Exception]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("shard restarting")
        return [NotFound("gone", "m") for _ in items]

    batcher: Coalescer[str, Any] = Coalescer(flaky)

    async def twice() -> None:
        with pytest.raises(ConnectionError):
            await batcher.submit("a")
        with pytest.raises(NotFound):
            await batcher.submit("b")

    asyncio.run(twice())
