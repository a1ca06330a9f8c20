"""The sandbox payment gateway's client on a real redis-server (AOF, fsync always), as the shopper shards and the
API replicas use it: many clients at once, one set of books, no card number anywhere."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
import redis
import redis.asyncio as aioredis

from actors import keys
from actors.payments import SandboxGateway
from config import Settings
from domain.cards import luhn_valid
from domain.errors import Conflict, DomainError, Invalid, NotFound
from serve.local_redis import LocalRedis
from tests.shop import CARD_DECLINED, CARD_NO_FUNDS, CARD_OK
from tests.support import redis_values

T = TypeVar("T")
# A valid card number used nowhere else, so finding it anywhere in Redis could only be a leak.
UNIQUE_CARD = next(n for n in (f"43219876543210{d:02d}" for d in range(100)) if luhn_valid(n))
CARDS = [CARD_OK, CARD_DECLINED, CARD_NO_FUNDS, UNIQUE_CARD]
ADA, BOB = "usr_01ADA00000000000000000000", "usr_01B0B00000000000000000000"


def with_gateway(settings: Settings, work: Callable[[SandboxGateway], Awaitable[T]], clients: int = 1) -> T:
    """Run `work` against a gateway client of its own (a client is bound to its event loop)."""

    async def run() -> T:
        client = aioredis.from_url(settings.redis_url or "", decode_responses=True)
        try:
            return await work(SandboxGateway(client, settings))
        finally:
            await client.aclose()

    return asyncio.run(run())


async def tokenize(gateway: SandboxGateway, number: str = CARD_OK, customer: str = ADA) -> str:
    return (await gateway.tokenize(customer, number, 12, 2099, "123", "Ada Lovelace"))["token"]


async def refused(call: Awaitable[Any]) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await call
    return caught.value


def payment_events(client: redis.Redis, stream: str, payment_id: str) -> list[str]:
    return [f["type"] for _, f in client.xrange(stream) if json.loads(f["data"]).get("payment_id") == payment_id]


def test_a_token_stands_for_the_card_of_one_shopper_without_its_number(settings: Settings,
                                                                       redis_client: redis.Redis) -> None:
    async def work(gateway: SandboxGateway) -> None:
        token = await gateway.tokenize(ADA, "4242 4242 4242 4242", 12, 2099, "123", "Ada")
        assert set(token) == {"token", "brand", "last4", "exp_month", "exp_year", "expires_at"}
        assert (token["brand"], token["last4"], token["exp_month"], token["exp_year"]) == ("visa", "4242", 12, 2099)
        info = await gateway.token_info(token["token"], ADA)
        assert (info.brand, info.last4, len(info.fingerprint)) == ("visa", "4242", 64)
        assert info.fingerprint == (await gateway.token_info(await tokenize(gateway), ADA)).fingerprint
        stored = json.loads(redis_client.get(keys.payment_token(token["token"])) or "{}")
        assert stored["customer"] == ADA and "number" not in json.dumps(stored)
        assert 0 < redis_client.ttl(keys.payment_token(token["token"])) <= settings.payment_token_ttl_seconds
        for other in (gateway.token_info(token["token"], BOB), gateway.token_info("tok_nope", ADA)):
            assert (await refused(other)).code == "invalid_payment_token"
        assert (await refused(gateway.authorize(token["token"], BOB, 100, "USD", "gw-bob", "ord_x"))).code == \
            "invalid_payment_token"

    with_gateway(settings, work)


def test_a_token_stops_working_when_it_expires(settings: Settings) -> None:
    short_lived = settings.model_copy(update={"payment_token_ttl_seconds": 1})

    async def work(gateway: SandboxGateway) -> None:
        token = await tokenize(gateway)
        assert (await gateway.token_info(token, ADA)).last4 == "4242"
        await asyncio.sleep(1.2)  # waiting for the clock, not for another task
        assert (await refused(gateway.token_info(token, ADA))).code == "invalid_payment_token"

    with_gateway(short_lived, work)


def test_authorize_capture_and_refund_in_parts(settings: Settings, redis_client: redis.Redis) -> None:
    async def work(gateway: SandboxGateway) -> None:
        token = await tokenize(gateway)
        payment = await gateway.authorize(token, ADA, 25_000, "USD", "gw-auth-1", "ord_gw_1")
        assert (payment["status"], payment["amount"], payment["brand"], payment["last4"]) == (
            "authorized", 25_000, "visa", "4242")
        captured = await gateway.capture(payment["id"], 20_000, "gw-cap-1")
        assert (captured["status"], captured["captured"]) == ("captured", 20_000)
        part = await gateway.refund(payment["id"], 5_000, "gw-ref-1")
        assert (part["status"], part["refunded"]) == ("partially_refunded", 5_000)
        rest = await gateway.refund(payment["id"], None, "gw-ref-2")
        assert (rest["status"], rest["refunded"]) == ("refunded", 20_000)
        assert await gateway.get(payment["id"]) == rest
        assert json.loads(redis_client.hget(keys.PAYMENTS, payment["id"]) or "{}") == rest
        assert payment_events(redis_client, settings.events_stream, payment["id"]) == [
            "payment.authorized", "payment.captured", "payment.refunded", "payment.refunded"]
        assert isinstance(await refused(gateway.refund(payment["id"], 1, "gw-ref-3")), Conflict)

    with_gateway(settings, work)


def test_declined_cards_are_declined_payments_and_never_voidable(settings: Settings,
                                                                redis_client: redis.Redis) -> None:
    async def work(gateway: SandboxGateway) -> None:
        for number, code in ((CARD_DECLINED, "card_declined"), (CARD_NO_FUNDS, "insufficient_funds")):
            payment = await gateway.authorize(await tokenize(gateway, number), ADA, 1_000, "USD",
                                              f"gw-decline-{code}", "ord_gw_2")
            assert (payment["status"], payment["decline_code"]) == ("declined", code)
            assert payment_events(redis_client, settings.events_stream, payment["id"]) == ["payment.declined"]
            assert (await refused(gateway.void(payment["id"], f"gw-void-{code}"))).code == "payment_not_voidable"

    with_gateway(settings, work)


def test_many_clients_retrying_at_once_move_money_once(settings: Settings, redis_client: redis.Redis) -> None:
    """Eight processes' clients send the same authorization; then two captures race on one payment."""

    async def work(gateway: SandboxGateway) -> None:
        token = await tokenize(gateway)
        clients = [aioredis.from_url(settings.redis_url or "", decode_responses=True) for _ in range(8)]
        try:
            others = [SandboxGateway(c, settings) for c in clients]
            payments = await asyncio.gather(*(g.authorize(token, ADA, 7_000, "USD", "gw-retry", "ord_gw_3")
                                              for g in others))
            assert len({p["id"] for p in payments}) == 1
            payment_id = payments[0]["id"]
            races = await asyncio.gather(*(g.capture(payment_id, None, f"gw-race-{i}") for i, g in enumerate(others)),
                                         return_exceptions=True)
            won = [r for r in races if isinstance(r, dict)]
            assert len(won) == 1 and won[0]["captured"] == 7_000
            assert all(isinstance(r, Conflict) and r.code == "payment_not_capturable" for r in races if r not in won)
        finally:
            await asyncio.gather(*(c.aclose() for c in clients))
        winner = next(i for i, r in enumerate(races) if isinstance(r, dict))
        assert await gateway.capture(payment_id, None, f"gw-race-{winner}") == won[0]  # a replay, not a capture
        stored = [json.loads(v) for v in redis_client.hvals(keys.PAYMENTS)]
        assert [p["id"] for p in stored if p["reference"] == "ord_gw_3"] == [payment_id]
        assert payment_events(redis_client, settings.events_stream, payment_id) == [
            "payment.authorized", "payment.captured"]
        conflict = await refused(gateway.authorize(token, ADA, 7_001, "USD", "gw-retry", "ord_gw_3"))
        assert isinstance(conflict, Conflict) and conflict.code == "idempotency_conflict"

    with_gateway(settings, work)


