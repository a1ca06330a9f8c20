"""Abuse of the checkout path, tried through HTTP as an attacker or a careless client would."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import redis

from config import Settings
from tests.shop import CARD_DECLINED, CARD_NO_FUNDS, Account, Shop, assert_error


def rush(shop: Shop, shopper: Account, requests: list[tuple[str, dict[str, Any]]]) -> list[httpx.Response]:
    """All the (Idempotency-Key, body) checkouts at once, each on a connection of its own opened beforehand (on a
    slow machine, connections opened with the requests spread them out enough for the first checkout to finish)."""

    async def send() -> list[httpx.Response]:
        clients = [httpx.AsyncClient(base_url=shop.base_url, timeout=60) for _ in requests]
        try:
            await asyncio.gather(*(client.get("/healthz") for client in clients))
            return await asyncio.gather(*(
                client.post("/v1/checkout", json=body, headers={**shopper.headers, "Idempotency-Key": key})
                for client, (key, body) in zip(clients, requests, strict=True)))
        finally:
            await asyncio.gather(*(client.aclose() for client in clients))

    return asyncio.run(send())


def test_a_new_key_while_the_first_checkout_runs_cannot_place_a_second_order(shop: Shop) -> None:
    """Each rush places exactly one order; the others are refused, as `checkout_in_progress` while the first runs
    (or `empty_cart` once it has finished). Whether one lands while the first runs is a race, so up to three rushes
    are made until one has."""
    product = shop.product(stock=30)
    shopper = shop.register()
    seen: set[str] = set()
    for rush_number in range(1, 4):
        shop.add_to_cart(shopper, product, quantity=2)
        body = shop.checkout_body(shopper)
        responses = rush(shop, shopper, [(uuid.uuid4().hex, body) for _ in range(6)])
        statuses = sorted(r.status_code for r in responses)
        assert statuses.count(201) == 1, [r.text for r in responses]
        codes = {r.json()["error"]["code"] for r in responses if r.status_code != 201}
        assert codes <= {"checkout_in_progress", "empty_cart"}, codes
        assert len(shop.http.get("/v1/orders", headers=shopper.headers).json()["items"]) == rush_number
        assert shop.stock(product["variants"][0]["id"])["committed"] == 2 * rush_number
        seen |= codes
        if "checkout_in_progress" in seen:
            break
    assert "checkout_in_progress" in seen, seen


def test_the_same_key_sent_twice_at_once_gives_one_order(shop: Shop) -> None:
    product = shop.product(stock=10)
    shopper = shop.register()
    shop.add_to_cart(shopper, product)
    key, body = uuid.uuid4().hex, shop.checkout_body(shopper)
    first, second = rush(shop, shopper, [(key, body), (key, body)])
    assert {first.status_code, second.status_code} <= {200, 201}, (first.text, second.text)
    assert first.json()["order"]["id"] == second.json()["order"]["id"]
    assert len(shop.http.get("/v1/orders", headers=shopper.headers).json()["items"]) == 1


def test_card_testing_meets_one_generic_decline_and_is_cut_off(shop: Shop, settings: Settings,
                                                            redis_client: redis.Redis) -> None:
    product = shop.product(stock=5)
    tester = shop.register()
    shop.add_to_cart(tester, product)
    cards = [CARD_DECLINED, CARD_NO_FUNDS] * settings.fraud_max_declines_per_user_hour
    answers = [shop.checkout(tester, shop.checkout_body(tester, card))
               for card in cards[:settings.fraud_max_declines_per_user_hour]]
    errors = [assert_error(r, 402, "payment_declined") for r in answers]
    assert all(e == errors[0] for e in errors) and errors[0]["details"] is None  # nothing tells the cards apart
    # now even a good card is declined for this shopper, with the same answer, without asking the gateway
    cut_off = assert_error(shop.checkout(tester, shop.checkout_body(tester)), 402, "payment_declined")
    assert cut_off == errors[0]
    failures = [json.loads(f["data"]) for _, f in redis_client.xrange(settings.events_stream)
                if f["type"] == "checkout.failed" and json.loads(f["data"])["user_id"] == tester.user["id"]]
    assert [f["reason"] for f in failures][-1] == "payment_declined:risk"
    assert failures[-1]["fraud_reasons"] == ["user_declines_at_limit"]
    assert shop.http.get("/v1/orders", headers=tester.headers).json()["items"] == []
    assert shop.stock(product["variants"][0]["id"])["committed"] == 0
    honest = shop.register()  # the cut-off is this shopper's, not everyone's
    shop.add_to_cart(honest, product)
    assert shop.checkout(honest, shop.checkout_body(honest)).status_code == 201


def test_a_free_item_checks_out_without_a_payment_and_holds_no_stock_after(shop: Shop) -> None:
    product = shop.product(stock=3, price=0)
    shopper = shop.register()
    shop.add_to_cart(shopper, product)
    r = shop.checkout(shopper, shop.checkout_body(shopper))
    assert r.status_code == 201, r.text
    order = r.json()["order"]
    assert (order["total"], order["payment_status"], order["status"]) == (0, "paid", "confirmed")
    level = shop.stock(product["variants"][0]["id"])
    assert (level["committed"], level["reserved"], level["available"]) == (1, 0, 2)
    cancelled = shop.http.post(f"/v1/orders/{order['id']}/cancel", headers=shopper.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert shop.stock(product["variants"][0]["id"])["available"] == 3


def test_a_listing_in_another_currency_is_refused(shop: Shop) -> None:
    category = shop.category()
    body = {"name": "Euro kettle", "description": "d", "category_id": category["id"], "brand": "Acme",
            "variants": [{"sku": f"EU-{uuid.uuid4().hex[:8]}", "price": 2500, "currency": "EUR",
                          "initial_stock": 3}]}
    error = assert_error(shop.http.post("/v1/products", json=body, headers=shop.admin.headers), 422,
                         "unsupported_currency")
    assert error["details"] == {"currency": "EUR", "supported": ["USD"]}
    product = shop.product(stock=1)
    patch = {"variants": [{"sku": f"EU-{uuid.uuid4().hex[:8]}", "attributes": {"size": "XL"}, "price": 100,
                           "currency": "EUR"}]}
    assert_error(shop.http.patch(f"/v1/products/{product['id']}", json=patch, headers=shop.admin.headers), 422)
