"""The wishlist feeds price-drop and back-in-stock notices; webhooks reach a small receiver in the test, signed,
verified, and a replayed delivery is refused; a seller's endpoint hears only of its own orders, without the
shopper's personal data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.test_notifications import inbox_with, place_order
from tests.notify_support import WebhookReceiver
from tests.shop import Account, Shop, assert_error
from tests.support import wait_until


def seller_account(shop: Shop) -> Account:
    account = shop.register()
    applied = shop.http.post("/v1/sellers", json={"store_name": "Hook Store"}, headers=account.headers)
    assert applied.status_code == 201, applied.text
    approved = shop.http.post(f"/v1/admin/sellers/{applied.json()['seller']['id']}/approve",
                              headers=shop.admin.headers)
    assert approved.status_code == 200, approved.text
    return shop.login(account.email, account.password)  # the new token carries the seller role


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hooks = WebhookReceiver()
    yield hooks
    hooks.close()


def test_a_wishlisted_product_tells_of_its_price_drop_and_its_return_to_stock(shop: Shop) -> None:
    product = shop.product(stock=1, price=5000)
    variant_id = product["variants"][0]["id"]
    fan, other, buyer = shop.register(), shop.register(), shop.register()
    r = shop.http.post("/v1/me/wishlist", json={"product_id": product["id"]}, headers=fan.headers)
    assert r.status_code == 201 and r.json()["item"]["variant_id"] is None
    assert shop.http.get("/v1/me/wishlist", headers=fan.headers).json()["items"][0]["product_id"] == product["id"]
    assert shop.http.get("/v1/me/wishlist", headers=other.headers).json()["items"] == []

    reprice = {"variants": [{"id": variant_id, "sale_price": 3900}]}
    patched = shop.http.patch(f"/v1/products/{product['id']}", json=reprice, headers=shop.admin.headers)
    assert patched.status_code == 200, patched.text
    drop = inbox_with(shop, fan, ["price_drop"])["items"][0]
    assert drop["data"]["price"] == 3900 and drop["data"]["old_price"] == 5000

    place_order(shop, buyer, product)  # the last unit: none available
    adjusted = shop.http.post(f"/v1/inventory/{variant_id}/adjust", json={"delta": 4, "reason": "restock"},
                              headers=shop.admin.headers)
    assert adjusted.status_code == 200 and adjusted.json()["available"] == 4
    back = inbox_with(shop, fan, ["price_drop", "back_in_stock"])["items"][0]
    assert back["kind"] == "back_in_stock" and back["data"]["variant_id"] == variant_id
    assert shop.http.get("/v1/notifications", headers=other.headers).json()["total"] == 0

    assert shop.http.delete(f"/v1/me/wishlist/{product['id']}", headers=fan.headers).status_code == 204
    assert_error(shop.http.delete(f"/v1/me/wishlist/{product['id']}", headers=fan.headers), 404)
    assert_error(shop.http.post("/v1/me/wishlist", json={"product_id": "prd_01ARZ3NDEKTSV4RRFFQ69G5FAV"},
                                headers=fan.headers), 404, "product_not_found")
    assert_error(shop.http.post("/v1/me/wishlist", json={"product_id": product["id"]}), 401)


def register_hook(shop: Shop, account: Account, url: str, types: list[str]) -> dict[str, Any]:
    r = shop.http.post("/v1/webhooks", json={"url": url, "event_types": types}, headers=account.headers)
    assert r.status_code == 201, r.text
    return r.json()["webhook"]  # type: ignore[no-any-return]


def test_a_signed_webhook_is_received_verified_and_its_replay_refused(shop: Shop, receiver: WebhookReceiver) -> None:
    hook = register_hook(shop, shop.admin, receiver.url, ["order.created", "order.shipped"])
    assert hook["secret"].startswith("whsec_") and hook["id"].startswith("whk_")
    receiver.secret = hook["secret"]
    listed = shop.http.get("/v1/webhooks", headers=shop.admin.headers).json()["items"]
    assert any(w["id"] == hook["id"] for w in listed) and all("secret" not in w for w in listed)

    shopper = shop.register()
    order = place_order(shop, shopper)
    delivered = wait_until(lambda: [d for d in receiver.accepted if d["event"]["data"].get("order_id") == order["id"]])
    event = delivered[0]["event"]
    assert event["type"] == "order.created" and event["data"]["user_id"] == shopper.user["id"]

    replay = receiver.receive(delivered[0]["body"], delivered[0]["signature"])  # the same request, sent again
    assert replay == 409
    forged = receiver.receive(delivered[0]["body"].replace(order["id"], "ord_forged"), delivered[0]["signature"])
    assert forged == 401

    attempts = wait_until(lambda: shop.http.get(f"/v1/webhooks/{hook['id']}/deliveries",
                                                headers=shop.admin.headers).json()["items"])
    assert any(a["event_id"] == event["id"] and a["status_code"] == 200 and a["ok"] for a in attempts)
    assert shop.http.delete(f"/v1/webhooks/{hook['id']}", headers=shop.admin.headers).status_code == 204
    assert_error(shop.http.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=shop.admin.headers), 404)


def test_a_sellers_webhook_hears_only_of_its_own_orders(shop: Shop, receiver: WebhookReceiver) -> None:
    seller, rival = seller_account(shop), seller_account(shop)
    hook = register_hook(shop, seller, receiver.url, ["order.created"])
    receiver.secret = hook["secret"]
    mine, theirs = shop.product(owner=seller), shop.product(owner=rival)
    shopper = shop.register()
    shop.add_to_cart(shopper, theirs)
    order = place_order(shop, shopper, mine)  # one order with a line of each seller

    event = wait_until(lambda: [d["event"] for d in receiver.accepted
                                if d["event"]["data"].get("order_id") == order["id"]])[0]
    assert [item["variant_id"] for item in event["data"]["items"]] == [mine["variants"][0]["id"]]
    text = json.dumps(event)
    for private in (shopper.user["id"], "client_ip", "card_fingerprint", theirs["variants"][0]["id"]):
        assert private not in text

    rival_only = place_order(shop, shop.register(), theirs)
    assert_error(shop.http.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=rival.headers), 404)
    assert_error(shop.http.delete(f"/v1/webhooks/{hook['id']}", headers=rival.headers), 404)
    assert shop.http.get("/v1/webhooks", headers=rival.headers).json()["items"] == []
    later = place_order(shop, shop.register(), mine)  # events are read in order: once this one is delivered ...
    wait_until(lambda: any(d["event"]["data"].get("order_id") == later["id"] for d in receiver.accepted))
    assert all(d["event"]["data"].get("order_id") != rival_only["id"] for d in receiver.accepted)  # ... never this


def test_only_sellers_and_admins_register_webhooks_for_types_they_may_receive(shop: Shop) -> None:
    shopper = shop.register()
    body = {"url": "https://example.com/hook", "event_types": ["order.created"]}
    assert_error(shop.http.post("/v1/webhooks", json=body, headers=shopper.headers), 403)
    assert_error(shop.http.post("/v1/webhooks", json=body), 401)
    seller = seller_account(shop)
    assert_error(shop.http.post("/v1/webhooks", json={**body, "event_types": ["checkout.failed"]},
                                headers=seller.headers), 422, "invalid_event_types")
    assert_error(shop.http.post("/v1/webhooks", json={**body, "url": "ftp://example.com/x"},
                                headers=seller.headers), 422, "invalid_webhook_url")
