"""A small seeded world of shoppers with tastes, written straight into a lake as the exporter would write it.

Products belong to a category and a brand and have an appeal (a few are bestsellers). Each shopper has two
favourite categories and a favourite brand, hidden from the models: over `days` days they view products, add
some to the cart and buy some, choosing in proportion to appeal x taste (a favourite category weighs `taste`, its
favourite brand `taste` again). Deterministic for a seed. Views go to the analytics stream as `product.viewed`
(a type lake/schemas.py has no columns for yet: its fields land in `extra`, as they would today).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from lake.layout import Lake
from lake.tables import Row, event_table, partition

START_MS = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp() * 1000)
DAY_MS = 86_400_000


@dataclass
class World:
    products: dict[str, dict[str, str]] = field(default_factory=dict)  # product_id -> category_id, brand, variant
    tastes: dict[str, tuple[set[str], str]] = field(default_factory=dict)  # user_id -> (categories, brand)
    rows: dict[str, list[Row]] = field(default_factory=dict)  # stream -> rows

    def emit(self, stream: str, event_type: str, at_ms: int, data: dict[str, object]) -> None:
        found = self.rows.setdefault(stream, [])
        stamp = datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        found.append((f"{at_ms}-{len(found)}", f"evt_{stream[-1]}{len(found):08d}", event_type, stamp,
                      orjson.dumps(data).decode()))

    def write(self, lake: Lake) -> None:
        files = []
        for stream, found in self.rows.items():
            found.sort(key=lambda row: (int(row[0].split("-")[0]), int(row[0].split("-")[1])))
            for (event_type, date), group in partition(found).items():
                path = lake.part_path(event_type, date, stream, group[0][0], group[-1][0])
                files.append((path, event_table(event_type, stream, group)))
        lake.write_parquet(files)


def make_world(seed: int = 11, shoppers: int = 300, products: int = 240, categories: int = 12, brands: int = 8,
               days: int = 30, taste: float = 8.0, product_ids: list[tuple[str, str]] | None = None,
               user_ids: list[str] | None = None) -> World:
    """`product_ids`: (product_id, variant_id) pairs to use (a real shop's), instead of `products` made-up ones;
    `user_ids`: shoppers' ids likewise."""
    rng = random.Random(seed)
    world = World()
    appeal = {}
    pairs = product_ids or [(f"prd_{n:05d}", f"var_{n:05d}") for n in range(products)]
    for n, (product_id, variant_id) in enumerate(pairs):
        world.products[product_id] = {"category_id": f"cat_{n % categories:02d}",
                                      "brand": f"brand{rng.randrange(brands)}", "variant_id": variant_id}
        appeal[product_id] = 1 / (1 + rng.random() * 9)  # a few appeal far more than the rest
        world.emit("bz:events", "product.created", START_MS - DAY_MS, {
            "product_id": product_id, "seller_id": None, "category_id": world.products[product_id]["category_id"],
            "brand": world.products[product_id]["brand"], "status": "active", "variant_ids": [variant_id]})
    ids = sorted(world.products)
    for user_id in user_ids or [f"usr_{n:05d}" for n in range(shoppers)]:
        favourites = set(rng.sample([f"cat_{c:02d}" for c in range(categories)], 2))
        world.tastes[user_id] = (favourites, f"brand{rng.randrange(brands)}")
        weights = [appeal[p] * _liking(world, user_id, p, taste) for p in ids]
        for _ in range(rng.randint(2, 6)):  # visits, at random times over the period
            at = START_MS + rng.randrange(days * DAY_MS)
            _visit(world, rng, user_id, rng.choices(ids, weights, k=rng.randint(3, 8)), at)
    return world


def _liking(world: World, user_id: str, product_id: str, taste: float) -> float:
    categories, brand = world.tastes[user_id]
    product = world.products[product_id]
    return (taste if product["category_id"] in categories else 1.0) * (taste if product["brand"] == brand else 1.0)


def _visit(world: World, rng: random.Random, user_id: str, viewed: list[str], at: int) -> None:
    bought = []
    for step, product_id in enumerate(viewed):
        world.emit("bz:analytics", "product.viewed", at + step * 1000,
                   {"product_id": product_id, "user_id": user_id, "source": "search"})
        if rng.random() < 0.4:
            world.emit("bz:events", "cart.item_added", at + step * 1000 + 500, {
                "user_id": user_id, "product_id": product_id, "variant_id": world.products[product_id]["variant_id"],
                "quantity": 1})
            if rng.random() < 0.6:
                bought.append(product_id)
    if bought:
        items = [{"variant_id": world.products[p]["variant_id"], "quantity": 1, "price": 1000, "seller_id": None}
                 for p in dict.fromkeys(bought)]
        world.emit("bz:events", "order.created", at + len(viewed) * 1000, {
            "order_id": f"ord_{user_id}_{at}", "user_id": user_id, "status": "pending", "payment_status": "authorized",
            "order_number": "1", "total": 1000 * len(items), "currency": "USD", "items": items})
