"""Totals and facet counts of one index snapshot, kept for identical requests.

Counting is most of a search's work: every match is visited for the total and again for each facet group, and the
result does not depend on the sort or the page. So the counts of a request's scope (its text and its filters) are
kept until the index changes: the next shopper with the same words and filters, or the same shopper paging or
re-sorting, gets them without counting again, and only the page itself is searched. `entries` bounds the memory
(0: keep nothing); counts of a newer snapshot replace all of an older one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from domain.search import SearchRequest

Scope = tuple[Any, ...]


@dataclass(frozen=True)
class Counts:
    total: int
    facets: dict[str, list[dict[str, Any]]]  # shared by every answer that uses them: read, never change
    relaxed: bool  # the text matched with all but one of its words (no product had them all)


def scope(request: SearchRequest) -> Scope:
    """What the counts of a request depend on: everything but the sort and the page."""
    return (request.q, request.category, request.brands, request.price_min, request.price_max, request.rating_min,
            request.in_stock)


class CountsCache:
    def __init__(self, entries: int) -> None:
        self.entries = entries
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._version = -1
        self._kept: dict[Scope, Counts] = {}

    def get(self, version: int, key: Scope) -> Counts | None:
        with self._lock:
            found = self._kept.get(key) if version == self._version else None
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
            return found

    def put(self, version: int, key: Scope, counts: Counts) -> None:
        if self.entries <= 0:
            return
        with self._lock:
            if version < self._version:
                return  # counted on a snapshot older than those kept
            if version > self._version:
                self._version, self._kept = version, {}
            if len(self._kept) >= self.entries:
                del self._kept[next(iter(self._kept))]  # the oldest entry
            self._kept[key] = counts
