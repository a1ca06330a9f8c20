"""Coupons through HTTP, as shoppers (and coupon hunters) use them: limits per shopper and in all, validity
dates, and a use given back when its checkout fails."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.shop import CARD_DECLINED, Account, Shop, assert_error


def buy(shop: Shop, shopper: Account, product: dict, coupon: str, card: str | None = None) -> httpx.Response:
    assert shop.add_to_cart(shopper, product).status_code == 200
    body = shop.checkout_body(shopper, card) if card else shop.checkout_body(shopper)
    return shop.checkout(shopper, {**body, "coupon_code": coupon})


def test_a_welcome_coupon_takes_its_discount_once_per_shopper(shop: Shop) -> None:
    product = shop.product(stock=10, price=3000)
    shopper = shop.register()
    first = buy(shop, shopper, product, "WELCOME10")
    assert first.status_code == 201 and first.json()["order"]["discount"] == 300, first.text
    again = assert_error(buy(shop, shopper, product, "welcome10"), 422, "invalid_coupon")
    assert again["details"]["reason"] == "already_used"
    assert len(shop.http.get("/v1/orders", headers=shopper.headers).json()["items"]) == 1
    assert shop.stock(product["variants"][0]["id"])["committed"] == 1  # the refused checkout holds nothing
    other = shop.register()
    assert buy(shop, other, product, "WELCOME10").status_code == 201  # once per shopper, not once in all


def test_a_limited_coupon_goes_to_the_first_shoppers_only_however_many_check_out_at_once(shop: Shop) -> None:
    product = shop.product(stock=10, price=2000)
    shoppers = [shop.register() for _ in range(5)]
    bodies = []
    for shopper in shoppers:
        assert shop.add_to_cart(shopper, product).status_code == 200
        bodies.append({**shop.checkout_body(shopper), "coupon_code": "FIRST2"})

    async def rush() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=shop.base_url, timeout=60) as client:
            return await asyncio.gather(*(
                client.post("/v1/checkout", json=body, headers={**s.headers, "Idempotency-Key": uuid.uuid4().hex})
                for s, body in zip(shoppers, bodies, strict=True)))

    responses = asyncio.run(rush())
    placed = [r for r in responses if r.status_code == 201]
    assert len(placed) == 2 and all(r.json()["order"]["discount"] == 100 for r in placed), [r.text for r in responses]
    refused = [assert_error(r, 422, "invalid_coupon") for r in responses if r.status_code != 201]
    assert len(refused) == 3 and {e["details"]["reason"] for e in refused} == {"used_up"}
    assert shop.stock(product["variants"][0]["id"])["committed"] == 2


def test_a_failed_checkout_gives_its_coupon_use_back(shop: Shop) -> None:
    product = shop.product(stock=5, price=3000)
    shopper = shop.register()
    assert_error(buy(shop, shopper, product, "WELCOME10", CARD_DECLINED), 402, "payment_declined")
    retried = shop.checkout(shopper, {**shop.checkout_body(shopper), "coupon_code": "WELCOME10"})
    assert retried.status_code == 201 and retried.json()["order"]["discount"] == 300, retried.text


def test_a_coupon_outside_its_dates_is_refused_before_anything_is_charged(shop: Shop) -> None:
    product = shop.product(stock=5, price=3000)
    shopper = shop.register()
    for code, says in (("EXPIRED", "expired"), ("SOON", "not valid yet")):
        error = assert_error(buy(shop, shopper, product, code), 422, "invalid_coupon")
        assert says in error["message"]
    assert shop.stock(product["variants"][0]["id"])["committed"] == 0
