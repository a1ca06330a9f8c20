"""Recommendations through HTTP: the store a training run would publish, served with the shop's live filters."""

from __future__ import annotations

import time
from typing import Any

import pytest

from config import Settings
from lake.layout import Lake
from recsys import store
from recsys.training import Recommendations
from serve.shelf import PRODUCT_SECONDS
from tests.shop import Account, Shop, assert_error
from tests.support import wait_until

pytestmark = pytest.mark.ray


class Scene:
    def __init__(self, shop: Shop, settings: Settings) -> None:
        p = {name: shop.product(name=f"Recsys {name}") for name in ("bought", "d", "e", "f", "g")}
        p["sold_out"] = shop.product(name="Recsys sold out", stock=0)
        p["inactive"] = shop.product(name="Recsys inactive", status="inactive")
        self.products = p
        self.shopper = shop.register()
        self.newcomer = shop.register()
        assert shop.add_to_cart(self.shopper, p["bought"]).status_code == 200
        assert shop.checkout(self.shopper, shop.checkout_body(self.shopper)).status_code == 201
        ids = {name: product["id"] for name, product in p.items()}
        self.ids = ids
        self.version = store.publish(Lake(settings.lake_dir), Recommendations(
            users={self.shopper.user["id"]: [ids[n] for n in ("bought", "sold_out", "inactive", "d", "e")]},
            related={ids["d"]: [ids[n] for n in ("e", "sold_out", "d", "bought")]},
            popular=[ids[n] for n in ("f", "g", "sold_out", "d")]), {"test": True})

    def names(self, items: list[dict[str, Any]]) -> list[str]:
        by_id = {product_id: name for name, product_id in self.ids.items()}
        return [by_id.get(item["id"], item["id"]) for item in items]


@pytest.fixture(scope="module")
def scene(shop: Shop, settings: Settings) -> Scene:
    return Scene(shop, settings)


