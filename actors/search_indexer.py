"""The search indexer: the one writer of the search index, kept in step with the catalog through the event stream.

It reads `settings.events_stream` as the consumer group `search-indexer` (at-least-once: an entry is acknowledged
only after the commit that made its change searchable), applies catalog, stock, rating and order events through
`IndexUpdater` (actors/search_updater.py): the entries that arrive within `search_commit_seconds` of the first
one are read once that time is up, applied together, committed once and acknowledged in one call, so a busy shop
costs a few index commits and Redis round trips a second, not a few per event. Units ordered are counted into
popularity at most every `search_popularity_seconds` (their order entries stay unacknowledged until then), so a
product sold many times is rewritten once per period, not once per order.
Searchers (the API replicas) open the same directory read-only and reload on new commits.

On start: an index that is missing or empty while the catalog has products, or a store the group never read, is
rebuilt from Redis; the group is first moved to the stream's end, so every change after that point is read and
everything before it is in the scan. Otherwise it resumes: first its own pending entries (read before a crash,
never acknowledged), then new ones. The loop is an asyncio task started by the first `ready()` or tick.
An indexer kept down longer than the stream's retention (`events_maxlen`) misses what was trimmed meanwhile:
`make search-index` rebuilds then.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from actors import keys
from actors.search_feed import CatalogFeed, Entry
from actors.search_updater import IndexUpdater, Staged
from actors.shard import ShardActor
from config import Settings
from domain.clock import now_iso
from search.index import SearchIndex

log = logging.getLogger(__name__)

GROUP = "search-indexer"
CONSUMER = "indexer"  # one indexer, one stable name: after a restart it finds its own pending entries
IDLE_BLOCK_MS = 1000
RETRY_SECONDS = 1.0


async def move_group_to_end(redis: aioredis.Redis, stream: str) -> None:
    """Create the group at the stream's end (or move it there): only changes from now on will be read."""
    try:
        await redis.xgroup_create(stream, GROUP, id="$", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
        await redis.xgroup_setid(stream, GROUP, id="$")


async def group_exists(redis: aioredis.Redis, stream: str) -> bool:
    try:
        groups = await redis.xinfo_groups(stream)
    except ResponseError:  # no stream yet
        return False
    return any(g.get("name") == GROUP for g in groups)


async def needs_rebuild(redis: aioredis.Redis, stream: str, index: SearchIndex) -> bool:
    if not await group_exists(redis, stream):
        return True
    return index.num_docs() == 0 and await redis.hlen(keys.PRODUCTS) > 0  # type: ignore[misc]


class SearchIndexer(ShardActor):
    kind = "search_indexer"
    tick_seconds = 1.0  # keeps the consume loop alive, also after Ray restarts the actor

    def __init__(self, settings: Settings, shard: int = 0) -> None:
        self.index = SearchIndex.open(settings.search_dir)
        self.updater: IndexUpdater | None = None
        self._loop: asyncio.Task[None] | None = None
        self.events = 0
        self.commits = 0
        self.last_commit_at: str | None = None
        self.rebuilding = False
        self.rebuild_done = 0
        self.rebuild_total = 0
        self.failures = 0
        super().__init__(settings, shard)

    # -- Ray-facing methods ------------------------------------------------------------------------------
    async def ready(self) -> dict[str, Any]:
        self._ensure_running()
        return {**await super().ready(), "docs": self.index.num_docs()}

    async def tick(self) -> None:
        self._ensure_running()

    async def rebuild(self) -> int:
        """A full rebuild from the catalog in Redis (events keep queueing meanwhile). Returns the documents."""
        return await self._rebuild()

    async def stats(self) -> dict[str, Any]:
        """Counters since this process started. `upserted` counts every document written (rebuilds too);
        `stock_flips` the products rewritten because their in-stock state flipped; `popularity_counts` the times
        units ordered were counted and `popularity_upserted` the products rewritten for it;
        `popularity_pending` the order entries waiting for the next count."""
        updater = self._updater()
        return {"docs": self.index.num_docs(), "events": self.events, "commits": self.commits,
                "last_commit_at": self.last_commit_at, "upserted": updater.upserted, "deleted": updater.deleted,
                "stock_flips": updater.stock_flips, "popularity_counts": updater.popularity_counts,
                "popularity_upserted": updater.popularity_upserted,
                "popularity_pending": updater.popularity_pending, "rebuilding": self.rebuilding,
                "rebuild_done": self.rebuild_done, "rebuild_total": self.rebuild_total, "failures": self.failures,
                "running": self._loop is not None and not self._loop.done()}

    # -- the consume loop --------------------------------------------------------------------------------
    def _ensure_running(self) -> None:
        if self._loop is None or self._loop.done():
            if self._loop is not None and not self._loop.cancelled() and self._loop.exception() is not None:
                log.error("the search indexer loop stopped; starting it again", exc_info=self._loop.exception())
            self._loop = asyncio.get_running_loop().create_task(self._consume())

    def _updater(self) -> IndexUpdater:
        if self.updater is None:
            self.updater = IndexUpdater(self.index, CatalogFeed(self.settings, self.store.redis))
        return self.updater

    async def _consume(self) -> None:
        redis, stream = self.store.redis, self.settings.events_stream
        if await needs_rebuild(redis, stream, self.index):
            await move_group_to_end(redis, stream)
            await self._rebuild()
        updater = self._updater()
        backlog: str | None = "0"  # our own pending entries first, then ">" (new ones)
        batch: list[Entry] = []  # entries gathered for up to a commit interval, then applied together
        batch_due = 0.0
        popularity_due = time.monotonic() + self.settings.search_popularity_seconds
        while True:
            try:
                staged: list[Staged] = []
                now = time.monotonic()
                if batch and (backlog is not None or now >= batch_due or len(batch) >= self.settings.search_batch_max):
                    staged.append(await updater.apply(batch))
                    self.events += len(batch)
                    batch = []
                if updater.popularity_pending and now >= popularity_due:
                    staged.append(await updater.count_popularity())
                    popularity_due = now + self.settings.search_popularity_seconds
                await self._commit_and_acknowledge(staged)
                if batch and backlog is None:  # gather until the batch is due, then read what came, in one read
                    await asyncio.sleep(max(0.0, batch_due - time.monotonic()))
                entries = await self._read(backlog, self._block_ms(batch_due if batch else None, popularity_due))
                if backlog is not None:
                    backlog = entries[-1][0] if entries else None
                if entries and not batch:
                    batch_due = time.monotonic() + self.settings.search_commit_seconds
                batch += entries
            except Exception:  # Redis restarting, a bad batch: re-read what is unacknowledged, after a pause
                self.failures += 1
                log.exception("search indexer: batch failed; retrying from the pending entries")
                backlog, batch = "0", []
                updater.forget()  # re-applying must rewrite, not trust what may be uncommitted
                await asyncio.sleep(RETRY_SECONDS)

    async def _commit_and_acknowledge(self, staged: list[Staged]) -> None:
        """Commit what was staged (if anything was), then acknowledge the entries it covers: a crash before the
        acknowledgement means they are read and applied again, never lost."""
        done = [entry_id for s in staged for entry_id in s.done]
        if any(s.documents for s in staged):
            await self._commit()
        if done:
            await self.store.redis.xack(self.settings.events_stream, GROUP, *done)

    def _block_ms(self, batch_due: float | None, popularity_due: float) -> int:
        """How long to wait for new entries: until the gathered batch or the popularity count is due, if one is."""
        due = [batch_due] if batch_due is not None else []
        if self.updater is not None and self.updater.popularity_pending:
            due.append(popularity_due)
        if not due:
            return IDLE_BLOCK_MS
        return max(1, min(IDLE_BLOCK_MS, int((min(due) - time.monotonic()) * 1000)))  # BLOCK 0 would wait forever

    async def _read(self, backlog: str | None, block_ms: int | None) -> list[Entry]:
        start = ">" if backlog is None else backlog
        reply = await self.store.redis.xreadgroup(
            GROUP, CONSUMER, {self.settings.events_stream: start}, count=self.settings.search_batch_max,
            block=None if backlog is not None else block_ms)
        return list(reply[0][1]) if reply else []

    async def _commit(self) -> None:
        await self._updater().commit()
        self.commits += 1
        self.last_commit_at = now_iso()

    async def _rebuild(self) -> int:
        updater = self._updater()
        self.rebuilding, self.rebuild_done = True, 0
        self.rebuild_total = await self.store.redis.hlen(keys.PRODUCTS)  # type: ignore[misc]

        def advance(count: int) -> None:
            self.rebuild_done += count

        try:
            indexed = await updater.rebuild(advance)
        finally:
            self.rebuilding = False
        self.commits += 1
        self.last_commit_at = now_iso()
        log.info("search index rebuilt: %d searchable products of %d", indexed, self.rebuild_total)
        return indexed
