"""Catalogs a `World` can be built on: a synthetic one (for the lake generator), or the shop's own (for the HTTP
simulator: its products as `GET /v1/products` lists them)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from pipelines.seed_data import DEPARTMENTS
from simulation.world import Product, Variant


def synthetic_catalog(products: int, seed: int) -> list[Product]:
    """`products` products over the demo catalog's departments (category ids `cat_<n>`), each with 1-3 variants
    priced within its department's range; deterministic for a seed."""
    rng = np.random.default_rng([seed, 2])
    made = []
    for i in range(products):
        d = int(rng.integers(len(DEPARTMENTS)))
        department = DEPARTMENTS[d]
        low, high = department.price
        brand = department.brands[int(rng.integers(len(department.brands)))]
        base = int(rng.integers(low, high + 1)) // 100 * 100 - 1
        variants = tuple(Variant(f"var_{i:08d}_{v}", max(99, base + 1000 * v)) for v in range(int(rng.integers(1, 4))))
        made.append(Product(f"prd_{i:08d}", f"cat_{d:03d}", brand, variants, department.kinds[0]))
    return made


def category_names(category_ids: Iterable[str]) -> dict[str, str]:
    """Display names of categories: a synthetic catalog's `cat_<n>` is the demo department n's leaf category."""
    names = {f"cat_{d:03d}": department.category[-1] for d, department in enumerate(DEPARTMENTS)}
    return {category_id: names.get(category_id, category_id) for category_id in category_ids}


def from_listing(items: Iterable[dict[str, Any]]) -> list[Product]:
    """Products as the API lists them (`{"id", "category_id", "brand", "variants": [{"id", "price",
    "sale_price"}]}`), the variants' price being what they sell for."""
    products = []
    for item in items:
        variants = tuple(Variant(v["id"], v["sale_price"] if v.get("sale_price") is not None else v["price"])
                         for v in item.get("variants") or [])
        if variants:
            products.append(Product(item["id"], item["category_id"], item.get("brand") or "", variants,
                                    item.get("name") or ""))
    return sorted(products, key=lambda product: product.id)
