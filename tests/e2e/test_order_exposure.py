"""A shopper sees exactly what the contract promises of an order (../shared/API.md), and nothing of the shop's
bookkeeping: not the gateway's payment id, not the admins' notes, not the seller records. Admins keep the
full view."""

from __future__ import annotations

from typing import Any

from tests.shop import Account, Shop

# the order of the contract, written out here so the test does not trust the code it checks
ORDER_KEYS = {"id", "order_number", "user_id", "items", "subtotal", "tax", "shipping", "discount", "total",
              "currency", "status", "payment_status", "shipping_address", "payment_method", "tracking_number",
              "estimated_delivery", "history", "created_at", "updated_at",
              "coupon_code",  # added to the contract's list: the shopper's own coupon
              "fulfilments", "returns"}  # orders across sellers: the parcels and the returns (docs/api-fulfilment.md)
LINE_KEYS = {"product_id", "variant_id", "quantity", "price", "total_price", "name", "sku",  # + name/SKU as bought
             "worth", "cancelled", "shipped", "delivered", "returned"}  # what the line cost and what became of it
FULFILMENT_KEYS = {"id", "variant_ids", "status", "carrier", "tracking_number", "estimated_delivery", "shipped_at",
                   "delivered_at", "history", "lines"}  # never the seller's bookkeeping (its sale, its commission)
NOTE = "fraud review: card country differs from shipping, ok"


def assert_customer_view(order: dict[str, Any]) -> None:
    assert set(order) == ORDER_KEYS, set(order) ^ ORDER_KEYS
    assert all(set(line) == LINE_KEYS for line in order["items"]), order["items"]
    assert set(order["payment_method"]) == {"brand", "last4"}
    assert order["fulfilments"] and all(set(f) == FULFILMENT_KEYS for f in order["fulfilments"])
    assert all(set(entry) == {"status", "at"} for entry in order["history"]), order["history"]


def placed_and_noted(shop: Shop, shopper: Account) -> dict[str, Any]:
    """An order with a coupon, a gateway payment and an admin's note in its history (packed with a note)."""
    shop.add_to_cart(shopper, shop.product(stock=5, price=3000))
    r = shop.checkout(shopper, shop.checkout_body(shopper, coupon_code="FLAT5"))
    assert r.status_code == 201, r.text
    assert_customer_view(r.json()["order"])
    order_id = r.json()["order"]["id"]
    packed = shop.http.post(f"/v1/admin/orders/{order_id}/status", json={"status": "packed", "note": NOTE},
                            headers=shop.admin.headers)
    assert packed.status_code == 200, packed.text
    return packed.json()["order"]  # type: ignore[no-any-return]


def test_a_shopper_sees_only_the_contracts_fields_of_an_order(shop: Shop) -> None:
    shopper = shop.register()
    full = placed_and_noted(shop, shopper)
    assert full["payment_id"] and full["coupon_code"] == "FLAT5", "the admin's view keeps the bookkeeping"
    assert full["history"][-1]["note"] == NOTE

    seen = shop.http.get(f"/v1/orders/{full['id']}", headers=shopper.headers)
    listed = shop.http.get("/v1/orders", headers=shopper.headers)
    for text in (seen.text, listed.text):
        assert full["payment_id"] not in text and NOTE not in text and '"seller_id"' not in text
    assert_customer_view(seen.json()["order"])
    assert [o["id"] for o in listed.json()["items"]] == [full["id"]]
    assert_customer_view(listed.json()["items"][0])
    assert seen.json()["order"]["history"] == [{"status": h["status"], "at": h["at"]} for h in full["history"]]

    cancelled = shop.http.post(f"/v1/orders/{full['id']}/cancel", headers=shopper.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert_customer_view(cancelled.json()["order"])
    assert full["payment_id"] not in cancelled.text and NOTE not in cancelled.text


def test_an_admin_keeps_the_full_view(shop: Shop) -> None:
    shopper = shop.register()
    full = placed_and_noted(shop, shopper)
    for r in (shop.http.get(f"/v1/orders/{full['id']}", headers=shop.admin.headers),
              shop.http.get("/v1/admin/orders", params={"page_size": 100}, headers=shop.admin.headers)):
        assert r.status_code == 200, r.text
        assert full["payment_id"] in r.text and NOTE in r.text
