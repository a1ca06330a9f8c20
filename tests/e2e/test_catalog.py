"""The catalog over HTTP: admins build the category tree, sellers list and edit their own products, shoppers
browse active products page by page."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.shop import Account, Shop, assert_error

pytestmark = pytest.mark.ray

PRODUCT_FIELDS = {"id", "name", "description", "category_id", "brand", "tags", "seller_id", "status", "rating",
                  "review_count", "specifications", "variants"}
VARIANT_FIELDS = {"id", "sku", "attributes", "price", "sale_price", "currency", "available", "images"}


def listing(shop: Shop, account: Account | None = None, **params: Any) -> dict[str, Any]:
    r = shop.http.get("/v1/products", params=params, headers=account.headers if account else None)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def product_body(category: str, **fields: Any) -> dict[str, Any]:
    return {"name": "Trailhead Two-Person Tent", "description": "Sleeps two", "category_id": category,
            "brand": "Trailhead", "tags": ["camping"], "specifications": {"weight": "2.3 kg", "waterproof": True},
            "variants": [{"sku": f"TENT-{uuid.uuid4().hex[:8]}", "attributes": {"color": "Sand"}, "price": 19900,
                          "currency": "USD", "initial_stock": 3}], **fields}


def test_an_admin_builds_the_category_tree_that_everyone_browses(shop: Shop) -> None:
    root = shop.category(f"Outdoor {uuid.uuid4().hex[:6]}")
    child = shop.category("Camping", root["id"])
    grandchild = shop.category("Tents", child["id"])
    assert (child["parent_id"], grandchild["slug"]) == (root["id"], "tents")
    r = shop.http.get("/v1/categories")
    assert r.status_code == 200
    node = next(c for c in r.json()["categories"] if c["id"] == root["id"])
    assert set(node) >= {"id", "name", "slug", "parent_id", "children"}
    assert node["children"][0]["id"] == child["id"]
    assert node["children"][0]["children"] == [{**grandchild, "children": []}]

    body = {"name": "Camping", "parent_id": root["id"]}
    assert_error(shop.http.post("/v1/categories", json=body, headers=shop.admin.headers), 409, "category_exists")
    orphan = {"name": "Orphans", "parent_id": "cat_01JZZZZZZZZZZZZZZZZZZZZZZZ"}
    assert_error(shop.http.post("/v1/categories", json=orphan, headers=shop.admin.headers), 422, "unknown_parent")
    assert_error(shop.http.post("/v1/categories", json={"name": "Mine"}, headers=shop.register().headers), 403)
    assert_error(shop.http.post("/v1/categories", json={"name": "Anyone"}), 401)


def test_a_product_page_shows_every_variant_with_its_available_stock(shop: Shop) -> None:
    product = shop.product(stock=7, price=129900, sale_price=99900, variants=2)
    r = shop.http.get(f"/v1/products/{product['id']}")
    assert r.status_code == 200, r.text
    page = r.json()["product"]
    assert set(page) >= PRODUCT_FIELDS and page["seller_id"] is None and page["status"] == "active"
    assert (page["rating"], page["review_count"]) == (0, 0)
    assert len(page["variants"]) == 2
    for variant in page["variants"]:
        assert set(variant) >= VARIANT_FIELDS
        assert (variant["price"], variant["sale_price"], variant["available"]) == (129900, 99900, 7)


def test_a_seller_lists_and_edits_only_its_own_products(shop: Shop) -> None:
    seller, rival, customer = shop.approved_seller(), shop.approved_seller(), shop.register()
    category = shop.category()
    product = shop.product(owner=seller, category_id=category["id"])
    assert product["seller_id"] == seller.user["seller_id"]

    r = shop.http.patch(f"/v1/products/{product['id']}", json={"name": "Renamed by its seller"},
                        headers=seller.headers)
    assert r.status_code == 200 and r.json()["product"]["name"] == "Renamed by its seller"
    url = f"/v1/products/{product['id']}"
    assert_error(shop.http.patch(url, json={"name": "Stolen"}, headers=rival.headers), 403, "not_owner")
    assert_error(shop.http.patch(url, json={"name": "Mine"}, headers=customer.headers), 403)
    assert_error(shop.http.post("/v1/products", json=product_body(category["id"]), headers=customer.headers), 403)
    r = shop.http.patch(url, json={"tags": ["featured"]}, headers=shop.admin.headers)
    assert r.status_code == 200 and r.json()["product"]["tags"] == ["featured"]
    shops_own = shop.product(category_id=category["id"])
    assert_error(shop.http.patch(f"/v1/products/{shops_own['id']}", json={"name": "x"}, headers=seller.headers),
                 403, "not_owner")
    assert shop.http.get(url).json()["product"]["name"] == "Renamed by its seller"


def test_drafts_and_inactive_products_are_hidden_from_everyone_but_their_seller(shop: Shop) -> None:
    seller, rival = shop.approved_seller(), shop.approved_seller()
    draft = shop.product(owner=seller, status="draft")
    url = f"/v1/products/{draft['id']}"
    assert_error(shop.http.get(url), 404)
    assert_error(shop.http.get(url, headers=rival.headers), 404)
    assert shop.http.get(url, headers=seller.headers).status_code == 200
    assert shop.http.get(url, headers=shop.admin.headers).status_code == 200
    seller_id = seller.user["seller_id"]
    assert listing(shop, seller=seller_id)["total"] == 0
    own_drafts = listing(shop, seller, seller=seller_id, status="draft")
    assert [p["id"] for p in own_drafts["items"]] == [draft["id"]]
    r = shop.http.get("/v1/products", params={"seller": seller_id, "status": "draft"}, headers=rival.headers)
    assert_error(r, 403, "not_owner")

    r = shop.http.patch(url, json={"status": "active"}, headers=seller.headers)
    assert r.status_code == 200 and shop.http.get(url).status_code == 200
    assert listing(shop, seller=seller_id)["total"] == 1
    shop.http.patch(url, json={"status": "inactive"}, headers=seller.headers)
    assert_error(shop.http.get(url), 404)


def test_browsing_a_category_includes_its_subcategories_and_filters_by_brand(shop: Shop) -> None:
    root = shop.category()
    child = shop.category("Laptops", root["id"])
    grandchild = shop.category("Gaming", child["id"])
    elsewhere = shop.category()
    in_root = shop.product(category_id=root["id"], brand="Vertex")
    in_child = shop.product(category_id=child["id"], brand="Lumina")
    in_grandchild = shop.product(category_id=grandchild["id"], brand="Vertex")
    shop.product(category_id=elsewhere["id"], brand="Vertex")

    everything = listing(shop, category=root["id"])
    assert [p["id"] for p in everything["items"]] == [in_grandchild["id"], in_child["id"], in_root["id"]]
    assert everything["total"] == 3 and everything["items"][0]["variants"][0]["available"] == 10
    laptops = listing(shop, category=child["id"])
    assert {p["id"] for p in laptops["items"]} == {in_child["id"], in_grandchild["id"]}
    vertex = listing(shop, category=root["id"], brand="vertex")
    assert [p["id"] for p in vertex["items"]] == [in_grandchild["id"], in_root["id"]]


def test_pages_are_newest_first_and_never_repeat_or_skip_a_product(shop: Shop) -> None:
    category = shop.category()
    made = [shop.product(category_id=category["id"])["id"] for _ in range(7)]
    seen: list[str] = []
    for page in (1, 2, 3):
        body = listing(shop, category=category["id"], page=page, page_size=3)
        assert (body["total"], body["page"], body["page_size"]) == (7, page, 3)
        seen.extend(p["id"] for p in body["items"])
    assert seen == made[::-1]
    assert listing(shop, category=category["id"], page=4, page_size=3)["items"] == []


def test_listing_pages_stop_at_the_first_ten_thousand_results_as_search_does(shop: Shop) -> None:
    assert listing(shop, page=500, page_size=20)["page"] == 500  # the 10,000th result is still served
    for page, page_size in ((501, 20), (10_001, 1), (10**12, 100)):
        error = assert_error(shop.http.get("/v1/products", params={"page": page, "page_size": page_size}), 422,
                             "invalid_page")
        assert error["details"]["max_results"] == 10_000


def test_a_patch_reprices_and_adds_a_variant_with_its_own_stock(shop: Shop) -> None:
    product = shop.product(stock=5, price=5000)
    url, vid = f"/v1/products/{product['id']}", product["variants"][0]["id"]
    new = {"sku": f"NEW-{uuid.uuid4().hex[:8]}", "attributes": {"size": "XL"}, "price": 5500, "initial_stock": 2}
    r = shop.http.patch(url, json={"variants": [{"id": vid, "sale_price": 4500}, new]}, headers=shop.admin.headers)
    assert r.status_code == 200, r.text
    variants = {v["sku"]: v for v in shop.http.get(url).json()["product"]["variants"]}
    assert (variants[product["variants"][0]["sku"]]["sale_price"], variants[new["sku"]]["available"]) == (4500, 2)
    assert variants[new["sku"]]["currency"] == "USD"
    above = {"variants": [{"id": vid, "sale_price": 6000}]}
    assert_error(shop.http.patch(url, json=above, headers=shop.admin.headers), 422, "sale_price_above_price")


def test_bad_requests_get_the_error_shape(shop: Shop) -> None:
    category_id = shop.category()["id"]
    admin = shop.admin.headers
    assert_error(shop.http.get("/v1/products/prd_01JZZZZZZZZZZZZZZZZZZZZZZZ"), 404, "product_not_found")
    assert_error(shop.http.get("/v1/products/not-an-id"), 422)
    assert_error(shop.http.patch("/v1/products/prd_01JZZZZZZZZZZZZZZZZZZZZZZZ", json={"name": "x"}, headers=admin),
                 404)
    assert_error(shop.http.get("/v1/products", params={"page_size": 101}), 422)
    assert_error(shop.http.get("/v1/products", params={"page": 0}), 422)
    assert_error(shop.http.get("/v1/products", params={"category": "cat_01JZZZZZZZZZZZZZZZZZZZZZZZ"}), 404)

    def refused(status: int, code: str | None = None, **fields: Any) -> None:
        body = product_body(category_id, **fields)
        assert_error(shop.http.post("/v1/products", json=body, headers=admin), status, code)

    variant = product_body(category_id)["variants"][0]
    refused(422, "sale_price_above_price", variants=[{**variant, "price": 1000, "sale_price": 1500}])
    refused(422, "invalid_price", variants=[{**variant, "price": -1}])
    refused(422, "invalid_stock", variants=[{**variant, "initial_stock": -3}])
    refused(422, "no_variants", variants=[])
    refused(422, "duplicate_sku", variants=[variant, {**variant, "attributes": {"color": "Red"}}])
    refused(422, "unknown_category", category_id="cat_01JZZZZZZZZZZZZZZZZZZZZZZZ")
    refused(422, "invalid_name", name="")
    refused(422, "validation_error", colour="red")
    assert_error(shop.http.post("/v1/products", json=product_body(category_id)), 401)
