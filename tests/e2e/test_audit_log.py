"""The admin audit log through HTTP: admin actions on sellers, orders and reviews are listed, newest first, for
admins only, and can be filtered by target and admin."""

from __future__ import annotations

from typing import Any

import pytest

from tests.reviews_world import approved_seller, delivered_order, write_review
from tests.shop import Shop, assert_error

pytestmark = pytest.mark.ray


def audit(shop: Shop, **params: Any) -> list[dict[str, Any]]:
    r = shop.http.get("/v1/admin/audit-log", params=params, headers=shop.admin.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


def test_admin_actions_are_in_the_audit_log(shop: Shop) -> None:
    seller = approved_seller(shop, "Audited Anvils")
    seller_id = seller.user["seller_id"]
    [approval] = audit(shop, target_type="seller", target_id=seller_id)
    admin_id = shop.http.get("/v1/me", headers=shop.admin.headers).json()["user"]["id"]
    assert (approval["action"], approval["admin_id"], approval["details"]["user_id"]) == (
        "seller.approve", admin_id, seller.user["id"])

    anvil = shop.product(owner=seller)
    shopper = shop.register()
    order = delivered_order(shop, shopper, anvil)
    moves = audit(shop, target_type="order", target_id=order["id"])
    assert [(e["action"], e["details"]["status"]) for e in moves] == [
        ("order.status", "delivered"), ("order.status", "shipped"), ("order.status", "packed")]

    # an admin acting in the seller's place (a parcel shipped, a return decided and received) is logged; the
    # seller's own acts are not
    second = shop.product(owner=seller)
    assert shop.add_to_cart(shopper, second).status_code == 200
    placed = shop.checkout(shopper, shop.checkout_body(shopper))
    assert placed.status_code == 201, placed.text
    (parcel,) = placed.json()["order"]["fulfilments"]
    r = shop.http.post(f"/v1/seller/fulfilments/{parcel['id']}/ship", json={"carrier": "UPS",
                       "tracking_number": "1Z-AUDIT"}, headers=shop.admin.headers)
    assert r.status_code == 200, r.text
    order_id = placed.json()["order"]["id"]
    [shipped] = audit(shop, target_type="order", target_id=order_id)
    assert (shipped["action"], shipped["details"]["fulfilment_id"], shipped["details"]["tracking_number"]) == (
        "fulfilment.ship", parcel["id"], "1Z-AUDIT")
    assert shop.http.post(f"/v1/seller/fulfilments/{parcel['id']}/deliver", headers=seller.headers).status_code == 200
    assert len(audit(shop, target_type="order", target_id=order_id)) == 1

    review = write_review(shop, shopper, anvil, 1, body="Rusty, see www.anvils.example.org").json()["review"]
    assert shop.http.post(f"/v1/admin/reviews/{review['id']}/reject", json={"reason": "advertising"},
                          headers=shop.admin.headers).status_code == 200
    [rejection] = audit(shop, target_type="review", target_id=review["id"])
    assert (rejection["action"], rejection["details"]["reason"]) == ("review.reject", "advertising")
    by_admin = audit(shop, admin_id=admin_id, page_size=100)
    assert by_admin[0]["id"] == rejection["id"], "newest first"

    assert_error(shop.http.get("/v1/admin/audit-log", headers=shopper.headers), 403, "admin_only")
    assert_error(shop.http.get("/v1/admin/audit-log"), 401)
    assert_error(shop.http.get("/v1/admin/audit-log", params={"target_type": "planet"},
                               headers=shop.admin.headers), 422)
