"""A shopper's whole journey through the real HTTP app: browse, cart, checkout with each sandbox card,
order history, cancellation; and the admin's fulfilment."""

from __future__ import annotations

import asyncio
import json
import uuid

import redis
import redis.asyncio as aioredis

from actors.payments import SandboxGateway
from config import Settings
from tests.shop import CARD_CAPTURE_FAILS, CARD_DECLINED, CARD_NO_FUNDS, Shop, assert_error


def test_a_shopper_browses_fills_a_cart_checks_out_and_sees_the_order(shop: Shop) -> None:
    product = shop.product(stock=10, price=2500, sale_price=2000, brand="Journey")
    shopper = shop.register()
    variant_id = product["variants"][0]["id"]

    listing = shop.http.get("/v1/products", params={"brand": "Journey"}).json()
    assert product["id"] in [p["id"] for p in listing["items"]]
    assert shop.add_to_cart(shopper, product, quantity=2).status_code == 200
    cart = shop.http.get("/v1/cart", headers=shopper.headers).json()["cart"]
    assert cart["items"][0]["unit_price"] == 2000 and cart["items"][0]["line_total"] == 4000
    assert cart["subtotal"] == 4000 and cart["items"][0]["available"] == 10

    r = shop.checkout(shopper, shop.checkout_body(shopper))
    assert r.status_code == 201, r.text
    order = r.json()["order"]
    assert order["status"] == "confirmed" and order["payment_status"] == "authorized"
    assert order["order_number"].startswith("BZ-") and order["items"][0]["quantity"] == 2
    assert order["subtotal"] == 4000
    assert order["total"] == order["subtotal"] - order["discount"] + order["tax"] + order["shipping"]
    assert order["payment_method"]["last4"] == "4242" and "card_number" not in r.text
    assert [h["status"] for h in order["history"]] == ["confirmed"]

    assert shop.http.get("/v1/cart", headers=shopper.headers).json()["cart"]["items"] == []
    stock = shop.stock(variant_id)
    assert (stock["available"], stock["reserved"], stock["on_hand"]) == (8, 0, 10)
    history = shop.http.get("/v1/orders", headers=shopper.headers).json()["items"]
    assert [o["id"] for o in history] == [order["id"]]
    assert shop.http.get(f"/v1/orders/{order['id']}", headers=shopper.headers).json()["order"]["id"] == order["id"]


def test_a_retried_checkout_returns_the_same_order_and_charges_once(shop: Shop) -> None:
    product = shop.product(stock=5)
    shopper = shop.register()
    shop.add_to_cart(shopper, product)
    body, key = shop.checkout_body(shopper), uuid.uuid4().hex
    first = shop.checkout(shopper, body, key)
    again = shop.checkout(shopper, body, key)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["order"]["id"] == first.json()["order"]["id"]
    assert len(shop.http.get("/v1/orders", headers=shopper.headers).json()["items"]) == 1
    assert shop.stock(product["variants"][0]["id"])["available"] == 4
    assert_error(shop.checkout(shopper, {**body, "coupon_code": "WELCOME10"}, key), 422, "idempotency_key_reused")


def test_declined_cards_leave_stock_and_cart_untouched(shop: Shop, settings: Settings,
                                                       redis_client: redis.Redis) -> None:
    product = shop.product(stock=3)
    shopper = shop.register()
    shop.add_to_cart(shopper, product, quantity=2)
    declined = assert_error(shop.checkout(shopper, shop.checkout_body(shopper, CARD_DECLINED)), 402,
                            "payment_declined")
    no_funds = assert_error(shop.checkout(shopper, shop.checkout_body(shopper, CARD_NO_FUNDS)), 402,
                            "payment_declined")
    assert declined == no_funds, "every decline looks the same to the client (card testing learns nothing)"
    failures = [json.loads(fields["data"]) for _, fields in redis_client.xrange(settings.events_stream)
                if fields["type"] == "checkout.failed"]
    reasons = [f["reason"] for f in failures if f["user_id"] == shopper.user["id"]]
    assert reasons == ["payment_declined:card_declined", "payment_declined:insufficient_funds"]
    stock = shop.stock(product["variants"][0]["id"])
    assert (stock["available"], stock["reserved"]) == (3, 0)
    assert len(shop.http.get("/v1/cart", headers=shopper.headers).json()["cart"]["items"]) == 1
    assert shop.http.get("/v1/orders", headers=shopper.headers).json()["items"] == []