def recommended(shop: Shop, account: Account, **params: Any) -> list[dict[str, Any]]:
    r = shop.http.get("/v1/recommendations", headers=account.headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


def related(shop: Shop, product_id: str, account: Account | None = None, **params: Any) -> list[dict[str, Any]]:
    r = shop.http.get(f"/v1/products/{product_id}/related", params=params,
                      headers=account.headers if account else None)
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


def served(shop: Shop, scene: Scene) -> list[str]:
    """A new shopper's list, once every replica serves the scene's store (each picks it up on its own)."""
    wait_until(lambda: all(scene.names(recommended(shop, scene.newcomer)) == ["f", "g", "d"] for _ in range(6)))
    return scene.names(recommended(shop, scene.newcomer))


def test_a_shopper_is_never_recommended_what_they_bought_what_is_sold_out_or_inactive(
        shop: Shop, scene: Scene) -> None:
    served(shop, scene)
    items = recommended(shop, scene.shopper)
    assert scene.names(items) == ["d", "e", "f", "g"]  # their own list, then popular ones, all filtered
    assert all(item["link"] == f"/v1/products/{item['id']}?ref=recommendation" for item in items)
    assert all(item["status"] == "active" and any(v["available"] > 0 for v in item["variants"]) for item in items)
    assert scene.names(recommended(shop, scene.shopper, limit=1)) == ["d"]


def test_a_new_shopper_gets_the_popular_products_in_stock(shop: Shop, scene: Scene) -> None:
    assert served(shop, scene) == ["f", "g", "d"]


def test_customers_who_bought_a_product_also_bought(shop: Shop, scene: Scene) -> None:
    served(shop, scene)
    d = scene.ids["d"]
    items = related(shop, d)
    assert scene.names(items) == ["e", "bought", "f", "g"]  # never d itself, nor what is sold out
    assert all(item["link"].endswith("?ref=related") for item in items)
    assert scene.names(related(shop, d, scene.shopper)) == ["e", "f", "g"]  # not what the shopper has
    assert scene.names(related(shop, scene.ids["e"], limit=2)) == ["f", "g"]  # no neighbours: popular ones


def test_bad_requests_get_the_contracts_errors(shop: Shop, scene: Scene) -> None:
    for limit in (0, 51, "ten"):
        assert_error(shop.http.get("/v1/recommendations", headers=scene.shopper.headers, params={"limit": limit}),
                     422, "validation_error")
        assert_error(shop.http.get(f"/v1/products/{scene.ids['d']}/related", params={"limit": limit}), 422)
    assert_error(shop.http.get("/v1/recommendations"), 401)
    assert_error(shop.http.get("/v1/products/prd_01ABCDEFGH0000000000000000/related"), 404)
    assert_error(shop.http.get(f"/v1/products/{scene.ids['inactive']}/related"), 404)  # hidden from shoppers


def test_a_revoked_token_is_refused_though_its_check_shares_the_routes_read(shop: Shop, scene: Scene) -> None:
    account = shop.register()
    assert {len(recommended(shop, account)) for _ in range(6)} == {3}  # the popular f, g, d on every replica
    r = shop.http.post("/v1/auth/logout", json={"refresh_token": account.refresh_token}, headers=account.headers)
    assert r.status_code == 204, r.text
    for _ in range(6):
        assert_error(shop.http.get("/v1/recommendations", headers=account.headers), 401, "token_revoked")
    assert_error(shop.http.get("/v1/recommendations", headers={"Authorization": "Bearer nonsense"}), 401)

def test_a_sold_out_product_given_a_new_variant_comes_back_once_the_replicas_copy_expires(
        shop: Shop, scene: Scene) -> None:
    """A replica reads an expired product's stock with the variants it had, in the same round trip as the product;
    a product whose variants changed has the new ones' stock read too. (Uses up e's first variant.)"""
    served(shop, scene)
    rival, e = shop.register(), scene.products["e"]

    def every_time(expected: list[str]) -> None:
        assert [scene.names(recommended(shop, scene.shopper)) for _ in range(6)] == [expected] * 6

    every_time(["d", "e", "f", "g"])
    assert shop.add_to_cart(rival, e, quantity=10).status_code == 200
    assert shop.checkout(rival, shop.checkout_body(rival)).status_code == 201
    every_time(["d", "f", "g"])
    r = shop.http.patch(f"/v1/products/{e['id']}", headers=shop.admin.headers, json={"variants": [
        {"sku": f"SKU-E-{time.monotonic_ns()}", "attributes": {"size": "new"}, "price": 1999, "initial_stock": 3}]})
    assert r.status_code == 200, r.text
    time.sleep(PRODUCT_SECONDS + 0.5)  # the bound each replica keeps a product, as in the test below
    every_time(["d", "e", "f", "g"])
    shown = next(item for item in recommended(shop, scene.shopper) if item["id"] == e["id"])
    assert sorted(v["available"] for v in shown["variants"]) == [0, 3]


def test_warm_replicas_never_show_what_was_just_bought_or_sold_out_and_drop_a_deactivated_product(
        shop: Shop, scene: Scene) -> None:
    """Each replica keeps products a moment (serve/shelf.py): a purchase and stock still count at once, a product
    made inactive goes within seconds. (Last in this module: it uses up f and g and deactivates d.)"""
    served(shop, scene)
    shopper, rival = shop.register(), shop.register()
    p = scene.products

    def every_time(expected: list[str]) -> None:  # 6 requests reach both replicas, each warm with the products
        assert [scene.names(recommended(shop, shopper)) for _ in range(6)] == [expected] * 6

    every_time(["f", "g", "d"])
    assert shop.add_to_cart(shopper, p["f"]).status_code == 200
    assert shop.checkout(shopper, shop.checkout_body(shopper)).status_code == 201
    every_time(["g", "d"])  # bought a moment ago
    assert shop.add_to_cart(rival, p["g"], quantity=10).status_code == 200
    assert shop.checkout(rival, shop.checkout_body(rival)).status_code == 201
    every_time(["d"])  # sold out a moment ago
    r = shop.http.patch(f"/v1/products/{p['d']['id']}", json={"status": "inactive"}, headers=shop.admin.headers)
    assert r.status_code == 200, r.text
    # each replica keeps a product at most PRODUCT_SECONDS (timed from before its read), whichever replica HAProxy
    # and Serve pick: waiting that bound is the contract under test (polling could meet only the fresher replica)
    time.sleep(PRODUCT_SECONDS + 0.5)
    every_time([])
