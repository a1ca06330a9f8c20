"""The catalog's rules without Ray or Redis: the category tree, what a valid listing is, who may edit it."""

from __future__ import annotations

from typing import Any

import pytest

from domain.catalog import (
    CatalogUser,
    Product,
    can_view,
    ensure_can_edit,
    ensure_visible,
    initial_stock,
    listing_seller,
    listing_statuses,
    new_product,
)
from domain.catalog_fields import MAX_VARIANTS
from domain.catalog_patch import added_variants, patched, rated
from domain.categories import CategoryTree, slugify
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.ids import is_id, new_id

NOW = "2025-03-01T10:00:00.000Z"
LATER = "2025-03-02T10:00:00.000Z"
ADMIN = CatalogUser("admin")
SELLER = CatalogUser("seller", "sel_01JAAAAAAAAAAAAAAAAAAAAAAA")
OTHER_SELLER = CatalogUser("seller", "sel_01JBBBBBBBBBBBBBBBBBBBBBBB")
CUSTOMER = CatalogUser("customer")


def shop_tree() -> tuple[CategoryTree, dict[str, str]]:
    tree = CategoryTree()
    ids: dict[str, str] = {}
    for name, parent in [("Electronics", None), ("Laptops", "Electronics"), ("Gaming", "Laptops"),
                         ("Phones", "Electronics"), ("Fashion", None), ("Shoes", "Fashion")]:
        category = tree.new_category(name, ids.get(parent or ""), NOW)
        tree.add(category)
        ids[name] = category.id
    return tree, ids


def variant(**overrides: Any) -> dict[str, Any]:
    return {"sku": f"SKU-{new_id('var')[-8:]}", "attributes": {"color": "Black"}, "price": 129900,
            "sale_price": None, "currency": "USD", "images": ["https://img.example.com/a.jpg"], **overrides}


def spec(category: str, **overrides: Any) -> dict[str, Any]:
    return {"name": "Vertex Pro 14", "description": "A light laptop", "category_id": category,
            "brand": "Vertex", "tags": ["Laptop", "laptop", " portable "], "specifications": {"ram": "16GB"},
            "variants": [variant()], **overrides}


@pytest.fixture
def tree() -> CategoryTree:
    return shop_tree()[0]


@pytest.fixture
def laptops(tree: CategoryTree) -> str:
    return next(c.id for c in tree.by_id.values() if c.name == "Laptops")


def listed(laptops: str, tree: CategoryTree, seller: CatalogUser | None = SELLER, **overrides: Any) -> Product:
    return new_product(spec(laptops, **overrides), seller.seller_id if seller else None, NOW, tree)


# -- categories -----------------------------------------------------------------------------------------
def test_the_tree_nests_children_under_their_parents_in_creation_order() -> None:
    tree, ids = shop_tree()
    roots = tree.tree()
    assert [r["name"] for r in roots] == ["Electronics", "Fashion"]
    electronics = roots[0]
    assert [c["name"] for c in electronics["children"]] == ["Laptops", "Phones"]
    assert electronics["children"][0]["children"][0] == {**tree.get(ids["Gaming"]).to_dict(), "children": []}
    assert electronics["children"][0]["parent_id"] == ids["Electronics"]


def test_browsing_a_category_covers_its_whole_subtree() -> None:
    tree, ids = shop_tree()
    assert tree.descendants(ids["Electronics"]) == {ids[n] for n in ("Electronics", "Laptops", "Gaming", "Phones")}
    assert tree.descendants(ids["Gaming"]) == {ids["Gaming"]}
    assert [c.name for c in tree.path(ids["Gaming"])] == ["Electronics", "Laptops", "Gaming"]
    with pytest.raises(NotFound):
        tree.descendants(new_id("cat"))


def test_a_tree_loaded_back_from_storage_is_the_same_tree() -> None:
    tree, _ = shop_tree()
    reloaded = CategoryTree(reversed([type(c).from_dict(c.to_dict()) for c in tree.by_id.values()]))
    assert reloaded.tree() == tree.tree()


def test_a_category_needs_a_known_parent_and_a_name_unique_among_its_siblings() -> None:
    tree, ids = shop_tree()
    with pytest.raises(Invalid) as unknown:
        tree.new_category("Tablets", new_id("cat"), NOW)
    assert unknown.value.code == "unknown_parent"
    with pytest.raises(Conflict) as twin:
        tree.new_category("  laptops ", ids["Electronics"], NOW)
    assert twin.value.code == "category_exists"
    with pytest.raises(Invalid) as blank:
        tree.new_category("   ", None, NOW)
    assert blank.value.code == "invalid_name"
    # the same name elsewhere in the tree is fine: Fashion > Shoes and Sports > Shoes
    sports = tree.new_category("Sports", None, NOW)
    tree.add(sports)
    assert tree.new_category("Shoes", sports.id, NOW).slug == "shoes"


def test_slugs_are_lowercase_ascii_words() -> None:
    assert slugify("Home & Kitchen") == "home-kitchen"
    assert slugify("Café Crème") == "cafe-creme"


