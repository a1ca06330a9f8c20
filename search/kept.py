"""Answers and counts of one index snapshot, kept for identical requests until the index changes.

Counting is most of a search's work: every match is visited for the total and again for each facet group, and the
result does not depend on the sort or the page. So the counts of a request's scope (its text and its filters) are
kept: the same shopper paging or re-sorting, or the next one with the same words and filters, gets them without
counting again, and only the page itself is searched. A request asked again exactly (the landing page, a popular
query) is answered as it was. Both hold only for the snapshot they were made on: a reload that brings a new commit
starts afresh. `entries` bounds each (0: keep nothing); the oldest entries make room for new ones.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from domain.search import SearchRequest

V = TypeVar("V")
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


class Kept(Generic[V]):
    """Values of one snapshot (numbered), by key; a value of a newer snapshot drops those of older ones."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._version = -1
        self._kept: dict[Hashable, V] = {}

    def get(self, version: int, key: Hashable) -> V | None:
        with self._lock:
            found = self._kept.get(key) if version == self._version else None
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
            return found

    def put(self, version: int, key: Hashable, value: V) -> None:
        if self.entries <= 0:
            return
        with self._lock:
            if version < self._version:
                return  # made on a snapshot older than those kept
            if version > self._version:
                self._version, self._kept = version, {}
            if len(self._kept) >= self.entries:
                del self._kept[next(iter(self._kept))]  # the oldest entry
            self._kept[key] = value


class SnapshotCache:
    def __init__(self, entries: int) -> None:
        self.counts: Kept[Counts] = Kept(entries)  # by scope(request)
        self.answers: Kept[dict[str, Any]] = Kept(entries)  # by the request itself
