"""Which catalog, stock and order events the search indexer acts on, and what each asks of the index."""

from __future__ import annotations

import json
from typing import Any

from actors.search_feed import touched


def entry(kind: str, **data: Any) -> tuple[str, dict[str, str]]:
    return "1-0", {"id": "evt_x", "type": kind, "at": "2026-01-01T00:00:00.000Z", "data": json.dumps(data)}


def test_listing_changes_rewrite_the_product() -> None:
    work = touched([entry("product.created", product_id="prd_a"), entry("product.price_changed", product_id="prd_b"),
                    entry("product.updated", product_id="prd_c", fields=["rating", "review_count"]),
                    entry("product.status_changed", product_id="prd_d", to="inactive")])
    assert work.products == {"prd_a", "prd_b", "prd_c", "prd_d"} and not work.stock_variants


def test_stock_movements_ask_for_an_in_stock_check_of_their_variants() -> None:
    work = touched([entry("inventory.adjusted", variant_id="var_a", delta=-1),
                    entry("inventory.reserved", reservation_id="r", lines={"var_b": 2, "var_c": 1}),
                    entry("inventory.expired", reservation_id="r", lines={"var_b": 2})])
    assert work.stock_variants == {"var_a", "var_b", "var_c"} and not work.products


def test_an_order_counts_its_units_towards_popularity() -> None:
    items = [{"variant_id": "var_a", "quantity": 2, "price": 100, "seller_id": None}]
    work = touched([entry("order.created", order_id="o1", items=items),
                    entry("order.created", order_id="o2", items=[{**items[0], "quantity": 1}])])
    assert work.ordered == {"var_a": 3}


def test_everything_else_and_unreadable_entries_ask_nothing() -> None:
    unreadable = ("2-0", {"type": "product.created", "data": "{not json"})
    trimmed = ("3-0", None)
    work = touched([entry("cart.item_added", user_id="u"), entry("search.performed", query="x"),
                    entry("inventory.low_stock", variant_id="var_a", available=1), unreadable, trimmed])
    assert not work
