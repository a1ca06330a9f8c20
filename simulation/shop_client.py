"""The shop as the simulator sees it: its public HTTP API (../shared/API.md) and nothing else.

Every shopper calls from an address of its own on the loopback network (127.0.0.0/8, never 127.0.0.1), as real
shoppers come from addresses of their own: per-address limits and fraud counters see one client per shopper.
Answers are returned as they come; the simulator decides what a refusal means for its story.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import httpx

PASSWORD = "Simulated-shopper-42"
TIMEOUT = 60


def shopper_address(index: int) -> str:
    """A loopback address of shopper `index`'s own (127.200.0.1 onwards)."""
    n = index + 1
    return f"127.{200 + n // 65536 % 50}.{n // 256 % 256}.{n % 256}"


class ShopClient:
    def __init__(self, base_url: str, address: str | None = None) -> None:
        transport = httpx.HTTPTransport(local_address=address, retries=2) if address else None
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=TIMEOUT, transport=transport)
        self.token: str | None = None
        self._credentials: tuple[str, str] | None = None  # to sign in again when the access token expires
        self.statuses: Counter[str] = Counter()  # "<method> <route> <status>" -> count
        self.refusals: dict[str, str] = {}  # "<method> <route> <status>" -> the first such answer's body

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, route: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if self.token:
            headers = {"Authorization": f"Bearer {self.token}", **headers}
        response = self.http.request(method, path, headers=headers, **kwargs)
        if response.status_code == 401 and self._credentials and path != "/v1/auth/login":
            self.statuses[f"{method} {route or path} 401"] += 1
            if self.sign_in(*self._credentials):
                headers["Authorization"] = f"Bearer {self.token}"
                response = self.http.request(method, path, headers=headers, **kwargs)
        key = f"{method} {route or path} {response.status_code}"
        self.statuses[key] += 1
        if response.status_code >= 400:
            self.refusals.setdefault(key, response.text[:500])
        return response

    # -- accounts ----------------------------------------------------------------------------------------
    def sign_up_or_in(self, email: str, password: str = PASSWORD) -> str | None:
        """Register (or, when the email is taken by an earlier run, sign in); the user id, None if refused."""
        body = {"email": email, "password": password, "first_name": "Sim", "last_name": "Shopper"}
        registered = self.call("POST", "/v1/auth/register", json=body)
        if registered.status_code not in (201, 409):
            return None
        return self.sign_in(email, password)  # a registration answers no tokens

    def sign_in(self, email: str, password: str) -> str | None:
        answer = self.call("POST", "/v1/auth/login", json={"email": email, "password": password})
        if answer.status_code != 200:
            return None
        self.token, self._credentials = answer.json()["access_token"], (email, password)
        me = self.call("GET", "/v1/me")
        return me.json()["user"]["id"] if me.status_code == 200 else None

    # -- browsing ----------------------------------------------------------------------------------------
    def products(self, category: str | None = None) -> list[dict[str, Any]]:
        """Every product the shop lists (of `category`, when given), page after page."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            params: dict[str, Any] = {"page": page, "page_size": 100, **({"category": category} if category else {})}
            answer = self.call("GET", "/v1/products", "/v1/products", params=params)
            answer.raise_for_status()
            body = answer.json()
            found += body["items"]
            if not body["items"] or len(found) >= body["total"]:
                return found
            page += 1

    def search(self, query: str) -> list[str]:
        answer = self.call("GET", "/v1/search", params={"q": query})
        if answer.status_code != 200:
            return []
        found = [hit.get("id") or hit.get("product_id") for hit in answer.json().get("hits", [])]
        return [product_id for product_id in found if isinstance(product_id, str)]

    def view(self, product_id: str, ref: str) -> bool:
        return self.call("GET", f"/v1/products/{product_id}", "/v1/products/{id}",
                         params={"ref": ref}).status_code == 200

    def recommended(self, path: str, route: str) -> list[str]:
        """Product ids a recommendation route offers (none while the shop has no such route: 404)."""
        answer = self.call("GET", path, route)
        if answer.status_code != 200:
            return []
        items = answer.json().get("items", [])
        found = [item.get("id") or item.get("product_id") for item in items if isinstance(item, dict)]
        return [product_id for product_id in found if isinstance(product_id, str)]

    # -- buying ------------------------------------------------------------------------------------------
    def add_to_cart(self, product_id: str, variant_id: str, quantity: int) -> bool:
        body = {"product_id": product_id, "variant_id": variant_id, "quantity": quantity}
        return self.call("POST", "/v1/cart/items", json=body).status_code in (200, 201)

    def checkout(self, card_number: str, country: str) -> httpx.Response:
        token = self.call("POST", "/v1/payments/tokens", json={
            "card_number": card_number, "exp_month": 12, "exp_year": 2099, "cvc": "123", "holder_name": "Sim"})
        if token.status_code != 201:
            return token
        address = {"type": "home", "street": "1 Simulated Way", "city": "Sometown", "state": "ST",
                   "zip_code": "12345", "country": country}
        return self.call("POST", "/v1/checkout", json={"shipping_address": address,
                                                       "payment_token": token.json()["token"]},
                         headers={"Idempotency-Key": uuid.uuid4().hex})

    def cancel(self, order_id: str) -> bool:
        return self.call("POST", f"/v1/orders/{order_id}/cancel", "/v1/orders/{id}/cancel",
                         json={"reason": "changed_mind"}).status_code == 200

    # -- the admin's side --------------------------------------------------------------------------------
    def move_clock(self, now: str) -> bool:
        return self.call("POST", "/v1/admin/simulation/clock", json={"now": now}).status_code == 200

    def ship(self, order_id: str, status: str) -> bool:
        """Move an order on to shipped (capturing its payment) from where it is."""
        steps = {"pending": ["confirmed", "packed", "shipped"], "confirmed": ["packed", "shipped"],
                 "packed": ["shipped"]}.get(status, [])
        for step in steps:
            body = {"status": step, **({"tracking_number": f"SIM{order_id[-8:]}"} if step == "shipped" else {})}
            if self.call("POST", f"/v1/admin/orders/{order_id}/status", "/v1/admin/orders/{id}/status",
                         json=body).status_code != 200:
                return False
        return bool(steps)

    def chargeback(self, order_id: str) -> bool:
        return self.call("POST", f"/v1/admin/orders/{order_id}/chargeback", "/v1/admin/orders/{id}/chargeback",
                         json={"reason": "fraudulent"}).status_code == 200
