"""What shoppers did with products, read from the event lake (docs/events.md, "The lake").

- a purchase: each line of `order.created` (its `variant_id` mapped to its product through `product.created`'s
  `variant_ids` and `product.updated`'s `added_variant_ids`, or, for products listed before the lake began, the
  `cart.item_added` that put it in the cart);
- an add to cart: `cart.item_added`;
- a view: `product.viewed` on the analytics stream (`product_id`, `user_id`; anonymous views have no user and are
  left out).
A field the lake has no column for yet (a type newer than lake/schemas.py) is read from the row's `extra` JSON.
The catalogue (every product created, with its category and brand, and every product seen in an interaction)
comes along, for coverage and for the related lists' fill.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
import pyarrow.parquet as pq

from lake.layout import Lake

PURCHASE, CART, VIEW = "purchase", "cart", "view"
SOURCES = ("product.created", "product.updated", "order.created", "cart.item_added", "product.viewed")


class Interaction(NamedTuple):
    user_id: str
    product_id: str
    kind: str  # PURCHASE, CART or VIEW
    at: int  # epoch milliseconds (UTC)


@dataclass
class History:
    interactions: list[Interaction] = field(default_factory=list)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)  # product_id -> category_id, brand

    def before(self, cutoff: int) -> History:
        return History([i for i in self.interactions if i.at < cutoff], self.products)

    def of_kind(self, kind: str) -> list[Interaction]:
        return [i for i in self.interactions if i.kind == kind]


def event_rows(lake: Lake, path: str, fields: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """The rows of one file as {"at": epoch ms, field: value, ...}; a field without a column comes from `extra`."""
    table = pq.read_table(path, filesystem=lake.fs)
    names = set(table.column_names)
    typed = [name for name in fields if name in names]
    columns = {name: table.column(name).to_pylist() for name in typed}
    times = table.column("event_at").cast("int64").to_pylist()
    extras = table.column("extra").to_pylist() if len(typed) < len(fields) and "extra" in names else None
    for i, at in enumerate(times):
        row: dict[str, Any] = {name: columns[name][i] for name in typed}
        if extras is not None:
            extra = orjson.loads(extras[i]) if extras[i] else {}
            row.update((name, extra.get(name)) for name in fields if name not in columns)
        row["at"] = at
        yield row


def read_history(lake: Lake, on_file: Callable[[str], None] | None = None) -> History:
    """Every interaction and product in the lake. `on_file` is told of each file read (a progress bar)."""
    files = {event_type: lake.type_files(event_type) for event_type in SOURCES}

    def rows(event_type: str, fields: tuple[str, ...]) -> Iterator[dict[str, Any]]:
        for path in files[event_type]:
            yield from event_rows(lake, path, fields)
            if on_file is not None:
                on_file(path)

    history = History()
    variant_product: dict[str, str] = {}
    for row in rows("product.created", ("product_id", "category_id", "brand", "variant_ids")):
        history.products[row["product_id"]] = {"category_id": row["category_id"], "brand": row["brand"]}
        variant_product.update((variant_id, row["product_id"]) for variant_id in row["variant_ids"] or ())
    for row in rows("product.updated", ("product_id", "added_variant_ids")):
        variant_product.update((variant_id, row["product_id"]) for variant_id in row["added_variant_ids"] or ())
    found = history.interactions
    for row in rows("cart.item_added", ("user_id", "product_id", "variant_id")):
        if row["user_id"] and row["product_id"]:
            found.append(Interaction(row["user_id"], row["product_id"], CART, row["at"]))
            if row["variant_id"]:  # a catalog seeded before the lake existed is known from its carts
                variant_product.setdefault(row["variant_id"], row["product_id"])
    for row in rows("product.viewed", ("user_id", "product_id")):
        if row["user_id"] and row["product_id"]:
            found.append(Interaction(row["user_id"], row["product_id"], VIEW, row["at"]))
    for row in rows("order.created", ("user_id", "items")):
        for item in row["items"] or ():
            product_id = variant_product.get(item["variant_id"])
            if product_id is not None and row["user_id"]:
                found.append(Interaction(row["user_id"], product_id, PURCHASE, row["at"]))
    found.sort(key=lambda interaction: interaction.at)
    for interaction in found:  # the catalogue: every product created, or seen
        history.products.setdefault(interaction.product_id, {})
    return history


def count_files(lake: Lake) -> int:
    return sum(len(lake.type_files(event_type)) for event_type in SOURCES)
