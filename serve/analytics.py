"""Analytics events (`search.performed`, and any other record of what shoppers looked at): on a stream of their own,
sampled, appended in small batches by the API replica that saw them.

They go to `settings.analytics_stream` (default `bz:analytics`), trimmed at `analytics_maxlen`, and never to the
business stream (`events_stream`): anyone can search without signing in, so a flood of searches there would trim
orders and payments off the stream before the indexer and the pipelines read them. `analytics_sample_rate` (0 to 1)
is the share of events written, decided when one is recorded. Nothing in the shop's state depends on them: a
request is never failed or held back for its event, and a few may go missing when Redis is unreachable.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import redis.asyncio as aioredis

from actors.store import Event
from config import Settings

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.05  # an event waits at most this long to be appended, in one round trip with the others
BUFFER_MAX = 10_000  # beyond this (Redis unreachable for long) new events are dropped, never requests


class AnalyticsRecorder:
    def __init__(self, settings: Settings, redis: aioredis.Redis, rng: random.Random | None = None) -> None:
        self.stream = settings.analytics_stream
        self.maxlen = settings.analytics_maxlen
        self.sample_rate = settings.analytics_sample_rate
        self.redis = redis
        self._rng = rng or random.Random()
        self._events: list[Event] = []
        self._appending: asyncio.Task[None] | None = None

    def sampled(self) -> bool:
        """Whether the next event is kept (ask before building an expensive one)."""
        return self.sample_rate >= 1 or self._rng.random() < self.sample_rate

    def record(self, type: str, data: dict[str, Any]) -> None:
        """Queue an event that was sampled in; it is appended within FLUSH_SECONDS, with those queued meanwhile."""
        if len(self._events) >= BUFFER_MAX:
            return
        self._events.append(Event(type, data))
        if self._appending is None or self._appending.done():
            self._appending = asyncio.get_running_loop().create_task(self._append_soon())

    async def flushed(self) -> None:
        """Wait until what was queued so far is appended (or given up on)."""
        while self._appending is not None and not self._appending.done():
            await asyncio.shield(self._appending)

    async def _append_soon(self) -> None:
        while self._events:  # also those queued while the previous batch was being appended
            await asyncio.sleep(FLUSH_SECONDS)
            events, self._events = self._events, []
            try:
                pipe = self.redis.pipeline(transaction=False)
                for event in events:
                    pipe.xadd(self.stream, event.fields(), maxlen=self.maxlen, approximate=True)  # type: ignore[arg-type]
                await pipe.execute()
            except Exception:  # analytics must never fail a request
                log.warning("could not record %d analytics events", len(events), exc_info=True)
