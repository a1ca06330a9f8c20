"""Whatever a client sends, the answer is a clear error in the contract's shape: never a 500, never a trace."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.shop import Shop, assert_error


def test_bad_json_is_a_400_not_a_crash(shop: Shop) -> None:
    shopper = shop.register()
    r = shop.http.post("/v1/cart/items", content=b'{"product_id": ', headers={**shopper.headers,
                                                                          "Content-Type": "application/json"})
    assert_error(r, 400, "invalid_json")


def test_an_oversize_body_is_refused_with_413(shop: Shop) -> None:
    r = shop.http.post("/v1/auth/register", content=b"x" * 200_000, headers={"Content-Type": "application/json"})
    assert_error(r, 413, "payload_too_large")


def test_a_chunked_oversize_body_is_refused_too(shop: Shop) -> None:
    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(50):
            yield b"y" * 10_000

    r = shop.http.post("/v1/auth/register", content=chunks(), headers={"Content-Type": "application/json"})
    assert_error(r, 413, "payload_too_large")


@pytest.mark.parametrize("quantity", [0, -1, 10**12, "three", 1.5, None])
def test_absurd_cart_quantities_are_422(shop: Shop, quantity: object) -> None:
    shopper = shop.register()
    product = shop.product(stock=5)
    body = {"product_id": product["id"], "variant_id": product["variants"][0]["id"], "quantity": quantity}
    assert_error(shop.http.post("/v1/cart/items", json=body, headers=shopper.headers), 422, "validation_error")


def test_more_than_the_line_limit_is_refused(shop: Shop) -> None:
    shopper = shop.register()
    product = shop.product(stock=500)
    assert_error(shop.add_to_cart(shopper, product, quantity=101), 422, "quantity_too_large")


def test_unknown_fields_are_refused(shop: Shop) -> None:
    shopper = shop.register()
    product = shop.product(stock=5)
    body = {"product_id": product["id"], "variant_id": product["variants"][0]["id"], "quantity": 1, "price": 1}
    assert_error(shop.http.post("/v1/cart/items", json=body, headers=shopper.headers), 422, "validation_error")


@pytest.mark.parametrize("path", ["/v1/orders/not-an-id", "/v1/orders/ord_%27%3B--", "/v1/inventory/123"])
def test_malformed_ids_are_422(shop: Shop, path: str) -> None:
    assert_error(shop.http.get(path, headers=shop.admin.headers), 422, "validation_error")


def test_well_formed_but_unknown_ids_are_404(shop: Shop) -> None:
    shopper = shop.register()
    assert_error(shop.http.get("/v1/orders/ord_01JBZZZZZZZZZZZZZZZZZZZZZZ", headers=shopper.headers), 404)
    assert_error(shop.http.get("/v1/products/prd_01JBZZZZZZZZZZZZZZZZZZZZZZ"), 404)
    product = shop.product(stock=1)
    body = {"product_id": product["id"], "variant_id": "var_01JBZZZZZZZZZZZZZZZZZZZZZZ", "quantity": 1}
    assert_error(shop.http.post("/v1/cart/items", json=body, headers=shopper.headers), 404)


def test_unknown_routes_and_methods_answer_in_the_error_shape(shop: Shop) -> None:
    assert_error(shop.http.get("/v1/nothing-here"), 404, "not_found")
    assert_error(shop.http.delete("/v1/checkout"), 405, "method_not_allowed")


def test_missing_expired_and_forged_tokens_are_401(shop: Shop, settings: object) -> None:
    assert_error(shop.http.get("/v1/cart"), 401, "missing_token")
    assert_error(shop.http.get("/v1/cart", headers={"Authorization": "Bearer nonsense"}), 401, "invalid_token")
    shopper = shop.register()
    claims = jwt.decode(shopper.access_token, options={"verify_signature": False})
    forged = jwt.encode({**claims, "role": "admin"}, "not-our-secret", algorithm="HS256")
    assert_error(shop.http.get("/v1/admin/orders", headers={"Authorization": f"Bearer {forged}"}), 401)
    key = settings.jwt_key()  # type: ignore[attr-defined]
    expired = jwt.encode({**claims, "exp": int(time.time()) - 5}, key, algorithm="HS256")
    assert_error(shop.http.get("/v1/cart", headers={"Authorization": f"Bearer {expired}"}), 401, "token_expired")


def test_customers_cannot_reach_admin_or_seller_endpoints(shop: Shop) -> None:
    shopper = shop.register()
    product = shop.product(stock=3)
    variant_id = product["variants"][0]["id"]
    assert_error(shop.http.get(f"/v1/inventory/{variant_id}", headers=shopper.headers), 403)
    adjust = {"delta": 100, "reason": "free stock"}
    assert_error(shop.http.post(f"/v1/inventory/{variant_id}/adjust", json=adjust, headers=shopper.headers), 403)
    assert_error(shop.http.get("/v1/admin/orders", headers=shopper.headers), 403)
    assert shop.stock(variant_id)["on_hand"] == 3


def test_an_adjustment_below_zero_available_is_409_and_changes_nothing(shop: Shop) -> None:
    product = shop.product(stock=3)
    variant_id = product["variants"][0]["id"]
    r = shop.http.post(f"/v1/inventory/{variant_id}/adjust", json={"delta": -4, "reason": "count"},
                       headers=shop.admin.headers)
    assert_error(r, 409, "insufficient_available")
    assert shop.stock(variant_id)["on_hand"] == 3
    r = shop.http.post(f"/v1/inventory/{variant_id}/adjust", json={"delta": 7, "reason": "received"},
                       headers=shop.admin.headers)
    assert r.status_code == 200 and r.json()["available"] == 10


def test_health_and_readiness(shop: Shop) -> None:
    assert shop.http.get("/healthz").json() == {"status": "ok"}
    ready = shop.http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert shop.http.get("/openapi.json").json()["info"]["title"] == "Bazaar API"
