"""The search indexer: the one writer of the search index, kept in step with the catalog through the event stream.

It reads `settings.events_stream` as the consumer group `search-indexer` (at-least-once: an entry is acknowledged
only after the commit that made its change searchable), applies catalog, stock, rating and order events through
`IndexUpdater`, and commits at most every `search_commit_seconds` while changes arrive. Searchers (the `search`
Serve deployment) open the same directory read-only and reload on new commits.

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
from actors.search_feed import CatalogFeed, Entry, IndexUpdater
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
        updater = self.updater
        return {"docs": self.index.num_docs(), "events": self.events, "commits": self.commits,
                "last_commit_at": self.last_commit_at, "upserted": updater.upserted if updater else 0,
                "deleted": updater.deleted if updater else 0, "rebuilding": self.rebuilding,
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
        backlog: str | None = "0"  # our own pending entries first, then ">" (new ones)
        unacked: list[str] = []
        changed = 0  # documents staged since the last commit
        last_commit = 0.0
        while True:
            try:
                if unacked and (not changed or time.monotonic() - last_commit >= self.settings.search_commit_seconds):
                    if changed:  # entries that changed nothing are acknowledged without a commit
                        await self._commit()
                        last_commit = time.monotonic()
                    await self.store.redis.xack(self.settings.events_stream, GROUP, *unacked)
                    unacked, changed = [], 0
                entries = await self._read(backlog, self._block_ms(changed, last_commit))
                if backlog is not None:
                    backlog = entries[-1][0] if entries else None
                if entries:
                    changed += await self._updater().apply(entries)
                    unacked.extend(entry_id for entry_id, _ in entries)
                    self.events += len(entries)
            except Exception:  # Redis restarting, a bad batch: re-read what is unacknowledged, after a pause
                self.failures += 1
                log.exception("search indexer: batch failed; retrying from the pending entries")
                backlog, unacked, changed = "0", [], 0
                if self.updater is not None:
                    self.updater.in_stock.clear()  # re-applying must rewrite, not trust what may be uncommitted
                await asyncio.sleep(RETRY_SECONDS)

    def _block_ms(self, changed: int, last_commit: float) -> int | None:
        if not changed:
            return IDLE_BLOCK_MS
        due = last_commit + self.settings.search_commit_seconds - time.monotonic()
        return max(1, int(due * 1000))  # BLOCK 0 would wait forever

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
