"""What a route needs, built once per Serve replica and reached through `request.app.state.ctx`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import redis.asyncio as aioredis

from actors.payments import SandboxGateway
from actors.routing import Router
from actors.simulation_clock import follow_simulation_clock
from actors.store import async_client
from config import Settings

if TYPE_CHECKING:
    from analytics.report import AnalyticsReport
    from recsys.serving import LiveStore
    from serve.analytics import AnalyticsRecorder
    from serve.live_notifications import LiveFeed
    from serve.search import ProductSearch
    from serve.shelf import Shelf


@dataclass
class Context:
    settings: Settings
    router: Router
    redis: aioredis.Redis  # for the read model (actors/reads.py) and rate limits; writes go through actors
    _search: ProductSearch | None = field(default=None, repr=False)
    _gateway: SandboxGateway | None = field(default=None, repr=False)
    _analytics: AnalyticsRecorder | None = field(default=None, repr=False)
    _report: AnalyticsReport | None = field(default=None, repr=False)
    _recommendations: LiveStore | None = field(default=None, repr=False)
    _shelf: Shelf | None = field(default=None, repr=False)
    _live: LiveFeed | None = field(default=None, repr=False)

    @classmethod
    def create(cls, settings: Settings) -> Context:
        assert settings.redis_url
        follow_simulation_clock(settings)
        return cls(settings, Router(settings), async_client(settings.redis_url))

    @property
    def gateway(self) -> SandboxGateway:
        """The payment gateway's client (only tokenizing happens here; payments are the checkout's)."""
        if self._gateway is None:
            self._gateway = SandboxGateway(self.redis, self.settings)
        return self._gateway

    @property
    def analytics(self) -> AnalyticsRecorder:
        """This replica's recorder of analytics events (searches, product views): serve/analytics.py."""
        if self._analytics is None:
            from serve.analytics import AnalyticsRecorder

            self._analytics = AnalyticsRecorder(self.settings, self.redis)
        return self._analytics

    @property
    def search(self) -> ProductSearch:
        """This replica's product search (it opens the index on first use)."""
        if self._search is None:
            from serve.search import ProductSearch

            self._search = ProductSearch(self.settings, self.analytics)
        return self._search

    @property
    def report(self) -> AnalyticsReport:
        """This replica's reader of the analytics run's database (GET /v1/admin/analytics)."""
        if self._report is None:
            from analytics.report import AnalyticsReport

            self._report = AnalyticsReport(self.settings.analytics_db)
        return self._report

    @property
    def recommendations(self) -> LiveStore:
        """This replica's recommendation store, in memory (it loads the lake's current version on first use)."""
        if self._recommendations is None:
            from recsys.serving import LiveStore

            self._recommendations = LiveStore(self.settings.lake_dir, self.settings.recsys_reload_seconds)
        return self._recommendations

    @property
    def shelf(self) -> Shelf:
        """What the recommendation routes read, with this replica's short-lived copies of products (serve/shelf.py)."""
        if self._shelf is None:
            from serve.shelf import Shelf

            self._shelf = Shelf()
        return self._shelf

    @property
    def live(self) -> LiveFeed:
        """This replica's one reader of the live notifications, fanning out to its open streams."""
        if self._live is None:
            from serve.live_notifications import LiveFeed

            assert self.settings.redis_url
            self._live = LiveFeed(self.settings.redis_url)
        return self._live
