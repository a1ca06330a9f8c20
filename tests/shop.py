"""Builders for HTTP tests, written against the public contract (../shared/API.md) only."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_NO_FUNDS = "4000000000009995"
CARD_CAPTURE_FAILS = "4000000000000341"  # authorized, but the sandbox refuses its capture

_counter = itertools.count()
_addresses = itertools.count(1)


def loopback_address() -> str:
    """A fresh address on this machine's loopback network (127.0.0.0/8, not 127.0.0.1): a client of its own, as
    far as per-address limits can tell."""
    n = next(_addresses)
    return f"127.{100 + n // 65536}.{n // 256 % 256}.{n % 256}"


@dataclass
class Account:
    email: str
    password: str
    access_token: str
    refresh_token: str
    user: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class Shop:
    """A shop seen from outside: register shoppers, list products as admin, fill carts, check out."""

    def __init__(self, base_url: str, admin_email: str, admin_password: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=60)
        self._admin_credentials = (admin_email, admin_password)
        self._admin: Account | None = None

    def __enter__(self) -> Shop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def client_at(self, address: str, base_url: str | None = None) -> httpx.Client:
        """An HTTP client whose connections come from `address` (a `loopback_address()`), to the shop or to
        `base_url`."""
        return httpx.Client(base_url=base_url or self.base_url, timeout=60,
                            transport=httpx.HTTPTransport(local_address=address))

    # accounts ---------------------------------------------------------------------------------------
    def unique_email(self, prefix: str = "shopper") -> str:
        return f"{prefix}-{next(_counter)}-{uuid.uuid4().hex[:8]}@example.com"

    def register(self, email: str | None = None, password: str = "Correct-horse-42") -> Account:
        email = email or self.unique_email()
        body = {"email": email, "password": password, "first_name": "Ada", "last_name": "Lovelace"}
        r = self.http.post("/v1/auth/register", json=body)
        assert r.status_code == 201, r.text
        account = self.login(email, password)
        account.user = r.json()["user"]
        return account

    def login(self, email: str, password: str) -> Account:
        r = self.http.post("/v1/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        tokens = r.json()
        return Account(email, password, tokens["access_token"], tokens["refresh_token"])

    @property
    def admin(self) -> Account:
        if self._admin is None:
            self._admin = self.login(*self._admin_credentials)
        return self._admin

    def approved_seller(self, **application: Any) -> Account:
        """A shopper who applied to sell (with `application`'s fields), was approved, and logged in again to get
        the seller role; its `user` holds the `seller_id`."""
        account = self.register()
        body = {"store_name": f"Store {uuid.uuid4().hex[:6]}", **application}
        r = self.http.post("/v1/sellers", json=body, headers=account.headers)
        assert r.status_code == 201, r.text
        seller_id = r.json()["seller"]["id"]
        r = self.http.post(f"/v1/admin/sellers/{seller_id}/approve", headers=self.admin.headers)
        assert r.status_code == 200, r.text
        seller = self.login(account.email, account.password)
        seller.user = {**account.user, "seller_id": seller_id}
        return seller

    # catalog ----------------------------------------------------------------------------------------
    def category(self, name: str | None = None, parent_id: str | None = None) -> dict[str, Any]:
        name = name or f"Category {next(_counter)}"
        r = self.http.post("/v1/categories", json={"name": name, "parent_id": parent_id}, headers=self.admin.headers)
        assert r.status_code == 201, r.text
        return r.json()["category"]  # type: ignore[no-any-return]

    def product(self, stock: int = 10, price: int = 1999, sale_price: int | None = None,
                owner: Account | None = None, variants: int = 1, **fields: Any) -> dict[str, Any]:
        """A product listed by `owner` (default: the admin) with `variants` variants of `stock` units each."""
        category_id = fields.pop("category_id", None) or self.category()["id"]
        body = {
            "name": fields.pop("name", f"Test product {next(_counter)}"),
            "description": "A product made by a test",
            "category_id": category_id,
            "brand": fields.pop("brand", "Acme"),
            "tags": ["test"],
            "specifications": {"weight": "1kg"},
            "variants": [
                {"sku": f"SKU-{uuid.uuid4().hex[:10]}", "attributes": {"size": str(i)}, "price": price,
                 "sale_price": sale_price, "currency": "USD", "initial_stock": stock,
                 "images": ["https://img.example.com/p.jpg"]}
                for i in range(variants)
            ],
            **fields,
        }
        r = self.http.post("/v1/products", json=body, headers=(owner or self.admin).headers)
        assert r.status_code == 201, r.text
        return r.json()["product"]  # type: ignore[no-any-return]

    # shopping ---------------------------------------------------------------------------------------
    def add_to_cart(self, account: Account, product: dict[str, Any], quantity: int = 1,
                    variant: int = 0) -> httpx.Response:
        v = product["variants"][variant]
        return self.http.post("/v1/cart/items", headers=account.headers,
                              json={"product_id": product["id"], "variant_id": v["id"], "quantity": quantity})

    def card_token(self, account: Account, card_number: str = CARD_OK) -> str:
        r = self.http.post("/v1/payments/tokens", headers=account.headers,
                           json={"card_number": card_number, "exp_month": 12, "exp_year": 2099, "cvc": "123",
                                 "holder_name": "Ada"})
        assert r.status_code == 201, r.text
        return r.json()["token"]  # type: ignore[no-any-return]

    @staticmethod
    def address() -> dict[str, Any]:
        return {"type": "home", "street": "1 Main St", "city": "Springfield", "state": "IL",
                "zip_code": "62701", "country": "US"}

    def checkout_body(self, account: Account, card_number: str = CARD_OK, **extra: Any) -> dict[str, Any]:
        return {"shipping_address": self.address(), "payment_token": self.card_token(account, card_number), **extra}

    def checkout(self, account: Account, body: dict[str, Any], key: str | None = None) -> httpx.Response:
        headers = {**account.headers, "Idempotency-Key": key or uuid.uuid4().hex}
        return self.http.post("/v1/checkout", json=body, headers=headers)

    def stock(self, variant_id: str) -> dict[str, Any]:
        r = self.http.get(f"/v1/inventory/{variant_id}", headers=self.admin.headers)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The contract's error shape, with the expected status (and code, when given)."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]  # type: ignore[no-any-return]
