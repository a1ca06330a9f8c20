"""Analytics events on a real redis-server: they land on the analytics stream only, sampled at the configured rate
when they are recorded, trimmed at their own cap."""

from __future__ import annotations

import asyncio
import random
import uuid

import redis
import redis.asyncio as aioredis

from config import Settings
from serve.analytics import AnalyticsRecorder


def record_many(settings: Settings, count: int, seed: int = 7) -> None:
    """`count` search events through one recorder, as a replica records them, and wait until they are appended."""

    async def run() -> None:
        client = aioredis.from_url(settings.redis_url or "", decode_responses=True)
        try:
            recorder = AnalyticsRecorder(settings, client, random.Random(seed))
            for n in range(count):
                if recorder.sampled():
                    recorder.record("search.performed", {"query": f"tea {n}", "total": n})
            await recorder.flushed()
        finally:
            await client.aclose()

    asyncio.run(run())


def own_streams(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update={"analytics_stream": f"bz:test-analytics-{uuid.uuid4().hex[:8]}",
                                       "events_stream": f"bz:test-events-{uuid.uuid4().hex[:8]}", **changes})


def test_analytics_events_go_to_their_own_stream_only(settings: Settings, redis_client: redis.Redis) -> None:
    mine = own_streams(settings)
    record_many(mine, 50)
    entries = redis_client.xrange(mine.analytics_stream)
    assert [fields["type"] for _, fields in entries] == ["search.performed"] * 50  # type: ignore[union-attr]
    assert redis_client.xlen(mine.events_stream) == 0


def test_the_sample_rate_keeps_that_share_decided_when_recorded(settings: Settings,
                                                                redis_client: redis.Redis) -> None:
    nothing, half = own_streams(settings, analytics_sample_rate=0.0), own_streams(settings, analytics_sample_rate=0.5)
    record_many(nothing, 200)
    record_many(half, 200, seed=11)
    rng = random.Random(11)
    assert redis_client.xlen(nothing.analytics_stream) == 0
    assert redis_client.xlen(half.analytics_stream) == sum(rng.random() < 0.5 for _ in range(200))
    assert 60 < redis_client.xlen(half.analytics_stream) < 140


def test_the_analytics_stream_is_trimmed_at_its_own_cap(settings: Settings, redis_client: redis.Redis) -> None:
    capped = own_streams(settings, analytics_maxlen=1000)
    record_many(capped, 3000)
    assert redis_client.xlen(capped.analytics_stream) < 3000  # approximate trimming: about the cap, never all