# -- a valid listing ------------------------------------------------------------------------------------
def test_a_new_listing_is_cleaned_and_gets_ids(tree: CategoryTree, laptops: str) -> None:
    product = listed(laptops, tree)
    assert is_id(product.id, "prd") and is_id(product.variants[0].id, "var")
    assert product.tags == ["laptop", "portable"]
    assert (product.status, product.rating, product.review_count) == ("active", 0.0, 0)
    assert product.seller_id == SELLER.seller_id and product.created_at == product.updated_at == NOW
    assert Product.from_dict(product.to_dict()) == product


@pytest.mark.parametrize(("overrides", "code"), [
    ({"variants": []}, "no_variants"),
    ({"variants": [variant(attributes={"n": str(i)}) for i in range(MAX_VARIANTS + 1)]}, "too_many_variants"),
    ({"variants": [variant(sku="A-1"), variant(sku="a-1", attributes={"color": "Red"})]}, "duplicate_sku"),
    ({"variants": [variant(), variant()]}, "duplicate_variant"),
    ({"variants": [variant(price=1000, sale_price=1200)]}, "sale_price_above_price"),
    ({"variants": [variant(price=-1)]}, "invalid_price"),
    ({"variants": [variant(price=19.99)]}, "invalid_price"),
    ({"variants": [variant(currency="usd")]}, "invalid_currency"),
    ({"variants": [variant(), variant(currency="EUR", attributes={"color": "Red"})]}, "mixed_currency"),
    ({"variants": [variant(sku="has space")]}, "invalid_sku"),
    ({"variants": [variant(images=["ftp://x"])]}, "invalid_images"),
    ({"variants": [variant(initial_stok=3)]}, "unknown_field"),
    ({"name": ""}, "invalid_name"),
    ({"name": "x" * 201}, "invalid_name"),
    ({"description": "x" * 5001}, "invalid_description"),
    ({"tags": ["t"] * 31 + [f"t{i}" for i in range(31)]}, "invalid_tags"),
    ({"specifications": {"weight": ["1kg"]}}, "invalid_specifications"),
    ({"category_id": "cat_01JZZZZZZZZZZZZZZZZZZZZZZZ"}, "unknown_category"),
    ({"status": "deleted"}, "invalid_status"),
    ({"seller_id": "sel_x"}, "unknown_field"),
])
def test_an_invalid_listing_is_refused_with_a_clear_code(tree: CategoryTree, laptops: str,
                                                        overrides: dict[str, Any], code: str) -> None:
    with pytest.raises(Invalid) as refused:
        listed(laptops, tree, **overrides)
    assert refused.value.code == code


def test_a_sale_price_equal_to_the_price_and_a_free_item_are_allowed(tree: CategoryTree, laptops: str) -> None:
    product = listed(laptops, tree, variants=[variant(price=500, sale_price=500),
                                              variant(price=0, attributes={"color": "Red"})])
    assert [v.unit_price for v in product.variants] == [500, 0]


def test_initial_stock_uses_inventory_defaults_unless_thresholds_are_given(tree: CategoryTree, laptops: str) -> None:
    raws = [variant(initial_stock=7), variant(attributes={"color": "Red"}, low_stock_threshold=2, reorder_point=4)]
    product = listed(laptops, tree, variants=raws)
    assert initial_stock(raws, product.variants) == [
        {"variant_id": product.variants[0].id, "on_hand": 7},
        {"variant_id": product.variants[1].id, "on_hand": 0, "low_stock_threshold": 2, "reorder_point": 4}]
    with pytest.raises(Invalid) as negative:
        initial_stock([variant(initial_stock=-1)], product.variants[:1])
    assert negative.value.code == "invalid_stock"


# -- who may list, see and edit -------------------------------------------------------------------------
def test_a_seller_lists_as_itself_an_admin_as_the_shop_and_a_customer_not_at_all() -> None:
    assert listing_seller(SELLER) == SELLER.seller_id
    assert listing_seller(ADMIN) is None
    for user in (CUSTOMER, CatalogUser("seller", None)):
        with pytest.raises(Forbidden):
            listing_seller(user)


def test_only_the_owner_seller_or_an_admin_edits_a_product(tree: CategoryTree, laptops: str) -> None:
    sellers_product, shops_product = listed(laptops, tree), listed(laptops, tree, seller=None)
    ensure_can_edit(sellers_product, SELLER)
    ensure_can_edit(sellers_product, ADMIN)
    ensure_can_edit(shops_product, ADMIN)
    # an unapproved seller (no seller id) does not "own" the shop's own listings, whose seller_id is None too
    for product, user in [(sellers_product, OTHER_SELLER), (sellers_product, CUSTOMER),
                          (shops_product, SELLER), (shops_product, CatalogUser("seller", None))]:
        with pytest.raises(Forbidden) as refused:
            ensure_can_edit(product, user)
        assert refused.value.code == "not_owner"


def test_hidden_products_are_seen_only_by_their_seller_and_admins(tree: CategoryTree, laptops: str) -> None:
    draft = listed(laptops, tree, status="draft")
    assert can_view(draft, SELLER) and can_view(draft, ADMIN)
    for viewer in (None, CUSTOMER, OTHER_SELLER):
        assert not can_view(draft, viewer)
        with pytest.raises(NotFound):
            ensure_visible(draft, draft.id, viewer)
    assert can_view(listed(laptops, tree), None)


