"""The notifier's writes: a batch of notifications (inbox entries, their live copies, mails and webhook calls to
make) recorded in one atomic step, and the retrying delivery queues (`mail`, `webhook`) with their dead letters.

`record` runs one Lua script (atomic like MULTI, and conditional, which MULTI cannot be) in the same MULTI as the
XACK of the stream entries it came from: an entry is acknowledged if and only if its notifications are stored.
Every write is idempotent: an inbox entry is keyed by its derived id (HEXISTS first), a delivery by a marker per
(notice or event, person or endpoint, channel) kept `SENT_MARKER_SECONDS`, so an entry read again after a crash
(or claimed from a dead consumer) adds nothing twice. Only the notifier actor calls these.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from actors import keys
from domain.deliveries import Delivery, Queue

SENT_MARKER_SECONDS = 30 * 86400  # an event re-read later than this could notify again: far past any retention
ATTEMPTS_KEPT = 200  # per webhook endpoint

_RECORD = """
local ops = cjson.decode(ARGV[1])
local added = 0
for _, op in ipairs(ops) do
  if op[1] == 'inbox' then
    if redis.call('HEXISTS', op[2], op[6]) == 0 then
      local seq = redis.call('INCR', op[5])
      local doc = '{"seq":' .. seq .. ',' .. string.sub(op[7], 2)
      redis.call('HSET', op[2], op[6], doc)
      redis.call('ZADD', op[3], seq, op[6])
      redis.call('ZADD', op[4], seq, op[6])
      redis.call('XADD', op[8], 'MAXLEN', '~', op[9], '*', 'user_id', op[10], 'seq', seq, 'notification', doc)
      local over = redis.call('ZCARD', op[3]) - tonumber(op[11])
      if over > 0 then
        local old = redis.call('ZRANGE', op[3], 0, over - 1)
        redis.call('ZREM', op[3], unpack(old))
        redis.call('ZREM', op[4], unpack(old))
        redis.call('HDEL', op[2], unpack(old))
      end
      added = added + 1
    end
  elseif redis.call('SET', op[2], '1', 'NX', 'EX', op[3]) then
    redis.call('HSET', op[4], op[5], op[6])
    redis.call('ZADD', op[7], op[8], op[5])
    added = added + 1
  end
end
return added
"""


@dataclass
class Batch:
    """What one batch of stream entries asks to write."""

    ops: list[list[Any]] = field(default_factory=list)
    inbox_entries: int = 0
    deliveries: int = 0

    def inbox(self, user_id: str, notification: dict[str, Any], live_maxlen: int, kept: int) -> None:
        """An inbox entry (`notification` has its `id`; the script adds `seq`) and its copy on the live stream; the
        user's oldest entries past `kept` go."""
        self.ops.append(["inbox", keys.inbox(user_id), keys.inbox_feed(user_id), keys.inbox_unread(user_id),
                         keys.inbox_seq(user_id), notification["id"], json.dumps(notification, sort_keys=True),
                         keys.NOTIFICATIONS_LIVE, live_maxlen, user_id, kept])
        self.inbox_entries += 1

    def deliver(self, delivery: Delivery, marker: str, due: float) -> None:
        self.ops.append(["job", marker, SENT_MARKER_SECONDS, keys.delivery_jobs(delivery.queue), delivery.id,
                         json.dumps(delivery.to_dict()), keys.delivery_due(delivery.queue), due])
        self.deliveries += 1


class Deliveries:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def record(self, batch: Batch, acknowledge: dict[str, list[str]], group: str) -> None:
        """The batch's writes and the acknowledgement of its entries (stream -> entry ids), in one transaction.
        The script goes as EVAL, its text each time: redis-py's script objects first ask SCRIPT EXISTS on every
        transaction that holds one, a round trip of its own."""
        pipe = self.redis.pipeline(transaction=True)
        if batch.ops:
            pipe.eval(_RECORD, 0, json.dumps(batch.ops))
        for stream, ids in acknowledge.items():
            if ids:
                pipe.xack(stream, group, *ids)
        await pipe.execute()

    async def due(self, queue: Queue, now: float, limit: int) -> list[Delivery]:
        ids = await self.redis.zrangebyscore(keys.delivery_due(queue), "-inf", now, start=0, num=limit)
        if not ids:
            return []
        raws = await self.redis.hmget(keys.delivery_jobs(queue), ids)  # type: ignore[misc]
        return [Delivery.from_dict(json.loads(raw)) for raw in raws if raw]

    async def finish(self, tried: list[tuple[Delivery, float | None, dict[str, Any] | None]], now: float) -> None:
        """After tries, in one transaction, per (delivery, next_at, attempt): sent (next_at None, state pending) is
        forgotten; failed is due again at `next_at`; dead is kept as a dead letter. A webhook's `attempt` is added
        to its endpoint's list."""
        pipe = self.redis.pipeline(transaction=True)
        for delivery, next_at, attempt in tried:
            queue = delivery.queue
            if delivery.state == "dead":
                pipe.hset(keys.delivery_jobs(queue), delivery.id, json.dumps(delivery.to_dict()))
                pipe.zrem(keys.delivery_due(queue), delivery.id)
                pipe.zadd(keys.delivery_dead(queue), {delivery.id: now})
            elif next_at is None:
                pipe.hdel(keys.delivery_jobs(queue), delivery.id)
                pipe.zrem(keys.delivery_due(queue), delivery.id)
            else:
                pipe.hset(keys.delivery_jobs(queue), delivery.id, json.dumps(delivery.to_dict()))
                pipe.zadd(keys.delivery_due(queue), {delivery.id: next_at})
            if attempt is not None:
                pipe.lpush(keys.webhook_attempts(delivery.target), json.dumps(attempt))
                pipe.ltrim(keys.webhook_attempts(delivery.target), 0, ATTEMPTS_KEPT - 1)
        await pipe.execute()

    async def revive(self, queue: Queue, delivery_id: str, now: float) -> Delivery | None:
        """A dead letter due again now, with fresh attempts; None when there is no such dead letter."""
        if await self.redis.zscore(keys.delivery_dead(queue), delivery_id) is None:
            return None
        raw = await self.redis.hget(keys.delivery_jobs(queue), delivery_id)  # type: ignore[misc]
        if raw is None:
            return None
        delivery = Delivery.from_dict(json.loads(raw)).revived()
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(keys.delivery_jobs(queue), delivery_id, json.dumps(delivery.to_dict()))
        pipe.zrem(keys.delivery_dead(queue), delivery_id)
        pipe.zadd(keys.delivery_due(queue), {delivery_id: now})
        await pipe.execute()
        return delivery
