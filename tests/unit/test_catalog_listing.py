"""Browsing the catalog without Ray: filters, newest-first pages that never repeat, and the demo catalog."""

from __future__ import annotations

from typing import Any

import pytest

from domain.catalog import Offer, Product, can_view, is_listed, new_product
from domain.catalog_index import ProductIndex, ProductQuery
from domain.catalog_patch import patched
from domain.errors import Invalid
from pipelines.seed_data import DEPARTMENTS, DemoCatalog
from tests.unit.test_catalog import ADMIN, OTHER_SELLER, SELLER, shop_tree, variant

TREE, CATS = shop_tree()


def make(index: int, category: str = "Laptops", brand: str = "Vertex", seller: str | None = None,
         status: str = "active") -> Product:
    created = f"2025-03-01T10:{index // 60:02d}:{index % 60:02d}.000Z"
    body: dict[str, Any] = {"name": f"Product {index}", "category_id": CATS[category], "brand": brand,
                            "status": status, "variants": [variant()]}
    return new_product(body, seller, created, TREE)


def names(index: ProductIndex, query: ProductQuery, products: dict[str, Product]) -> list[str]:
    return [products[pid].name for pid in index.query(query)[0]]


def test_a_category_lists_its_own_products_and_those_of_every_subcategory() -> None:
    products = [make(0, "Laptops"), make(1, "Gaming"), make(2, "Phones"), make(3, "Shoes")]
    by_id = {p.id: p for p in products}
    index = ProductIndex(products)
    electronics = ProductQuery(category_ids=frozenset(TREE.descendants(CATS["Electronics"])))
    assert names(index, electronics, by_id) == ["Product 2", "Product 1", "Product 0"]
    laptops = ProductQuery(category_ids=frozenset(TREE.descendants(CATS["Laptops"])))
    assert names(index, laptops, by_id) == ["Product 1", "Product 0"]
    assert index.query(ProductQuery())[1] == 4


def test_brand_seller_and_status_filters_combine() -> None:
    products = [make(0, brand="Vertex", seller=SELLER.seller_id), make(1, brand="Lumina", seller=SELLER.seller_id),
                make(2, brand="vertex ", seller=OTHER_SELLER.seller_id),
                make(3, brand="Vertex", seller=SELLER.seller_id, status="draft")]
    by_id = {p.id: p for p in products}
    index = ProductIndex(products)
    assert names(index, ProductQuery(brand="VERTEX"), by_id) == ["Product 2", "Product 0"]
    assert names(index, ProductQuery(brand="Vertex", seller_id=SELLER.seller_id), by_id) == ["Product 0"]
    drafts = ProductQuery(seller_id=SELLER.seller_id, statuses=frozenset({"draft"}))
    assert names(index, drafts, by_id) == ["Product 3"]
    assert index.query(ProductQuery(brand="Nobody")) == ([], 0)


def test_a_status_change_moves_a_product_out_of_the_public_listing() -> None:
    product = make(0)
    index = ProductIndex([product])
    assert index.query(ProductQuery()) == ([product.id], 1)
    index.put(patched(product, {"status": "inactive"}, ADMIN, "2025-04-01T00:00:00.000Z", TREE).product)
    assert index.query(ProductQuery()) == ([], 0)
    assert index.query(ProductQuery(statuses=frozenset({"inactive"}))) == ([product.id], 1)


@pytest.mark.parametrize("others", [0, 1000])  # many matches are walked newest first; few are sorted
def test_pages_are_newest_first_and_never_repeat_or_skip_a_product(others: int) -> None:
    phones = [make(i, "Phones") for i in range(47)]
    noise = [make(100 + i, "Shoes") for i in range(others)]
    index = ProductIndex([*reversed(phones), *noise])  # load order does not matter

    def query_for(page: int) -> ProductQuery:
        return ProductQuery(category_ids=frozenset({CATS["Phones"]}), page=page, page_size=10)

    seen: list[str] = []
    for page in range(1, 7):
        ids, total = index.query(query_for(page))
        assert total == 47
        seen.extend(ids)
    assert seen == [p.id for p in reversed(phones)]
    late = make(3000, "Phones")
    index.put(late)
    assert index.query(query_for(1))[0][0] == late.id


def test_page_and_page_size_are_bounded() -> None:
    for bad in ({"page": 0}, {"page_size": 0}, {"page_size": 101}, {"page": 101, "page_size": 100},
                {"page": 10_001, "page_size": 1}):
        with pytest.raises(Invalid):
            ProductQuery(**bad)  # type: ignore[arg-type]
    assert ProductQuery(page_size=100).page_size == 100
    assert ProductQuery(page=100, page_size=100).page == 100  # the 10,000th result is the last one served


def test_the_demo_catalog_is_deterministic_and_every_listing_is_valid() -> None:
    category_ids = {department.category: CATS["Laptops"] for department in DEPARTMENTS}
    first = list(DemoCatalog(7, category_ids, "USD").products(300))
    assert list(DemoCatalog(7, category_ids, "USD").products(120)) == first[:120]
    assert list(DemoCatalog(8, category_ids, "USD").products(5)) != first[:5]
    assert len({p["id"] for p in first}) == 300
    for raw in first:
        body = {k: v for k, v in raw.items() if k != "id"}
        body["variants"] = [{k: v for k, v in v.items() if k != "id"} for v in raw["variants"]]
        product = new_product(body, None, "2025-01-01T00:00:00.000Z", TREE, raw["id"],
                              [v["id"] for v in raw["variants"]])
        assert 1 <= len(product.variants) <= 3
        assert all(0 <= v["initial_stock"] <= 200 for v in raw["variants"])
    stock = [v["initial_stock"] for p in first for v in p["variants"]]
    assert 0 in stock and any(v["sale_price"] for p in first for v in p["variants"])
    assert len({p["brand"] for p in first}) >= 30


def test_a_suspended_sellers_products_leave_the_shop_but_not_its_own_view() -> None:
    mine, theirs = make(0, seller=SELLER.seller_id), make(1, seller=OTHER_SELLER.seller_id)
    index = ProductIndex([mine, theirs])
    mine.seller_suspended = True
    index.put(mine)
    by_id = {p.id: p for p in (mine, theirs)}
    assert names(index, ProductQuery(), by_id) == ["Product 1"]
    assert names(index, ProductQuery(include_suspended=True), by_id) == ["Product 1", "Product 0"]
    assert not mine.listed and not is_listed(mine.to_dict()) and is_listed(theirs.to_dict())
    assert not can_view(mine, None) and not can_view(mine, OTHER_SELLER)
    assert can_view(mine, SELLER) and can_view(mine, ADMIN)
    offer = Offer.find(mine.to_dict(), mine.variants[0].id)
    assert offer is not None and not offer.on_sale  # a cart or a checkout refuses it
    mine.seller_suspended = False
    index.put(mine)
    assert names(index, ProductQuery(), by_id) == ["Product 1", "Product 0"]
