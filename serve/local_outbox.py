"""In local development the operator's console stands in for the notification service: `make run` (serve/main.py)
prints each password-reset message that reaches the outbox (`keys.OUTBOX`), token included, so a developer can
finish a reset without a mailer. Only when `settings.env == "local"`; elsewhere the token is never printed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import redis

from actors import keys
from config import Settings

log = logging.getLogger("bazaar")


class OutboxEcho:
    """Reads the outbox from where it ended when created, without consuming it (the notification service's
    consumer group is not affected)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        latest: Any = client.xrevrange(keys.OUTBOX, count=1)
        self.last_id: str = latest[0][0] if latest else "0-0"

    @classmethod
    def for_settings(cls, settings: Settings) -> OutboxEcho | None:
        if settings.env != "local" or not settings.redis_url:
            return None
        return cls(redis.Redis.from_url(settings.redis_url, decode_responses=True, socket_timeout=5))

    def poll(self) -> int:
        """Print the password-reset messages that arrived since the last poll; how many were printed."""
        replies: Any = self.client.xread({keys.OUTBOX: self.last_id}, count=100)
        printed = 0
        for _, entries in replies:
            for entry_id, message in entries:
                self.last_id = entry_id
                if message.get("type") == "password_reset":
                    expires = datetime.fromtimestamp(int(message["expires_at"]), UTC).strftime("%H:%M:%S UTC")
                    log.info("password reset for %s: token %s (until %s; POST /v1/auth/password-reset/confirm)",
                             message["email"], message["token"], expires)
                    printed += 1
        return printed
