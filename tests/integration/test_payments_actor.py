"""The sandbox payment gateway actor on a real local Ray and a real redis-server (AOF, fsync always).

Most tests use the session's named gateway; the restart test uses a gateway actor of its own, so killing
it cannot disturb the rest of the session.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import ray
import redis

from actors import keys
from actors.payments import PaymentsActor
from actors.routing import Router
from config import Settings
from domain.cards import luhn_valid
from domain.errors import Conflict, DomainError, Invalid, NotFound
from serve.errors import unwrap
from tests.shop import CARD_DECLINED, CARD_NO_FUNDS, CARD_OK

pytestmark = pytest.mark.ray

# A valid card number used nowhere else, so finding it anywhere in Redis could only be a leak.
UNIQUE_CARD = next(n for n in (f"43219876543210{d:02d}" for d in range(100)) if luhn_valid(n))
CARDS = [CARD_OK, CARD_DECLINED, CARD_NO_FUNDS, UNIQUE_CARD]


@pytest.fixture(scope="module")
def gateway(platform: Settings) -> Any:
    return Router(platform).handle("payments")


@pytest.fixture(scope="module")
def client(redis_client: redis.Redis) -> redis.Redis:
    return redis_client


def tokenize(gateway: Any, number: str = CARD_OK) -> dict[str, Any]:
    return ray.get(gateway.tokenize.remote(number, 12, 2099, "123", "Ada Lovelace"))  # type: ignore[no-any-return]


def domain_error(call: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        ray.get(call)
    error = unwrap(caught.value)
    assert isinstance(error, DomainError)
    return error


def error_code(call: Any) -> str:
    return domain_error(call).code


def payment_events(client: redis.Redis, stream: str, payment_id: str) -> list[str]:
    entries = client.xrange(stream)
    return [f["type"] for _, f in entries if json.loads(f["data"]).get("payment_id") == payment_id]


def test_a_token_stands_for_the_card_without_its_number(gateway: Any, client: redis.Redis) -> None:
    token = tokenize(gateway, "4242 4242 4242 4242")
    assert set(token) == {"token", "brand", "last4", "exp_month", "exp_year"}
    assert (token["brand"], token["last4"], token["exp_month"], token["exp_year"]) == ("visa", "4242", 12, 2099)
    info = ray.get(gateway.token_info.remote(token["token"]))
    assert info == {**token, "fingerprint": info["fingerprint"]} and len(info["fingerprint"]) == 64
    assert info["fingerprint"] == ray.get(gateway.token_info.remote(tokenize(gateway)["token"]))["fingerprint"]
    stored = json.loads(client.hget(keys.PAYMENT_TOKENS, token["token"]) or "{}")
    assert set(stored) == {"token", "brand", "last4", "exp_month", "exp_year", "fingerprint", "holder_name",
                           "outcome", "created_at"}
    assert error_code(gateway.token_info.remote("tok_nope")) == "invalid_payment_token"


def test_authorize_capture_and_refund_in_parts(platform: Settings, gateway: Any, client: redis.Redis) -> None:
    token = tokenize(gateway)["token"]
    payment = ray.get(gateway.authorize.remote(token, 25_000, "USD", "it-auth-1", "chk_it_1"))
    assert (payment["status"], payment["amount"], payment["brand"], payment["last4"]) == (
        "authorized", 25_000, "visa", "4242")
    captured = ray.get(gateway.capture.remote(payment["id"], 20_000, "it-cap-1"))
    assert (captured["status"], captured["captured"]) == ("captured", 20_000)
    part = ray.get(gateway.refund.remote(payment["id"], 5_000, "it-ref-1"))
    assert (part["status"], part["refunded"]) == ("partially_refunded", 5_000)
    rest = ray.get(gateway.refund.remote(payment["id"], None, "it-ref-2"))
    assert (rest["status"], rest["refunded"]) == ("refunded", 20_000)
    assert ray.get(gateway.get.remote(payment["id"])) == rest
    assert json.loads(client.hget(keys.PAYMENTS, payment["id"]) or "{}") == rest
    assert payment_events(client, platform.events_stream, payment["id"]) == [
        "payment.authorized", "payment.captured", "payment.refunded", "payment.refunded"]
    assert isinstance(domain_error(gateway.refund.remote(payment["id"], 1, "it-ref-3")), Conflict)


def test_declined_cards_are_declined_payments_and_can_be_voided_never(platform: Settings, gateway: Any,
                                                                         client: redis.Redis) -> None:
    for number, code in ((CARD_DECLINED, "card_declined"), (CARD_NO_FUNDS, "insufficient_funds")):
        token = tokenize(gateway, number)["token"]
        payment = ray.get(gateway.authorize.remote(token, 1_000, "USD", f"it-decline-{code}", "chk_it_2"))
        assert (payment["status"], payment["decline_code"]) == ("declined", code)
        assert payment_events(client, platform.events_stream, payment["id"]) == ["payment.declined"]
        assert error_code(gateway.void.remote(payment["id"], f"it-void-{code}")) == "payment_not_voidable"
    assert error_code(gateway.authorize.remote("tok_unknown", 1_000, "USD", "it-x", "chk")) == "invalid_payment_token"


def test_retried_calls_return_the_same_payment_and_move_money_once(gateway: Any, client: redis.Redis) -> None:
    token = tokenize(gateway)["token"]

    async def retries() -> list[dict[str, Any]]:
        calls = [gateway.authorize.remote(token, 7_000, "USD", "it-retry", "chk_it_3") for _ in range(8)]
        return await asyncio.gather(*calls)

    payments = asyncio.run(retries())
    assert len({p["id"] for p in payments}) == 1
    payment_id = payments[0]["id"]
    first = ray.get(gateway.capture.remote(payment_id, None, "it-retry-cap"))
    ray.get(gateway.refund.remote(payment_id, 1_000, "it-retry-ref"))
    assert ray.get(gateway.capture.remote(payment_id, None, "it-retry-cap")) == first
    assert ray.get(gateway.refund.remote(payment_id, 1_000, "it-retry-ref"))["refunded"] == 1_000
    assert ray.get(gateway.get.remote(payment_id))["refunded"] == 1_000
    stored = [json.loads(v) for v in client.hvals(keys.PAYMENTS)]
    assert [p["id"] for p in stored if p["reference"] == "chk_it_3"] == [payment_id]
    conflict = domain_error(gateway.authorize.remote(token, 7_001, "USD", "it-retry", "chk_it_3"))
    assert isinstance(conflict, Conflict) and conflict.code == "idempotency_conflict"


def test_bad_amounts_are_refused_and_change_nothing(gateway: Any) -> None:
    token = tokenize(gateway)["token"]
    payment = ray.get(gateway.authorize.remote(token, 3_000, "USD", "it-amounts", "chk_it_4"))
    too_much = domain_error(gateway.capture.remote(payment["id"], 3_001, "it-amounts-cap"))
    assert isinstance(too_much, Invalid) and too_much.code == "amount_exceeds_authorized"
    assert ray.get(gateway.get.remote(payment["id"])) == payment
    assert isinstance(domain_error(gateway.get.remote("pay_missing")), NotFound)


def test_payments_survive_a_crash_of_the_gateway(platform: Settings) -> None:
    own = ray.remote(PaymentsActor).options(max_restarts=-1, max_task_retries=-1, num_cpus=0,
                                            max_concurrency=1000).remote(platform, 0)
    token = ray.get(own.tokenize.remote(CARD_OK, 12, 2099, "123", None))["token"]
    payment = ray.get(own.authorize.remote(token, 9_900, "USD", "it-crash-auth", "chk_it_5"))
    captured = ray.get(own.capture.remote(payment["id"], 9_000, "it-crash-cap"))

    ray.kill(own, no_restart=False)
    # max_task_retries=-1: a call that meets the dead actor is retried once it has restarted and reloaded.
    assert ray.get(own.get.remote(payment["id"]), timeout=120) == captured
    assert ray.get(own.capture.remote(payment["id"], 9_000, "it-crash-cap")) == captured  # still a replay
    refunded = ray.get(own.refund.remote(payment["id"], None, "it-crash-ref"))
    assert (refunded["status"], refunded["refunded"]) == ("refunded", 9_000)
    assert ray.get(own.token_info.remote(token))["last4"] == "4242"
    ray.kill(own, no_restart=True)


def test_no_card_number_is_anywhere_in_redis(gateway: Any, client: redis.Redis) -> None:
    for number in CARDS:
        token = tokenize(gateway, number)["token"]
        ray.get(gateway.authorize.remote(token, 1_500, "USD", f"it-scan-{number[-4:]}", "chk_it_6"))
    spaced = " ".join(UNIQUE_CARD[i:i + 4] for i in range(0, 16, 4))
    ray.get(gateway.tokenize.remote(spaced, 1, 2099, "321", "Ada"))

    scanned = 0
    for key in client.scan_iter(count=1000):
        text = key + "\n" + "\n".join(_values(client, key))
        scanned += 1
        leaked = [number for number in CARDS if number in text.replace(" ", "").replace("-", "")]
        assert not leaked, f"a card number is stored under {key}"
    assert scanned >= 3  # tokens, payments, idempotency records at the least


def _values(client: redis.Redis, key: str) -> list[str]:
    kind = client.type(key)
    if kind == "none":  # expired between SCAN and TYPE (rate-limit windows do): nothing left to read
        return []
    if kind == "string":
        return [client.get(key) or ""]
    if kind == "hash":
        return [f"{k}={v}" for k, v in client.hgetall(key).items()]
    if kind == "stream":
        return [f"{entry_id} {fields}" for entry_id, fields in client.xrange(key)]
    if kind == "list":
        return list(client.lrange(key, 0, -1))
    if kind == "set":
        return list(client.smembers(key))
    if kind == "zset":
        return [member for member, _ in client.zrange(key, 0, -1, withscores=True)]
    raise AssertionError(f"{key} has a type this scan does not read: {kind}")
