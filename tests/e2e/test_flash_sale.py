"""The claim: shards serialize reservations without a lock, so a flash sale never oversells."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.shop import Shop


def test_a_flash_sale_of_25_units_to_100_shoppers_never_oversells(shop: Shop) -> None:
    product = shop.product(stock=25, price=999)
    variant_id = product["variants"][0]["id"]
    shoppers = [shop.register() for _ in range(100)]
    for shopper in shoppers:
        assert shop.add_to_cart(shopper, product).status_code == 200
    bodies = [shop.checkout_body(s) for s in shoppers]

    async def rush() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=shop.base_url, timeout=120, limits=limits) as client:
            return await asyncio.gather(*(
                client.post("/v1/checkout", json=body,
                            headers={**s.headers, "Idempotency-Key": uuid.uuid4().hex})
                for s, body in zip(shoppers, bodies, strict=True)))

    responses = asyncio.run(rush())
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 25 and statuses.count(409) == 75, statuses
    assert all(r.json()["error"]["code"] == "out_of_stock" for r in responses if r.status_code == 409)
    stock = shop.stock(variant_id)
    assert (stock["available"], stock["reserved"], stock["committed"], stock["on_hand"]) == (0, 0, 25, 25)
    assert stock["on_hand"] == stock["available"] + stock["reserved"] + stock["committed"]
    order_ids = {r.json()["order"]["id"] for r in responses if r.status_code == 201}
    assert len(order_ids) == 25
