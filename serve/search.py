"""The `search` Serve deployment: product search and autocomplete over the tantivy index the indexer actor writes.

Each replica opens the index directory read-only and looks for new commits at most every
`search_reload_seconds`, so a catalog change is searchable within a commit interval plus a reload interval.
Searching runs in a worker thread (tantivy releases the GIL), so one replica serves many requests at once.
Every search is recorded as a `search.performed` event on the stream (analytics; see docs/events.md).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import redis.asyncio as aioredis
from ray import serve

from actors.store import Event
from config import Settings
from domain.search import SearchRequest
from search.index import SearchIndex
from serve.context import SEARCH_DEPLOYMENT

log = logging.getLogger(__name__)

SUGGEST_LIMIT = 10


@serve.deployment(name=SEARCH_DEPLOYMENT, ray_actor_options={"num_cpus": 0}, max_ongoing_requests=512,
                  health_check_period_s=5)
class SearchService:
    def __init__(self, settings: Settings) -> None:
        assert settings.redis_url, "settings.redis_url must be set before the app is deployed"
        self.settings = settings
        self.index = SearchIndex.open(settings.search_dir, read_only=True)
        self.redis = aioredis.from_url(settings.redis_url, decode_responses=True)
        self._reloaded_at = time.monotonic()
        self._reload_lock = threading.Lock()
        self._recording: set[asyncio.Task[Any]] = set()

    async def search(self, params: dict[str, Any]) -> dict[str, Any]:
        """`params` as the HTTP query has them; raises domain Invalid for bad input. The result carries
        `took_ms`, the time spent in this replica (validation, reload check and the search itself)."""
        started = time.perf_counter()
        request = SearchRequest.from_params(**params)
        result = await asyncio.to_thread(self._search, request)
        result["took_ms"] = round((time.perf_counter() - started) * 1000, 3)
        self._record(request, result)
        return result

    async def suggest(self, q: str, limit: int = SUGGEST_LIMIT) -> list[str]:
        prefix = " ".join(q.split())
        if not prefix:
            return []
        return await asyncio.to_thread(self._suggest, prefix, min(max(limit, 1), SUGGEST_LIMIT))

    async def num_docs(self) -> int:
        self._maybe_reload()
        return self.index.num_docs()

    def check_health(self) -> None:
        self.index.num_docs()

    # -- in a worker thread ------------------------------------------------------------------------------
    def _search(self, request: SearchRequest) -> dict[str, Any]:
        self._maybe_reload()
        return self.index.search(request)

    def _suggest(self, prefix: str, limit: int) -> list[str]:
        self._maybe_reload()
        return self.index.suggest(prefix, limit)

    def _maybe_reload(self) -> None:
        """Pick up the indexer's new commits, at most once per interval and by one thread at a time."""
        if time.monotonic() - self._reloaded_at < self.settings.search_reload_seconds:
            return
        if not self._reload_lock.acquire(blocking=False):
            return  # another thread is reloading; this search uses the current view
        try:
            self.index.reload()
            self._reloaded_at = time.monotonic()
        finally:
            self._reload_lock.release()

    # -- analytics ---------------------------------------------------------------------------------------
    def _record(self, request: SearchRequest, result: dict[str, Any]) -> None:
        """Append the `search.performed` event without holding the answer back for it."""
        filters = {"category": request.category, "brands": list(request.brands), "price_min": request.price_min,
                   "price_max": request.price_max, "rating_min": request.rating_min, "in_stock": request.in_stock}
        event = Event("search.performed", {
            "query": request.q, "filters": {k: v for k, v in filters.items() if v not in (None, [])},
            "sort": request.sort, "page": request.page, "page_size": request.page_size, "total": result["total"],
            "took_ms": result["took_ms"], "zero_result": result["total"] == 0})
        task = asyncio.get_running_loop().create_task(self._append(event))
        self._recording.add(task)
        task.add_done_callback(self._recording.discard)

    async def _append(self, event: Event) -> None:
        try:
            await self.redis.xadd(self.settings.events_stream, event.fields(),
                                  maxlen=self.settings.events_maxlen, approximate=True)
        except Exception:  # analytics must never fail a search
            log.warning("could not record a search event", exc_info=True)
