"""One checkout attempt per shopper at a time, also when a retry arrives while the shard reads the token's revocation
and the recovery timer starts the shopper's interrupted checkout in that moment (the chaos run's "shards
restarting while redis-server is down" once answered such a retry with a 500)."""

from __future__ import annotations

import asyncio
import gc
from types import SimpleNamespace
from typing import Any

import pytest

from actors import reads
from actors.checkout import CheckoutResult
from actors.shoppers import ShopperShard
from config import Settings
from domain.checkout import CheckoutRequest
from domain.revocation import Revocation
from serve.local_redis import with_db


class InProcessShopperShard(ShopperShard):
    def _start_ticker(self, period: float) -> None:
        pass  # the ticker needs an actor; the test plays the recovery timer itself


def test_a_retry_joins_the_attempt_the_recovery_timer_started_while_it_read(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    thresholds = gc.get_threshold()
    shard = InProcessShopperShard(settings.model_copy(update={"redis_url": with_db(settings.redis_url or "", 8)}), 0)
    user, key, request_hash = "usr_attempts", "key-1", "hash-1"
    shard.sagas["chk_waiting"] = SimpleNamespace(  # type: ignore[assignment]
        id="chk_waiting", user_id=user, idempotency_key=key, request_hash=request_hash, created_at=0.0)
    recovered = CheckoutResult(True, {"id": "ord_recovered"})

    async def reading_the_revocation(owner: Any, revocation: Revocation) -> None:
        await asyncio.sleep(0.05)  # the round trip: the recovery timer runs now

    async def recovery() -> CheckoutResult:
        await asyncio.sleep(0.2)
        return recovered

    monkeypatch.setattr(reads, "refuse_revoked", reading_the_revocation)

    async def scenario() -> tuple[Any, Any]:
        retry = asyncio.ensure_future(shard.checkout(
            user, key, CheckoutRequest("tok_x"), request_hash, "203.0.113.9", Revocation(["a", "b", "c"], 0)))
        await asyncio.sleep(0.01)
        timer = asyncio.ensure_future(shard._attempt(user, key, request_hash, recovery()))
        return tuple(await asyncio.gather(retry, timer, return_exceptions=True))  # type: ignore[return-value]

    try:
        retried, timer = asyncio.run(scenario())
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
    assert timer is recovered
    assert retried is recovered  # joined the running attempt, not a second attempt of its own
    assert shard._attempts == {}
