"""Small event lakes for pipeline tests, written with the lake's own writer (lake/tables.py, lake/layout.py)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from lake.layout import Lake
from lake.tables import Row, event_table

EVENTS, ANALYTICS = "bz:events", "bz:analytics"


class LakeBuilder:
    """Events in the order they are added; `write` puts them in the lake as the exporter would."""

    def __init__(self, url: str) -> None:
        self.lake = Lake(url)
        self.rows: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
        self.seq = 0

    def add(self, event_type: str, at: str, stream: str = EVENTS, **data: Any) -> LakeBuilder:
        """`at`: "YYYY-MM-DD HH:MM" (UTC)."""
        when = datetime.strptime(at, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        self.seq += 1
        stream_id = f"{int(when.timestamp() * 1000)}-{self.seq}"
        iso = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        row: Row = (stream_id, f"evt_{self.seq:08d}", event_type, iso, json.dumps(data, sort_keys=True))
        self.rows[(event_type, iso[:10], stream)].append(row)
        return self

    def order(self, at: str, order_id: str, user_id: str, items: list[tuple[str, int, int]],
              currency: str = "USD") -> LakeBuilder:
        """`items`: (variant_id, quantity, price); the total is their sum."""
        lines = [{"variant_id": v, "quantity": q, "price": p, "seller_id": None} for v, q, p in items]
        return self.add("order.created", at, order_id=order_id, user_id=user_id, status="pending",
                        payment_status="authorized", order_number=order_id.upper(), currency=currency,
                        total=sum(q * p for _, q, p in items), items=lines)

    def write(self) -> Lake:
        files = []
        for (event_type, date, stream), rows in self.rows.items():
            files.append((self.lake.part_path(event_type, date, stream, rows[0][0], rows[-1][0]),
                          event_table(event_type, stream, rows)))
        self.lake.write_parquet(files)
        self.rows.clear()
        return self.lake


def small_shop(url: str) -> Lake:
    """A month and a half of a tiny shop, small enough to count by hand (the expected figures are in the tests)."""
    b = LakeBuilder(url)
    b.add("category.created", "2026-01-01 08:00", category_id="cat_tea", name="Tea", slug="tea", parent_id=None)
    b.add("category.created", "2026-01-01 08:00", category_id="cat_cups", name="Cups", slug="cups", parent_id=None)
    b.add("product.created", "2026-01-01 09:00", product_id="prd_1", seller_id=None, category_id="cat_tea",
          brand="Leaf", status="active", variant_ids=["var_1a", "var_1b"])
    b.add("product.created", "2026-01-01 09:00", product_id="prd_2", seller_id=None, category_id="cat_cups",
          brand="Clay", status="active", variant_ids=["var_2a"])
    b.add("product.updated", "2026-01-02 09:00", product_id="prd_2", seller_id=None, fields=["variants"],
          added_variant_ids=["var_2b"])
    for variant, on_hand in (("var_1a", 100), ("var_1b", 50), ("var_2a", 20)):
        b.add("inventory.created", "2026-01-01 09:00", shard=0, variant_id=variant, on_hand=on_hand)
    b.add("inventory.adjusted", "2026-01-03 10:00", shard=0, variant_id="var_1a", delta=20, reason="restock",
          on_hand=120, available=120)
    for user, at in (("usr_1", "2026-01-05 10:00"), ("usr_2", "2026-01-20 10:00"), ("usr_3", "2026-02-03 10:00")):
        b.add("user.registered", at, user_id=user, email=f"{user}@example.com", role="customer")
    b.add("cart.item_added", "2026-01-10 10:00", user_id="usr_1", product_id="prd_1", variant_id="var_1a", quantity=2)
    b.add("cart.item_added", "2026-01-10 11:00", user_id="usr_2", product_id="prd_2", variant_id="var_2a", quantity=1)
    b.add("cart.item_added", "2026-01-10 12:00", user_id="usr_1", product_id="prd_2", variant_id="var_2a", quantity=1)
    b.add("cart.item_added", "2026-01-21 10:00", user_id="usr_2", product_id="prd_2", variant_id="var_2a", quantity=1)
    b.order("2026-01-10 13:00", "ord_1", "usr_1", [("var_1a", 2, 1000), ("var_2a", 1, 1000)])
    b.order("2026-01-21 11:00", "ord_2", "usr_2", [("var_2a", 1, 500)])
    b.add("order.cancelled", "2026-01-22 09:00", order_id="ord_2", user_id="usr_2", status="cancelled",
          payment_status="voided", reason=None)
    b.order("2026-02-15 10:00", "ord_3", "usr_1", [("var_1b", 1, 1500)])
    b.add("inventory.shipped", "2026-01-12 10:00", shard=0, reservation_id="chk_1-0", lines={"var_1a": 2, "var_2a": 1})
    for product in ("prd_1", "prd_1", "prd_1", "prd_2"):  # a type the lake's schemas may not list yet: in `extra`
        b.add("product.viewed", "2026-01-10 09:00", stream=ANALYTICS, product_id=product, user_id="usr_1",
              source="search")
    for took, zero, query in ((10.0, False, "tea"), (20.0, False, "cup"), (30.0, True, "Xyz"), (40.0, True, " xyz "),
                              (100.0, False, "tea")):
        b.add("search.performed", "2026-01-10 08:00", stream=ANALYTICS, query=query, filters={}, sort="relevance",
              page=1, page_size=20, total=0 if zero else 3, took_ms=took, zero_result=zero)
    return b.write()
