"""The recommendation store as one API replica holds it: in memory, loaded from the lake's CURRENT version on first
use and again when CURRENT names another one (looked at most every `reload_seconds`).

A request never waits for a reload once a store is loaded: the one request that finds the check due looks (on a
thread; the lake may be an object store), and the others keep answering from the store they have. Only the very
first requests of a replica wait for the first load. A lake that cannot be read keeps the store there was.
"""

from __future__ import annotations

import asyncio
import logging
import time

from lake.layout import Lake
from recsys.store import Store, current_version, load

log = logging.getLogger(__name__)


class LiveStore:
    def __init__(self, lake_url: str, reload_seconds: float) -> None:
        self.lake_url = lake_url
        self.reload_seconds = reload_seconds
        self.store: Store | None = None
        self._lake: Lake | None = None
        self._checked_at: float | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> Store | None:
        """The store to answer from (None when no model was ever published)."""
        if not self._due() or (self._lock.locked() and self._checked_at is not None):
            return self.store
        async with self._lock:
            if self._due():
                self.store = await asyncio.to_thread(self._refresh)
                self._checked_at = time.monotonic()
        return self.store

    def _due(self) -> bool:
        return self._checked_at is None or time.monotonic() - self._checked_at >= self.reload_seconds

    def _refresh(self) -> Store | None:
        try:
            if self._lake is None:
                self._lake = Lake(self.lake_url)
            version = current_version(self._lake)
            if version is None or (self.store is not None and self.store.version == version):
                return self.store if version is not None else None
            return load(self._lake, version) or self.store  # pruned meanwhile: the next check finds the newer
        except (OSError, ValueError) as exc:
            log.warning("cannot read the recommendation store at %s: %s", self.lake_url, exc)
            return self.store
