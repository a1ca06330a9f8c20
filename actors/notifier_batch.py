"""From a batch of stream entries to what the notifier writes: the notices of each event (domain/notices.py)
resolved to people (a user, a product's wishlisters, a seller's user, the admins), filtered by each person's
preferences, as inbox entries and mails; and the calls to the webhooks subscribed to each event's type.

Everything read here is committed state (actors/reads.py and the keys the notifier and the user shards write);
nothing is written: the result is a `Batch` that actors/deliveries.py records in one step with the XACK.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from actors import keys, reads
from actors.deliveries import Batch
from actors.routing import Router, shard_count
from actors.senders import webhook_body
from config import Settings
from domain.deliveries import Delivery
from domain.ids import derived_id
from domain.notices import RULES, STOCK_TYPES, Audience, Facts, Notice, notices, password_reset
from domain.users import User
from domain.webhooks import Webhook, seller_view

log = logging.getLogger(__name__)
ADMINS_CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class Entry:
    stream: str
    entry_id: str
    fields: dict[str, str]


@dataclass
class ReadContext:
    redis: aioredis.Redis
    router: Router


class BatchBuilder:
    def __init__(self, settings: Settings, redis: aioredis.Redis) -> None:
        self.settings = settings
        self.ctx = ReadContext(redis, Router(settings))  # `group` only: no Ray calls from here
        self._admins: tuple[float, list[str]] = (0.0, [])

    async def build(self, entries: list[Entry], webhooks: dict[str, Webhook]) -> Batch:
        batch = Batch()
        hooked = {t for webhook in webhooks.values() for t in webhook.event_types}
        wanted = [entry for entry in entries if entry.stream == self.settings.events_stream
                  and (entry.fields.get("type") in RULES or entry.fields.get("type") in hooked)]
        events = [e for e in map(_event, wanted) if e]  # most events (carts, payments) concern no one here
        facts = await self._facts(events)
        addressed: list[tuple[Notice, list[str], str]] = []  # (notice, its people, the event's time)
        for event_id, type, at, data in events:
            try:  # the rules are pure: one malformed event must not hold back everyone's notifications
                found = notices(event_id, type, data, facts)
            except (KeyError, ValueError, TypeError, AttributeError):
                log.exception("notifier: event %s (%s) does not fit its rule; skipped", event_id, type)
                continue
            addressed += [(notice, await self._audience(notice.audience), at) for notice in found]
            for webhook in webhooks.values():
                if type in webhook.event_types:
                    self._call(batch, webhook, event_id, type, at, data, facts)
        users = await reads.users(self.ctx, {user_id for _, people, _ in addressed for user_id in people})
        for notice, people, at in addressed:  # in the events' order: each user's seq follows it
            for user_id in people:
                self._notify(batch, notice, user_id, at, users.get(user_id))
        for entry in entries:
            message = entry.fields
            if (entry.stream == keys.OUTBOX and message.get("type") == "password_reset"
                    and str(message.get("expires_at") or "0").isdigit()
                    and int(message.get("expires_at") or 0) > time.time()):  # an expired token is not worth a mail
                self._mail(batch, password_reset(entry.entry_id, message), message.get("user_id") or "",
                           message.get("email") or "")
        return batch

    # -- people ------------------------------------------------------------------------------------------------
    def _notify(self, batch: Batch, notice: Notice, user_id: str, at: str, user: User | None) -> None:
        if user is None or user.erased_at is not None:  # an erased account is told nothing (docs/privacy.md)
            return
        wants = user.preferences.notifications.wants
        notification_id = derived_id("ntf", notice.key, user_id, notice.kind)
        if wants(notice.kind, "in_app") and not notice.email_only:
            batch.inbox(user_id, {"id": notification_id, "kind": notice.kind, "title": notice.title,
                                  "body": notice.body, "data": notice.data, "created_at": at},
                        self.settings.notifications_live_maxlen, self.settings.notifications_kept)
        if wants(notice.kind, "email"):
            self._mail(batch, notice, user_id, user.email, notification_id)

    def _mail(self, batch: Batch, notice: Notice, user_id: str, email: str, notification_id: str | None = None
              ) -> None:
        if not email:
            return
        notification_id = notification_id or derived_id("ntf", notice.key, user_id, notice.kind)
        delivery = Delivery(derived_id("dlv", notification_id, "email"), "mail", email, notice.kind, notice.title,
                            notice.body, time.time(), user_id=user_id)
        batch.deliver(delivery, keys.notice_sent(notification_id, "email"), time.time())

    async def _audience(self, audience: Audience) -> list[str]:
        if audience.kind == "user":
            return [audience.id] if audience.id else []
        if audience.kind == "wishlisters":
            wishers = await self.ctx.redis.hgetall(keys.wishlisted_by(audience.id or ""))  # type: ignore[misc]
            return [user_id for user_id, variant_id in wishers.items()
                    if not variant_id or audience.variant_id is None or variant_id == audience.variant_id]
        if audience.kind == "seller":
            seller = await reads.seller(self.ctx, audience.id or "")
            return [seller["user_id"]] if seller and seller.get("status") == "approved" else []
        return await self._admin_ids()

    async def _admin_ids(self) -> list[str]:
        """The admins' user ids, from a scan of the user shards at most once a minute (admins are few and rare)."""
        read_at, ids = self._admins
        if time.monotonic() - read_at < ADMINS_CACHE_SECONDS:
            return ids
        ids = []
        for shard in range(shard_count(self.settings, "users")):
            async for user_id, raw in self.ctx.redis.hscan_iter(keys.users(shard), count=1000):
                if json.loads(raw).get("role") == "admin":
                    ids.append(user_id)
        self._admins = (time.monotonic(), ids)
        return ids

    # -- webhooks ----------------------------------------------------------------------------------------------
    def _call(self, batch: Batch, webhook: Webhook, event_id: str, type: str, at: str, data: dict[str, Any],
              facts: Facts) -> None:
        if webhook.seller_id is not None:
            owners = {pid: p.get("seller_id") for pid, p in facts.products.items()}
            owners.update({v: owners.get(p) for v, p in facts.variant_products.items()})
            view = seller_view(data, type, webhook.seller_id, owners)
            if view is None:
                return
            data = view
        delivery = Delivery(derived_id("dlv", event_id, webhook.id), "webhook", webhook.id, type, event_id,
                            webhook_body(event_id, type, at, data), time.time())
        batch.deliver(delivery, keys.notice_sent(f"{event_id}:{webhook.id}", "webhook"), time.time())

    # -- what the rules need to know -------------------------------------------------------------------------
    async def _facts(self, events: list[tuple[str, str, str, dict[str, Any]]]) -> Facts:
        variant_ids: set[str] = set()
        product_ids: set[str] = set()
        restocks: set[str] = set()
        unnumbered: set[str] = set()  # orders whose number the event does not carry (order.shipped ...)
        for _, type, _, data in events:
            if data.get("order_id") and not data.get("order_number") and type in RULES:
                unnumbered.add(str(data["order_id"]))
            if data.get("product_id"):
                product_ids.add(str(data["product_id"]))
            if type in STOCK_TYPES:
                lines = data.get("lines") or {}
                found = [str(data["variant_id"])] if data.get("variant_id") else [str(v) for v in lines]
                variant_ids.update(found)
                restocks.update(found)
        facts = Facts()
        if variant_ids:
            owners = await self.ctx.redis.hmget(keys.VARIANTS, list(variant_ids))  # type: ignore[misc]
            facts.variant_products = {v: p for v, p in zip(variant_ids, owners, strict=True) if p}
            product_ids.update(facts.variant_products.values())
        found_products = await reads.products(self.ctx, product_ids)
        facts.products = {pid: {"id": pid, "name": p.get("name"), "seller_id": p.get("seller_id")}
                          for pid, p in found_products.items()}
        orders = await asyncio.gather(*(reads.order(self.ctx, order_id) for order_id in unnumbered))
        facts.order_numbers = {order.id: order.order_number for order in orders if order is not None}
        if restocks:
            levels = await reads.stock_levels(self.ctx, restocks)
            facts.available = {v: int(level["available"]) for v, level in levels.items()}
        return facts


def _event(entry: Entry) -> tuple[str, str, str, dict[str, Any]] | None:
    try:
        data = json.loads(entry.fields.get("data") or "{}")
    except ValueError:
        log.warning("notifier: skipping entry %s, its data is not JSON", entry.entry_id)
        return None
    if not isinstance(data, dict):
        return None
    return entry.fields.get("id") or entry.entry_id, entry.fields.get("type", ""), entry.fields.get("at", ""), data
