"""Product search and autocomplete, answered inside each API replica over the tantivy index the indexer writes.

Each API replica opens the index directory read-only (on its first search) and, before a search, looks whether the
indexer committed since (one stat of meta.json; at most every `search_reload_seconds` when that is set above 0).
So a change is searchable one commit interval after it happened, and a shopper whose searches land on different
replicas never sees it appear and then vanish again.
Searching runs on the replica's search threads: tantivy releases the GIL while it matches and counts, so one
replica serves many searches at once and its event loop stays free for HTTP. There is deliberately no separate
search deployment: the DeploymentHandle call to one cost more CPU than the search itself (benchmarks/SEARCH.md).
Every search is recorded as a `search.performed` event on the analytics stream (serve/analytics.py: sampled, and
never on the business event stream; see docs/events.md), appended in small batches after the answer is sent.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from config import Settings
from domain.search import SearchRequest
from search.index import SearchIndex
from serve.analytics import AnalyticsRecorder

SUGGEST_LIMIT = 10
SEARCH_THREADS = 2  # per replica (and a replica per core): tantivy runs without the GIL, the Python around it is short


class ProductSearch:
    def __init__(self, settings: Settings, analytics: AnalyticsRecorder) -> None:
        self.settings = settings
        # facets are counted on the search thread too: under load the other searches keep every core busy
        self.index = SearchIndex.open(settings.search_dir, read_only=True, facet_threads=0,
                                      cache_entries=settings.search_cache_entries)
        self.analytics = analytics
        self._threads = ThreadPoolExecutor(SEARCH_THREADS, "search")
        self._checked_at = time.monotonic()
        self._reload_lock = threading.Lock()

    async def search(self, request: SearchRequest) -> dict[str, Any]:
        """A page of hits with the total and the facets, and `took_ms`: the time spent here (the reload check and
        the search, waiting for a search thread included)."""
        started = time.perf_counter()
        result = await asyncio.get_running_loop().run_in_executor(self._threads, self._search, request)
        result["took_ms"] = round((time.perf_counter() - started) * 1000, 3)
        self._record(request, result)
        return result

    async def popular(self, count: int) -> list[str]:
        """The ids of the `count` most ordered products in stock (for recommendations; recorded as no search)."""
        request = SearchRequest(sort="popularity", in_stock=True, page_size=count)
        result = await asyncio.get_running_loop().run_in_executor(self._threads, self._search, request)
        return [hit["product_id"] for hit in result["hits"]]

    async def suggest(self, q: str, limit: int = SUGGEST_LIMIT) -> list[str]:
        prefix = " ".join(q.split())
        if not prefix:
            return []
        limit = min(max(limit, 1), SUGGEST_LIMIT)
        return await asyncio.get_running_loop().run_in_executor(self._threads, self._suggest, prefix, limit)

    # -- on a search thread ------------------------------------------------------------------------------
    def _search(self, request: SearchRequest) -> dict[str, Any]:
        self._maybe_reload()
        return self.index.search(request)

    def _suggest(self, prefix: str, limit: int) -> list[str]:
        self._maybe_reload()
        return self.index.suggest(prefix, limit)

    def _maybe_reload(self) -> None:
        """Pick up the indexer's new commit, if there is one; searches wait for a reload in progress rather than
        answer from the older snapshot."""
        interval = self.settings.search_reload_seconds
        if interval and time.monotonic() - self._checked_at < interval:
            return
        self._checked_at = time.monotonic()
        if self.index.stale():
            with self._reload_lock:
                self.index.reload()  # a no-op when another thread reloaded meanwhile

    # -- analytics ---------------------------------------------------------------------------------------
    def _record(self, request: SearchRequest, result: dict[str, Any]) -> None:
        """Queue the `search.performed` event (if sampled in); the answer is never held back for it."""
        if not self.analytics.sampled():
            return
        filters = {"category": request.category, "brands": list(request.brands), "price_min": request.price_min,
                   "price_max": request.price_max, "rating_min": request.rating_min, "in_stock": request.in_stock}
        self.analytics.record("search.performed", {
            "query": request.q, "filters": {k: v for k, v in filters.items() if v not in (None, [])},
            "sort": request.sort, "page": request.page, "page_size": request.page_size, "total": result["total"],
            "took_ms": result["took_ms"], "zero_result": result["total"] == 0})
