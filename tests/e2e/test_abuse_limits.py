"""Abuse limits per client, through HTTP: password spraying, registrations that change their X-Forwarded-For, a
flood of sign-ins, card tokens and declines from one address.

The session's app has its per-address limits out of reach (every test's client is 127.0.0.1), so these tests
also deploy, on the same Serve, a second app (`/strict`) with tight ones; and they reach the shop both directly
(the peer is the client) and through a real HAProxy started by our wrapper as Serve starts its own (the peer is
HAProxy for everyone, and who the client is must come from X-Forwarded-For as HAProxy writes it).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis

from actors import keys
from config import Settings
from tests.shop import CARD_DECLINED, Shop, assert_error, loopback_address
from tests.support import haproxy_in_front_of

pytestmark = pytest.mark.ray

STRICT = {"register_per_minute_per_ip": 5, "login_failures_per_ip_free": 5, "payment_tokens_per_minute_per_ip": 3,
          "api_replicas": 1,
          # hashing: one at a time, one waiting, each slow enough that a rush of sign-ins overlaps
          "max_concurrent_password_hashes": 1, "max_waiting_password_hashes": 1,
          "argon2_time_cost": 3, "argon2_memory_kib": 65536}


@pytest.fixture(scope="module")
def strict(api_url: str, platform: Settings) -> Iterator[str]:
    """The base URL of a second app with the limits of STRICT, beside the session's on the same Serve."""
    from ray import serve

    from serve.app import build_app

    serve.run(build_app(platform.model_copy(update=STRICT)), name="strict", route_prefix="/strict")
    yield f"{api_url}/strict"
    serve.delete("strict")