def test_cancelling_gives_the_stock_back_and_voids_the_payment(shop: Shop) -> None:
    product = shop.product(stock=4)
    shopper = shop.register()
    shop.add_to_cart(shopper, product, quantity=3)
    order = shop.checkout(shopper, shop.checkout_body(shopper)).json()["order"]
    r = shop.http.post(f"/v1/orders/{order['id']}/cancel", headers=shopper.headers)
    assert r.status_code == 200, r.text
    cancelled = r.json()["order"]
    assert cancelled["status"] == "cancelled" and cancelled["payment_status"] == "voided", "no money was taken"
    assert [h["status"] for h in cancelled["history"]] == ["confirmed", "cancelled"]
    assert shop.stock(product["variants"][0]["id"])["available"] == 4
    assert_error(shop.http.post(f"/v1/orders/{order['id']}/cancel", headers=shopper.headers), 409)
    seen = shop.http.get(f"/v1/orders/{order['id']}", headers=shopper.headers).json()["order"]
    assert seen["payment_status"] == "voided"


def test_cancelling_after_the_money_was_captured_refunds_it(shop: Shop, settings: Settings) -> None:
    product = shop.product(stock=2)
    shopper = shop.register()
    shop.add_to_cart(shopper, product)
    order = shop.checkout(shopper, shop.checkout_body(shopper)).json()["order"]
    payment_id = shop.http.get(f"/v1/orders/{order['id']}", headers=shop.admin.headers).json()["order"]["payment_id"]

    async def capture() -> None:  # as a shipment whose stock could not leave yet would have, at the gateway
        client = aioredis.Redis.from_url(settings.redis_url or "", decode_responses=True)
        try:
            await SandboxGateway(client, settings).capture(payment_id, None, f"{order['id']}:capture")
        finally:
            await client.aclose()

    asyncio.run(capture())
    cancelled = shop.http.post(f"/v1/orders/{order['id']}/cancel", headers=shopper.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["order"]["payment_status"] == "refunded"


def test_the_admin_fulfils_an_order_and_a_shipped_order_cannot_be_cancelled(shop: Shop) -> None:
    product = shop.product(stock=2)
    shopper = shop.register()
    shop.add_to_cart(shopper, product)
    order = shop.checkout(shopper, shop.checkout_body(shopper)).json()["order"]
    status = f"/v1/admin/orders/{order['id']}/status"
    assert shop.http.post(status, json={"status": "packed"}, headers=shop.admin.headers).status_code == 200
    assert_error(shop.http.post(status, json={"status": "shipped"}, headers=shop.admin.headers), 422,
                 "tracking_number_required")
    shipped = shop.http.post(status, json={"status": "shipped", "tracking_number": "1Z999"},
                             headers=shop.admin.headers).json()["order"]
    assert shipped["payment_status"] == "paid" and shipped["tracking_number"] == "1Z999"
    stock = shop.stock(product["variants"][0]["id"])
    assert (stock["on_hand"], stock["available"]) == (1, 1)
    assert_error(shop.http.post(f"/v1/orders/{order['id']}/cancel", headers=shopper.headers), 409, "already_shipped")
    assert_error(shop.http.post(status, json={"status": "packed"}, headers=shopper.headers), 403)


def test_an_order_whose_capture_is_refused_does_not_ship_and_keeps_its_stock(shop: Shop) -> None:
    product = shop.product(stock=3)
    variant_id = product["variants"][0]["id"]
    shopper = shop.register()
    shop.add_to_cart(shopper, product, quantity=2)
    order = shop.checkout(shopper, shop.checkout_body(shopper, CARD_CAPTURE_FAILS)).json()["order"]
    assert order["payment_status"] == "authorized"
    status = f"/v1/admin/orders/{order['id']}/status"
    assert shop.http.post(status, json={"status": "packed"}, headers=shop.admin.headers).status_code == 200
    before = shop.stock(variant_id)

    refused = shop.http.post(status, json={"status": "shipped", "tracking_number": "1Z000"},
                             headers=shop.admin.headers)
    assert_error(refused, 402, "capture_failed")
    after = shop.http.get(f"/v1/orders/{order['id']}", headers=shop.admin.headers).json()["order"]
    assert (after["status"], after["payment_status"], after["tracking_number"]) == ("packed", "authorized", None)
    assert shop.stock(variant_id) == before and before["on_hand"] == 3, "the stock stays on the shelf"

    cancelled = shop.http.post(f"/v1/orders/{order['id']}/cancel", headers=shopper.headers).json()["order"]
    assert (cancelled["status"], cancelled["payment_status"]) == ("cancelled", "voided")
    assert shop.stock(variant_id)["available"] == 3


def test_nobody_sees_or_cancels_another_shoppers_order(shop: Shop) -> None:
    product = shop.product(stock=2)
    owner, stranger = shop.register(), shop.register()
    shop.add_to_cart(owner, product)
    order = shop.checkout(owner, shop.checkout_body(owner)).json()["order"]
    assert_error(shop.http.get(f"/v1/orders/{order['id']}", headers=stranger.headers), 404, "order_not_found")
    assert_error(shop.http.post(f"/v1/orders/{order['id']}/cancel", headers=stranger.headers), 404)
    assert shop.http.get("/v1/orders", headers=stranger.headers).json()["items"] == []
    assert shop.http.get(f"/v1/orders/{order['id']}", headers=shop.admin.headers).status_code == 200


def test_checkout_refuses_what_it_cannot_sell(shop: Shop) -> None:
    shopper = shop.register()
    assert_error(shop.checkout(shopper, shop.checkout_body(shopper)), 400, "empty_cart")
    product = shop.product(stock=3)
    shop.add_to_cart(shopper, product, quantity=3)
    shop.http.post(f"/v1/inventory/{product['variants'][0]['id']}/adjust", json={"delta": -2, "reason": "damaged"},
                   headers=shop.admin.headers)
    short = assert_error(shop.checkout(shopper, shop.checkout_body(shopper)), 409, "out_of_stock")
    assert short["details"]["items"] == [{"variant_id": product["variants"][0]["id"], "requested": 3, "available": 1}]
    assert_error(shop.add_to_cart(shopper, product, quantity=50), 409, "insufficient_stock")


def test_bad_checkout_requests_get_clear_errors(shop: Shop) -> None:
    shopper = shop.register()
    product = shop.product(stock=3)
    shop.add_to_cart(shopper, product)
    body = shop.checkout_body(shopper)
    no_key = shop.http.post("/v1/checkout", json=body, headers=shopper.headers)
    assert_error(no_key, 422, "validation_error")
    assert_error(shop.checkout(shopper, {**body, "surprise": 1}), 422, "validation_error")
    assert_error(shop.checkout(shopper, {"payment_token": body["payment_token"]}), 422, "validation_error")
    assert_error(shop.checkout(shopper, {**body, "payment_token": "tok_00000000000000000000000000"}), 422,
                 "invalid_payment_token")
    assert_error(shop.checkout(shopper, {**body, "coupon_code": "NOPE"}), 422, "invalid_coupon")
    assert_error(shop.http.post("/v1/checkout", json=body), 401)
    assert shop.stock(product["variants"][0]["id"])["reserved"] == 0