def test_listings_show_active_products_unless_an_admin_or_the_seller_asks_for_more() -> None:
    assert listing_statuses(None, None, None) == {"active"}
    assert listing_statuses(ADMIN, None, "draft") == {"draft"}
    assert listing_statuses(SELLER, SELLER.seller_id, "inactive") == {"inactive"}
    with pytest.raises(Forbidden):
        listing_statuses(SELLER, OTHER_SELLER.seller_id, "draft")
    with pytest.raises(Forbidden):
        listing_statuses(CUSTOMER, None, "archived")


# -- patches --------------------------------------------------------------------------------------------
def test_a_patch_changes_fields_and_reprices_variants(tree: CategoryTree, laptops: str) -> None:
    product = listed(laptops, tree)
    before = product.to_dict()
    vid = product.variants[0].id
    update = patched(product, {"name": "Vertex Pro 16", "tags": ["sale"], "variants": [
        {"id": vid, "sale_price": 99900, "images": []}]}, SELLER, LATER, tree)
    assert update.fields == ["name", "tags", "variants"]
    assert update.price_changes == [{"variant_id": vid, "currency": "USD", "old_price": 129900,
                                     "old_sale_price": None, "price": 129900, "sale_price": 99900}]
    assert update.product.variants[0].unit_price == 99900 and update.product.updated_at == LATER
    assert product.to_dict() == before  # the original is untouched until the caller swaps the result in


def test_a_refused_patch_changes_nothing(tree: CategoryTree, laptops: str) -> None:
    product = listed(laptops, tree)
    before = product.to_dict()
    vid = product.variants[0].id
    for patch, code in [({"name": "ok", "variants": [{"id": vid, "price": 100, "sale_price": 200}]},
                         "sale_price_above_price"),
                        ({"variants": [{"id": new_id("var"), "price": 1}]}, "unknown_variant"),
                        ({"variants": [{"id": vid, "sku": "NEW"}]}, "immutable_field"),
                        ({"category_id": new_id("cat")}, "unknown_category"),
                        ({"colour": "red"}, "unknown_field")]:
        with pytest.raises(Invalid) as refused:
            patched(product, patch, SELLER, LATER, tree)
        assert refused.value.code == code
    with pytest.raises(Forbidden):
        patched(product, {"name": "Mine now"}, OTHER_SELLER, LATER, tree)
    assert product.to_dict() == before


def test_clearing_a_sale_price_and_an_unchanged_patch(tree: CategoryTree, laptops: str) -> None:
    product = listed(laptops, tree, variants=[variant(price=1000, sale_price=800)])
    vid = product.variants[0].id
    cleared = patched(product, {"variants": [{"id": vid, "sale_price": None}]}, ADMIN, LATER, tree)
    assert cleared.product.variants[0].unit_price == 1000 and len(cleared.price_changes) == 1
    same = patched(product, {"name": product.name, "brand": "Vertex"}, ADMIN, LATER, tree)
    assert not same.changed and same.product.updated_at == NOW


def test_a_patch_adds_variants_under_ids_the_caller_set_aside(tree: CategoryTree, laptops: str) -> None:
    product = listed(laptops, tree)
    patch = {"variants": [variant(sku="VX-RED", attributes={"color": "Red"}, initial_stock=12)]}
    assert added_variants(patch) == 1
    new_ids = [new_id("var")]
    update = patched(product, patch, SELLER, LATER, tree, new_ids)
    assert [v.id for v in update.product.variants] == [product.variants[0].id, new_ids[0]]
    assert update.stock == [{"variant_id": new_ids[0], "on_hand": 12}]
    assert update.added_variant_ids == new_ids
    with pytest.raises(Invalid) as clash:
        patched(product, {"variants": [variant(sku=product.variants[0].sku, attributes={"color": "Blue"})]},
                SELLER, LATER, tree, [new_id("var")])
    assert clash.value.code == "duplicate_sku"


def test_status_moves_along_the_lifecycle_and_archived_is_final(tree: CategoryTree, laptops: str) -> None:
    product = listed(laptops, tree, status="draft")
    live = patched(product, {"status": "active"}, SELLER, LATER, tree)
    assert live.status_change == ("draft", "active")
    with pytest.raises(Conflict) as back_to_draft:
        patched(live.product, {"status": "draft"}, SELLER, LATER, tree)
    assert back_to_draft.value.code == "invalid_status_transition"
    archived = patched(live.product, {"status": "archived"}, ADMIN, LATER, tree).product
    with pytest.raises(Conflict) as final:
        patched(archived, {"name": "Revived"}, ADMIN, LATER, tree)
    assert final.value.code == "product_archived"


def test_reviews_set_the_rating_within_bounds(tree: CategoryTree, laptops: str) -> None:
    product = listed(laptops, tree)
    assert (rated(product, 4.333, 3).rating, rated(product, 4.333, 3).review_count) == (4.33, 3)
    with pytest.raises(Invalid):
        rated(product, 5.5, 1)