@pytest.fixture(scope="module")
def haproxy(api_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of an HAProxy in front of the session's Serve, as Serve runs its own."""
    with haproxy_in_front_of(api_url.removeprefix("http://"), tmp_path_factory.mktemp("haproxy")) as url:
        yield url


def registration(shop: Shop) -> dict[str, str]:
    return {"email": shop.unique_email(), "password": "Correct-horse-42", "first_name": "Mallory",
            "last_name": "Spoof"}


def spoofed() -> dict[str, str]:
    return {"X-Forwarded-For": f"203.0.113.{uuid.uuid4().int % 254 + 1}"}


def test_registrations_that_only_change_their_forwarded_for_are_limited_per_real_address(
        shop: Shop, strict: str, haproxy: str) -> None:
    with shop.client_at(loopback_address(), f"{haproxy}/strict") as attacker:
        answers = [attacker.post("/v1/auth/register", json=registration(shop), headers=spoofed())
                   for _ in range(40)]
    statuses = [answer.status_code for answer in answers]
    assert statuses[:STRICT["register_per_minute_per_ip"]] == [201] * STRICT["register_per_minute_per_ip"]
    limited = assert_error(answers[STRICT["register_per_minute_per_ip"]], 429, "rate_limited")
    assert 1 <= limited["details"]["retry_after"] <= 60
    assert statuses.count(201) == STRICT["register_per_minute_per_ip"], statuses


def test_a_client_calling_directly_is_its_own_address_whatever_it_forwards(shop: Shop, strict: str) -> None:
    with shop.client_at(loopback_address(), strict) as attacker:
        statuses = [attacker.post("/v1/auth/register", json=registration(shop), headers=spoofed()).status_code
                    for _ in range(STRICT["register_per_minute_per_ip"] + 1)]
    assert statuses == [201] * STRICT["register_per_minute_per_ip"] + [429]


def test_the_clients_of_a_trusted_proxy_are_limited_each_on_their_own(shop: Shop, strict: str) -> None:
    with httpx.Client(base_url=strict, timeout=60) as proxy:  # 127.0.0.1: a trusted proxy, forwarding for many
        statuses = {proxy.post("/v1/auth/register", json=registration(shop), headers=spoofed()).status_code
                    for _ in range(STRICT["register_per_minute_per_ip"] * 3)}
    assert statuses == {201}


def test_spraying_one_password_over_many_emails_from_one_address_is_slowed_down(shop: Shop, strict: str) -> None:
    victims = [shop.register() for _ in range(STRICT["login_failures_per_ip_free"] + 2)]
    with shop.client_at(loopback_address(), strict) as sprayer:
        answers = [sprayer.post("/v1/auth/login", json={"email": victim.email, "password": "Summer-2024!"})
                   for victim in victims]
    free = STRICT["login_failures_per_ip_free"]
    assert [answer.status_code for answer in answers[:free]] == [401] * free
    limited = assert_error(answers[free], 429, "rate_limited")
    assert answers[free].headers["Retry-After"] == str(limited["details"]["retry_after"])
    assert_error(answers[free + 1], 429, "rate_limited")
    with shop.client_at(loopback_address(), strict) as neighbour:  # another address signs in as usual
        answer = neighbour.post("/v1/auth/login", json={"email": victims[0].email, "password": victims[0].password})
        assert answer.status_code == 200, answer.text


def test_a_flood_of_sign_ins_is_answered_busy_past_the_hashing_queue(shop: Shop, strict: str) -> None:
    start, answers = threading.Barrier(8), []

    def sign_in() -> None:
        with shop.client_at(loopback_address(), strict) as client:
            start.wait()
            answers.append(client.post("/v1/auth/login", json={"email": shop.unique_email(),
                                                                "password": "Correct-horse-42"}))

    threads = [threading.Thread(target=sign_in) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(answer.status_code for answer in answers)
    assert set(statuses) == {401, 503}, [answer.text for answer in answers]
    assert statuses.count(401) >= 1 + STRICT["max_waiting_password_hashes"]
    busy = next(answer for answer in answers if answer.status_code == 503)
    assert_error(busy, 503, "busy")
    assert busy.headers["Retry-After"] == "1"


def test_card_tokens_from_one_address_are_limited_across_its_shoppers(shop: Shop, strict: str, haproxy: str) -> None:
    card = {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2099, "cvc": "123"}
    testers = [shop.register() for _ in range(STRICT["payment_tokens_per_minute_per_ip"] + 1)]
    with shop.client_at(loopback_address(), f"{haproxy}/strict") as client:
        answers = [client.post("/v1/payments/tokens", json=card, headers={**tester.headers, **spoofed()})
                   for tester in testers]
    assert [answer.status_code for answer in answers[:-1]] == [201] * STRICT["payment_tokens_per_minute_per_ip"]
    assert_error(answers[-1], 429, "rate_limited")
    assert shop.card_token(testers[-1])  # from another address, the same shopper still may


def test_a_declined_payment_counts_against_the_real_address_not_a_forwarded_one(
        shop: Shop, haproxy: str, redis_client: redis.Redis) -> None:
    tester, product, address = shop.register(), shop.product(stock=5), loopback_address()
    shop.add_to_cart(tester, product)
    body, fake = shop.checkout_body(tester, CARD_DECLINED), spoofed()
    with shop.client_at(address, haproxy) as client:
        answer = client.post("/v1/checkout", json=body,
                             headers={**tester.headers, **fake, "Idempotency-Key": uuid.uuid4().hex})
    assert_error(answer, 402, "payment_declined")
    assert redis_client.zcard(keys.velocity("declined-ip", address)) == 1
    assert not redis_client.exists(keys.velocity("declined-ip", fake["X-Forwarded-For"]))


def test_a_client_cannot_have_serve_cut_its_checkout_short(shop: Shop, haproxy: str) -> None:
    """Serve cancels a route after `x-request-timeout-seconds`, read from the request: a client that sends a tiny
    one must still get its whole checkout (HAProxy drops the header), with one order and its stock sold."""
    tester, product = shop.register(), shop.product(stock=3)
    shop.add_to_cart(tester, product)
    with shop.client_at(loopback_address(), haproxy) as client:
        answer = client.post("/v1/checkout", json=shop.checkout_body(tester), headers={
            **tester.headers, "Idempotency-Key": uuid.uuid4().hex, "X-Request-Timeout-Seconds": "0.000001"})
    assert answer.status_code == 201, answer.text
    assert [order["id"] for order in shop.http.get("/v1/orders", headers=tester.headers).json()["items"]] \
        == [answer.json()["order"]["id"]]
