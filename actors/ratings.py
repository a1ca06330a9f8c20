"""The rating follower: takes the review shards' `product.rating_changed` events to the catalog.

It reads `settings.events_stream` as the consumer group `ratings` (at-least-once: an entry is acknowledged only
after the catalog has stored what it said). Each event carries the product's whole published rating (average and
count), not a difference, and one product's events come from its one review shard in order, so applying an event
twice or applying only the last of a batch leaves the same product: of a batch, only each product's last rating is
sent. The catalog's `product.updated` then brings the search index along (actors/search_indexer.py).

The group starts at the beginning of the stream the first time, so ratings written before the follower ever ran
are applied too. The loop is an asyncio task started by the first `ready()` or tick, as the search indexer's.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from redis.exceptions import ResponseError

from actors.routing import Router
from actors.shard import ShardActor
from config import Settings
from domain.errors import NotFound

log = logging.getLogger(__name__)

GROUP = "ratings"
CONSUMER = "follower"
RATING_EVENT = "product.rating_changed"
IDLE_BLOCK_MS = 1000
RETRY_SECONDS = 1.0


def latest_ratings(entries: list[tuple[str, dict[str, str] | None]]) -> dict[str, tuple[float, int]]:
    """product_id -> (rating, review_count) of the last `product.rating_changed` per product in these entries."""
    latest: dict[str, tuple[float, int]] = {}
    for entry_id, fields in entries:
        if (fields or {}).get("type") != RATING_EVENT:
            continue
        try:
            data = json.loads((fields or {}).get("data") or "{}")
            latest[str(data["product_id"])] = (float(data["rating"]), int(data["review_count"]))
        except (ValueError, KeyError, TypeError):
            log.warning("skipping rating event %s: its data is not readable", entry_id)
    return latest


class RatingFollower(ShardActor):
    kind = "ratings"
    tick_seconds = 1.0  # keeps the consume loop alive, also after Ray restarts the actor

    def __init__(self, settings: Settings, shard: int = 0) -> None:
        self.router = Router(settings)
        self._loop: asyncio.Task[None] | None = None
        self.applied = 0
        self.failures = 0
        super().__init__(settings, shard)

    async def ready(self) -> dict[str, Any]:
        self._ensure_running()
        return {**await super().ready(), "applied": self.applied, "failures": self.failures}

    async def tick(self) -> None:
        self._ensure_running()

    def _ensure_running(self) -> None:
        if self._loop is None or self._loop.done():
            self._loop = asyncio.get_running_loop().create_task(self._consume())

    async def _consume(self) -> None:
        redis, stream = self.store.redis, self.settings.events_stream
        try:
            await redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        backlog: str | None = "0"  # our own pending entries first, then new ones
        while True:
            try:
                reply = await redis.xreadgroup(GROUP, CONSUMER, {stream: backlog or ">"},
                                               count=self.settings.ratings_batch_max,
                                               block=None if backlog else IDLE_BLOCK_MS)
                entries = list(reply[0][1]) if reply else []
                if backlog is not None and not entries:
                    backlog = None
                    continue
                if backlog is not None:
                    backlog = entries[-1][0]
                await self._send(latest_ratings(entries))
                if entries:
                    await redis.xack(stream, GROUP, *[entry_id for entry_id, _ in entries])
            except Exception:  # Redis or the catalog restarting: read the unacknowledged entries again, later
                self.failures += 1
                log.exception("rating follower: batch failed; retrying from the pending entries")
                backlog = "0"
                await asyncio.sleep(RETRY_SECONDS)

    async def _send(self, ratings: dict[str, tuple[float, int]]) -> None:
        catalog = self.router.handle("catalog")
        for product_id, (rating, count) in ratings.items():
            try:
                await catalog.set_rating.remote(product_id, rating, count)
            except Exception as exc:
                if not isinstance(getattr(exc, "cause", exc), NotFound):  # a product gone: nothing to rate
                    raise
            self.applied += 1
