"""In local development the operator's console shows the password resets of the outbox (the stand-in for the
notification service); nowhere else. Against the session's real redis-server, no Ray."""

from __future__ import annotations

import logging
import time

import pytest
import redis

from actors import keys
from config import Settings
from serve.local_outbox import OutboxEcho


def reset_message(email: str, token: str) -> dict[str, str]:
    return {"type": "password_reset", "user_id": "usr_x", "email": email, "token": token,
            "expires_at": str(int(time.time()) + 1800)}


def test_the_console_shows_resets_that_arrive_after_the_start(redis_client: redis.Redis,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    redis_client.xadd(keys.OUTBOX, reset_message("before@example.com", "token-before"))  # type: ignore[arg-type]
    echo = OutboxEcho(redis_client)
    redis_client.xadd(keys.OUTBOX, {"type": "something_else", "email": "other@example.com"})
    redis_client.xadd(keys.OUTBOX, reset_message("ada@example.com", "token-ada"))  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="bazaar"):
        assert echo.poll() == 1
        assert echo.poll() == 0  # each message once
    assert "password reset for ada@example.com: token token-ada" in caplog.text
    assert "token-before" not in caplog.text and "other@example.com" not in caplog.text
    assert redis_client.xlen(keys.OUTBOX) >= 3  # read, not consumed: the notification service gets them all


def test_only_local_development_prints_tokens(settings: Settings) -> None:
    assert settings.env == "test" and OutboxEcho.for_settings(settings) is None
    local = OutboxEcho.for_settings(settings.model_copy(update={"env": "local"}))
    assert local is not None
    local.client.close()
