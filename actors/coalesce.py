"""Coalescing: concurrent requests bound for one actor travel together in one call.

A Ray actor call costs far more than the work a reservation needs (DESIGN.md, Durability: ~1,600 single calls/s
against ~15,500/s in batches of 64), so during a flash sale the checkouts running in one checkout shard send
their reservations for the same inventory shard as one `reserve_many`, and the inventory shard group-commits
them. While one batch is in flight the next one gathers; a lone request still goes at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Coalescer(Generic[Item, Result]):
    """`send` takes a list of items and answers one result per item, in order; a result that is an exception
    (a DomainError refusing that item alone) is raised to that item's caller."""

    def __init__(self, send: Callable[[list[Item]], Awaitable[Sequence[Result | BaseException]]],
                 max_batch: int = 64) -> None:
        self._send = send
        self._max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._in_flight = False

    async def submit(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if not self._in_flight:
            self._in_flight = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:self._max_batch], self._waiting[self._max_batch:]
                try:
                    results = await self._send([item for item, _ in batch])
                except BaseException as exc:  # the shard is down: every request of the batch learns it
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._in_flight = False
