"""The notification service: one detached actor (`num_cpus=0`, restarted by Ray after a crash) that turns events
into notifications and delivers them.

It reads `settings.events_stream` and the outbox (`keys.OUTBOX`) as the consumer group `notifier` (consumer
`notifier`, a stable name: after a restart it reads its own pending entries first). A batch's notifications (inbox
entries, their copies on the live stream, mails and webhook calls to make) and the XACK of its entries are one
transaction (actors/deliveries.py), and every write is keyed by a derived id, so a crash at any point neither
loses nor repeats a notification. Pending entries of another consumer idle for `CLAIM_IDLE_MS` are claimed
(XAUTOCLAIM). Two more loops send the mails (SMTP) and webhook calls that are due, retrying with capped backoff
and keeping dead letters for an admin. It also owns the writes of the inbox's read state and of the webhooks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from typing import Any

from redis.exceptions import ResponseError

from actors import keys
from actors.deliveries import Deliveries
from actors.notifier_batch import BatchBuilder, Entry
from actors.senders import MailSender, Outcome, WebhookSender, resolves_publicly
from actors.shard import ShardActor
from actors.store import Changes
from config import Settings
from domain.clock import now_iso
from domain.deliveries import Delivery, Queue, retry_delay
from domain.errors import Invalid, NotFound
from domain.ids import new_id
from domain.webhooks import Webhook, check_subscription

log = logging.getLogger(__name__)

GROUP = "notifier"
CONSUMER = "notifier"
CLAIM_IDLE_MS = 60_000
IDLE_BLOCK_MS = 1000
DELIVERY_POLL_SECONDS = 0.2
SENDS_AT_ONCE = 20
# After a batch that was not full, the next read waits this long: at checkout rates a read returned a few entries,
# and each batch cost a read and a transaction (about 2 XREADGROUP per checkout); a notice comes this much later.
GATHER_SECONDS = 0.05
OUTBOX_KEEP_SECONDS = 3600  # sent reset messages are trimmed from the outbox after this


class Notifier(ShardActor):
    kind = "notifier"
    tick_seconds = 1.0  # keeps the loops alive, also after Ray restarts the actor

    def __init__(self, settings: Settings, shard: int = 0) -> None:
        self.webhooks: dict[str, Webhook] = {}
        self._loops: dict[str, asyncio.Task[None]] = {}
        self.counts = {"entries": 0, "inbox": 0, "deliveries": 0, "sent": 0, "failed": 0, "dead": 0, "failures": 0}
        self.last_batch_at: str | None = None
        self._claimed_at = 0.0
        super().__init__(settings, shard)
        self.deliveries = Deliveries(self.store.redis)
        self.builder = BatchBuilder(settings, self.store.redis)
        self.webhook_sender = WebhookSender(settings)
        self.mail_sender = MailSender(settings)

    def load(self, client: Any) -> None:
        self.webhooks = {wid: Webhook.from_dict(json.loads(raw)) for wid, raw in client.hgetall(keys.WEBHOOKS).items()}

    # -- Ray-facing ----------------------------------------------------------------------------------------------
    async def ready(self) -> dict[str, Any]:
        """Ready once the groups exist: every event written after the first start's ready() is notified."""
        await self._join_groups()
        self._ensure_running()
        return {**await super().ready(), "webhooks": len(self.webhooks)}

    async def tick(self) -> None:
        self._ensure_running()
        if time.monotonic() - self._claimed_at > CLAIM_IDLE_MS / 2000:
            self._claimed_at = time.monotonic()
            await self._claim_and_trim()

    async def stats(self) -> dict[str, Any]:
        """Counters since this process started, and the group's lag on the event stream (entries not yet read)."""
        lag = None
        try:
            groups = await self.store.redis.xinfo_groups(self.settings.events_stream)
            ours = next((g for g in groups if g["name"] == GROUP), None)
            lag = None if ours is None else {"lag": ours.get("lag"), "pending": ours.get("pending")}
        except ResponseError:
            pass
        return {**self.counts, "last_batch_at": self.last_batch_at, "group": lag,
                "running": sorted(name for name, task in self._loops.items() if not task.done())}

    async def mark_read(self, user_id: str, notification_id: str) -> None:
        if not await self.store.redis.hexists(keys.inbox(user_id), notification_id):  # type: ignore[misc]
            raise NotFound("notification_not_found", "No such notification", {"notification_id": notification_id})

        def command(changes: Changes) -> None:
            changes.zrem(keys.inbox_unread(user_id), notification_id)

        await self.submit(command)

    async def mark_all_read(self, user_id: str) -> None:
        def command(changes: Changes) -> None:
            changes.delete(keys.inbox_unread(user_id))

        await self.submit(command)

    async def register_webhook(self, owner_id: str, seller_id: str | None, url: str, event_types: list[str]
                               ) -> dict[str, Any]:
        """A new endpoint; its signing secret is in this answer only."""
        url, types = check_subscription(url, event_types, seller=seller_id is not None)
        if not self.settings.private_webhooks_allowed and not await resolves_publicly(url):
            raise Invalid("webhook_url_not_public", "The URL must resolve to public addresses only", {"field": "url"})
        webhook = Webhook(new_id("whk"), owner_id, seller_id, url, types, "whsec_" + secrets.token_hex(32), now_iso())

        def command(changes: Changes) -> dict[str, Any]:
            changes.hset(keys.WEBHOOKS, webhook.id, webhook.to_dict())
            changes.emit("webhook.registered", webhook_id=webhook.id, user_id=owner_id, seller_id=seller_id,
                         url=url, event_types=list(types))
            self.webhooks[webhook.id] = webhook
            return {**webhook.public(), "secret": webhook.secret}

        return await self.submit(command)

    async def delete_webhook(self, webhook_id: str, owner_id: str | None) -> None:
        """Delete an endpoint; `owner_id` None: an admin, who may delete any. Another's endpoint is not found."""
        await self.fresh()
        webhook = self.webhooks.get(webhook_id)
        if webhook is None or (owner_id is not None and webhook.owner_id != owner_id):
            raise NotFound("webhook_not_found", "No such webhook", {"webhook_id": webhook_id})

        def command(changes: Changes) -> None:
            if self.webhooks.pop(webhook_id, None) is None:
                raise NotFound("webhook_not_found", "No such webhook", {"webhook_id": webhook_id})
            changes.hdel(keys.WEBHOOKS, webhook_id)
            changes.emit("webhook.deleted", webhook_id=webhook_id, user_id=webhook.owner_id)

        await self.submit(command)

    async def retry_dead_letter(self, queue: Queue, delivery_id: str) -> dict[str, Any]:
        delivery = await self.deliveries.revive(queue, delivery_id, time.time())
        if delivery is None:
            raise NotFound("dead_letter_not_found", "No such dead letter", {"id": delivery_id})
        return delivery.summary()

    # -- the loops -----------------------------------------------------------------------------------------------
    def _ensure_running(self) -> None:
        for name, start in (("consume", self._consume), ("mail", lambda: self._deliver("mail")),
                            ("webhook", lambda: self._deliver("webhook"))):
            task = self._loops.get(name)
            if task is None or task.done():
                if task is not None and not task.cancelled() and task.exception() is not None:
                    log.error("notifier: the %s loop stopped; starting it again", name, exc_info=task.exception())
                self._loops[name] = asyncio.get_running_loop().create_task(start())

    async def _join_groups(self) -> None:
        # events from the first start on (not the shop's history); resets waiting in the outbox too
        for stream, start in ((self.settings.events_stream, "$"), (keys.OUTBOX, "0")):
            try:
                await self.store.redis.xgroup_create(stream, GROUP, id=start, mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def _consume(self) -> None:
        streams = [self.settings.events_stream, keys.OUTBOX]
        backlog = True  # our own pending entries first (read before a crash, never acknowledged), then new ones
        joined = False
        while True:
            try:
                if not joined:
                    await self._join_groups()
                    joined = True
                reply = await self.store.redis.xreadgroup(
                    GROUP, CONSUMER, {s: "0" if backlog else ">" for s in streams},
                    count=self.settings.notifier_batch_max, block=None if backlog else IDLE_BLOCK_MS)
                entries = [Entry(stream, entry_id, fields or {}) for stream, found in reply or []
                           for entry_id, fields in found]
                if backlog and not entries:
                    backlog = False
                    continue
                await self._record_entries(entries)
                if not backlog and len(entries) < self.settings.notifier_batch_max:
                    await asyncio.sleep(GATHER_SECONDS)  # let the next batch gather: a read and a write per batch
            except Exception:  # Redis restarting, a bad batch: read the unacknowledged entries again, after a pause
                self.counts["failures"] += 1
                log.exception("notifier: batch failed; retrying from the pending entries")
                backlog, joined = True, False
                await asyncio.sleep(1.0)

    async def _record_entries(self, entries: list[Entry]) -> None:
        if not entries:
            return
        batch = await self.builder.build(entries, self.webhooks)
        acknowledge: dict[str, list[str]] = {}
        for entry in entries:
            acknowledge.setdefault(entry.stream, []).append(entry.entry_id)
        await self.deliveries.record(batch, acknowledge, GROUP)
        self.counts["entries"] += len(entries)
        self.counts["inbox"] += batch.inbox_entries
        self.counts["deliveries"] += batch.deliveries
        self.last_batch_at = now_iso()

    async def _claim_and_trim(self) -> None:
        """Entries a dead consumer of the group read and never acknowledged become ours (read with the backlog on
        the next failure or restart, and now: they are applied here); sent outbox messages older than an hour go."""
        redis = self.store.redis
        try:
            for stream in (self.settings.events_stream, keys.OUTBOX):
                reply = await redis.xautoclaim(stream, GROUP, CONSUMER, CLAIM_IDLE_MS, "0-0", count=500)
                claimed = [Entry(stream, entry_id, fields or {}) for entry_id, fields in reply[1]]
                await self._record_entries(claimed)
            floor = f"{int((time.time() - OUTBOX_KEEP_SECONDS) * 1000)}-0"
            groups = await redis.xinfo_groups(keys.OUTBOX)
            ours = next((g for g in groups if g["name"] == GROUP), None)
            if ours is not None and not ours.get("pending"):
                await redis.xtrim(keys.OUTBOX, minid=min(floor, ours["last-delivered-id"], key=_stream_id),
                                  approximate=True)
        except ResponseError:
            log.warning("notifier: claiming or trimming failed", exc_info=True)

    async def _deliver(self, queue: Queue) -> None:
        gate = asyncio.Semaphore(SENDS_AT_ONCE)

        async def call(delivery: Delivery) -> Outcome:
            async with gate:
                return await self.webhook_sender.send(self.webhooks.get(delivery.target), delivery)

        while True:
            try:
                due = await self.deliveries.due(queue, time.time(), SENDS_AT_ONCE * 5)
                if not due:
                    await asyncio.sleep(DELIVERY_POLL_SECONDS)
                    continue
                if queue == "mail":
                    outcomes = await self.mail_sender.send(due)
                else:
                    outcomes = list(await asyncio.gather(*(call(d) for d in due)))
                await self._record_outcomes(list(zip(due, outcomes, strict=True)))
            except Exception:
                log.exception("notifier: %s deliveries failed; trying again", queue)
                await asyncio.sleep(1.0)

    async def _record_outcomes(self, tried: list[tuple[Delivery, Outcome]]) -> None:
        """Each try's outcome, the batch's in one transaction: sent, due again after a backoff, or a dead letter."""
        now = time.time()
        finished: list[tuple[Delivery, float | None, dict[str, Any] | None]] = []
        for delivery, outcome in tried:
            attempt = None
            if delivery.queue == "webhook":
                attempt = {"delivery_id": delivery.id, "event_id": delivery.subject, "event_type": delivery.kind,
                           "attempt": delivery.attempts + 1, "status_code": outcome.status_code, "ok": outcome.ok,
                           "error": outcome.error, "at": now_iso()}
            if outcome.ok:
                self.counts["sent"] += 1
                finished.append((delivery, None, attempt))
                continue
            self.counts["failed"] += 1
            limit = self.settings.mail_max_attempts if delivery.queue == "mail" else self.settings.webhook_max_attempts
            if delivery.failed(outcome.error or "failed", now, limit, outcome.permanent):
                self.counts["dead"] += 1
                log.warning("notifier: %s %s is a dead letter: %s", delivery.queue, delivery.id, outcome.error)
            delay = retry_delay(delivery.attempts, self.settings.delivery_backoff_seconds,
                                self.settings.delivery_backoff_max_seconds)
            finished.append((delivery, now + delay, attempt))
        await self.deliveries.finish(finished, now)


def _stream_id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
