"""Account privacy through HTTP: a shopper exports all their data (and only theirs), and erases the account:
personal data gone, sessions over, orders kept pseudonymised, reviews kept anonymised, the email free again."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from actors import keys
from tests.reviews_world import delivered_order, reviews_of, write_review
from tests.shop import Account, Shop, assert_error
from tests.support import wait_until

pytestmark = pytest.mark.ray


def export_of(shop: Shop, account: Account) -> dict[str, Any]:
    r = shop.http.get("/v1/me/export", headers=account.headers)
    assert r.status_code == 200, r.text
    return r.json()["export"]  # type: ignore[no-any-return]


def test_an_export_holds_all_of_the_callers_data_and_nothing_of_anyone_elses(shop: Shop) -> None:
    clock = shop.product()
    ada, grace = shop.register(), shop.register()
    assert shop.http.post("/v1/me/addresses", json=shop.address(), headers=ada.headers).status_code == 201
    order = delivered_order(shop, ada, clock)
    review = write_review(shop, ada, clock, 5).json()["review"]
    delivered_order(shop, grace, clock)
    grace_review = write_review(shop, grace, clock, 4).json()["review"]
    assert shop.http.post(f"/v1/reviews/{grace_review['id']}/helpful", headers=ada.headers).status_code == 200
    assert shop.add_to_cart(ada, clock).status_code == 200
    assert shop.http.post("/v1/me/wishlist", json={"product_id": clock["id"]}, headers=ada.headers).status_code == 201

    export = wait_until(lambda: (e := export_of(shop, ada))["notifications"] and e)  # the notifier follows events
    assert export["user_id"] == ada.user["id"] and export["profile"]["email"] == ada.email
    assert "password_hash" not in export["profile"]
    assert [a["street"] for a in export["addresses"]] == ["1 Main St"]
    assert export["preferences"]["currency"] == "USD"
    assert [o["id"] for o in export["orders"]] == [order["id"]]
    assert [line["variant_id"] for line in export["cart"]["lines"]] == [clock["variants"][0]["id"]]
    assert [r["id"] for r in export["reviews"]] == [review["id"]]
    assert export["helpful_votes"] == [{"review_id": grace_review["id"]}]
    assert export["seller"] is None and export["seller_ratings"] == []
    assert [w["product_id"] for w in export["wishlist"]] == [clock["id"]] and export["webhooks"] == []
    assert {n["data"].get("order_id") for n in export["notifications"]} == {order["id"]}
    assert grace.email not in str(export) and grace.user["id"] not in str(export)

    assert export_of(shop, grace)["reviews"][0]["id"] == grace_review["id"]
    assert_error(shop.http.get("/v1/me/export"), 401)


def test_an_erased_account_leaves_no_person_behind_but_keeps_the_books(shop: Shop, redis_client: redis.Redis
                                                                     ) -> None:
    globe = shop.product()
    leaving = shop.register()
    order = delivered_order(shop, leaving, globe)
    assert shop.http.post("/v1/me/wishlist", json={"product_id": globe["id"]},
                          headers=leaving.headers).status_code == 201
    wait_until(lambda: redis_client.zcard(keys.inbox_feed(leaving.user["id"])) > 0)
    review = write_review(shop, leaving, globe, 4).json()["review"]
    assert shop.add_to_cart(leaving, globe).status_code == 200
    assert_error(shop.http.request("DELETE", "/v1/me", json={"password": "not-my-password"},
                                   headers=leaving.headers), 403, "invalid_credentials")
    assert_error(shop.http.request("DELETE", "/v1/me", json={"password": leaving.password},
                                   headers=shop.admin.headers), 409, "admin_account")

    r = shop.http.request("DELETE", "/v1/me", json={"password": leaving.password}, headers=leaving.headers)
    assert r.status_code == 204, r.text

    assert_error(shop.http.get("/v1/me", headers=leaving.headers), 401, "token_revoked")
    assert_error(shop.http.post("/v1/auth/refresh", json={"refresh_token": leaving.refresh_token}), 401)
    assert_error(shop.http.post("/v1/auth/login", json={"email": leaving.email, "password": leaving.password}), 401)

    kept = shop.http.get(f"/v1/orders/{order['id']}", headers=shop.admin.headers).json()["order"]
    assert kept["user_id"] == leaving.user["id"] and kept["total"] == order["total"], "kept for the books"
    assert kept["shipping_address"] == {"country": "US", "state": "IL", "erased": True}
    shown = next(r for r in reviews_of(shop, globe)["items"] if r["id"] == review["id"])
    assert shown["author_name"] == "Former customer" and shown["rating"] == 4

    assert not redis_client.exists(keys.wishlist(leaving.user["id"]), keys.inbox(leaving.user["id"]),
                                   keys.inbox_feed(leaving.user["id"]))
    assert not redis_client.hexists(keys.wishlisted_by(globe["id"]), leaving.user["id"])

    again = shop.register(leaving.email)
    assert again.user["id"] != leaving.user["id"], "the email is free for a new account"
    assert export_of(shop, again)["orders"] == []
