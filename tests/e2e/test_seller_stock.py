"""Stock that looks after itself, through HTTP: a seller's low-stock alert once per fall, a purchase order when a
kettle reaches its reorder point (one at a time, received once), the history of every change with who made it,
the seller's inventory view, the pipeline's suggestions applied by an admin, and sellers kept out of each other's
stock."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis

from config import Settings
from tests.shop import Account, Shop, assert_error

pytestmark = pytest.mark.ray


def buy(shop: Shop, product: dict[str, Any], units: int) -> None:
    shopper = shop.register()
    assert shop.add_to_cart(shopper, product, units).status_code == 200
    r = shop.checkout(shopper, shop.checkout_body(shopper))
    assert r.status_code == 201, r.text


def rule(shop: Shop, account: Account, variant_id: str, **body: Any) -> Any:
    return shop.http.put(f"/v1/inventory/{variant_id}/replenishment", json=body, headers=account.headers)


def items(shop: Shop, path: str, account: Account, **params: Any) -> list[dict[str, Any]]:
    r = shop.http.get(path, params=params, headers=account.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


def low_stock_events(redis_client: redis.Redis, variant_id: str) -> list[dict[str, Any]]:
    entries = redis_client.xrevrange("bz:events", count=5000)
    return [data for _, fields in entries if fields["type"] == "inventory.low_stock"
            and (data := json.loads(fields["data"]))["variant_id"] == variant_id]


def test_a_low_stock_alert_is_raised_once_per_fall_and_cleared_by_a_restock(shop: Shop,
                                                                            redis_client: redis.Redis) -> None:
    seller = shop.approved_seller()
    kettle = shop.product(stock=10, owner=seller)
    variant_id = kettle["variants"][0]["id"]
    assert rule(shop, seller, variant_id, reorder_point=0, reorder_quantity=0, low_stock_threshold=3).status_code == 200

    buy(shop, kettle, 7)  # 10 -> 3: at the threshold
    buy(shop, kettle, 1)  # 3 -> 2: still low, no second alert
    [alert] = [a for a in items(shop, "/v1/seller/alerts/low-stock", seller) if a["variant_id"] == variant_id]
    assert (alert["available"], alert["threshold"], alert["seller_id"]) == (3, 3, seller.user["seller_id"])
    assert variant_id in [a["variant_id"] for a in items(shop, "/v1/admin/alerts/low-stock", shop.admin)]
    assert [e["seller_id"] for e in low_stock_events(redis_client, variant_id)] == [seller.user["seller_id"]]

    restock = shop.http.post(f"/v1/inventory/{variant_id}/adjust", json={"delta": 10, "reason": "delivery"},
                             headers=seller.headers)
    assert restock.status_code == 200 and restock.json()["available"] == 12
    assert variant_id not in [a["variant_id"] for a in items(shop, "/v1/seller/alerts/low-stock", seller)]
    buy(shop, kettle, 10)  # a new fall: a new alert
    assert len(low_stock_events(redis_client, variant_id)) == 2
    assert_error(shop.http.get("/v1/seller/alerts/low-stock", headers=shop.register().headers), 403, "seller_only")
    assert_error(shop.http.get("/v1/admin/alerts/low-stock", headers=seller.headers), 403, "admin_only")


def test_the_reorder_point_opens_one_purchase_order_which_adds_its_stock_once(shop: Shop) -> None:
    seller = shop.approved_seller()
    kettle = shop.product(stock=12, owner=seller)
    variant_id = kettle["variants"][0]["id"]
    r = rule(shop, seller, variant_id, reorder_point=4, reorder_quantity=20, supplier="Kettle Works")
    assert r.status_code == 200 and (r.json()["reorder_quantity"], r.json()["open_purchase_order"]) == (20, None)

    buy(shop, kettle, 8)  # 12 -> 4: at the reorder point
    buy(shop, kettle, 2)  # still below, the order is open: no second
    [order] = [o for o in items(shop, "/v1/inventory/purchase-orders", seller) if o["variant_id"] == variant_id]
    assert (order["status"], order["quantity"], order["supplier"]) == ("open", 20, "Kettle Works")
    assert order["id"] in [o["id"] for o in items(shop, "/v1/inventory/purchase-orders", shop.admin, status="open")]
    [row] = [v for v in items(shop, "/v1/seller/inventory", seller) if v["variant_id"] == variant_id]
    assert (row["available"], row["reorder_point"], row["reorder_quantity"], row["open_purchase_order"]["id"]) == (
        2, 4, 20, order["id"])

    receive = f"/v1/inventory/purchase-orders/{order['id']}/receive"
    first = shop.http.post(receive, headers=seller.headers)
    again = shop.http.post(receive, headers=seller.headers)
    assert first.status_code == again.status_code == 200 and again.json()["purchase_order"]["status"] == "received"
    assert shop.stock(variant_id)["available"] == 22  # 2 + 20, once
    assert_error(shop.http.post(f"/v1/inventory/purchase-orders/{order['id']}/cancel", headers=seller.headers), 409,
                 "purchase_order_closed")

    history = items(shop, f"/v1/inventory/{variant_id}/history", seller)
    assert [(h["change"], h["quantity"], h["actor"]) for h in history] == [
        ("received", 20, "purchase_order"), ("sold", 2, "checkout"), ("sold", 8, "checkout"),
        ("created", 12, "system")]
    assert history[0]["reference"] == order["id"] and history[0]["available"] == 22


def test_the_history_names_the_seller_who_adjusted_and_the_reason(shop: Shop) -> None:
    seller = shop.approved_seller()
    mug = shop.product(stock=3, owner=seller)
    variant_id = mug["variants"][0]["id"]
    r = shop.http.post(f"/v1/inventory/{variant_id}/adjust", json={"delta": -1, "reason": "chipped"},
                       headers=seller.headers)
    assert r.status_code == 200, r.text
    [latest, _] = items(shop, f"/v1/inventory/{variant_id}/history", seller)
    assert (latest["change"], latest["quantity"], latest["reason"], latest["actor"], latest["on_hand"]) == (
        "adjusted", -1, "chipped", seller.user["id"], 2)


def test_a_seller_cannot_touch_another_sellers_stock_or_purchase_orders(shop: Shop) -> None:
    owner, rival, shopper = shop.approved_seller(), shop.approved_seller(), shop.register()
    kettle = shop.product(stock=6, owner=owner)
    variant_id = kettle["variants"][0]["id"]
    assert rule(shop, owner, variant_id, reorder_point=10, reorder_quantity=5).status_code == 200  # orders at once
    [order] = [o for o in items(shop, "/v1/inventory/purchase-orders", owner) if o["variant_id"] == variant_id]

    assert_error(rule(shop, rival, variant_id, reorder_point=1, reorder_quantity=1), 403, "not_owner")
    assert_error(shop.http.post(f"/v1/inventory/{variant_id}/adjust", json={"delta": -6, "reason": "spite"},
                                headers=rival.headers), 403, "not_owner")
    assert_error(shop.http.get(f"/v1/inventory/{variant_id}/history", headers=rival.headers), 403, "not_owner")
    assert order["id"] not in [o["id"] for o in items(shop, "/v1/inventory/purchase-orders", rival)]
    for action in ("receive", "cancel"):
        path = f"/v1/inventory/purchase-orders/{order['id']}/{action}"
        assert_error(shop.http.post(path, headers=rival.headers), 404, "purchase_order_not_found")
        assert_error(shop.http.post(path, headers=shopper.headers), 403, "seller_only")
    assert variant_id not in [v["variant_id"] for v in items(shop, "/v1/seller/inventory", rival)]
    assert_error(shop.http.get("/v1/inventory/purchase-orders", headers=shopper.headers), 403, "seller_only")
    assert shop.stock(variant_id)["available"] == 6
    cancelled = shop.http.post(f"/v1/inventory/purchase-orders/{order['id']}/cancel", headers=shop.admin.headers)
    assert cancelled.status_code == 200 and cancelled.json()["purchase_order"]["status"] == "cancelled"


def test_an_admin_applies_the_pipelines_suggestions(shop: Shop, settings: Settings) -> None:
    seller = shop.approved_seller()
    kettle = shop.product(stock=30, owner=seller)
    variant_id = kettle["variants"][0]["id"]
    path = settings.analytics_db.parent / "replenishment.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"as_of": "2026-12-01T00:00:00Z", "variants": {
        variant_id: {"product_id": kettle["id"], "units_sold": 28, "daily_rate": 1.0, "reorder_point": 10,
                     "reorder_quantity": 14},
        "var_01J00000000000000000000000": {"product_id": None, "units_sold": 1, "daily_rate": 0.1,
                                           "reorder_point": 1, "reorder_quantity": 1}}}))
    try:
        assert_error(shop.http.post("/v1/admin/replenishment/apply", headers=seller.headers), 403, "admin_only")
        r = shop.http.post("/v1/admin/replenishment/apply", headers=shop.admin.headers)
        assert r.status_code == 200, r.text
        assert r.json()["applied"] >= 1 and r.json()["as_of"] == "2026-12-01T00:00:00Z"
    finally:
        path.unlink()
    [row] = [v for v in items(shop, "/v1/seller/inventory", seller) if v["variant_id"] == variant_id]
    assert (row["reorder_point"], row["reorder_quantity"], row["open_purchase_order"]) == (10, 14, None)
    assert_error(shop.http.post("/v1/admin/replenishment/apply", headers=shop.admin.headers), 404, "no_suggestions")