def test_a_replay_is_answered_even_after_the_token_expired(settings: Settings, redis_client: redis.Redis) -> None:
    async def work(gateway: SandboxGateway) -> None:
        token = await tokenize(gateway)
        first = await gateway.authorize(token, ADA, 4_000, "USD", "gw-replay", "ord_gw_7")
        redis_client.delete(keys.payment_token(token))  # as if it expired
        assert await gateway.authorize(token, ADA, 4_000, "USD", "gw-replay", "ord_gw_7") == first

    with_gateway(settings, work)


def test_bad_amounts_are_refused_and_change_nothing(settings: Settings) -> None:
    async def work(gateway: SandboxGateway) -> None:
        payment = await gateway.authorize(await tokenize(gateway), ADA, 3_000, "USD", "gw-amounts", "ord_gw_4")
        too_much = await refused(gateway.capture(payment["id"], 3_001, "gw-amounts-cap"))
        assert isinstance(too_much, Invalid) and too_much.code == "amount_exceeds_authorized"
        assert await gateway.get(payment["id"]) == payment
        assert isinstance(await refused(gateway.get("pay_missing")), NotFound)
        assert (await refused(gateway.authorize(await tokenize(gateway), ADA, 0, "USD", "gw-zero", "o"))).code == \
            "invalid_amount"

    with_gateway(settings, work)


def test_the_gateway_latency_setting_delays_every_call(settings: Settings) -> None:
    slow = settings.model_copy(update={"payment_gateway_latency_ms": 50})

    async def work(gateway: SandboxGateway) -> float:
        token = await tokenize(gateway)
        started = time.perf_counter()
        await gateway.authorize(token, ADA, 100, "USD", "gw-slow", "ord_gw_8")
        return time.perf_counter() - started

    assert with_gateway(slow, work) >= 0.05  # a lower bound: the call waited at least the simulated round trip


def test_no_card_number_is_anywhere_in_redis(settings: Settings, redis_client: redis.Redis,
                                             redis_server: LocalRedis) -> None:
    async def work(gateway: SandboxGateway) -> None:
        for number in CARDS:
            await gateway.authorize(await tokenize(gateway, number), ADA, 1_500, "USD", f"gw-scan-{number[-4:]}",
                                    "ord_gw_6")
        spaced = " ".join(UNIQUE_CARD[i:i + 4] for i in range(0, 16, 4))
        await gateway.tokenize(ADA, spaced, 1, 2099, "321", "Ada")

    with_gateway(settings, work)
    scanned = 0
    for key in redis_client.scan_iter(count=1000):
        text = key + "\n" + "\n".join(redis_values(redis_client, key))
        scanned += 1
        leaked = [number for number in CARDS if number in text.replace(" ", "").replace("-", "")]
        assert not leaked, f"a card number is stored under {key}"
    assert scanned >= 3  # tokens, payments, idempotency records at the least
    # the append-only file keeps every write ever made, including keys since deleted or expired
    aof = [p for p in redis_server.data_dir.rglob("*.aof") if p.is_file()]
    assert aof, "the test Redis has no append-only file"
    on_disk = b"".join(p.read_bytes() for p in aof)
    assert b"ord_gw_6" in on_disk  # the scan reads what this test wrote
    assert not [number for number in CARDS if number.encode() in on_disk]
