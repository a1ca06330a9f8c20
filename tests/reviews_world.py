"""Builders for the review, rating and privacy stories: delivered orders and approved sellers, through HTTP only."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.shop import Account, Shop


def delivered_order(shop: Shop, shopper: Account, product: dict[str, Any], variant: int = 0,
                    status: str = "delivered") -> dict[str, Any]:
    """The shopper buys one unit of the product and the admin moves the order on to `status` (default delivered)."""
    assert shop.add_to_cart(shopper, product, variant=variant).status_code == 200
    r = shop.checkout(shopper, shop.checkout_body(shopper))
    assert r.status_code == 201, r.text
    order: dict[str, Any] = r.json()["order"]
    steps = ["packed", "shipped", "delivered"]
    for step in steps[:steps.index(status) + 1] if status in steps else []:
        body = {"status": step, **({"tracking_number": f"1Z{uuid.uuid4().hex[:8]}"} if step == "shipped" else {})}
        moved = shop.http.post(f"/v1/admin/orders/{order['id']}/status", json=body, headers=shop.admin.headers)
        assert moved.status_code == 200, moved.text
        order = moved.json()["order"]
    return order


def approved_seller(shop: Shop, store_name: str = "Babbage & Daughters") -> Account:
    """A shopper who applied to sell and was approved, signed in again so the token carries the seller role."""
    return shop.approved_seller(store_name=store_name)


def write_review(shop: Shop, account: Account, product: dict[str, Any], rating: int = 5,
                 title: str = "Does what it says", body: str = "Well made and arrived on time.",
                 **extra: Any) -> httpx.Response:
    return shop.http.post(f"/v1/products/{product['id']}/reviews", headers=account.headers,
                          json={"rating": rating, "title": title, "body": body, **extra})


def published_review(shop: Shop, product: dict[str, Any], rating: int = 5, **body: Any) -> tuple[Account,
                                                                                                 dict[str, Any]]:
    """A new shopper who received the product and wrote a review that was published."""
    shopper = shop.register()
    delivered_order(shop, shopper, product)
    r = write_review(shop, shopper, product, rating, **body)
    assert r.status_code == 201, r.text
    review: dict[str, Any] = r.json()["review"]
    assert review["state"] == "published", review
    return shopper, review


def product_page(shop: Shop, product: dict[str, Any]) -> dict[str, Any]:
    r = shop.http.get(f"/v1/products/{product['id']}")
    assert r.status_code == 200, r.text
    return r.json()["product"]  # type: ignore[no-any-return]


def reviews_of(shop: Shop, product: dict[str, Any], **params: Any) -> dict[str, Any]:
    r = shop.http.get(f"/v1/products/{product['id']}/reviews", params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]
