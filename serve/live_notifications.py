"""The live side of the inbox in one API replica: ONE reader of the live stream (`keys.NOTIFICATIONS_LIVE`, where
the notifier copies each new inbox entry) per replica, fanning out to the in-process queues of the users who have a
stream open here. A thousand open streams cost a thousand small queues, not a thousand Redis connections.

The reader starts with the first subscriber and follows the stream from its end by entry id (a Redis that
restarts meanwhile is waited for, and reading resumes where it stopped). A stream whose client does not keep up
(its queue full) is ended; the client reconnects with Last-Event-ID and gets the rest from the inbox.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from actors import keys
from actors.store import async_client

log = logging.getLogger(__name__)
QUEUE_SIZE = 1000
BLOCK_MS = 5000


class LiveFeed:
    def __init__(self, redis_url: str) -> None:
        self.redis = async_client(redis_url)  # its own connection: it blocks in XREAD
        self.subscribers: dict[str, set[asyncio.Queue[dict[str, Any] | None]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._following = asyncio.Event()  # set once the reader knows where the stream ends
        self.delivered = 0

    async def subscribe(self, user_id: str) -> asyncio.Queue[dict[str, Any] | None]:
        """A queue of the user's new notifications, from now on: it returns once the reader follows the stream, so
        nothing added after this call is missed."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_SIZE)
        self.subscribers.setdefault(user_id, set()).add(queue)
        if self._task is None or self._task.done():
            self._following.clear()
            self._task = asyncio.get_running_loop().create_task(self._follow())
        await self._following.wait()
        return queue

    def unsubscribe(self, user_id: str, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        queues = self.subscribers.get(user_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self.subscribers[user_id]

    @property
    def streams(self) -> int:
        return sum(len(queues) for queues in self.subscribers.values())

    async def _follow(self) -> None:
        last: str | None = None
        while True:
            try:
                if last is None:
                    newest = await self.redis.xrevrange(keys.NOTIFICATIONS_LIVE, count=1)
                    last = newest[0][0] if newest else "0-0"
                    self._following.set()
                reply = await self.redis.xread({keys.NOTIFICATIONS_LIVE: last}, count=1000, block=BLOCK_MS)
                for _, entries in reply or []:
                    for entry_id, fields in entries:
                        last = entry_id
                        self._fan_out(fields)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("live notifications: reading the live stream failed; retrying", exc_info=True)
                await asyncio.sleep(1.0)

    def _fan_out(self, fields: dict[str, str]) -> None:
        queues = self.subscribers.get(fields.get("user_id", ""))
        if not queues:
            return
        notification = {**json.loads(fields["notification"]), "read": False}
        for queue in list(queues):
            try:
                queue.put_nowait(notification)
                self.delivered += 1
            except asyncio.QueueFull:  # a client that does not read: end its stream, it resumes from the inbox
                queues.discard(queue)
                queue.get_nowait()  # room for the end-of-stream mark
                queue.put_nowait(None)
