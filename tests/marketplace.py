"""Builders for the stories of orders across sellers, written against the public API only (docs/api-fulfilment.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines import audit as store_audit
from tests.shop import Account, Shop


@dataclass
class Seller:
    account: Account
    seller_id: str
    product: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return self.account.headers

    @property
    def variant_id(self) -> str:
        return str(self.product["variants"][0]["id"])


def approved_seller(shop: Shop, price: int, stock: int, name: str) -> Seller:
    """A shopper who applied, was approved, signed in again as a seller and listed one product."""
    account = shop.approved_seller(store_name=name)
    return Seller(account, account.user["seller_id"], shop.product(stock=stock, price=price, owner=account))


def buy(shop: Shop, shopper: Account, lines: list[tuple[Seller, int]]) -> dict[str, Any]:
    for seller, quantity in lines:
        assert shop.add_to_cart(shopper, seller.product, quantity).status_code == 200
    r = shop.checkout(shopper, shop.checkout_body(shopper))
    assert r.status_code == 201, r.text
    return r.json()["order"]  # type: ignore[no-any-return]


def order(shop: Shop, account: Account, order_id: str) -> dict[str, Any]:
    r = shop.http.get(f"/v1/orders/{order_id}", headers=account.headers)
    assert r.status_code == 200, r.text
    return r.json()["order"]  # type: ignore[no-any-return]


def fulfilment_of(found: dict[str, Any], seller: Seller) -> dict[str, Any]:
    return next(f for f in found["fulfilments"] if seller.variant_id in f["variant_ids"])


def ship(shop: Shop, seller: Seller, fulfilment_id: str, tracking: str) -> dict[str, Any]:
    r = shop.http.post(f"/v1/seller/fulfilments/{fulfilment_id}/ship", headers=seller.headers,
                       json={"carrier": "UPS", "tracking_number": tracking})
    assert r.status_code == 200, r.text
    return r.json()["order"]  # type: ignore[no-any-return]


def ledger(shop: Shop, seller: Seller) -> dict[str, Any]:
    r = shop.http.get("/v1/seller/ledger", headers=seller.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["paid_out"] + body["balance"] == body["sales"] - body["refunds"] - body["commission"]
    return body


def levels(shop: Shop, seller: Seller) -> tuple[int, int, int]:
    """(on_hand, committed, available) of the seller's variant."""
    stock = shop.stock(seller.variant_id)
    return stock["on_hand"], stock["committed"], stock["available"]


def payment_of(shop: Shop, order_id: str) -> dict[str, Any]:
    """What was captured and refunded of the order's payment, and its status, as an admin sees the order (the audit
    checks that the gateway agrees)."""
    found = order(shop, shop.admin, order_id)
    return {"captured": found["captured"], "refunded": found["refunded"], "status": found["payment_status"]}


def audit_problems(settings: Any, *subjects: str) -> list[str]:
    """The whole store's audit, the violations about these orders or sellers."""
    violations, _ = store_audit.run(settings)
    return [str(v) for v in violations if v.subject in subjects]
