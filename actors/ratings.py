"""The rating follower: takes the review shards' published ratings to the catalog.

A review change that moves a product's published rating writes, in its own transaction (actors/reviews.py), the
`product.rating_changed` event, the product's rating in `keys.PRODUCT_RATINGS` and the product into
`keys.RATINGS_DUE` (scored with when it changed). The follower reads the due products, tells the catalog each one's
rating, then takes a product off the due set only if its score is still the one it read: a rating that changed
meanwhile stays due and goes next round. So nothing is lost across a crash of the follower or the catalog (what was
not taken off is sent again), and a rating is whole (average and count), so sending it twice is harmless.

It used to follow the whole event stream as a consumer group to find these events, about 1.8 ms of CPU per checkout
spent reading orders and payments (benchmarks/README.md); the due set costs it nothing while no review changes.
The loop is an asyncio task started by the first `ready()` or tick, as the search indexer's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from redis.exceptions import ResponseError

from actors import keys
from actors.routing import Router
from actors.shard import ShardActor
from config import Settings
from domain.errors import NotFound

log = logging.getLogger(__name__)

OLD_GROUP = "ratings"  # the consumer group on the event stream the follower once read: removed, or trimming waits
POLL_SECONDS = 0.25
RETRY_SECONDS = 1.0
# take each product off the due set only if its score is still the one read (ARGV: product, score, ...)
_TAKE_OFF = """
local taken = 0
for i = 1, #ARGV, 2 do
  local now = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if now and tonumber(now) == tonumber(ARGV[i + 1]) then
    redis.call('ZREM', KEYS[1], ARGV[i])
    taken = taken + 1
  end
end
return taken
"""


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
        redis = self.store.redis
        with contextlib.suppress(ResponseError):  # no such stream
            await redis.xgroup_destroy(self.settings.events_stream, OLD_GROUP)
        take_off = redis.register_script(_TAKE_OFF)
        while True:
            try:
                due = await redis.zrange(keys.RATINGS_DUE, 0, self.settings.ratings_batch_max - 1, withscores=True)
                if not due:
                    await asyncio.sleep(POLL_SECONDS)
                    continue
                raws = await redis.hmget(keys.PRODUCT_RATINGS, [product_id for product_id, _ in due])  # type: ignore[misc]
                await self._send({product_id: (float(rating["rating"]), int(rating["review_count"]))
                                  for (product_id, _), raw in zip(due, raws, strict=True)
                                  if raw is not None and (rating := json.loads(raw))})
                await take_off(keys=[keys.RATINGS_DUE],
                               args=[arg for product_id, score in due for arg in (product_id, int(score))])
            except Exception:  # Redis or the catalog restarting: what is still due goes again, later
                self.failures += 1
                log.exception("rating follower: a round failed; what is due is sent again")
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
