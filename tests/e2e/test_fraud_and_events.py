"""Fraud rules hold or decline risky orders; every state change lands on the event stream."""

from __future__ import annotations

import json

import redis

from config import Settings
from tests.shop import Shop, assert_error


def test_a_large_order_is_held_for_review_and_an_admin_confirms_it(shop: Shop, settings: Settings) -> None:
    product = shop.product(stock=3, price=settings.fraud_hold_total + 1)
    shopper = shop.register()
    shop.add_to_cart(shopper, product)
    order = shop.checkout(shopper, shop.checkout_body(shopper)).json()["order"]
    assert order["status"] == "pending" and order["payment_status"] == "authorized"
    r = shop.http.post(f"/v1/admin/orders/{order['id']}/status", json={"status": "confirmed"},
                       headers=shop.admin.headers)
    assert r.json()["order"]["status"] == "confirmed"


def test_an_absurd_order_is_declined_before_anything_is_reserved(shop: Shop, settings: Settings) -> None:
    product = shop.product(stock=3, price=settings.fraud_decline_total + 1)
    shopper = shop.register()
    shop.add_to_cart(shopper, product)
    error = assert_error(shop.checkout(shopper, shop.checkout_body(shopper)), 402, "payment_declined")
    assert error["details"] is None  # the reason stays in the event stream, for the admin
    assert shop.stock(product["variants"][0]["id"])["reserved"] == 0


def test_a_checkout_leaves_its_trail_on_the_event_stream(shop: Shop, settings: Settings,
                                                       redis_client: redis.Redis) -> None:
    product = shop.product(stock=3)
    shopper = shop.register()
    shop.add_to_cart(shopper, product)
    order = shop.checkout(shop.login(shopper.email, shopper.password), shop.checkout_body(shopper)).json()["order"]
    entries = [fields for _, fields in redis_client.xrange(settings.events_stream)]
    assert all({"id", "type", "at", "data"} <= set(e) for e in entries)
    about_order = [e["type"] for e in entries if json.loads(e["data"]).get("order_id") == order["id"]]
    assert {"checkout.started", "order.created", "cart.checked_out", "checkout.completed"} <= set(about_order)
    reservation_ids = [r for r in (json.loads(e["data"]).get("reservation_id") for e in entries
                                   if e["type"] == "inventory.committed") if r and r.startswith("chk_")]
    assert reservation_ids, "the committed reservation is journaled"
